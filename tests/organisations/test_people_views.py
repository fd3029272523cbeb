"""Issue 9.7: the trust administrator's pages without JavaScript (plain posts and
redirects), their messages, and their query budgets at two data sizes."""

import re

import pytest
from django.urls import reverse

from organisations.models import AuditEvent, Membership, Unit, User
from tests.factories import MembershipFactory, UnitFactory, UserFactory

Role = Membership.Role


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_whole_journey_works_without_javascript(
    client, tara, trust_a, ward_a, django_capture_on_commit_callbacks, mailoutbox
):
    _sign_in(client, tara)
    people_url = reverse("trust_admin:people", args=["RAA"])
    assert "Invite a person" in _text(client.get(people_url))

    # Invite with a role: a new account and an email to set a password.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("trust_admin:invite", args=["RAA"]), {
            "email": "ada@example.nhs.uk", "full_name": "Dr Ada Lovelace",
            "job_title": "Consultant", "roles": ["clinician"],
        }, follow=True)
    ada = User.objects.get(email="ada@example.nhs.uk")
    assert response.redirect_chain[-1][0] == reverse("trust_admin:person", args=["RAA", ada.pk])
    page = _text(response)
    assert "Dr Ada Lovelace has been invited as Clinician / project member" in page
    assert len(mailoutbox) == 1

    # Grant another role on their page.
    response = client.post(reverse("trust_admin:person", args=["RAA", ada.pk]),
                           {"role": "qi_lead"}, follow=True)
    assert "Dr Ada Lovelace is now a QI lead or coach" in _text(response)
    assert set(ada.memberships.values_list("role", flat=True)) == {"clinician", "qi_lead"}

    # Revoke one, through the confirmation page.
    clinician = ada.memberships.get(role="clinician")
    revoke_url = reverse("trust_admin:revoke", args=["RAA", clinician.pk])
    confirm = _text(client.get(revoke_url))
    assert "Revoke Clinician / project member from Dr Ada Lovelace?" in confirm
    assert "only role" not in confirm
    response = client.post(revoke_url, follow=True)
    assert "Revoked Clinician / project member from Dr Ada Lovelace." in _text(response)
    assert list(ada.memberships.values_list("role", flat=True)) == ["qi_lead"]

    # Add a unit, then move it under another.
    response = client.post(reverse("trust_admin:unit_add", args=["RAA"]),
                           {"name": "Surgery", "kind": "division", "parent": ""}, follow=True)
    assert "Added Surgery." in _text(response)
    surgery = Unit.objects.get(trust=trust_a, name="Surgery")
    response = client.post(reverse("trust_admin:unit_move", args=["RAA", ward_a.pk]),
                           {"parent": surgery.pk}, follow=True)
    assert "Moved Ward 7 to Surgery." in _text(response)
    ward_a.refresh_from_db()
    assert ward_a.parent == surgery

    # And every change is in the audit trail, newest first.
    audit = _text(client.get(reverse("trust_admin:audit", args=["RAA"])))
    entries = ["Moved Ward 7 from Medicine to Surgery",
               "Added division Surgery at the top of the trust",
               "Revoked Clinician / project member from Dr Ada Lovelace",
               "Granted QI lead or coach to Dr Ada Lovelace",
               "Invited Dr Ada Lovelace (ada@example.nhs.uk) as Clinician / project member"]
    positions = [audit.index(e) for e in entries]
    assert positions == sorted(positions)
    assert "Tara Admin" in audit


def test_revoking_the_only_role_warns_and_then_removes_them(client, tara, alice):
    _sign_in(client, tara)
    url = reverse("trust_admin:revoke", args=["RAA", alice.memberships.get().pk])
    assert "This is their only role here" in _text(client.get(url))
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("trust_admin:people", args=["RAA"])
    assert "They no longer hold any role at Northgate Teaching Hospitals" in _text(response)
    assert not alice.memberships.exists()


def test_the_last_trust_admin_gets_a_clear_message(client, tara):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:revoke",
                                   args=["RAA", tara.memberships.get().pk]))
    assert response.status_code == 200
    page = _text(response)
    assert "There is a problem" in page
    assert "You are the only trust administrator at Northgate Teaching Hospitals" in page
    assert tara.memberships.filter(role=Role.TRUST_ADMIN).exists()


def test_moving_a_unit_under_its_own_branch_gets_a_clear_error(client, tara, ward_a):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:unit_move", args=["RAA", ward_a.parent_id]),
                           {"parent": ward_a.pk})
    assert response.status_code == 200
    page = _text(response)
    assert "Medicine cannot move under itself or a unit under it" in page
    assert 'href="#id_parent"' in page  # the error summary links to the field


def test_removing_a_unit_with_units_under_it_is_refused_with_a_message(client, tara, ward_a):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:unit_remove", args=["RAA", ward_a.parent_id]))
    assert response.status_code == 200
    assert "Medicine has units under it. Move or remove them first" in _text(response)
    assert Unit.objects.filter(pk=ward_a.parent_id).exists()


def test_invite_form_errors_are_plain_english(client, tara):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:invite", args=["RAA"]),
                           {"email": "not-an-email", "full_name": ""})
    page = _text(response)
    assert "Enter an email address in the correct format" in page
    assert "Enter their full name" in page
    assert "Choose at least one role" in page
    assert 'href="#id_roles_0"' in page


def test_invite_of_someone_already_holding_the_role_says_nothing_changed(client, tara, alice):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:invite", args=["RAA"]), {
        "email": alice.email, "full_name": "Alice", "roles": ["clinician"]})
    assert "already holds Clinician / project member at this trust. Nothing was changed." in (
        _text(response))


def test_people_search_and_pagination(client, tara, trust_a):
    for n in range(30):
        MembershipFactory(trust=trust_a, user__full_name=f"Nurse {n:02d}",
                          user__email=f"nurse{n:02d}@example.nhs.uk")
    MembershipFactory(user__full_name="Elsewhere Nurse")  # another trust: never listed
    _sign_in(client, tara)
    url = reverse("trust_admin:people", args=["RAA"])
    first = _text(client.get(url))
    assert "31 people" in first and "Page 2 of 2" in first and "Elsewhere" not in first
    found = _text(client.get(url, {"q": "NURSE07@"}))
    assert "1 person matching" in found and "Nurse 07" in found and "Nurse 08" not in found
    assert "Nurse 29" in _text(client.get(url, {"page": 2}))


def _fill(trust, people, units):
    for _ in range(people):
        member = MembershipFactory(trust=trust, role=Role.CLINICIAN).user
        MembershipFactory(trust=trust, user=member, role=Role.QI_LEAD)
    top = UnitFactory(trust=trust, kind="division")
    for _ in range(units):
        UnitFactory(trust=trust, kind="ward", parent=top)
    for n in range(people):
        AuditEvent.objects.create(trust=trust, actor=None, action="invited",
                                  description=f"Invited person {n}")


@pytest.mark.parametrize("page", ["people", "units", "audit"])
def test_pages_cost_the_same_queries_as_the_trust_grows(
    client, tara, trust_a, django_assert_max_num_queries, page
):
    # session, user, trust, role map; then people: count, page of people, their roles here;
    # units: the tree with child counts; audit: count, page of entries with their actor.
    budget = {"people": 7, "units": 5, "audit": 6}[page]
    _sign_in(client, tara)
    url = reverse(f"trust_admin:{page}", args=["RAA"])
    for size in (2, 40):
        _fill(trust_a, size, size)
        with django_assert_max_num_queries(budget):
            response = client.get(url)
        assert response.status_code == 200


def test_trust_dashboard_and_profile_link_to_the_pages_for_trust_admins_only(
    client, tara, bob, alice
):
    dashboard = reverse("reports:trust", args=["RAA"])
    people = reverse("trust_admin:people", args=["RAA"])
    units = reverse("trust_admin:units", args=["RAA"])
    _sign_in(client, tara)
    for url in (dashboard, reverse("accounts:profile")):
        page = client.get(url).content.decode()
        assert f'href="{people}"' in page and f'href="{units}"' in page
    for user in (bob, alice):
        _sign_in(client, user)
        for url in (dashboard, reverse("accounts:profile")):
            page = client.get(url).content.decode()
            assert people not in page and units not in page


def test_audit_events_are_read_only_in_the_django_admin(client, tara, trust_a, alice):
    from organisations import services

    services.grant_role(trust=trust_a, user=alice, role="qi_lead", by=tara)
    event = AuditEvent.objects.get()
    _sign_in(client, UserFactory(is_superuser=True, is_staff=True))
    listing = client.get("/admin/organisations/auditevent/")
    assert listing.status_code == 200 and "Granted QI lead or coach to Alice" in _text(listing)
    assert client.get("/admin/organisations/auditevent/add/").status_code == 403
    assert client.post(f"/admin/organisations/auditevent/{event.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    detail = client.post(f"/admin/organisations/auditevent/{event.pk}/change/",
                         {"description": "Rewritten"})
    assert detail.status_code == 403
    event.refresh_from_db()
    assert event.description == "Granted QI lead or coach to Alice Clinician"


def test_an_invited_person_sets_a_password_from_the_email_and_signs_in(
    client, tara, trust_a, django_capture_on_commit_callbacks, mailoutbox
):
    _sign_in(client, tara)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("trust_admin:invite", args=["RAA"]), {
            "email": "new.starter@example.nhs.uk", "full_name": "New Starter",
            "roles": ["board_member"]})
    client.logout()
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mailoutbox[0].body)[1]
    form_page = client.get(link, follow=True)
    assert "new password" in _text(form_page).lower()
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "A-long-new-passphrase-2026",
                                     "new_password2": "A-long-new-passphrase-2026"})
    assert response.status_code == 302
    signed_in = client.post(reverse("accounts:login"), {
        "username": "new.starter@example.nhs.uk", "password": "A-long-new-passphrase-2026"})
    assert signed_in.status_code == 302
    # A board member lands on their trust's dashboard.
    landing = client.get("/", follow=True)
    assert landing.redirect_chain[-1][0] == reverse("reports:trust", args=["RAA"])
    # The link works once.
    assert "expired or was already used" in _text(client.get(link, follow=True))
