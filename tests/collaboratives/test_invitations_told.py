"""Issue 20 item 6: an invited trust is told (email to whoever answers for it, a banner on
their home page until answered), and "Invite a trust" says so when no trust is left."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from collaboratives import services
from collaboratives.models import Participation
from organisations.models import Membership, Trust
from tests.collaboratives.conftest import make_collaborative
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _banners(client, user) -> list[str]:
    """The banners on the page "/" leads to (shown there, so each visit starts afresh)."""
    html = _in(client, user).get("/", follow=True).content.decode()
    return re.findall(r'nhsuk-notification-banner__heading">(.*?)</p>', html, flags=re.S)


def test_an_invitation_emails_the_trusts_leads_only(client, trust_a, trust_d, fiona, dora,
                                                    django_capture_on_commit_callbacks):
    lead = MembershipFactory(trust=trust_d, role=Membership.Role.QI_LEAD,
                             user__full_name="Dee Lead").user
    admin = MembershipFactory(trust=trust_d, role=Membership.Role.TRUST_ADMIN).user
    c = make_collaborative(trust_a, [fiona])
    _in(client, fiona)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("collaboratives:invite", args=[c.pk]),
                               {"trust": trust_d.pk})
    assert response.status_code == 302
    to = sorted(addr for m in mail.outbox for addr in m.to)
    assert to == sorted([lead.email, admin.email])  # not dora, a clinician there
    message = mail.outbox[0]
    assert c.name in message.subject and trust_d.name in message.subject
    assert f"/collaboratives/{c.pk}/" in message.body and message.body.count("http") == 1


def test_the_banner_shows_on_the_leads_home_until_answered(client, world, ivan, dora, quentin):
    c = world["c"]
    shown = _banners(client, ivan)
    assert any("Invited Trust has been invited to join" in m and c.name in m for m in shown)
    assert not any("invited to join" in m for m in _banners(client, dora))  # not a lead there
    assert not any("Invited Trust" in m for m in _banners(client, quentin))  # another trust
    part = Participation.objects.get(collaborative=c, trust__ods_code="RII")
    services.invitation_accept(participation=part, by=ivan)
    assert not any("invited to join" in m for m in _banners(client, ivan))


def test_invite_says_when_every_trust_already_takes_part(client, trust_a, fiona):
    c = make_collaborative(trust_a, [fiona])
    for trust in Trust.objects.all():
        Participation.objects.create(collaborative=c, trust=trust, invited_by=fiona,
                                     status=Participation.Status.ACCEPTED)
    html = _in(client, fiona).get(reverse("collaboratives:invite", args=[c.pk])).content.decode()
    assert "Every trust on the QI Portal already takes part" in html
    assert "<select" not in html
