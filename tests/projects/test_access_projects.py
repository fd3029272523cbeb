"""Who may do what to a project: the rules in organisations/access.py, as a matrix, and
the pages that enforce them (outsider 404, member without the right 403)."""

import itertools

import pytest
from django.urls import reverse

from organisations import access
from organisations.access import Permission as P
from projects.models import Project
from tests.factories import MembershipFactory, ProjectFactory, TeamMemberFactory

V = Project.Visibility
PERMS = [P.PROJECT_VIEW, P.PROJECT_EDIT, P.PROJECT_APPROVE, P.DATA_ENTER]
PERSONAS = ["alice", "quentin", "bob", "tara", "charlie", "nadia", "stranger"]
HOME = {"alice": "a", "quentin": "a", "bob": "a", "tara": "a", "charlie": "b"}


def expected(persona, perm, visibility, own_trust):
    """The rules in words, independent of the code under test."""
    if persona == "nadia":  # national analyst: reads everything, changes nothing
        return perm is P.PROJECT_VIEW
    if persona == "quentin" and own_trust:  # QI lead at the project's trust: everything
        return True
    if perm is not P.PROJECT_VIEW:  # nobody else here is on the team
        return False
    if visibility == V.EVERYONE:
        return True
    if visibility == V.TRUST:
        return own_trust and persona in HOME
    return False


@pytest.mark.parametrize(
    "persona, perm, visibility, where",
    list(itertools.product(PERSONAS, PERMS, [V.TEAM, V.TRUST, V.EVERYONE], ["a", "b"])),
)
def test_permission_matrix(personas, trust_a, trust_b, persona, perm, visibility, where):
    trust = trust_a if where == "a" else trust_b
    project = ProjectFactory(trust=trust, visibility=visibility)
    MembershipFactory(user=project.lead, trust=trust)
    user = personas[persona]
    own_trust = HOME.get(persona) == where
    want = expected(persona, perm, visibility, own_trust)
    assert access.has_permission(user, perm, project=project) is want
    if perm is P.PROJECT_VIEW:  # the list scope agrees with the object rule
        assert access.projects_visible_to(user, Project.objects.all()).filter(
            pk=project.pk
        ).exists() is want


@pytest.mark.parametrize("role", ["lead", "coach", "sponsor", "team"])
def test_team_may_edit_and_enter_data_but_not_approve(alice, trust_a, role):
    project = ProjectFactory(trust=trust_a, visibility=V.TEAM)
    if role == "team":
        TeamMemberFactory(project=project, user=alice)
    else:
        setattr(project, role, alice)
        project.save()
    for perm in (P.PROJECT_VIEW, P.PROJECT_EDIT, P.DATA_ENTER):
        assert access.has_permission(alice, perm, project=project)
    assert not access.has_permission(alice, P.PROJECT_APPROVE, project=project)


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice, status=Project.Status.PROPOSED)


@pytest.mark.parametrize("name", ["detail", "edit", "status", "progress", "team", "history"])
def test_outsider_gets_404(client, charlie, project, name):
    response = sign_in(client, charlie).get(reverse(f"projects:{name}", args=[project.pk]))
    assert response.status_code == 404


def test_team_visibility_hides_the_project_from_the_trust(client, bob, trust_a):
    secret = ProjectFactory(trust=trust_a, visibility=V.TEAM)
    assert sign_in(client, bob).get(secret.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("name", ["edit", "progress"])
def test_board_member_editing_gets_403(client, bob, project, name):
    sign_in(client, bob)
    assert client.get(reverse(f"projects:{name}", args=[project.pk])).status_code == 403
    assert client.post(reverse(f"projects:{name}", args=[project.pk]), {}).status_code == 403


def test_board_member_adding_to_the_team_gets_403(client, bob, project):
    url = reverse("projects:team", args=[project.pk])
    assert sign_in(client, bob).post(url, {"user": bob.pk}).status_code == 403


def test_clinician_approving_gets_403(client, alice, project):
    sign_in(client, alice)
    url = reverse("projects:status", args=[project.pk])
    assert client.get(url + "?to=approved").status_code == 403
    assert client.post(url, {"to": "approved"}).status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.PROPOSED


def test_qi_lead_approves(client, quentin, project):
    url = reverse("projects:status", args=[project.pk])
    assert sign_in(client, quentin).post(url, {"to": "approved"}).status_code == 302


def test_national_analyst_reads_but_cannot_edit(client, nadia, project):
    sign_in(client, nadia)
    assert client.get(project.get_absolute_url()).status_code == 200
    assert client.get(reverse("projects:edit", args=[project.pk])).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, project):
    response = client.get(project.get_absolute_url())
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]
