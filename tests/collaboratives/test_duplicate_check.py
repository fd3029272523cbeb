"""The duplicate warning also searches the teams of the collaboratives a trust takes part in
(issue 9, item 4), among the projects the person may see."""

from django.urls import reverse

from collaboratives.models import Enrolment, Participation
from projects import selectors
from projects.models import Project
from tests.collaboratives.conftest import enrol, make_collaborative, take_part
from tests.factories import ProjectFactory

TITLE = "Falls on ward 9"


def test_a_partner_trusts_team_is_found_and_named(client, alice, quentin, charlie, trust_a,
                                                  trust_b):
    team = ProjectFactory(trust=trust_b, title="Falls prevention on Ward 7",
                          visibility=Project.Visibility.EVERYONE)
    assert selectors.similar_projects(alice, trust=trust_a, title=TITLE) == []
    collaborative = make_collaborative(trust_a, [quentin])
    take_part(collaborative, trust_a, quentin)
    take_part(collaborative, trust_b, quentin)
    enrol(collaborative, team, charlie)
    found = selectors.similar_projects(alice, trust=trust_a, title=TITLE)
    assert found == [team] and found[0].elsewhere
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("projects:similar"), {"trust": trust_a.pk, "title": TITLE}
                      ).content.decode()
    assert "Falls prevention on Ward 7" in html and f"({trust_b.name})" in html


def test_not_while_the_trust_only_is_invited_or_the_team_is_not_approved(
    alice, quentin, charlie, trust_a, trust_b
):
    team = ProjectFactory(trust=trust_b, title="Falls prevention on Ward 7",
                          visibility=Project.Visibility.EVERYONE)
    collaborative = make_collaborative(trust_b, [quentin])
    take_part(collaborative, trust_a, quentin, status=Participation.Status.INVITED)
    take_part(collaborative, trust_b, quentin)
    enrol(collaborative, team, charlie)
    assert selectors.similar_projects(alice, trust=trust_a, title=TITLE) == []
    Participation.objects.filter(trust=trust_a).update(status=Participation.Status.ACCEPTED)
    Enrolment.objects.update(status=Enrolment.Status.PENDING)
    assert selectors.similar_projects(alice, trust=trust_a, title=TITLE) == []


def test_never_a_team_project_the_person_may_not_open(alice, quentin, charlie, trust_a,
                                                      trust_b):
    team = ProjectFactory(trust=trust_b, title="Falls prevention on Ward 7",
                          visibility=Project.Visibility.TRUST)  # trust B's staff only
    collaborative = make_collaborative(trust_a, [quentin])
    take_part(collaborative, trust_a, quentin)
    take_part(collaborative, trust_b, quentin)
    enrol(collaborative, team, charlie)
    assert selectors.similar_projects(alice, trust=trust_a, title=TITLE) == []
