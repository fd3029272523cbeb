"""Rows of the access table for API tokens (organisations/access.py): a personal token
changes nothing; a service token is narrowed to one trust and, read-only, to reading."""

import pytest

from organisations import access, services
from organisations.access import Permission as P
from projects.models import Project
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _signed_in_with(token):
    user = token.user
    user._qi_token = token  # what organisations.tokens does for each request
    return user


@pytest.fixture
def project_a(trust_a, alice):
    return ProjectFactory(trust=trust_a, lead=alice)


def _service(trust, by, read_only):
    token, _ = services.service_token_create(trust=trust, by=by, name="Feed",
                                             read_only=read_only)
    return _signed_in_with(token)


def test_a_personal_token_has_exactly_its_owners_access(alice, project_a, trust_b):
    token, _ = services.api_token_create(by=alice, name="Script")
    user = _signed_in_with(token)
    assert access.service_token_of(user) is None
    for perm in (P.PROJECT_VIEW, P.PROJECT_EDIT, P.DATA_ENTER, P.PDSA_EDIT):
        assert access.has_permission(user, perm, project=project_a)
    assert access.has_permission(user, P.PROJECT_CREATE, trust=project_a.trust)
    assert not access.has_permission(user, P.TRUST_VIEW, trust=trust_b)
    assert access.api_method_allowed(user, "POST")


READS = [P.PROJECT_VIEW, P.PDSA_VIEW]
WRITES = [P.PROJECT_EDIT, P.DATA_ENTER, P.PDSA_EDIT]


@pytest.mark.parametrize("read_only", [True, False])
def test_a_service_token_reads_its_trust(tara, project_a, read_only):
    user = _service(project_a.trust, tara, read_only)
    for perm in READS:
        assert access.has_permission(user, perm, project=project_a), perm
    assert access.has_permission(user, P.TRUST_VIEW, trust=project_a.trust)
    assert access.has_permission(user, P.TRUST_DASHBOARD_VIEW, trust=project_a.trust)


def test_read_only_writes_nothing_and_no_unsafe_method(tara, project_a):
    user = _service(project_a.trust, tara, True)
    for perm in [*WRITES, P.PROJECT_CREATE]:
        assert not access.has_permission(
            user, perm, project=project_a, trust=project_a.trust), perm
    assert access.projects_editable_by(user, Project.objects.all()).count() == 0
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert not access.api_method_allowed(user, method)
    assert access.api_method_allowed(user, "GET")


def test_read_write_enters_data_on_its_trusts_visible_projects(tara, project_a, trust_a):
    user = _service(trust_a, tara, False)
    for perm in WRITES:
        assert access.has_permission(user, perm, project=project_a), perm
    assert access.has_permission(user, P.PROJECT_CREATE, trust=trust_a)
    assert list(access.projects_editable_by(user, Project.objects.all())) == [project_a]
    team_only = ProjectFactory(trust=trust_a, visibility=Project.Visibility.TEAM)
    assert not access.has_permission(user, P.DATA_ENTER, project=team_only)
    assert not access.is_visible(user, project=team_only)  # 404


@pytest.mark.parametrize("perm", [P.PROJECT_APPROVE, P.MEMBERSHIP_MANAGE, P.UNIT_MANAGE,
                                  P.NATIONAL_VIEW])
def test_a_service_token_never_manages(tara, project_a, trust_a, perm):
    user = _service(trust_a, tara, False)
    assert not access.has_permission(user, perm, project=project_a, trust=trust_a)
    assert not access.approves_anywhere(user)
    assert access.collaborative_host_trust_ids(user) == set()
    assert access.trust_ids_answered_by(user) == set()
    assert not access.manages_service_tokens_at(user, trust_a)


def test_a_service_token_sees_nothing_of_another_trust(tara, trust_a, trust_b, charlie):
    user = _service(trust_a, tara, False)
    elsewhere = ProjectFactory(trust=trust_b, lead=charlie,
                               visibility=Project.Visibility.EVERYONE)
    assert not access.is_visible(user, project=elsewhere)
    assert not access.has_permission(user, P.DATA_ENTER, project=elsewhere)
    assert not access.is_visible(user, trust=trust_b)
    assert elsewhere not in access.projects_visible_to(user, Project.objects.all())
    assert set(access.trusts_visible_to(user)) == {trust_a}
    assert access.trust_ids_with(user, P.TRUST_VIEW) == {trust_a.pk}
    assert access.trust_ids_with(user, P.MEMBERSHIP_MANAGE) == set()


def test_without_the_token_the_service_account_is_still_only_a_member(tara, trust_a):
    # Deny by default: the account's own role grants less than any trust admin or QI lead.
    token, _ = services.service_token_create(trust=trust_a, by=tara, name="Feed",
                                             read_only=False)
    account = token.user
    assert not access.has_permission(account, P.PROJECT_APPROVE,
                                     project=ProjectFactory(trust=trust_a))
    assert not access.has_permission(account, P.MEMBERSHIP_MANAGE, trust=trust_a)
    assert not account.has_usable_password()


def test_scopes_and_checks_agree_when_the_account_loses_its_role(tara, trust_a, alice):
    from organisations.models import Membership

    user = _service(trust_a, tara, True)
    trust_wide = ProjectFactory(trust=trust_a, lead=alice, visibility=Project.Visibility.TRUST)
    open_one = ProjectFactory(trust=trust_a, lead=alice,
                              visibility=Project.Visibility.EVERYONE)
    assert set(access.projects_visible_to(user, Project.objects.all())) == {
        trust_wide, open_one}
    Membership.objects.filter(user=user).delete()  # a trust admin revoked its role
    user = _signed_in_with(user._qi_token)
    del user._qi_role_map
    visible = set(access.projects_visible_to(user, Project.objects.all()))
    assert visible == {open_one}
    for project in (trust_wide, open_one):
        assert access.is_visible(user, project=project) is (project in visible)
    assert not access.is_visible(user, trust=trust_a)
