"""The project register: charter services, status workflow, team, duplicate warning, pages."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from projects import selectors, services
from projects.models import Project, TeamMember
from projects.similarity import normalise
from tests.factories import MembershipFactory, ProjectFactory, UnitFactory


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def charter(trust, **extra):
    data = {
        "title": "Reducing falls on Ward 7",
        "aim": "Reduce inpatient falls on Ward 7 by 30% by March 2027.",
        "trust": trust.pk,
        "visibility": Project.Visibility.TRUST,
    }
    data.update(extra)
    return data


# ---- services ----------------------------------------------------------------------------


def test_create_defaults_lead_to_creator_and_starts_proposed(alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="Fewer falls")
    assert project.lead == alice
    assert project.created_by == alice
    assert project.status == Project.Status.PROPOSED
    assert project.history.first().history_user == alice


def test_create_needs_project_create_at_the_trust(bob, charlie, trust_a):
    with pytest.raises(PermissionDenied):  # board member: a member without the right
        services.project_create(by=bob, trust=trust_a, title="Falls", aim="Fewer falls")
    with pytest.raises(Http404):  # another trust's clinician: an outsider
        services.project_create(by=charlie, trust=trust_a, title="Falls", aim="Fewer falls")


def test_unit_must_belong_to_the_trust(alice, trust_a, trust_b):
    other_unit = UnitFactory(trust=trust_b)
    with pytest.raises(ValidationError) as error:
        services.project_create(by=alice, trust=trust_a, title="F", aim="A", unit=other_unit)
    assert "unit" in error.value.message_dict
    assert not Project.objects.exists()


def test_people_must_be_members_of_the_trust(alice, charlie, trust_a):
    with pytest.raises(ValidationError) as error:
        services.project_create(by=alice, trust=trust_a, title="F", aim="A", sponsor=charlie)
    assert "sponsor" in error.value.message_dict


def test_target_date_must_be_after_start(alice, trust_a):
    with pytest.raises(ValidationError) as error:
        services.project_create(
            by=alice, trust=trust_a, title="F", aim="A",
            start_date=datetime.date(2026, 5, 1), target_date=datetime.date(2026, 4, 1),
        )
    assert error.value.message_dict["target_date"] == [
        "The target date must be after the start date."
    ]


def test_update_is_for_the_team_and_qi_leads(alice, bob, quentin, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="F", aim="A")
    services.project_update(by=quentin, project=project, scope="Ward 7 only")
    project.refresh_from_db()
    assert project.scope == "Ward 7 only"
    with pytest.raises(PermissionDenied):
        services.project_update(by=bob, project=project, scope="Everything")


def test_update_refuses_status_changes(alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="F", aim="A")
    with pytest.raises(TypeError):
        services.project_update(by=alice, project=project, status=Project.Status.ACTIVE)


def test_only_a_qi_lead_approves(alice, quentin, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="F", aim="A")
    with pytest.raises(PermissionDenied):
        services.project_transition(by=alice, project=project, to="approved")
    services.project_transition(by=quentin, project=project, to="approved")
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED


def test_transitions_follow_the_workflow(alice, quentin, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="F", aim="A")
    with pytest.raises(ValidationError) as error:
        services.project_transition(by=alice, project=project, to="active")
    assert error.value.message_dict["status"] == [
        "A proposed project cannot become active: it can only become approved or stopped."
    ]
    for to, by in (("approved", quentin), ("active", alice), ("sustaining", alice),
                   ("completed", alice)):
        services.project_transition(by=by, project=project, to=to)
    with pytest.raises(ValidationError) as error:
        services.project_transition(by=alice, project=project, to="active")
    assert "it is closed" in error.value.message_dict["status"][0]


def test_stopping_needs_a_reason(alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="F", aim="A")
    with pytest.raises(ValidationError) as error:
        services.project_transition(by=alice, project=project, to="stopped", reason="  ")
    assert "reason" in error.value.message_dict
    services.project_transition(by=alice, project=project, to="stopped", reason="Merged.")
    project.refresh_from_db()
    assert (project.status, project.stopped_reason) == ("stopped", "Merged.")


def test_allowed_transitions_depend_on_role(alice, quentin, bob, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="F", aim="A")
    assert services.allowed_transitions(alice, project) == ["stopped"]
    assert services.allowed_transitions(quentin, project) == ["approved", "stopped"]
    assert services.allowed_transitions(bob, project) == []


def test_team_members_are_trust_users_or_named_partners(alice, bob, charlie, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="F", aim="A")
    services.team_member_add(by=alice, project=project, user=bob)
    services.team_member_add(by=alice, project=project, name="Mrs Jones",
                             role=TeamMember.Role.PATIENT_PARTNER)
    with pytest.raises(ValidationError):
        services.team_member_add(by=alice, project=project, user=charlie)
    with pytest.raises(ValidationError):
        services.team_member_add(by=alice, project=project, user=bob)
    with pytest.raises(ValidationError):
        services.team_member_add(by=alice, project=project)
    assert project.team.count() == 2


# ---- similar projects --------------------------------------------------------------------


def test_similarity_ignores_stop_words_wards_and_word_endings():
    # More in tests/projects/test_duplicates.py, with the labelled pairs.
    assert selectors.similarity("Reducing falls on Ward 7", "Falls prevention on ward 7") == 1
    assert selectors.similarity("Reducing falls on Ward 7", "Sepsis in the ED") == 0
    assert normalise("Improving the Project") == ""
    assert selectors.similar_projects(None, trust=None, title="Improving the project") == []


def test_similar_projects_are_scoped_to_trust_and_visibility(alice, trust_a, trust_b):
    mine = ProjectFactory(trust=trust_a, title="Falls prevention on Ward 7")
    ProjectFactory(trust=trust_b, title="Falls prevention on Ward 7")
    ProjectFactory(trust=trust_a, title="Falls prevention Ward 7 secret",
                   visibility=Project.Visibility.TEAM)
    ProjectFactory(trust=trust_a, title="Sepsis six in the Emergency Department")
    found = selectors.similar_projects(alice, trust=trust_a, title="Reducing falls on Ward 7")
    assert found == [mine]
    assert found[0].similarity >= selectors.SIMILARITY_THRESHOLD


def test_similar_projects_returns_at_most_five_best_first(alice, trust_a):
    for i in range(7):
        ProjectFactory(trust=trust_a, title=f"Falls on Ward 7 part {i}")
    exact = ProjectFactory(trust=trust_a, title="Falls on Ward 7")
    found = selectors.similar_projects(alice, trust=trust_a, title="Falls on Ward 7")
    assert len(found) == 5
    assert found[0] == exact
    assert exact not in selectors.similar_projects(
        alice, trust=trust_a, title="Falls on Ward 7", exclude_id=exact.pk
    )


# ---- pages -------------------------------------------------------------------------------


def test_create_page_renders_for_a_clinician(client, alice, ward_a):
    response = sign_in(client, alice).get(reverse("projects:create"))
    assert response.status_code == 200
    assert b"Register a project" in response.content
    assert b'hx-get="/projects/similar/"' in response.content
    assert b'hx-trigger="keyup changed delay:400ms"' in response.content
    assert b"Ward 7" in response.content


def test_board_member_cannot_register(client, bob, trust_a):
    response = sign_in(client, bob).get(reverse("projects:create"))
    assert response.status_code == 302


def test_create_then_redirect_to_the_project(client, alice, trust_a, ward_a):
    response = sign_in(client, alice).post(
        reverse("projects:create"), charter(trust_a, unit=ward_a.pk, lead=alice.pk)
    )
    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == project.get_absolute_url()
    assert project.unit == ward_a
    assert project.history.first().history_user == alice


def test_create_shows_field_errors_and_saves_nothing(client, alice, trust_a):
    response = sign_in(client, alice).post(
        reverse("projects:create"),
        charter(trust_a, title="", aim="", lead=alice.pk,
                start_date="2026-05-01", target_date="2026-04-01"),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "There is a problem" in content
    assert "Enter a project title" in content
    assert "Enter the aim" in content
    assert not Project.objects.exists()


def test_create_service_errors_land_on_fields(client, alice, trust_a):
    response = sign_in(client, alice).post(
        reverse("projects:create"),
        charter(trust_a, lead=alice.pk, start_date="2026-05-01", target_date="2026-04-01"),
    )
    assert response.status_code == 200
    assert "The target date must be after the start date." in response.content.decode()
    assert not Project.objects.exists()


def test_duplicate_warning_needs_confirmation_without_javascript(client, alice, trust_a):
    existing = ProjectFactory(trust=trust_a, title="Falls prevention on Ward 7")
    sign_in(client, alice)
    response = client.post(reverse("projects:create"), charter(trust_a, lead=alice.pk))
    content = response.content.decode()
    assert response.status_code == 200
    assert "A similar project is already registered" in content
    assert existing.get_absolute_url() in content
    assert "Yes, this is a different project" in content
    assert Project.objects.count() == 1
    response = client.post(
        reverse("projects:create"), charter(trust_a, lead=alice.pk, confirm_different="on")
    )
    assert response.status_code == 302
    assert Project.objects.count() == 2


def test_similar_fragment_for_htmx(client, alice, trust_a):
    ProjectFactory(trust=trust_a, title="Falls prevention on Ward 7")
    sign_in(client, alice)
    response = client.get(
        reverse("projects:similar"), {"trust": trust_a.pk, "title": "falls ward 7"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"Falls prevention on Ward 7" in response.content
    assert b"<html" not in response.content
    empty = client.get(reverse("projects:similar"), {"trust": trust_a.pk, "title": "sepsis"})
    assert b"similar" not in empty.content.lower().replace(b"similar projects", b"")


def test_similar_fragment_ignores_trusts_outside_scope(client, charlie, trust_a):
    ProjectFactory(trust=trust_a, title="Falls prevention on Ward 7",
                   visibility=Project.Visibility.EVERYONE)
    response = sign_in(client, charlie).get(
        reverse("projects:similar"), {"trust": trust_a.ods_code, "title": "falls ward 7"}
    )
    assert b"Falls prevention" not in response.content


def test_edit_page_saves_and_keeps_the_trust(client, alice, trust_a, trust_b):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    sign_in(client, alice)
    assert client.get(reverse("projects:edit", args=[project.pk])).status_code == 200
    response = client.post(
        reverse("projects:edit", args=[project.pk]),
        charter(trust_b, title="Falls on Ward 7", lead=alice.pk),
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "Falls on Ward 7"
    assert project.trust == trust_a


def test_status_page_approves_and_stops(client, alice, quentin, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    sign_in(client, quentin)
    page = client.get(reverse("projects:status", args=[project.pk]) + "?to=approved")
    assert page.status_code == 200
    assert b"Approved" in page.content
    response = client.post(reverse("projects:status", args=[project.pk]), {"to": "approved"})
    assert response.status_code == 302
    response = client.post(reverse("projects:status", args=[project.pk]), {"to": "stopped"})
    assert response.status_code == 200
    assert b"Say why the project is stopping." in response.content
    project.refresh_from_db()
    assert project.status == "approved"


def test_clinician_cannot_pick_active_for_a_proposed_project(client, alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    response = sign_in(client, alice).post(
        reverse("projects:status", args=[project.pk]), {"to": "active"}
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    project.refresh_from_db()
    assert project.status == "proposed"


def test_team_page_adds_and_removes(client, alice, bob, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    sign_in(client, alice)
    url = reverse("projects:team", args=[project.pk])
    assert client.post(url, {"user": bob.pk, "role": "member"}).status_code == 302
    response = client.post(url, {"name": "", "role": "member"})
    assert b"Choose a person, or enter the name of a partner." in response.content
    member = project.team.get()
    remove = reverse("projects:team_remove", args=[project.pk, member.pk])
    assert client.get(remove).status_code == 200
    assert client.post(remove).status_code == 302
    assert not project.team.exists()


def test_board_member_sees_team_but_cannot_add(client, alice, bob, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    sign_in(client, bob)
    url = reverse("projects:team", args=[project.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Add a team member" not in page.content
    assert client.post(url, {"user": bob.pk, "role": "member"}).status_code == 403


def test_detail_shows_actions_the_user_may_do(client, alice, quentin, bob, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    approve = b"Approve the project"
    assert approve in sign_in(client, quentin).get(project.get_absolute_url()).content
    content = sign_in(client, alice).get(project.get_absolute_url()).content
    assert approve not in content and b"Edit the charter" in content
    content = sign_in(client, bob).get(project.get_absolute_url()).content
    assert b"Edit the charter" not in content and b"Record a progress score" not in content


def test_history_lists_who_changed_what(client, alice, bob, trust_a):
    sign_in(client, alice)
    client.post(reverse("projects:create"), charter(trust_a, lead=alice.pk))
    project = Project.objects.get()
    client.post(reverse("projects:edit", args=[project.pk]),
                charter(trust_a, title="Falls on Ward 7 (Elderly Care)", lead=alice.pk))
    client.post(reverse("projects:team", args=[project.pk]), {"user": bob.pk, "role": "member"})
    services.progress_score_record(by=alice, project=project, score="1.0",
                                   scored_on=datetime.date(2026, 1, 5), comment="Team set up")
    services.project_transition(by=alice, project=project, to="stopped", reason="Duplicate")
    content = client.get(reverse("projects:history", args=[project.pk])).content.decode()
    assert "Charter registered" in content
    assert "Charter changed" in content
    assert "Reducing falls on Ward 7" in content and "Falls on Ward 7 (Elderly Care)" in content
    assert "Team: Bob Board added" in content
    assert "Progress score recorded: 1.0" in content
    assert "Latest progress score" not in content  # the score events say it already
    assert "Team set up" in content
    assert "Status changed" in content and "Stopped" in content and "Duplicate" in content
    assert "Alice Clinician" in content


def test_project_pages_for_outsiders_are_404(client, charlie, trust_a):
    project = ProjectFactory(trust=trust_a)
    sign_in(client, charlie)
    for name in ("detail", "edit", "status", "progress", "team", "history"):
        assert client.get(reverse(f"projects:{name}", args=[project.pk])).status_code == 404, name


def test_member_at_another_role_gets_403_on_writes(client, bob, trust_a):
    project = ProjectFactory(trust=trust_a)
    MembershipFactory(user=project.lead, trust=trust_a)
    sign_in(client, bob)
    for name in ("edit", "progress"):
        assert client.get(reverse(f"projects:{name}", args=[project.pk])).status_code == 403, name
    assert client.get(reverse("projects:status", args=[project.pk])).status_code == 403


def test_project_page_shows_every_layer_section(client, alice, trust_a):
    # The page (reports.views.project_detail) always includes each layer's section: no
    # section is looked up by name or skipped when something is missing.
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    response = sign_in(client, alice).get(project.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("Charter", "Driver diagram", "Measures", "PDSA cycles"):
        assert f">{heading}</h2>" in html, heading
