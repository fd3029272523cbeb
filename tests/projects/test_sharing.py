"""Sharing control (issue 14, item 5) on the charter, and project search on core.search
(issue 14, item 4: "Safewards", "huddle" find projects by their change ideas and PDSA)."""

import pytest
from django.urls import reverse

from pdsa.models import Cycle
from projects import selectors, services
from projects.models import Project
from tests.factories import ChangeIdeaFactory, ProjectFactory

Sharing = Project.Sharing


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def charter(trust, **extra):
    return {"title": "Reducing falls on Ward 7", "trust": trust.pk,
            "aim": "Reduce inpatient falls on Ward 7 by 30% by March 2027.",
            "visibility": Project.Visibility.TRUST, **extra}


def test_a_new_project_shares_nothing(alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    assert project.sharing == Sharing.NOTHING


def test_the_charter_form_explains_and_saves_the_choice_with_history(client, alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    page = sign_in(client, alice).get(reverse("projects:edit", args=[project.pk]))
    html = page.content.decode()
    assert "What to share beyond your trust" in html
    assert "Nothing is shared until you choose" in html
    assert 'name="sharing"' in html and 'value="learning"' in html
    response = client.post(reverse("projects:edit", args=[project.pk]),
                           charter(trust_a, lead=alice.pk, sharing=Sharing.LEARNING))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.sharing == Sharing.LEARNING
    assert [h.sharing for h in project.history.order_by("history_id")][-2:] == [
        Sharing.NOTHING, Sharing.LEARNING]
    detail = client.get(project.get_absolute_url()).content.decode()
    assert "Shared beyond the trust" in detail and Sharing.LEARNING.label in detail


def test_leaving_the_choice_out_keeps_it(client, alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A",
                                      sharing=Sharing.SUMMARY)
    sign_in(client, alice).post(reverse("projects:edit", args=[project.pk]),
                                charter(trust_a, lead=alice.pk))
    project.refresh_from_db()
    assert project.sharing == Sharing.SUMMARY


def test_a_made_up_choice_is_refused_with_the_error_summary(client, alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    response = sign_in(client, alice).post(
        reverse("projects:edit", args=[project.pk]),
        charter(trust_a, lead=alice.pk, sharing="everything", title="Changed"))
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    project.refresh_from_db()
    assert (project.title, project.sharing) == ("Falls", Sharing.NOTHING)


def test_only_the_team_and_qi_leads_change_it(client, bob, alice, trust_a):
    project = services.project_create(by=alice, trust=trust_a, title="Falls", aim="A")
    response = sign_in(client, bob).post(reverse("projects:edit", args=[project.pk]),
                                         charter(trust_a, lead=alice.pk, sharing="learning"))
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.sharing == Sharing.NOTHING


# ---- project search ---------------------------------------------------------------------


def _found(user, query):
    return [p.title for p in selectors.project_list(user, search=query)]


def test_project_search_finds_change_ideas_and_pdsa_text(alice, trust_a):
    willow = ProjectFactory(trust=trust_a, title="Willow Ward", aim="Less restraint.")
    ChangeIdeaFactory(project=willow, text="Safewards calm-down methods")
    falls = ProjectFactory(trust=trust_a, title="Ward 7 falls", aim="Fewer falls.")
    idea = ChangeIdeaFactory(project=falls, text="Bay tagging")
    Cycle.objects.create(change_idea=idea, number=1, objective="Tag two bays",
                         learning="The morning huddles named every patient at risk.",
                         created_by=falls.lead)
    ProjectFactory(trust=trust_a, title="Theatres", aim="Fewer cancellations.")
    assert _found(alice, "Safewards") == ["Willow Ward"]
    assert _found(alice, "huddle") == ["Ward 7 falls"]
    assert _found(alice, "falls") == ["Ward 7 falls"]


def test_project_search_ranks_the_title_first_and_respects_access(alice, charlie, trust_a):
    ProjectFactory(trust=trust_a, title="Safety huddle", aim="Daily.")
    by_aim = ProjectFactory(trust=trust_a, title="Ward 9", aim="A safety huddle every day.")
    ChangeIdeaFactory(project=by_aim, text="Huddle board")
    assert _found(alice, "huddle") == ["Safety huddle", "Ward 9"]
    assert _found(charlie, "huddle") == []  # trust A's projects, visible to the trust only


@pytest.mark.parametrize("n", [2, 40])
def test_the_searched_list_costs_the_same_queries(client, alice, trust_a, n,
                                                  django_assert_max_num_queries):
    for i in range(n):
        project = ProjectFactory(trust=trust_a, title=f"Project {i}", aim="Fewer falls.")
        ChangeIdeaFactory(project=project, text=f"Safety huddle {i}")
    sign_in(client, alice)
    # the list's queries, with the page in two: the ranked ids, then those rows joined to
    # trust, unit and lead (projects.selectors.list_rows); the count stops at the cap
    with django_assert_max_num_queries(9):
        page = client.get(reverse("projects:list"), {"search": "huddle"})
    assert page.status_code == 200
    assert page.content.decode().count("Project ") >= min(n, 20)
