"""The collaborative from start to dashboard through its pages: a QI lead starts one and
becomes its facilitator, adds sessions and a shared measure, invites trusts; their QI leads
accept and enrol projects; the facilitator approves; teams adopt the shared measure, enter
data and report monthly; the dashboard shows it; a team leaves and its data stay."""

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from collaboratives import selectors, services, tasks
from collaboratives.models import (
    Collaborative,
    DashboardSnapshot,
    Enrolment,
    LearningPost,
    PackageTest,
    Participation,
    SharedMeasureChange,
)
from measures import services as measure_services
from measures.models import Measure
from organisations.models import Membership
from pdsa.models import Cycle
from tests.collaboratives.conftest import (
    enrol,
    make_collaborative,
    monthly_points,
    sign_in,
    take_part,
)
from tests.factories import ChangeIdeaFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_qi_lead_starts_a_collaborative_and_becomes_its_facilitator(client, quentin, trust_a):
    sign_in(client, quentin)
    response = client.post(reverse("collaboratives:create"), {
        "host_trust": trust_a.pk, "name": "Falls collaborative", "topic": "Falls",
        "aim": "Fewer falls", "start_date": "2026-01-01", "end_date": "2026-12-31",
        "report_due_day": "10",
    })
    c = Collaborative.objects.get(name="Falls collaborative")
    assert response.status_code == 302 and response["Location"] == c.get_absolute_url()
    assert list(c.facilitators.all()) == [quentin]
    page = client.get(c.get_absolute_url()).content.decode()
    assert "Add a learning session" in page


def test_the_end_date_must_follow_the_start(client, quentin, trust_a):
    response = sign_in(client, quentin).post(reverse("collaboratives:create"), {
        "host_trust": trust_a.pk, "name": "Backwards", "topic": "Falls", "aim": "Fewer falls",
        "start_date": "2026-12-01", "end_date": "2026-01-01", "report_due_day": "10",
    })
    assert response.status_code == 200
    assert "The end date must be on or after the start date" in response.content.decode()
    assert not Collaborative.objects.exists()


def test_patient_identifiers_are_refused_in_the_aim(client, quentin, trust_a):
    response = sign_in(client, quentin).post(reverse("collaboratives:create"), {
        "host_trust": trust_a.pk, "name": "Falls", "topic": "Falls",
        "aim": "Patient 943 476 5919 fell", "start_date": "2026-01-01",
        "end_date": "2026-12-31", "report_due_day": "10",
    })
    assert response.status_code == 200
    assert not Collaborative.objects.exists()


def test_sessions_show_the_action_periods_between_them(client, world):
    c, fiona = world["c"], world["people"]["fiona"]
    sign_in(client, fiona)
    response = client.post(reverse("collaboratives:session_create", args=[c.pk]), {
        "title": "Learning session 2", "date": "2026-03-04", "place": "Northgate education "
        "centre", "agenda": "Teams share their first PDSA cycles"})
    assert response.status_code == 302
    page = client.get(c.get_absolute_url()).content.decode()
    assert "Learning session 2" in page and "Northgate education centre" in page
    assert "Action period: 6 Nov 2025 to 3 Mar 2026" in page
    response = client.post(reverse("collaboratives:session_create", args=[c.pk]), {
        "title": "Nowhere", "date": "2026-04-04"})
    assert "Say where the session is held" in response.content.decode()


def test_invite_accept_enrol_approve(client, world, trust_d, dora):
    c, fiona = world["c"], world["people"]["fiona"]
    lead = MembershipFactory(trust=trust_d, role=Membership.Role.QI_LEAD).user
    project = ProjectFactory(trust=trust_d, lead=dora, title="Falls at Distant")
    sign_in(client, fiona).post(reverse("collaboratives:invite", args=[c.pk]),
                                {"trust": trust_d.pk})
    part = c.participations.get(trust=trust_d)
    assert part.status == Participation.Status.INVITED
    client.logout()
    sign_in(client, lead)
    assert "Distant Trust is invited" in client.get(c.get_absolute_url()).content.decode()
    client.post(reverse("collaboratives:respond", args=[c.pk, part.pk]), {"answer": "accept"})
    part.refresh_from_db()
    assert part.status == Participation.Status.ACCEPTED
    response = client.post(reverse("collaboratives:enrol", args=[c.pk]), {"project": project.pk})
    assert response.status_code == 302
    enrolment = c.enrolments.get(project=project)
    assert enrolment.status == Enrolment.Status.PENDING
    client.logout()
    sign_in(client, fiona).post(reverse("collaboratives:decide", args=[c.pk, enrolment.pk]),
                                {"decision": "approve"})
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.APPROVED


def test_a_project_may_be_in_several_collaboratives(world, quentin):
    second = make_collaborative(world["project_a"].trust, [world["people"]["fiona"]],
                                name="Second")
    take_part(second, world["project_a"].trust, world["people"]["fiona"])
    e = services.enrolment_request(collaborative=second, project=world["project_a"], by=quentin)
    assert e.status == Enrolment.Status.PENDING
    with pytest.raises(ValidationError):
        services.enrolment_request(collaborative=world["c"], project=world["project_a"],
                                   by=quentin)


def test_adopting_creates_a_linked_measure_in_the_teams_project(world, alice):
    adoption = world["adopt_a"]
    measure = adoption.measure
    assert measure.project == world["project_a"]
    assert measure.chart == Measure.Chart.P and measure.name == world["sm"].name
    assert "Numerator: Assessed within 6 hours" in measure.definition
    with pytest.raises(ValidationError):
        services.shared_measure_adopt(shared_measure=world["sm"], enrolment=world["team_a"],
                                      by=alice)


def test_changing_a_shared_definition_shows_teams_what_changed(client, world):
    fiona, alice = world["people"]["fiona"], world["people"]["alice"]
    c, sm = world["c"], world["sm"]
    sign_in(client, fiona).post(reverse("collaboratives:shared_measure_edit", args=[c.pk, sm.pk]), {
        "name": sm.name, "kind": sm.kind, "definition": sm.definition,
        "numerator": sm.numerator, "denominator": sm.denominator, "unit_label": "",
        "chart": "p", "direction": "increase", "frequency": "monthly", "target": "0.9"})
    change = SharedMeasureChange.objects.get(shared_measure=sm)
    assert "Target: “(blank)” → “0.9”" in change.summary
    client.logout()
    team_url = reverse("collaboratives:team", args=[c.pk, world["team_a"].pk])
    page = sign_in(client, alice).get(team_url).content.decode()
    assert "The shared definition changed" in page and "0.9" in page
    client.post(reverse("collaboratives:follow", args=[c.pk, world["team_a"].pk,
                                                        world["adopt_a"].pk]))
    world["adopt_a"].measure.refresh_from_db()
    assert world["adopt_a"].measure.target == 0.9
    assert "The shared definition changed" not in client.get(team_url).content.decode()


def test_late_teams_for_the_facilitator_and_what_a_team_owes(world):
    c = world["c"]
    # Data run October 2025 to September 2026; on 20 November 2026 October is due.
    late = selectors.late_teams(c, dt.date(2026, 11, 20))
    assert late["month"] == dt.date(2026, 10, 1)
    owes = {row["team"].pk: row["owes"] for row in late["teams"]}
    assert owes[world["team_a"].pk] == [f"no data for “{world['sm'].name}”", "no monthly report"]
    # On 5 November 2026 (before the 10th) only September is due, and its data are in.
    late = selectors.late_teams(c, dt.date(2026, 11, 5))
    assert late["month"] == dt.date(2026, 9, 1)
    assert {row["team"].pk: row["owes"] for row in late["teams"]}[world["team_a"].pk] == [
        "no monthly report"]
    owed = selectors.team_owes(c, world["team_a"], dt.date(2026, 11, 20))
    assert [row["month"] for row in owed][-1] == dt.date(2026, 10, 1)
    assert owed[0]["owes"] == ["the monthly report"]


def test_monthly_report_with_the_faculty_assessment_beside_it(client, world):
    c, team = world["c"], world["team_a"]
    alice, fiona = world["people"]["alice"], world["people"]["fiona"]
    url = reverse("collaboratives:report", args=[c.pk, team.pk])
    response = sign_in(client, alice).post(url, {
        "month": "2025-11", "score": "2.5", "tested": "Huddles at handover",
        "learned": "Night shift needs a different time", "help_needed": "Bed sensors"})
    assert response.status_code == 302
    report = team.reports.get()
    assert str(report.score) == "2.5"
    client.logout()
    sign_in(client, fiona).post(reverse("collaboratives:assess", args=[c.pk, report.pk]),
                                {"faculty_score": "2.0", "faculty_comment": "Not yet"})
    report.refresh_from_db()
    assert str(report.faculty_score) == "2.0" and report.assessed_by == fiona
    page = client.get(reverse("collaboratives:team", args=[c.pk, team.pk])).content.decode()
    assert "2.5 Changes tested, but no improvement" in page
    assert "2.0 Activity, but no changes" in page
    with pytest.raises(ValidationError):  # assessed: the team can no longer change it
        services.team_report_submit(enrolment=team, month=dt.date(2025, 11, 1), by=alice,
                                    score="3.0")


def test_dashboard_shows_teams_data_funnel_progress_and_completeness(client, world, fiona,
                                                                     trust_d):
    c = world["c"]
    # A third team so the funnel has three units.
    project = ProjectFactory(trust=world["project_a"].trust, lead=world["people"]["alice"],
                             title="Falls on Ward 8")
    team = enrol(c, project, fiona)
    adoption = services.shared_measure_adopt(shared_measure=world["sm"], enrolment=team,
                                             by=world["people"]["alice"])
    monthly_points(adoption.measure, num=15)
    services.team_report_submit(enrolment=team, month=dt.date(2025, 10, 1),
                                by=world["people"]["alice"], score="1.5")
    page = sign_in(client, fiona).get(reverse("collaboratives:dashboard", args=[c.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for words in ("Falls on Ward 7", "Falls on Cedar Ward", "Falls on Ward 8",
                  "every team on one scale", "Funnel plot of the latest period",
                  "Progress scores by month", "Reporting completeness", "<svg"):
        assert words in html, words
    snap = DashboardSnapshot.objects.get(collaborative=c)
    m = snap.data["measures"][0]
    assert m["funnel"]["available"] and m["funnel"]["period"] == "2026-09-01"
    assert {t["team"]["name"] for t in m["teams"]} == {"Falls on Ward 7", "Falls on Cedar Ward",
                                                       "Falls on Ward 8"}
    october = next(r for r in snap.data["completeness"] if r["month"] == "2025-10-01")
    assert october == {**october, "teams": 3, "data": 3, "reports": 1}
    first = next(r for r in snap.data["progress"] if r["month"] == "2025-10-01")
    assert first["counts"][2] == 1  # one team at 1.5


def test_the_dashboard_rebuilds_after_data_entered_on_a_teams_measure(client, world):
    c, alice = world["c"], world["people"]["alice"]
    sign_in(client, alice).get(reverse("collaboratives:dashboard", args=[c.pk]))
    before = DashboardSnapshot.objects.get(collaborative=c).data
    team_a = next(t for t in before["measures"][0]["teams"] if t["team"]["name"] ==
                  "Falls on Ward 7")
    assert team_a["n"] == 12
    measure_services.data_point_create(measure=world["adopt_a"].measure, by=alice,
                                       period=dt.date(2026, 10, 1), numerator=19, denominator=20)
    client.get(reverse("collaboratives:dashboard", args=[c.pk]))
    after = DashboardSnapshot.objects.get(collaborative=c).data
    team_a = next(t for t in after["measures"][0]["teams"] if t["team"]["name"] ==
                  "Falls on Ward 7")
    assert team_a["n"] == 13


def test_reconcile_rebuilds_stale_dashboards(world):
    assert tasks.reconcile() == 2  # neither collaborative has a snapshot yet
    assert tasks.reconcile() == 0
    services.team_report_submit(enrolment=world["team_a"], month=dt.date(2025, 10, 1),
                                by=world["people"]["alice"], score="1.0")
    assert tasks.reconcile() == 1


def test_downloads_neutralise_formula_cells(client, world, alice):
    world["project_a"].title = "=HYPERLINK(\"http://x\")"
    world["project_a"].save()
    c = world["c"]
    sign_in(client, alice)
    body = client.get(reverse("collaboratives:dashboard_csv", args=[c.pk])).content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["team", "trust_ods", "measure", "period"]
    titles = {r[0] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://x\")" in titles and "Falls on Cedar Ward" in titles
    wb = load_workbook(io.BytesIO(client.get(
        reverse("collaboratives:dashboard_xlsx", args=[c.pk])).content))
    cells = [row[0].value for row in wb["Shared measures"].iter_rows(min_row=2)]
    assert "'=HYPERLINK(\"http://x\")" in cells
    assert all(row[0].data_type == "s" for row in wb["Shared measures"].iter_rows(min_row=2))


def test_a_team_leaves_and_its_data_stay_with_its_trust(client, world, charlie):
    c, team = world["c"], world["team_b"]
    sign_in(client, charlie).post(reverse("collaboratives:leave", args=[c.pk, team.pk]))
    team.refresh_from_db()
    assert team.status == Enrolment.Status.LEFT
    measure = world["adopt_b"].measure
    assert Measure.objects.filter(pk=measure.pk, project=world["project_b"]).exists()
    assert measure.points.count() == 12
    client.get(reverse("collaboratives:dashboard", args=[c.pk]))
    data = DashboardSnapshot.objects.get(collaborative=c).data
    assert "Falls on Cedar Ward" not in {t["name"] for t in data["teams"]}
    client.logout()
    sign_in(client, world["people"]["alice"])  # the rest of the collaborative: gone from view
    assert client.get(reverse("collaboratives:team", args=[c.pk, team.pk])).status_code == 404


def test_share_learning_from_a_pdsa_cycle_with_one_click(client, world, alice):
    c, team = world["c"], world["team_a"]
    idea = ChangeIdeaFactory(project=world["project_a"], text="Falls huddle")
    cycle = Cycle.objects.create(change_idea=idea, number=1, created_by=alice,
                                 objective="Try a huddle", results="4 of 5 shifts",
                                 learning="Keep it under two minutes", decision="adopt")
    sign_in(client, alice)
    team_page = client.get(reverse("collaboratives:team", args=[c.pk, team.pk])).content.decode()
    link = reverse("collaboratives:post_create", args=[c.pk]) + f"?cycle={cycle.pk}"
    assert link in team_page
    form = client.get(link).content.decode()
    assert "Keep it under two minutes" in form and "Decision: Adopt" in form
    response = client.post(link, {"title": "Falls huddle (PDSA cycle 1)",
                                  "body": "What we learned: Keep it under two minutes",
                                  "tags": "Huddles, handover", "enrolment": team.pk,
                                  "cycle": cycle.pk})
    assert response.status_code == 302
    post = LearningPost.objects.get(collaborative=c)
    assert post.cycle == cycle and post.enrolment == team
    assert sorted(t.name for t in post.tags.all()) == ["handover", "huddles"]
    # Another member comments; the feed filters by tag.
    client.logout()
    sign_in(client, world["people"]["charlie"]).post(
        reverse("collaboratives:post", args=[c.pk, post.pk]), {"body": "We will try it too"})
    assert post.comments.get().body == "We will try it too"
    feed = client.get(reverse("collaboratives:feed", args=[c.pk]) + "?tag=huddles")
    assert "Falls huddle (PDSA cycle 1)" in feed.content.decode()
    assert "1 comment" in feed.content.decode()
    # Charlie may not read trust A's cycle: the post does not link to it.
    detail = client.get(reverse("collaboratives:post", args=[c.pk, post.pk])).content.decode()
    assert cycle.get_absolute_url() not in detail


def test_learning_is_screened_for_patient_identifiers(client, world, alice):
    response = sign_in(client, alice).post(
        reverse("collaboratives:post_create", args=[world["c"].pk]),
        {"title": "A fall", "body": "Patient 943 476 5919 fell twice"})
    assert response.status_code == 200
    assert not LearningPost.objects.filter(collaborative=world["c"]).exists()


def test_change_package_shows_each_tests_decision_and_the_measure_before_and_after(
        client, world, alice):
    c, fiona = world["c"], world["people"]["fiona"]
    sign_in(client, fiona).post(reverse("collaboratives:package_idea_create", args=[c.pk]), {
        "title": "Risk assessment at the bedside on admission", "shared_measure": world["sm"].pk})
    idea = c.package_ideas.get()
    # Team A: a year at 40-50%, then a change that lifts it to 100% for eight months.
    measure = world["adopt_a"].measure
    rows = [{"period": dt.date(2026, 10, 1) + dt.timedelta(days=31 * i), "numerator": 20,
             "denominator": 20} for i in range(8)]
    measure_services.data_points_merge(
        measure=measure, by=alice,
        rows=[{**r, "period": r["period"].replace(day=1)} for r in rows])
    cycle = Cycle.objects.create(
        change_idea=ChangeIdeaFactory(project=world["project_a"], text="Bedside assessment"),
        number=1, created_by=alice, objective="Assess at the bedside", decision="adopt",
        act_date=dt.date(2026, 9, 15))
    client.logout()
    sign_in(client, alice)
    response = client.post(reverse("collaboratives:package_link",
                                   args=[c.pk, world["team_a"].pk]),
                           {"idea": idea.pk, "cycle": cycle.pk})
    assert response.status_code == 302
    assert PackageTest.objects.get().cycle == cycle
    # Trust B cannot link trust A's cycle.
    with pytest.raises(PermissionDenied):
        services.package_test_link(idea=idea, enrolment=world["team_a"], cycle=cycle,
                                   by=world["people"]["charlie"])
    client.logout()
    page = sign_in(client, world["people"]["charlie"]).get(
        reverse("collaboratives:change_package", args=[c.pk])).content.decode()
    assert "Risk assessment at the bedside on admission" in page
    assert "Adopt" in page and "adopted 1" in page
    row = selectors.change_package(c)[0]["tests"][0]
    assert row["before"]["title"].startswith("Common cause variation")
    assert "improvement" in row["after"]["title"].lower()
