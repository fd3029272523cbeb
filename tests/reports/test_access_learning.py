"""Access rows for the learning repository (issue 14, item 7): who opens the pages, and who
reads which rows, for every sharing choice and kind of item."""

import pytest
from django.urls import reverse

from collaboratives.models import Collaborative, Enrolment, LearningPost, PackageIdea
from organisations.models import Membership
from pdsa.models import Cycle
from projects.models import Project
from reports import learning
from reports.models import CaseStudy
from tests.factories import ChangeIdeaFactory, ProjectFactory, TrustFactory, UserFactory

Sharing = Project.Sharing
SEARCH = reverse("reports:learning")
ADD_CASE = reverse("reports:case_study_create")


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


@pytest.mark.parametrize(("who", "search", "add_case"), [
    ("alice", 200, 403), ("quentin", 200, 403), ("bob", 200, 403), ("charlie", 200, 403),
    ("nadia", 200, 200), ("stranger", 404, 404),
])
def test_who_opens_the_pages(client, personas, who, search, add_case):
    _sign_in(client, personas[who])
    assert client.get(SEARCH).status_code == search
    assert client.get(ADD_CASE).status_code == add_case


def test_signed_out_people_are_sent_to_sign_in(client, db):
    assert client.get(SEARCH).status_code == 302
    assert client.post(ADD_CASE, {"title": "x"}).status_code == 302
    assert not CaseStudy.objects.exists()


def test_a_trust_user_cannot_add_a_case_study_by_posting(client, alice):
    _sign_in(client, alice)
    response = client.post(ADD_CASE, {"title": "Case", "source_name": "S",
                                      "source_url": "https://example.org/", "country": "Wales",
                                      "year": 2020, "summary": "Text"})
    assert response.status_code == 403
    assert not CaseStudy.objects.exists()


@pytest.fixture
def world(trust_a, trust_b, personas):
    """At trust B (charlie's): one project per sharing choice, each with a change idea and a
    PDSA cycle; a collaborative hosted by B that trust A does not take part in, with a
    team post from the "learning" project, a faculty post with no team, and a package idea."""
    faculty = UserFactory()
    projects = {}
    for sharing in Sharing:
        project = ProjectFactory(trust=trust_b, sharing=sharing, title=f"Shares {sharing}",
                                 lead=personas["charlie"])
        idea = ChangeIdeaFactory(project=project)
        Cycle.objects.create(change_idea=idea, number=1, objective="Try", created_by=project.lead,
                             learning="We learned.")
        projects[sharing] = project
    collab = Collaborative.objects.create(
        name="Falls collaborative", topic="Falls", host_trust=trust_b, aim="Fewer falls",
        start_date="2026-01-01", end_date="2026-12-31", created_by=faculty)
    enrolment = Enrolment.objects.create(collaborative=collab, project=projects["learning"],
                                         requested_by=faculty, status="approved")
    team_post = LearningPost.objects.create(collaborative=collab, author=faculty,
                                            enrolment=enrolment, title="Team post", body="b")
    faculty_post = LearningPost.objects.create(collaborative=collab, author=faculty,
                                               title="Faculty post", body="b")
    idea = PackageIdea.objects.create(collaborative=collab, title="Package idea")
    case = CaseStudy.objects.create(title="SPSP", source_url="https://ihub.scot/",
                                    source_name="ihub", country="Scotland", summary="s",
                                    year=2019, created_by=personas["nadia"])
    learning.rebuild_all()
    return {"projects": projects, "team_post": team_post, "faculty_post": faculty_post,
            "package_idea": idea, "case": case, "collab": collab}


def _rows(user):
    return {(d.kind, d.title.split(":")[0]) for d in learning.documents_for(user)}


def _shared_everywhere(world):
    """What anyone at another trust, and the national centre, reads."""
    summary, shares_learning = world["projects"]["summary"], world["projects"]["learning"]
    return {
        ("project", summary.title), ("change_idea", summary.change_ideas.get().text),
        ("project", shares_learning.title),
        ("change_idea", shares_learning.change_ideas.get().text), ("pdsa", "PDSA 1"),
        ("post", "Team post"), ("package_idea", "Package idea"), ("case_study", "SPSP"),
    }


@pytest.mark.parametrize("who", ["nadia", "alice", "quentin", "bob"])
def test_other_trusts_and_the_centre_read_only_what_is_shared(world, personas, who):
    assert _rows(personas[who]) == _shared_everywhere(world)


def test_the_pdsa_rows_come_only_from_the_learning_project(world, nadia):
    pdsa = learning.documents_for(nadia).filter(kind="pdsa")
    assert {d.project_id for d in pdsa} == {world["projects"]["learning"].pk}


def test_the_own_trust_reads_its_unshared_work_too(world, charlie):
    nothing = world["projects"]["nothing"]
    rows = _rows(charlie)
    assert ("project", nothing.title) in rows
    pdsa = learning.documents_for(charlie).filter(kind="pdsa")
    assert {d.project_id for d in pdsa} == {p.pk for p in world["projects"].values()}


def test_a_collaborative_member_reads_its_faculty_post(world, trust_a, alice, nadia):
    assert ("post", "Faculty post") not in _rows(alice)
    assert ("post", "Faculty post") not in _rows(nadia)  # not shared beyond it
    world["collab"].participations.create(trust=trust_a, status="accepted",
                                          invited_by=world["collab"].created_by)
    alice_fresh = type(alice).objects.get(pk=alice.pk)  # the role map is cached per object
    assert ("post", "Faculty post") in _rows(alice_fresh)


def test_people_with_no_role_read_nothing(world, stranger):
    assert _rows(stranger) == set()


def test_links_only_to_pages_the_reader_may_open(world, alice, charlie):
    team = world["projects"]["learning"]
    team.visibility = Project.Visibility.TRUST
    team.save()
    rows = learning.with_highlights(learning.documents_for(alice), "", alice)
    by_kind = {(r.kind, r.project_id): r.link for r in rows}
    assert by_kind[("project", team.pk)] == ""  # shared, but the project page is trust-only
    assert by_kind[("case_study", None)] == "https://ihub.scot/"
    assert by_kind[("package_idea", None)] == ""  # trust A is not in the collaborative
    rows = learning.with_highlights(learning.documents_for(charlie), "", charlie)
    assert {(r.kind, r.project_id): r.link for r in rows}[("project", team.pk)] == (
        reverse("projects:detail", args=[team.pk]))


def test_a_second_trust_role_does_not_widen_unshared_rows(world, trust_b, alice):
    other = TrustFactory()
    Membership.objects.create(user=alice, trust=other, role=Membership.Role.CLINICIAN)
    alice_fresh = type(alice).objects.get(pk=alice.pk)
    assert _rows(alice_fresh) == _shared_everywhere(world)


def test_a_person_at_two_trusts_reads_the_unshared_work_of_both(world, trust_a, charlie):
    """The own-trust arm asks only for the projects of the reader's trusts (issue 21): with
    roles at two, both trusts' unshared rows are read, and nobody else's."""
    own_a = ProjectFactory(trust=trust_a, sharing=Sharing.NOTHING, title="Trust A's own")
    elsewhere = ProjectFactory(sharing=Sharing.NOTHING, title="Someone else's",
                               visibility=Project.Visibility.EVERYONE)
    learning.refresh_project(own_a.pk)
    learning.refresh_project(elsewhere.pk)
    before = _rows(charlie)
    assert ("project", own_a.title) not in before
    Membership.objects.create(user=charlie, trust=trust_a, role=Membership.Role.CLINICIAN)
    rows = _rows(type(charlie).objects.get(pk=charlie.pk))
    assert ("project", own_a.title) in rows
    assert ("project", world["projects"]["nothing"].title) in rows
    assert ("project", elsewhere.title) not in rows
    assert rows - before == {("project", own_a.title)}
