import pytest
from django.core import mail
from django.urls import reverse

from measures import snapshots
from measures.models import Measure
from organisations.models import Trust
from tests.conftest import PASSWORD


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_anonymous_home_invites_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_sign_in_with_email_lands_on_my_projects(client, alice):
    response = client.post(
        reverse("accounts:login"), {"username": alice.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.status_code == 302
    assert home["Location"] == reverse("projects:list") + "?mine=1"


def test_bad_password_gets_a_clear_error_and_no_session(client, alice):
    response = client.post(
        reverse("accounts:login"), {"username": alice.email, "password": "wrong"}
    )
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    assert b"Enter a correct email address and password" in response.content
    assert "_auth_user_id" not in client.session


def test_empty_sign_in_names_each_missing_field(client, db):
    response = client.post(reverse("accounts:login"), {"username": "", "password": ""})
    assert b"Enter your email address" in response.content
    assert b"Enter your password" in response.content


def test_repeated_failures_lock_the_account_for_a_while(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": alice.email, "password": "nope"})
    response = client.post(
        reverse("accounts:login"), {"username": alice.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "persona, target",
    [
        ("alice", "/projects/?mine=1"),
        ("quentin", "/projects/?mine=1"),
        ("bob", "/trusts/RAA/"),
        ("tara", "/trusts/RAA/"),
        ("nadia", "/national/"),
        ("stranger", "/accounts/me/"),
    ],
)
def test_home_sends_each_role_to_its_place(client, personas, persona, target):
    response = sign_in(client, personas[persona]).get("/")
    assert response.status_code == 302
    assert response["Location"] == target


def test_profile_lists_my_trusts_and_roles(client, alice):
    response = sign_in(client, alice).get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert b"Northgate Teaching Hospitals" in response.content
    assert b"Clinician" in response.content


def test_sign_out_needs_post_and_ends_the_session(client, alice):
    sign_in(client, alice)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_email_with_a_working_link(client, alice):
    response = client.post(reverse("accounts:password_reset"), {"email": alice.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert b"Choose a new password" in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-Much-better-one-42", "new_password2": "a-Much-better-one-42"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-Much-better-one-42")


def test_password_change_refuses_mismatch_and_keeps_old_password(client, alice):
    sign_in(client, alice)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "x-Long-enough-1", "new_password2": "other"},
    )
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_trust_page_outsider_404_member_200(client, alice, charlie, trust_a, ward_a):
    url = reverse("reports:trust", args=[trust_a.ods_code])
    assert sign_in(client, charlie).get(url).status_code == 404
    response = sign_in(client, alice).get(url)
    assert response.status_code == 200
    assert b"Ward 7" in response.content


def test_national_view_only_for_national_analyst(client, bob, nadia, trust_a):
    assert sign_in(client, bob).get(reverse("reports:national")).status_code == 404
    response = sign_in(client, nadia).get(reverse("reports:national"))
    assert response.status_code == 200
    assert trust_a.name.encode() in response.content


def test_trust_page_query_count_does_not_grow_with_units(
    client, alice, trust_a, django_assert_max_num_queries
):
    from tests.factories import UnitFactory

    sign_in(client, alice)
    url = reverse("reports:trust", args=[trust_a.ods_code])
    division = UnitFactory(trust=trust_a, name="Medicine", kind="division")
    from reports import tasks

    tasks.reconcile_rollups()  # the roll-up build the new unit asked for, as a worker does
    # session, user, the roll-up mark, trust, memberships (access), the reader's scope,
    # units, projects per unit path, snapshots, project counts, stale count, PDSA quality
    # summary, and what changed in the last month: new projects, progress scores,
    # completed cycles; the roll-ups
    with django_assert_max_num_queries(16):
        client.get(url)
    for n in range(40):
        UnitFactory(trust=trust_a, name=f"Ward {n}", kind="ward", parent=division)
    tasks.reconcile_rollups()
    with django_assert_max_num_queries(16):  # the new units marked the kept page out of date
        assert b"Ward 39" in client.get(url).content
    with django_assert_max_num_queries(6):  # kept: session, user, mark, trust, memberships,
        assert b"Ward 39" in client.get(url).content  # scope


def test_pages_use_the_nhs_layout_and_no_external_assets(client, alice):
    html = sign_in(client, alice).get(reverse("accounts:profile")).content.decode()
    assert 'class="nhsuk-skip-link"' in html
    assert "nhsuk-header" in html and "nhsuk-footer" in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html


def test_healthz_reports_database_and_broker(client, db, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] in {"ok", "eager", "down"}


def test_healthz_reports_broker_down_without_failing(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "down"


def test_admin_refuses_a_trust_with_a_bad_ods_code(client, db):
    from tests.factories import RegionFactory, UserFactory

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    region = RegionFactory()
    sign_in(client, admin_user)
    response = client.post(
        "/admin/organisations/trust/add/",
        {
            "ods_code": "R1!",
            "name": "Bad Code Trust",
            "trust_type": "acute",
            "region": region.pk,
            "staff_headcount": 100,
        },
    )
    assert response.status_code == 200
    assert b"Enter the trust" in response.content
    assert not Trust.objects.filter(name="Bad Code Trust").exists()


def test_static_assets_are_vendored(client, db):
    from django.contrib.staticfiles import finders

    for path in (
        "vendor/nhsuk-frontend/nhsuk-frontend.min.css",
        "vendor/nhsuk-frontend/nhsuk-frontend.min.js",
        "vendor/htmx/htmx.min.js",
        "plotly/plotly.min.js",
    ):
        assert finders.find(path), path
    with open(finders.find("vendor/nhsuk-frontend/nhsuk-frontend.min.css")) as fh:
        css = fh.read()
    assert "assets.nhs.uk" not in css
    assert "url(/assets" not in css


def test_trust_page_shows_each_measures_spc_icons(client, alice, trust_a, ward_a):
    from datetime import date

    from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

    project = ProjectFactory(trust=trust_a, unit=ward_a, title="Fewer falls on Ward 7")
    measure = MeasureFactory(project=project, name="Falls per 1,000 bed days",
                             direction=Measure.Direction.DECREASE)
    for i, v in enumerate([8, 9, 7, 8, 9, 8, 7, 9, 8, 8, 9, 7, 5, 5, 4, 5, 5, 4, 5, 4]):
        DataPointFactory(measure=measure, period=date(2024 + i // 12, i % 12 + 1, 1), value=v)
    snapshots.measure_refresh(measure_id=measure.pk)
    html = sign_in(client, alice).get(f"/trusts/{trust_a.ods_code}/").content.decode()
    assert "Falls per 1,000 bed days" in html
    assert "1 measure showing special cause improvement" in html
    assert "<svg" in html


def test_trust_page_counts_pdsa_cycle_quality(client, alice, trust_a):
    from pdsa import services as pdsa_services
    from tests.factories import ChangeIdeaFactory, ProjectFactory

    project = ProjectFactory(trust=trust_a, lead=alice, created_by=alice)
    idea = ChangeIdeaFactory(project=project)
    first = pdsa_services.cycle_create(
        change_idea=idea, by=alice, objective="Small test", prediction="It will work"
    )
    pdsa_services.cycle_create(change_idea=idea, by=alice, objective="Bigger", follows=first)
    html = sign_in(client, alice).get(f"/trusts/{trust_a.ods_code}/").content.decode()
    assert "2 PDSA cycles logged" in html
    assert "Part of a ramp of cycles" in html


def test_unit_dashboard_drills_down_to_the_subtree(client, bob, trust_a, ward_a):
    from datetime import date

    from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory, UnitFactory

    surgery = UnitFactory(trust=trust_a, name="Surgery", kind="division")
    on_ward = ProjectFactory(trust=trust_a, unit=ward_a, title="Fewer falls on Ward 7")
    elsewhere = ProjectFactory(trust=trust_a, unit=surgery, title="Theatre starts on time")
    for project, name in ((on_ward, "Falls rate"), (elsewhere, "Late starts")):
        measure = MeasureFactory(project=project, name=name)
        for i in range(3):
            DataPointFactory(measure=measure, period=date(2025, i + 1, 1), value=4 + i)
        snapshots.measure_refresh(measure_id=measure.pk)
    sign_in(client, bob)
    medicine = ward_a.parent
    trust_html = client.get(f"/trusts/{trust_a.ods_code}/").content.decode()
    assert f"/trusts/{trust_a.ods_code}/units/{medicine.pk}/" in trust_html
    html = client.get(f"/trusts/{trust_a.ods_code}/units/{medicine.pk}/").content.decode()
    assert "<h1>Medicine</h1>" in html
    assert "Falls rate" in html and "Late starts" not in html
    assert "Ward 7" in html  # the child unit, with the project under it counted
    ward_html = client.get(f"/trusts/{trust_a.ods_code}/units/{ward_a.pk}/").content.decode()
    assert f'href="/trusts/RAA/units/{medicine.pk}/">Medicine' in ward_html  # breadcrumb


def test_unit_dashboard_outsider_404_and_wrong_trust_404(client, charlie, alice, trust_a,
                                                         trust_b, ward_a):
    url = f"/trusts/{trust_a.ods_code}/units/{ward_a.pk}/"
    assert sign_in(client, charlie).get(url).status_code == 404
    # A unit of trust A asked for under trust B's code is not found either.
    assert sign_in(client, charlie).get(
        f"/trusts/{trust_b.ods_code}/units/{ward_a.pk}/"
    ).status_code == 404
    assert sign_in(client, alice).get(url).status_code == 200


def test_unit_dashboard_query_count_is_constant(client, bob, trust_a, ward_a,
                                                django_assert_max_num_queries):
    from reports import tasks
    from tests.factories import ProjectFactory, UnitFactory

    sign_in(client, bob)
    url = f"/trusts/{trust_a.ods_code}/units/{ward_a.parent.pk}/"
    tasks.reconcile_rollups()  # the roll-up build the units asked for, as a worker does
    # session, user, trust, memberships, unit, ancestors, the roll-up mark, the reader's
    # scope, projects per unit path, units, snapshots, project counts, stale count, PDSA
    # quality, last month: projects, scores, cycles; the roll-ups
    with django_assert_max_num_queries(20):
        client.get(url)
    for n in range(20):
        ward = UnitFactory(trust=trust_a, name=f"Bay {n}", kind="ward", parent=ward_a.parent)
        ProjectFactory(trust=trust_a, unit=ward)
    tasks.reconcile_rollups()
    with django_assert_max_num_queries(20):
        assert b"Bay 19" in client.get(url).content
    with django_assert_max_num_queries(8):  # kept: session, user, trust, memberships, unit,
        assert b"Bay 19" in client.get(url).content  # ancestors, the mark, scope


def test_the_board_sees_what_changed_in_the_last_month(client, bob, alice, trust_a):
    import datetime

    from django.utils import timezone

    from projects import services as project_services
    from tests.factories import ProjectFactory

    project = ProjectFactory(trust=trust_a, lead=alice)
    old = ProjectFactory(trust=trust_a, lead=alice)
    type(old).objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=90))
    project.team.create(user=alice)
    project_services.progress_score_record(by=alice, project=project, score="1.0",
                                           scored_on=timezone.localdate())
    sign_in(client, bob)
    response = client.get(reverse("reports:trust", args=[trust_a.ods_code]))
    changes = response.context["changes"]
    assert (changes["new_projects"], changes["scores"], changes["cycles_completed"]) == (1, 1, 0)
    assert "What changed in the last 30 days" in response.content.decode()
