"""The project history page (/projects/<id>/history/, reports.history): every change to the
project and everything in it, who made it, what changed from what to what; filtered by kind,
paginated, and a constant number of queries whatever the length of the history."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from measures import services as measure_services
from measures.models import DataPoint, Measure
from pdsa import services as pdsa_services
from projects import services as project_services
from projects.models import Project
from reports import history
from tests.factories import MembershipFactory, ProjectFactory, TeamMemberFactory

V = Project.Visibility


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def months(n, start=dt.date(2024, 1, 1)):
    return [dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
            for i in range(n)]


def page_of(client, project, **params):
    response = client.get(reverse("projects:history", args=[project.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def headlines(html):
    return re.findall(r'<h2 class="nhsuk-heading-s[^"]*">(.*?)</h2>', html)


def _measure(project, by, name, **fields):
    return measure_services.measure_create(
        project=project, by=by, name=name, kind=fields.pop("kind", "outcome"),
        definition="Counted from the incident system each month.", frequency="monthly",
        chart=fields.pop("chart", "xmr"), direction="decrease", **fields,
    )


def build(alice, bob, quentin, trust_a, *, points=3):
    """A project built as its team would: charter, team, score, diagram, three measures,
    data by the grid and by the upload service, two PDSA cycles, approval."""
    project = project_services.project_create(
        by=alice, trust=trust_a, title="Reducing falls on Ward 7", aim="Fewer falls by March.",
    )
    project_services.project_update(by=alice, project=project, title="Falls on Ward 7")
    project_services.team_member_add(by=alice, project=project, user=bob)
    project_services.progress_score_record(by=alice, project=project, score="1.5",
                                           scored_on=dt.date(2026, 1, 5), comment="Planning")
    primary = project_services.driver_create(project=project, text="Reliable checks", by=alice)
    secondary = project_services.driver_create(project=project, text="Lying and standing BP",
                                               parent=primary, by=alice)
    idea = project_services.change_idea_create(project=project, text="Falls huddle",
                                               drivers=[secondary], by=alice)
    falls = _measure(project, alice, "Falls per 1,000 bed days", driver=primary)
    _measure(project, alice, "Checks done", kind="process")
    balancing = _measure(project, alice, "Staff overtime hours", kind="balancing")
    measure_services.measure_update(measure=falls, by=alice, target=4.0)
    # The grid, then an upload of the same measure (merge by period).
    periods = months(points)
    measure_services.data_points_replace(
        measure=falls, by=alice,
        rows=[{"row": i, "period": p, "value": 3 + i} for i, p in enumerate(periods, 1)],
    )
    measure_services.data_points_merge(
        measure=balancing, by=alice,
        rows=[{"row": i, "period": p, "value": 20} for i, p in enumerate(periods, 1)],
    )
    first = falls.points.order_by("period").first()
    measure_services.data_point_update(point=first, by=alice, value=30)
    cycle = pdsa_services.cycle_create(change_idea=idea, by=alice, objective="Try a huddle",
                                       prediction="Fewer falls at night")
    cycle = pdsa_services.cycle_save_stage(
        cycle=cycle, stage="do", data={"carried_out_as_planned": "yes",
                                       "what_happened": "Held every evening"},
        expected_version=cycle.version, by=alice,
    )
    pdsa_services.cycle_create(change_idea=idea, by=alice, objective="Huddle at weekends",
                               prediction="Same effect", follows=cycle)
    project_services.project_transition(by=quentin, project=project, to="approved")
    return project


@pytest.fixture
def project(alice, bob, quentin, trust_a):
    return build(alice, bob, quentin, trust_a)


# ---- what the page shows -----------------------------------------------------------------


def test_every_kind_of_change_appears_with_who_and_what(client, project, alice):
    html = page_of(sign_in(client, alice), project)
    heads = headlines(html)
    assert "Charter registered" in heads and "Charter changed" in heads
    assert "Status changed" in heads
    assert "Team: Bob Board added" in heads
    assert "Progress score recorded: 1.5 Planning for the project has begun " \
           "(as of 5 January 2026)" in heads
    assert "Driver diagram: primary driver ‘Reliable checks’ added" in heads
    assert "Driver diagram: secondary driver ‘Lying and standing BP’ added" in heads
    assert "Driver diagram: change idea ‘Falls huddle’ added" in heads
    for name in ("Falls per 1,000 bed days", "Checks done", "Staff overtime hours"):
        assert f"Measure: {name} added" in heads
    assert "Measure: Falls per 1,000 bed days changed" in heads
    assert "Data: Falls per 1,000 bed days, 1 January 2024 added" in heads
    assert "Data: Falls per 1,000 bed days, 1 January 2024 changed" in heads
    assert "Data: Staff overtime hours, 1 March 2024 added" in heads  # the upload service
    assert "PDSA cycle: Cycle 1 of ‘Falls huddle’ added" in heads
    assert "PDSA cycle: Cycle 1 of ‘Falls huddle’ changed" in heads
    assert "PDSA cycle: Cycle 2 of ‘Falls huddle’ added" in heads
    # Newest first: the approval is the last thing done, the registration the first.
    assert heads[0] == "Status changed" and heads[-1] == "Charter registered"
    # The bookkeeping copies of the latest score on the charter are not events.
    assert "Latest progress score" not in html and "Dirty since" not in html
    assert "Alice Clinician" in html and "Quentin QI Lead" in html


def _event(project, headline, **kw):
    events = history.project_history(project, **kw).events
    return next(e for e in events if e.headline == headline)


def _changes(event):
    return {c.field: (c.old, c.new) for c in event.changes}


def test_changes_show_old_and_new_values_as_the_pages_do(project, alice, quentin):
    charter = _event(project, "Charter changed")
    assert _changes(charter) == {"Title": ("Reducing falls on Ward 7", "Falls on Ward 7")}
    assert charter.who == "Alice Clinician"
    status = _event(project, "Status changed")
    assert _changes(status) == {"Status": ("Proposed", "Approved")}  # choices as names
    assert status.who == "Quentin QI Lead"
    target = _event(project, "Measure: Falls per 1,000 bed days changed")
    assert _changes(target) == {"Target": ("(none)", "4")}
    point = _event(project, "Data: Falls per 1,000 bed days, 1 January 2024 changed")
    assert _changes(point) == {"Value": ("4", "30")}
    added = _event(project, "Measure: Falls per 1,000 bed days added")
    assert _changes(added)["Driver"] == ("(none)", "Reliable checks")  # a foreign key by name
    assert _changes(added)["Frequency"] == ("(none)", "Monthly")
    do = _event(project, "PDSA cycle: Cycle 1 of ‘Falls huddle’ changed")
    assert _changes(do)["Status"] == ("Doing", "Studying")
    assert _changes(do)["Carried out as planned?"] == ("(none)", "Yes")
    assert _changes(do)["What happened"] == ("(none)", "Held every evening")
    follows = _event(project, "PDSA cycle: Cycle 2 of ‘Falls huddle’ added")
    assert _changes(follows)["Follows cycle"] == ("(none)", "Cycle 1")
    secondary = _event(project, "Driver diagram: secondary driver ‘Lying and standing BP’ added")
    assert _changes(secondary)["Primary driver"] == ("(none)", "Reliable checks")
    score = _event(project, "Progress score recorded: 1.5 Planning for the project has begun "
                            "(as of 5 January 2026)")
    assert score.note == "Planning" and score.kind == "score"
    # Bookkeeping is never listed as a change.
    every = history.project_history(project, per_page=500).events
    fields = {c.field for e in every for c in e.changes}
    assert not fields & {"Version", "Data version", "Dirty since", "Updated at", "Number",
                         "Progress score", "Data changed at", "Match title", "Match aim"}


def test_a_data_upload_appears_with_who_made_it(client, alice, bob, quentin, trust_a):
    project = build(alice, bob, quentin, trust_a)
    measure = Measure.objects.get(project=project, name="Checks done")
    text = "period,value\n" + "".join(f"{p:%Y-%m-%d},{10 + i}\n"
                                      for i, p in enumerate(months(4)))
    sign_in(client, alice)
    response = client.post(reverse("projects:measure_upload", args=[project.pk, measure.pk]),
                           {"file": SimpleUploadedFile("checks.csv", text.encode())})
    assert response.status_code == 302
    assert measure.points.count() == 4
    events = [e for e in history.project_history(project, kinds=["data"]).events
              if e.subject.startswith("Checks done")]
    assert [e.headline for e in events][-1] == "Data: Checks done, 1 January 2024 added"
    assert len(events) == 4 and {e.who for e in events} == {"Alice Clinician"}
    assert _changes(events[-1]) == {"Period": ("(none)", "1 January 2024"),
                                    "Value": ("(none)", "10")}


def test_team_removal_and_removed_things_keep_their_names(project, alice):
    member = project.team.get()
    project_services.team_member_remove(by=alice, member=member)
    measure = Measure.objects.get(project=project, name="Falls per 1,000 bed days")
    measure_services.measure_delete(measure=measure, by=alice)
    events = history.project_history(project, per_page=500).events
    heads = [e.headline for e in events]
    assert heads[0] == "Measure: Falls per 1,000 bed days removed"
    assert "Data: Falls per 1,000 bed days, 1 March 2024 removed" in heads  # with the measure
    assert "Team: Bob Board removed" in heads
    # The removed measure's data keeps its history and its name.
    assert "Data: Falls per 1,000 bed days, 1 January 2024 changed" in heads


def test_a_change_made_outside_a_request_without_a_user_says_the_system(project):
    point = DataPoint.objects.filter(measure__project=project).first()
    point.value = 99
    point.save()  # no history user: a script or a migration
    event = history.project_history(project).events[0]
    assert event.who == "the system" and _changes(event)["Value"][1] == "99"


def test_long_text_is_cut_short(project, alice):
    long_aim = "Fewer falls " + "at night " * 60
    project_services.project_update(by=alice, project=project, aim=long_aim)
    change = _changes(_event(project, "Charter changed"))["Aim statement"]
    assert change[0] == "Fewer falls by March."
    assert len(change[1]) <= history.TEXT_LIMIT and change[1].endswith("…")


# ---- filter and pages -------------------------------------------------------------------


def test_filter_by_kind_shows_only_those_kinds(client, project, alice):
    sign_in(client, alice)
    heads = headlines(page_of(client, project, kind="data"))
    assert heads and all(h.startswith("Data: ") for h in heads)
    heads = headlines(page_of(client, project, kind=["team", "score"]))
    assert sorted({h.split(":")[0] for h in heads}) == ["Progress score recorded", "Team"]
    heads = headlines(page_of(client, project, kind="diagram"))
    assert len(heads) == 3 and all(h.startswith("Driver diagram: ") for h in heads)
    # An unknown kind (an old bookmark) is ignored rather than an error.
    assert headlines(page_of(client, project, kind=["cycle", "nonsense"]))[0].startswith(
        "PDSA cycle: ")


def test_filter_form_works_without_javascript(client, project, alice):
    html = page_of(sign_in(client, alice), project, kind="measure")
    assert re.search(r'<form method="get" action="/projects/\d+/history/"', html)
    assert re.search(r'name="kind" type="checkbox" value="measure" checked', html)
    assert not re.search(r'value="data" checked', html)
    assert '<legend class="nhsuk-fieldset__legend' in html and ">Apply</button>" in html


def test_pages_of_fifty_keep_the_filter(client, alice, bob, quentin, trust_a):
    project = build(alice, bob, quentin, trust_a, points=40)
    sign_in(client, alice)
    # 40 grid points, 40 uploaded points and one edit: 81 data events, two pages.
    first = page_of(client, project, kind="data")
    assert len(headlines(first)) == history.PAGE_SIZE
    assert "Page 1 of 2" in first
    next_link = re.search(r'href="([^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "kind=data" in next_link and "page=2" in next_link
    second = client.get(reverse("projects:history", args=[project.pk]) + next_link)
    heads2 = headlines(second.content.decode())
    assert len(heads2) == 81 - history.PAGE_SIZE
    assert all(h.startswith("Data: ") for h in heads2)
    assert 'rel="prev"' in second.content.decode()
    # Every data event appears exactly once across the two pages.
    both = headlines(first) + heads2
    assert len(both) == len(set(both)) == 81
    assert both.count("Data: Falls per 1,000 bed days, 1 January 2024 added") == 1


def test_page_out_of_range_shows_the_last_page(client, project, alice):
    html = page_of(sign_in(client, alice), project, page=99)
    assert headlines(html)[-1] == "Charter registered"


# ---- constant queries -------------------------------------------------------------------


def _grow(project, alice, n):
    """n more changes of every kind, so that the first page shows every kind at any size."""
    falls = Measure.objects.get(project=project, name="Falls per 1,000 bed days")
    driver = project.drivers.filter(parent=None).first()
    idea = project.change_ideas.first()
    cycle = idea.pdsa_cycles.order_by("number").first()
    for i, period in enumerate(months(n, start=dt.date(2030, 1, 1))):
        measure_services.data_points_merge(measure=falls, by=alice,
                                           rows=[{"row": 1, "period": period, "value": i}])
        project_services.project_update(by=alice, project=project, scope=f"Scope {i}")
        project_services.driver_update(driver=driver, text=f"Reliable checks {i}", by=alice)
        project_services.change_idea_update(change_idea=idea, text=f"Falls huddle {i}", by=alice)
        measure_services.measure_update(measure=falls, by=alice, target=float(i))
        cycle = pdsa_services.cycle_update(cycle=cycle, data={"observations": f"Seen {i}"},
                                           expected_version=cycle.version, by=alice)
        project_services.progress_score_record(by=alice, project=project, score="2.0",
                                               scored_on=dt.date(2026, 2, 1))
        # Removing and adding a partner: a team event in every round.
        member = project_services.team_member_add(by=alice, project=project, name=f"P{i}",
                                                  role="patient_partner")
        project_services.team_member_remove(by=alice, member=member)


def _sized(alice, bob, quentin, trust_a, extra):
    project = build(alice, bob, quentin, trust_a)
    _grow(project, alice, extra)
    return project


# session, user; the user's memberships (access); the project with its team and scores;
# COUNT of the events and the page of keys (one UNION); for each of the 7 history tables
# on the page its rows and the rows before them, and the scores; then the names: people,
# the trust, drivers, change ideas, measures, cycles.
QUERY_BUDGET = 30


@pytest.mark.parametrize("extra", [1, 12])  # about 5 and 60 changes besides the build
def test_query_count_stays_within_budget_as_the_history_grows(
    client, alice, bob, quentin, trust_a, extra, django_assert_max_num_queries
):
    project = _sized(alice, bob, quentin, trust_a, extra)
    sign_in(client, alice)
    with django_assert_max_num_queries(QUERY_BUDGET):
        html = page_of(client, project)
    kinds = set(re.findall(r'nhsuk-tag--grey">([^<]+)<', html))
    assert kinds == set(history.KINDS.values())  # every kind is on the page
    if extra == 12:
        assert len(headlines(html)) == history.PAGE_SIZE


def test_query_count_is_the_same_at_two_sizes(client, alice, bob, quentin, trust_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for extra in (12, 40):  # a full first page of every kind, from 120 and 400 changes
        project = _sized(alice, bob, quentin, trust_a, extra)
        sign_in(client, alice)
        with CaptureQueriesContext(connection) as ctx:
            html = page_of(client, project)
        assert len(headlines(html)) == history.PAGE_SIZE
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


# ---- who may see it -----------------------------------------------------------------------


def test_outsider_gets_404(client, project, charlie):
    url = reverse("projects:history", args=[project.pk])
    assert sign_in(client, charlie).get(url).status_code == 404


def test_trust_member_sees_a_trust_visible_projects_history(client, bob, trust_a):
    project = ProjectFactory(trust=trust_a, visibility=V.TRUST)
    MembershipFactory(user=project.lead, trust=trust_a)
    url = reverse("projects:history", args=[project.pk])
    assert sign_in(client, bob).get(url).status_code == 200


def test_private_projects_history_is_404_except_for_the_team(client, bob, alice, trust_a):
    project = ProjectFactory(trust=trust_a, visibility=V.TEAM)
    url = reverse("projects:history", args=[project.pk])
    assert sign_in(client, bob).get(url).status_code == 404
    TeamMemberFactory(project=project, user=alice)
    assert sign_in(client, alice).get(url).status_code == 200


def test_national_analyst_reads_the_history(client, project, nadia):
    url = reverse("projects:history", args=[project.pk])
    assert sign_in(client, nadia).get(url).status_code == 200


def test_anonymous_is_sent_to_sign_in(client, project):
    response = client.get(reverse("projects:history", args=[project.pk]))
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_a_save_that_changes_nothing_shown_is_not_an_event(project):
    before = history.project_history(project, per_page=500).page.paginator.count
    point = DataPoint.objects.filter(measure__project=project).first()
    point._history_user = project.lead
    point.save()  # a history row with nothing shown changed
    project_services.progress_score_record(
        by=project.lead, project=project, score="2.0", scored_on=dt.date(2026, 2, 1))
    result = history.project_history(project, per_page=500)
    # The score is one event; the charter's copy of it and the empty save are not.
    assert result.page.paginator.count == before + 2  # the empty data save is cut late
    assert len(result.events) == before + 1
    assert result.events[0].headline.startswith("Progress score recorded: 2.0")
