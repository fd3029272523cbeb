"""Issue 9.7: the services behind a trust administrator's people and unit pages. Each is
atomic, checks access itself and writes exactly one audit entry with its change."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError

from organisations import services
from organisations.models import AuditEvent, Membership, Unit, User
from tests.factories import MembershipFactory, ProjectFactory, UnitFactory, UserFactory

Role = Membership.Role
A = AuditEvent.Action
BASE = "https://qi.example.nhs.uk/"


def _roles(user, trust):
    return set(Membership.objects.filter(user=user, trust=trust).values_list("role", flat=True))


def _events(trust):
    return list(AuditEvent.objects.filter(trust=trust).values_list("action", "description"))


# ---- invite ------------------------------------------------------------------------------


def test_invite_creates_a_person_without_a_password_and_emails_a_set_password_link(
    tara, trust_a, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_person(
            trust=trust_a, email=" Dr.Ada@Example.NHS.uk ", full_name="Dr Ada Lovelace",
            job_title="Consultant", roles=["qi_lead", "clinician"], by=tara, base_url=BASE,
        )
    ada = User.objects.get(email="dr.ada@example.nhs.uk")
    assert invitation.created and invitation.user == ada
    assert not ada.has_usable_password()
    assert (ada.full_name, ada.job_title) == ("Dr Ada Lovelace", "Consultant")
    assert not (ada.is_staff or ada.is_superuser or ada.is_national_analyst)
    assert _roles(ada, trust_a) == {Role.CLINICIAN, Role.QI_LEAD}
    assert _events(trust_a) == [
        (A.INVITED, "Invited Dr Ada Lovelace (dr.ada@example.nhs.uk) as Clinician / project "
                    "member and QI lead or coach")
    ]
    event = AuditEvent.objects.get()
    assert (event.actor, event.target_user_id) == (tara, ada.pk)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["dr.ada@example.nhs.uk"]
    body = mailoutbox[0].body
    assert "Northgate Teaching Hospitals" in body and "QI lead or coach" in body
    token = body.split("/accounts/password/reset/")[1].split()[0].strip("/").split("/")[1]
    assert body.count(BASE + "accounts/password/reset/") == 1
    assert default_token_generator.check_token(ada, token)
    assert "has been invited" in invitation.message


def test_invite_of_an_existing_email_adds_roles_here_only_and_keeps_their_name(
    tara, trust_a, trust_b, charlie, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_person(
            trust=trust_a, email=charlie.email.upper(), full_name="Someone Else",
            job_title="Renamed", roles=["board_member"], by=tara, base_url=BASE,
        )
    charlie.refresh_from_db()
    assert not invitation.created
    assert charlie.full_name == "Charlie Outsider" and charlie.job_title == ""
    assert charlie.has_usable_password()
    assert _roles(charlie, trust_a) == {Role.BOARD_MEMBER}
    assert _roles(charlie, trust_b) == {Role.CLINICIAN}  # the other trust is untouched
    assert User.objects.filter(email__iexact=charlie.email).count() == 1
    assert _events(trust_a)[0][0] == A.INVITED and "existing account" in _events(trust_a)[0][1]
    assert "already has an account" in invitation.message
    # They already have a password: the email says where to sign in, not a reset link.
    assert "/accounts/sign-in/" in mailoutbox[0].body
    assert "/password/reset/" not in mailoutbox[0].body


def test_invite_of_someone_holding_every_chosen_role_changes_nothing(alice, tara, trust_a):
    with pytest.raises(ValidationError) as err:
        services.invite_person(trust=trust_a, email=alice.email, full_name="Alice",
                               roles=["clinician"], by=tara, base_url=BASE)
    assert "already holds" in str(err.value)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("roles", [[], ["superuser"], ["national_analyst"], ["staff"]])
def test_invite_accepts_only_this_trusts_roles(tara, trust_a, roles):
    with pytest.raises(ValidationError) as err:
        services.invite_person(trust=trust_a, email="x@example.nhs.uk", full_name="X",
                               roles=roles, by=tara, base_url=BASE)
    assert "roles" in err.value.message_dict
    assert not User.objects.filter(email="x@example.nhs.uk").exists()


def test_invite_screens_the_name_for_patient_data(tara, trust_a):
    with pytest.raises(ValidationError) as err:
        services.invite_person(trust=trust_a, email="p@example.nhs.uk",
                               full_name="Patient 943 476 5919", roles=["clinician"], by=tara,
                               base_url=BASE)
    assert "full_name" in err.value.message_dict
    assert not User.objects.filter(email="p@example.nhs.uk").exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["alice", "quentin", "bob", "charlie", "nadia", "stranger"])
def test_only_a_trust_admin_may_invite(personas, trust_a, persona):
    with pytest.raises(PermissionDenied):
        services.invite_person(trust=trust_a, email="x@example.nhs.uk", full_name="X",
                               roles=["clinician"], by=personas[persona], base_url=BASE)
    assert not User.objects.filter(email="x@example.nhs.uk").exists()


def test_a_trust_admin_cannot_act_at_another_trust(tara, trust_b, charlie):
    with pytest.raises(PermissionDenied):
        services.grant_role(trust=trust_b, user=charlie, role="trust_admin", by=tara)
    with pytest.raises(PermissionDenied):
        services.invite_person(trust=trust_b, email="x@example.nhs.uk", full_name="X",
                               roles=["clinician"], by=tara, base_url=BASE)
    assert _roles(charlie, trust_b) == {Role.CLINICIAN}


# ---- grant and revoke ----------------------------------------------------------------------


def test_grant_role_adds_a_role_and_audits_it(alice, tara, trust_a):
    services.grant_role(trust=trust_a, user=alice, role="qi_lead", by=tara)
    assert _roles(alice, trust_a) == {Role.CLINICIAN, Role.QI_LEAD}
    assert _events(trust_a) == [(A.ROLE_GRANTED, "Granted QI lead or coach to Alice Clinician")]


def test_grant_role_refuses_a_held_role_and_a_non_member(alice, charlie, tara, trust_a):
    with pytest.raises(ValidationError) as err:
        services.grant_role(trust=trust_a, user=alice, role="clinician", by=tara)
    assert "already" in str(err.value)
    with pytest.raises(ValidationError) as err:
        services.grant_role(trust=trust_a, user=charlie, role="clinician", by=tara)
    assert "Invite them first" in str(err.value)
    with pytest.raises(ValidationError):
        services.grant_role(trust=trust_a, user=alice, role="superuser", by=tara)
    assert not AuditEvent.objects.exists()


def test_revoking_a_role_keeps_the_others(alice, tara, trust_a):
    qi = MembershipFactory(user=alice, trust=trust_a, role=Role.QI_LEAD)
    assert services.revoke_role(membership=qi, by=tara) is True
    assert _roles(alice, trust_a) == {Role.CLINICIAN}
    assert _events(trust_a) == [(A.ROLE_REVOKED, "Revoked QI lead or coach from Alice Clinician")]


def test_revoking_the_last_role_removes_them_from_the_trust(alice, tara, trust_a):
    only = Membership.objects.get(user=alice, trust=trust_a)
    assert services.revoke_role(membership=only, by=tara) is False
    assert _roles(alice, trust_a) == set()
    assert User.objects.filter(pk=alice.pk).exists()  # the account stays
    assert "no longer hold any role" in _events(trust_a)[0][1]


def test_the_last_trust_admin_cannot_revoke_themselves(tara, trust_a):
    mine = Membership.objects.get(user=tara, trust=trust_a)
    with pytest.raises(ValidationError) as err:
        services.revoke_role(membership=mine, by=tara)
    assert "You are the only trust administrator" in str(err.value)
    assert _roles(tara, trust_a) == {Role.TRUST_ADMIN}
    assert not AuditEvent.objects.exists()


def test_the_last_trust_admin_cannot_be_revoked_by_the_operator_either(tara, trust_a):
    operator = UserFactory(is_superuser=True, is_staff=True)
    with pytest.raises(ValidationError) as err:
        services.revoke_role(membership=Membership.objects.get(user=tara), by=operator)
    assert "Tara Admin is the only trust administrator" in str(err.value)


def test_with_a_second_admin_a_trust_admin_may_step_down(tara, alice, trust_a):
    services.grant_role(trust=trust_a, user=alice, role="trust_admin", by=tara)
    services.revoke_role(membership=Membership.objects.get(user=tara), by=tara)
    assert _roles(tara, trust_a) == set()
    assert Membership.objects.filter(trust=trust_a, role=Role.TRUST_ADMIN).count() == 1


def test_other_trusts_admins_do_not_count_towards_the_last_admin(tara, trust_a, trust_b):
    MembershipFactory(trust=trust_b, role=Role.TRUST_ADMIN)
    with pytest.raises(ValidationError):
        services.revoke_role(membership=Membership.objects.get(user=tara), by=tara)


# ---- units ------------------------------------------------------------------------------------


def test_add_unit_under_a_parent_audits_it(tara, trust_a):
    med = services.add_unit(trust=trust_a, name="Medicine", kind="division", by=tara)
    ward = services.add_unit(trust=trust_a, name=" Ward 9 ", kind="ward", parent=med, by=tara)
    assert ward.name == "Ward 9" and ward.path.startswith(med.path) and ward.depth == 1
    assert _events(trust_a) == [
        (A.UNIT_ADDED, "Added ward Ward 9 under Medicine"),
        (A.UNIT_ADDED, "Added division Medicine at the top of the trust"),
    ]
    assert AuditEvent.objects.first().target_unit_id == ward.pk


def test_add_unit_refuses_a_duplicate_name_and_another_trusts_parent(tara, trust_a, trust_b):
    services.add_unit(trust=trust_a, name="Medicine", kind="division", by=tara)
    with pytest.raises(ValidationError) as err:
        services.add_unit(trust=trust_a, name="medicine", kind="division", by=tara)
    assert "already a unit called medicine at the top of the trust" in str(err.value)
    foreign = UnitFactory(trust=trust_b, name="Theirs", kind="division")
    with pytest.raises(ValidationError) as err:
        services.add_unit(trust=trust_a, name="Ward", kind="ward", parent=foreign, by=tara)
    assert "parent" in err.value.message_dict
    assert Unit.objects.filter(trust=trust_a).count() == 1


def test_rename_unit(tara, trust_a, ward_a):
    services.rename_unit(unit=ward_a, name="Ward 7 (Elderly Care)", by=tara)
    ward_a.refresh_from_db()
    assert ward_a.name == "Ward 7 (Elderly Care)"
    assert _events(trust_a)[0] == (A.UNIT_RENAMED, "Renamed Ward 7 to Ward 7 (Elderly Care)")
    sibling = UnitFactory(trust=trust_a, name="Ward 8", kind="ward", parent=ward_a.parent)
    with pytest.raises(ValidationError) as err:
        services.rename_unit(unit=sibling, name="ward 7 (elderly care)", by=tara)
    assert "already a unit called" in str(err.value)


def test_move_unit_rewrites_the_whole_subtree(tara, trust_a, ward_a):
    surgery = UnitFactory(trust=trust_a, name="Surgery", kind="division")
    bay = UnitFactory(trust=trust_a, name="Bay A", kind="service", parent=ward_a)
    services.move_unit(unit=ward_a, parent=surgery, by=tara)
    ward_a.refresh_from_db()
    bay.refresh_from_db()
    assert ward_a.parent == surgery and ward_a.depth == 1
    assert bay.path == f"{surgery.path}{ward_a.pk:07d}/{bay.pk:07d}/" and bay.depth == 2
    assert _events(trust_a)[0] == (A.UNIT_MOVED, "Moved Ward 7 from Medicine to Surgery")
    services.move_unit(unit=ward_a, parent=None, by=tara)
    bay.refresh_from_db()
    assert bay.depth == 1 and bay.path == f"{ward_a.pk:07d}/{bay.pk:07d}/"
    assert _events(trust_a)[0] == (
        A.UNIT_MOVED, "Moved Ward 7 from Surgery to the top of the trust"
    )


def test_moving_a_branch_costs_the_same_queries_however_big(
    tara, trust_a, django_assert_max_num_queries
):
    def branch(width):
        top = UnitFactory(trust=trust_a, kind="division")
        for _ in range(width):
            mid = UnitFactory(trust=trust_a, kind="directorate", parent=top)
            UnitFactory(trust=trust_a, kind="ward", parent=mid)
        return top

    target = UnitFactory(trust=trust_a, name="Target", kind="division")
    small, large = branch(1), branch(15)
    # role map, lock the unit, lock the parent, duplicate-name check; unit_update's
    # savepoint, full_clean (trust and parent exist, unique name), UPDATE the unit, ONE
    # UPDATE for the whole subtree, release; the audit entry's full_clean (actor and trust
    # exist) and INSERT; outer savepoint and release: 16 whatever the branch's size.
    for unit in (small, large):
        with django_assert_max_num_queries(16):
            services.move_unit(unit=unit, parent=target, by=tara)
    assert all(u.path.startswith(target.path) for u in services.unit_descendants(large))


def test_a_unit_cannot_move_under_itself_or_its_subtree(tara, trust_a, ward_a):
    medicine = ward_a.parent
    for parent in (medicine, ward_a):
        with pytest.raises(ValidationError) as err:
            services.move_unit(unit=medicine, parent=parent, by=tara)
        assert "cannot move under itself or a unit under it" in str(err.value)
    medicine.refresh_from_db()
    assert medicine.parent is None
    assert not AuditEvent.objects.exists()


def test_remove_an_empty_unit(tara, trust_a, ward_a):
    pk = ward_a.pk
    services.remove_unit(unit=ward_a, by=tara)
    assert not Unit.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.target_unit_id) == (A.UNIT_REMOVED, pk)
    assert event.description == "Removed ward Ward 7 under Medicine"


def test_remove_refuses_a_unit_with_children_or_projects(tara, trust_a, ward_a):
    with pytest.raises(ValidationError) as err:
        services.remove_unit(unit=ward_a.parent, by=tara)
    assert "has units under it" in str(err.value)
    ProjectFactory(trust=trust_a, unit=ward_a)
    with pytest.raises(ValidationError) as err:
        services.remove_unit(unit=ward_a, by=tara)
    assert "still has projects recorded against it" in str(err.value)
    assert Unit.objects.filter(pk=ward_a.pk).exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["alice", "quentin", "bob", "charlie", "nadia"])
def test_only_a_trust_admin_may_change_units(personas, trust_a, ward_a, persona):
    user = personas[persona]
    calls = [
        lambda: services.add_unit(trust=trust_a, name="New", kind="ward", by=user),
        lambda: services.rename_unit(unit=ward_a, name="New", by=user),
        lambda: services.move_unit(unit=ward_a, parent=None, by=user),
        lambda: services.remove_unit(unit=ward_a, by=user),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    ward_a.refresh_from_db()
    assert ward_a.name == "Ward 7" and ward_a.parent is not None
    assert not AuditEvent.objects.exists()


def test_a_failed_audit_write_undoes_the_change(tara, trust_a, ward_a, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "_audit", broken)
    with pytest.raises(RuntimeError):
        services.rename_unit(unit=ward_a, name="Renamed", by=tara)
    ward_a.refresh_from_db()
    assert ward_a.name == "Ward 7"
