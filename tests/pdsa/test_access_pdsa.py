"""Who may see and log PDSA cycles: persona × permission × own/other trust × visibility.

The rules live in organisations/access.py; these tests pin that the PDSA pages, API and
selectors follow them: outsiders 404, members without PDSA_EDIT 403."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from organisations import access
from organisations.access import Permission
from pdsa import selectors, services
from tests.factories import ChangeIdeaFactory, ProjectFactory, TeamMemberFactory, UserFactory
from tests.pdsa.conftest import sign_in

pytestmark = pytest.mark.urls("tests.pdsa.urls")

EVERYONE = {"alice", "quentin", "bob", "tara", "charlie", "nadia", "stranger"}

# (trust, visibility, alice on the team) → (who may view, who may edit)
MATRIX = {
    ("own", "team", False): ({"quentin", "nadia"}, {"quentin"}),
    ("own", "trust", False): ({"alice", "quentin", "bob", "tara", "nadia"}, {"quentin"}),
    ("own", "everyone", False): (EVERYONE, {"quentin"}),
    ("own", "team", True): ({"alice", "quentin", "nadia"}, {"alice", "quentin"}),
    ("other", "team", False): ({"nadia"}, set()),
    ("other", "trust", False): ({"charlie", "nadia"}, set()),
    ("other", "everyone", False): (EVERYONE, set()),
}
CASES = [
    pytest.param(key, persona, id=f"{key[0]}-{key[1]}{'-team-alice' if key[2] else ''}-{persona}")
    for key in MATRIX
    for persona in sorted(EVERYONE)
]


@pytest.fixture
def setup(personas, trust_a, trust_b):
    def make(key):
        trust, visibility, alice_on_team = key
        project = ProjectFactory(
            trust=trust_a if trust == "own" else trust_b,
            lead=UserFactory(full_name="Lena Lead"),
            visibility=visibility,
        )
        if alice_on_team:
            TeamMemberFactory(project=project, user=personas["alice"])
        idea = ChangeIdeaFactory(project=project)
        cycle = services.cycle_create(
            change_idea=idea, by=project.lead, objective="Test", prediction="Better"
        )
        return project, cycle

    return make


@pytest.mark.parametrize("key, persona", CASES)
def test_pdsa_permissions_pages_api_and_scopes(client, setup, personas, key, persona):
    project, cycle = setup(key)
    user = personas[persona]
    viewers, editors = MATRIX[key]
    may_view, may_edit = persona in viewers, persona in editors

    assert access.has_permission(user, Permission.PDSA_VIEW, project=project) is may_view
    assert access.has_permission(user, Permission.PDSA_EDIT, project=project) is may_edit
    assert selectors.cycles_visible_to(user).filter(pk=cycle.pk).exists() is may_view
    in_mine = selectors.my_open_cycles(user).filter(pk=cycle.pk).exists()
    assert in_mine is may_edit

    denied = 403 if may_view else 404
    sign_in(client, user)
    assert client.get(cycle.get_absolute_url()).status_code == (200 if may_view else 404)
    assert client.get(reverse("pdsa_project:timeline", args=[project.pk])).status_code == (
        200 if may_view else 404
    )
    response = client.post(
        reverse("pdsa:stage", args=[cycle.pk, "plan"]), {"version": 1, "objective": "Mine"}
    )
    assert response.status_code == (302 if may_edit else denied)
    new_url = reverse("pdsa:new") + f"?change_idea={cycle.change_idea_id}"
    assert client.get(new_url).status_code == (200 if may_edit else denied)

    api = APIClient()
    api.force_authenticate(user)
    url = f"/api/v1/pdsa-cycles/{cycle.pk}/"
    assert api.get(url).status_code == (200 if may_view else 404)
    cycle.refresh_from_db()
    response = api.patch(url, {"version": cycle.version, "objective": "x"}, format="json")
    assert response.status_code == (200 if may_edit else denied)
