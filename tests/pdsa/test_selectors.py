import datetime

import pytest

from pdsa import selectors
from pdsa.models import Cycle
from tests.factories import ChangeIdeaFactory, MeasureFactory


def test_quality_summary_counts_each_feature(idea, measure, make_cycle):
    first = make_cycle(idea, prediction="")
    make_cycle(idea, follows=first, measures=[measure], results="Halved, as predicted")
    make_cycle(idea)
    summary = selectors.quality_summary(Cycle.objects.all())
    assert summary == {
        "total": 3, "prediction": 2, "data_linked": 1, "study_compares": 1, "ramp": 2,
        "all_four": 1, "planning": 1, "doing": 1, "studying": 0, "acting": 1, "complete": 0,
    }


def test_quality_summary_is_one_query_on_a_scoped_queryset(
    idea, make_cycle, alice, django_assert_num_queries
):
    make_cycle(idea)
    qs = selectors.cycles_visible_to(alice)  # reads Alice's memberships once, here
    with django_assert_num_queries(1):  # the aggregate, with the access scope as a subquery
        assert selectors.quality_summary(qs)["total"] == 1


def test_markers_for_measures(idea, measure, make_cycle, project):
    other = MeasureFactory(project=project)
    make_cycle(idea, measures=[measure], planned_start=datetime.date(2026, 3, 2))
    second = make_cycle(
        idea, measures=[measure, other], decision="adopt", act_date=datetime.date(2026, 4, 20)
    )
    markers = selectors.markers_for_measures([measure.pk, other.pk, 999])
    assert [m["date"] for m in markers[measure.pk]] == [
        datetime.date(2026, 3, 2), datetime.date(2026, 4, 20),
    ]
    assert markers[other.pk] == [
        {
            "date": datetime.date(2026, 4, 20),
            "label": "PDSA 2: Intentional rounding every 2 hours (adopt)",
            "url": f"/pdsa/{second.pk}/",
        }
    ]
    assert markers[999] == []


@pytest.mark.parametrize("n", [5, 500])
def test_markers_cost_one_query(idea, measure, alice, n, django_assert_num_queries):
    cycles = Cycle.objects.bulk_create(
        Cycle(change_idea=idea, number=i + 1, objective="t", created_by=alice) for i in range(n)
    )
    Cycle.measures.through.objects.bulk_create(
        Cycle.measures.through(cycle=c, measure=measure) for c in cycles
    )
    with django_assert_num_queries(1):  # links joined to cycle and change idea
        markers = selectors.markers_for_measures([measure.pk])
    assert len(markers[measure.pk]) == n


def test_project_timeline_orders_ramps(project, idea, make_cycle, django_assert_num_queries):
    second_idea = ChangeIdeaFactory(project=project, position=1)
    a1 = make_cycle(idea)
    b1 = make_cycle(second_idea)
    a2 = make_cycle(idea, follows=a1)
    with django_assert_num_queries(2):  # change ideas, then their cycles (prefetch)
        ramps = selectors.project_timeline(project)
        assert [[c.pk for c in r["cycles"]] for r in ramps] == [[a1.pk, a2.pk], [b1.pk]]
        assert ramps[0]["cycles"][0].quality_features()["ramp"] is True


def test_measure_page_marks_linked_pdsa_cycles(client, alice, trust_a):
    """PDSA markers appear on the linked measure's chart at the cycle's date."""
    from datetime import date

    from pdsa import services as pdsa_services
    from tests.factories import (
        ChangeIdeaFactory,
        DataPointFactory,
        MeasureFactory,
        ProjectFactory,
    )

    project = ProjectFactory(trust=trust_a, lead=alice, created_by=alice)
    measure = MeasureFactory(project=project, name="Falls rate")
    for i in range(14):
        DataPointFactory(measure=measure, period=date(2025, 1, 1).replace(
            year=2025 + i // 12, month=i % 12 + 1), value=5 + i % 3)
    idea = ChangeIdeaFactory(project=project, text="Falls safety huddle")
    cycle = pdsa_services.cycle_create(
        change_idea=idea, by=alice, objective="Try a huddle at handover",
        prediction="Fewer falls on nights", planned_start=date(2025, 6, 2),
    )
    cycle.measures.add(measure)
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(f"/projects/{project.pk}/measures/{measure.pk}/").content.decode()
    assert "PDSA cycles marked on this chart" in html
    assert "Falls safety huddle" in html
    assert f"/pdsa/{cycle.pk}/" in html


def test_the_summary_of_projects_counts_what_the_summary_of_their_cycles_counts(
    idea, measure, make_cycle, project, django_assert_num_queries
):
    other_idea = ChangeIdeaFactory(project=project)
    first = make_cycle(idea, prediction="")
    make_cycle(idea, follows=first, measures=[measure], results="Halved, as predicted")
    make_cycle(other_idea, measures=[measure])
    elsewhere = ChangeIdeaFactory(project__trust=project.trust, project__lead=project.lead)
    make_cycle(elsewhere)  # another project's cycle is not counted
    with django_assert_num_queries(1):
        of_projects = selectors.quality_summary_of_projects([project.pk])
    assert of_projects == selectors.quality_summary(selectors.project_cycles(project))
    assert of_projects["total"] == 3 and of_projects["data_linked"] == 2
