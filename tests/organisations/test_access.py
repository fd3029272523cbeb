"""The access matrix: every persona × every trust-level permission × own / other trust.

Later issues add their rows (projects, PDSA cycles…) in their own test modules, using the
same personas.
"""

import pytest

from organisations import access
from organisations.access import Permission as P

TRUST_PERMS = [
    P.TRUST_VIEW,
    P.TRUST_DASHBOARD_VIEW,
    P.UNIT_MANAGE,
    P.MEMBERSHIP_MANAGE,
    P.PROJECT_CREATE,
]

# persona → permissions held at trust A (their own trust for alice…tara).
EXPECTED_AT_A = {
    "alice": {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.PROJECT_CREATE},
    "quentin": {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.PROJECT_CREATE},
    "bob": {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW},
    "tara": {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.UNIT_MANAGE, P.MEMBERSHIP_MANAGE},
    "charlie": set(),
    "nadia": {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW},
    "stranger": set(),
}
# persona → permissions held at trust B (charlie's own trust).
EXPECTED_AT_B = {
    "alice": set(),
    "quentin": set(),
    "bob": set(),
    "tara": set(),
    "charlie": {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.PROJECT_CREATE},
    "nadia": {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW},
    "stranger": set(),
}


@pytest.mark.parametrize("persona", sorted(EXPECTED_AT_A))
@pytest.mark.parametrize("perm", TRUST_PERMS, ids=str)
def test_trust_permission_matrix(personas, trust_a, trust_b, persona, perm):
    user = personas[persona]
    assert access.has_permission(user, perm, trust=trust_a) == (perm in EXPECTED_AT_A[persona])
    assert access.has_permission(user, perm, trust=trust_b) == (perm in EXPECTED_AT_B[persona])


@pytest.mark.parametrize("persona", sorted(EXPECTED_AT_A))
def test_national_view_only_for_the_national_analyst(personas, persona):
    assert access.has_permission(personas[persona], P.NATIONAL_VIEW) == (persona == "nadia")


def test_anonymous_has_no_permission(trust_a):
    from django.contrib.auth.models import AnonymousUser

    for perm in TRUST_PERMS:
        assert not access.has_permission(AnonymousUser(), perm, trust=trust_a)


def test_inactive_user_has_no_permission(alice, trust_a):
    alice.is_active = False
    assert not access.has_permission(alice, P.TRUST_VIEW, trust=trust_a)


def test_national_analyst_changes_nothing(nadia, trust_a):
    for perm in (P.UNIT_MANAGE, P.MEMBERSHIP_MANAGE, P.PROJECT_CREATE):
        assert not access.has_permission(nadia, perm, trust=trust_a)


def test_roles_add_up_at_one_trust(alice, trust_a):
    from organisations.services import membership_add

    membership_add(user=alice, trust=trust_a, role="trust_admin")
    fresh = type(alice).objects.get(pk=alice.pk)  # the role cache lives on the object
    assert access.has_permission(fresh, P.UNIT_MANAGE, trust=trust_a)
    assert access.has_permission(fresh, P.PROJECT_CREATE, trust=trust_a)


def test_trust_scope_lists_only_own_trusts(personas, trust_a, trust_b):
    assert list(access.trusts_visible_to(personas["alice"])) == [trust_a]
    assert list(access.trusts_visible_to(personas["charlie"])) == [trust_b]
    assert set(access.trusts_visible_to(personas["nadia"])) == {trust_a, trust_b}
    assert list(access.trusts_visible_to(personas["stranger"])) == []


def test_project_permission_without_project_is_a_programming_error(alice):
    with pytest.raises(TypeError):
        access.has_permission(alice, P.PROJECT_VIEW)


@pytest.mark.parametrize(
    "persona, sees_a, sees_b",
    [("quentin", True, False), ("alice", False, False), ("bob", False, False),
     ("charlie", False, False), ("nadia", False, False), ("stranger", False, False)],
)
def test_who_may_approve_which_projects(personas, trust_a, trust_b, persona, sees_a, sees_b):
    # The QI lead's worklist scope follows PROJECT_APPROVE: QI leads at the project's trust.
    from projects.models import Project
    from tests.factories import ProjectFactory

    a, b = ProjectFactory(trust=trust_a), ProjectFactory(trust=trust_b)
    user = personas[persona]
    approvable = set(access.projects_approvable_by(user, Project.objects.all()))
    assert (a in approvable, b in approvable) == (sees_a, sees_b)
    assert (a in approvable) == access.has_permission(user, access.Permission.PROJECT_APPROVE,
                                                      project=a)
    assert access.approves_anywhere(user) is (persona == "quentin")
