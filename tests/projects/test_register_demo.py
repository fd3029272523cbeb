"""Demo projects: realistic, idempotent, and covering the statuses the pages show."""

from organisations import demo as org_demo
from projects import demo, selectors
from projects.models import Project


def test_demo_projects_are_seeded_once(db):
    context = org_demo.seed()
    first = demo.seed(context)["projects"]
    again = demo.seed(context)["projects"]
    assert {t: p.pk for t, p in first.items()} == {t: p.pk for t, p in again.items()}
    assert Project.objects.count() == len(demo.PROJECTS)

    falls = first[demo.FALLS]
    assert falls.trust.ods_code == "ZNT"
    assert falls.lead.email == "clinician@example.nhs.uk"
    assert falls.coach.email == "qilead@example.nhs.uk"
    assert falls.sponsor.email == "board@example.nhs.uk"
    assert falls.unit.name == "Ward 7 (Elderly Care)"
    assert falls.progress_scores.count() >= 6
    span = falls.progress_scores.last().scored_on - falls.progress_scores.first().scored_on
    assert span.days > 600  # about two years of history

    assert first[demo.WILLOW].trust.ods_code == "ZEB"
    assert first[demo.PRESSURE].trust.ods_code == "ZWM"
    statuses = {p.status for p in first.values()}
    assert {"proposed", "active", "stopped", "sustaining", "approved"} <= statuses
    stopped = Project.objects.get(status="stopped")
    assert stopped.stopped_reason
    stale = selectors.with_stale(Project.objects.all()).filter(is_stale=True)
    assert [p.title for p in stale] == [demo.SEPSIS]
