"""The learning repository (issue 14, items 4, 5, 7): the demo queries, filters, the owner's
sharing choice, escaping, keeping the table current and a constant page cost."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from organisations.models import User
from pdsa.models import Cycle
from projects import services as project_services
from projects.demo import DISCHARGE, FALLS, THEATRES
from projects.models import Project
from reports import learning
from reports.models import CaseStudy, LearningDocument
from tests.factories import ChangeIdeaFactory, ProjectFactory, TrustFactory

Sharing = Project.Sharing
URL = "/national/learning/"


def _cycle(idea, number=1, **fields):
    defaults = {"objective": "Test it once", "created_by": idea.project.lead}
    return Cycle.objects.create(change_idea=idea, number=number, **{**defaults, **fields})


def shared_project(trust, sharing, title="Falls huddle at handover", **kwargs):
    project = ProjectFactory(trust=trust, title=title, sharing=sharing, **kwargs)
    idea = ChangeIdeaFactory(project=project, text="A five-minute safety huddle")
    _cycle(idea, results="Huddles held on 14 of 14 mornings.",
           learning="Naming patients at risk worked.", decision="adopt",
           next_steps="Make the huddle part of the handover sheet.")
    return project


def _kinds(user, query=""):
    return {(d.kind, d.object_id) for d in learning.find(user, query)}


# ---- the demo queries -------------------------------------------------------------------


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())


def _top(user, query, n=1):
    rows = learning.with_highlights(list(learning.find(user, query)[:n]), query, user)
    return rows


def test_the_demo_queries_find_the_relevant_items_first_with_highlights(demo):
    analyst = User.objects.get(email="national@example.nhs.uk")
    falls = _top(analyst, "falls", 3)
    assert any(r.kind == "project" and r.title == FALLS for r in falls)
    assert "<mark>falls</mark>" in str(falls[0].title_html).lower()

    sepsis = _top(analyst, "sepsis six")[0]
    assert "sepsis six" in sepsis.title.lower()
    assert re.search(r"<mark>sepsis</mark> <mark>six</mark>", str(sepsis.title_html), re.I)

    discharge = _top(analyst, "discharge before noon")[0]
    assert (discharge.kind, discharge.title) == ("project", DISCHARGE)
    assert "<mark>noon</mark>" in str(discharge.title_html)

    huddle = _top(analyst, "huddle")[0]
    assert "huddle" in huddle.title.lower()
    assert "<mark>huddle" in str(huddle.title_html).lower()


def test_the_demo_keeps_unshared_work_at_its_trust(demo):
    analyst = User.objects.get(email="national@example.nhs.uk")
    theatres = Project.objects.get(title=THEATRES)
    assert theatres.sharing == Sharing.NOTHING
    assert LearningDocument.objects.filter(project_id=theatres.pk).exists()
    assert not learning.find(analyst, "").filter(project_id=theatres.pk).exists()
    assert not learning.find(analyst, "cancellations").filter(kind="project").exists()
    # Case studies from outside the portal are in, with their source links.
    assert learning.find(analyst, "Safewards").filter(kind="case_study").exists()


# ---- sharing ----------------------------------------------------------------------------


def test_nothing_shared_never_reaches_other_trusts_or_the_centre(trust_b, alice, nadia,
                                                                 charlie):
    project = shared_project(trust_b, Sharing.NOTHING, visibility=Project.Visibility.EVERYONE)
    learning.rebuild_all()
    assert _kinds(alice) == set() and _kinds(alice, "huddle") == set()
    assert _kinds(nadia) == set() and _kinds(nadia, "huddle") == set()
    # Its own trust still finds it (charlie may view the project).
    assert ("project", project.pk) in _kinds(charlie, "huddle")


def test_summary_shares_the_aim_and_change_ideas_but_not_the_learning(trust_b, alice, nadia):
    project = shared_project(trust_b, Sharing.SUMMARY)
    learning.rebuild_all()
    for user in (alice, nadia):
        kinds = {k for k, _ in _kinds(user, "huddle")}
        assert kinds == {"project", "change_idea"}
    assert project.pk in {d.project_id for d in learning.find(nadia, "huddle")}


def test_summary_and_learning_shares_the_pdsa_study_and_act(trust_b, alice, nadia):
    shared_project(trust_b, Sharing.LEARNING)
    learning.rebuild_all()
    for user in (alice, nadia):
        assert {k for k, _ in _kinds(user, "handover sheet")} == {"pdsa"}


def test_a_team_only_project_stays_with_its_team_at_its_own_trust(trust_a, alice, quentin):
    project = shared_project(trust_a, Sharing.NOTHING, visibility=Project.Visibility.TEAM)
    learning.rebuild_all()
    assert _kinds(alice, "huddle") == set()
    assert ("project", project.pk) in _kinds(quentin, "huddle")  # the trust's QI lead


def test_changing_the_sharing_updates_the_repository_on_commit(
        trust_b, nadia, charlie, django_capture_on_commit_callbacks):
    project = shared_project(trust_b, Sharing.NOTHING, lead=charlie)
    learning.rebuild_all()
    assert _kinds(nadia, "huddle") == set()
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_update(by=project.lead, project=project,
                                        sharing=Sharing.LEARNING)
    assert {k for k, _ in _kinds(nadia, "huddle")} == {"project", "change_idea", "pdsa"}


# ---- filters ----------------------------------------------------------------------------


def test_filters_narrow_the_results(nadia):
    acute = TrustFactory(trust_type="acute")
    mental = TrustFactory(trust_type="mental_health")
    shared_project(acute, Sharing.LEARNING, strategic_theme="Patient safety")
    other = shared_project(mental, Sharing.LEARNING, title="Huddles on Willow Ward")
    Cycle.objects.filter(change_idea__project=other).update(decision="abandon")
    learning.rebuild_all()
    by_type = learning.find(nadia, "huddle", trust_type=["mental_health"])
    assert {d.trust_id for d in by_type} == {mental.pk}
    assert {d.kind for d in learning.find(nadia, "huddle", decision=["abandon"])} == {"pdsa"}
    assert {d.trust_id for d in learning.find(nadia, "huddle", decision=["abandon"])} == {
        mental.pk}
    assert {d.trust_id for d in learning.find(nadia, "", topic="patient safety")} == {acute.pk}
    assert {d.trust_id for d in learning.find(nadia, "", region=mental.region_id)} == {
        mental.pk}
    assert learning.find(nadia, "", year=1999).count() == 0


# ---- the page ---------------------------------------------------------------------------


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def test_the_page_shows_ranked_highlighted_results_and_filters(client, trust_b, nadia):
    shared_project(trust_b, Sharing.LEARNING)
    learning.rebuild_all()
    _sign_in(client, nadia)
    page = client.get(URL, {"q": "huddle"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<mark>huddle</mark>" in html.lower()
    assert "Built " in html and "Trust type" in html and "PDSA decision" in html
    assert reverse("projects:detail", args=[Project.objects.get().pk]) in html


def test_text_typed_by_people_is_escaped_on_the_page(client, trust_b, nadia):
    shared_project(trust_b, Sharing.LEARNING, title="Huddle <script>alert('x')</script>",
                   aim="<img src=x onerror=alert(1)> huddle")
    learning.rebuild_all()
    _sign_in(client, nadia)
    html = client.get(URL, {"q": "huddle"}).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html


def test_a_bad_filter_shows_the_error_summary(client, nadia):
    _sign_in(client, nadia)
    page = client.get(URL, {"q": "falls", "trust_type": "spaceship"})
    assert page.status_code == 200
    assert "There is a problem" in page.content.decode()


def _many(trust, n):
    for i in range(n):
        shared_project(trust, Sharing.LEARNING, title=f"Huddle {i} on ward {i}")


@pytest.mark.parametrize("n", [1, 30])
def test_the_page_costs_the_same_queries_for_small_and_large_data(
        client, trust_b, nadia, alice, n, django_assert_max_num_queries):
    _many(trust_b, n)
    learning.rebuild_all()
    for user in (nadia, alice):
        _sign_in(client, user)
        # 12: the page ranks only the keys, then loads its 20 rows in full (issue 21)
        with django_assert_max_num_queries(12):
            page = client.get(URL, {"q": "huddle"})
        assert page.status_code == 200
        assert page.content.decode().lower().count("<mark>huddle</mark>") >= min(n, 20)


def test_a_common_word_counts_no_further_than_the_cap(client, trust_b, nadia, monkeypatch):
    """Counting every match of a common word cost as much as ranking them (issue 21): past
    the cap the page says "More than", offers the pages up to it, and still ranks."""
    from reports.views import learning as views

    _many(trust_b, 7)  # 7 projects and their change ideas match "huddle"
    learning.rebuild_all()
    matches = learning.find(nadia, "huddle").count()
    assert matches > 4
    monkeypatch.setattr(views, "RESULTS_COUNTED", 4)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _sign_in(client, nadia)
    html = client.get(URL, {"q": "huddle"}).content.decode()
    assert "More than 4 results for “huddle”" in html
    assert "Page 2 of 2 or more" in html and "Add words or a filter" in html
    monkeypatch.setattr(views, "RESULTS_COUNTED", matches)
    html = client.get(URL, {"q": "huddle"}).content.decode()
    assert f"{matches} results for “huddle”" in html and "More than" not in html


# ---- case studies -------------------------------------------------------------------------


CASE = {"title": "Scottish Patient Safety Programme", "source_name": "ihub",
        "source_url": "https://ihub.scot/", "country": "Scotland", "year": "2019",
        "topic": "Patient safety", "summary": "Sepsis Six across every health board."}


def test_an_analyst_adds_a_case_study_and_finds_it(client, nadia,
                                                    django_capture_on_commit_callbacks):
    _sign_in(client, nadia)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:case_study_create"), CASE)
    assert response.status_code == 302
    found = list(learning.find(nadia, "sepsis six"))
    assert [(d.kind, d.trust_name) for d in found] == [("case_study", "")]
    page = client.get(URL, {"q": "sepsis six"}).content.decode()
    assert "Outside the portal" in page and 'href="https://ihub.scot/"' in page


def test_a_bad_case_study_is_refused_and_nothing_is_saved(client, nadia):
    _sign_in(client, nadia)
    response = client.post(reverse("reports:case_study_create"),
                           {**CASE, "source_url": "not a link", "summary": "", "year": "1700"})
    html = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in html
    assert "Enter a link starting https://" in html and "Enter a summary" in html
    assert not CaseStudy.objects.exists()


def test_a_case_study_with_an_nhs_number_is_refused(client, nadia):
    _sign_in(client, nadia)
    response = client.post(reverse("reports:case_study_create"),
                           {**CASE, "summary": "Patient 943 476 5919 was seen."})
    assert "NHS number" in response.content.decode()
    assert not CaseStudy.objects.exists()


# ---- PostgreSQL: the stored vector and the indexes a search reads (issue 21) --------------


def _postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    return connection


def test_each_row_is_stored_with_its_weighted_vector(trust_b):
    """The vector is written with the row by the trigger of migration 0011 (each row written
    once): it equals the weighted vector of the row's own text, title A, body B, context C."""
    connection = _postgresql()
    shared_project(trust_b, Sharing.LEARNING)
    assert learning.rebuild_all() == 3
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, search_vector = ("
            " setweight(to_tsvector('english', coalesce(title, '')), 'A')"
            " || setweight(to_tsvector('english', coalesce(body, '')), 'B')"
            " || setweight(to_tsvector('english', coalesce(context, '')), 'C')),"
            " search_vector::text FROM reports_learningdocument ORDER BY kind")
        rows = cursor.fetchall()
    assert [(kind, same) for kind, same, _ in rows] == [
        ("change_idea", True), ("pdsa", True), ("project", True)]
    assert "'huddl':" in dict((k, v) for k, _, v in rows)["pdsa"]


def _plan(qs) -> str:
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_search_reads_only_the_rows_its_reader_may_see(trust_b, nadia, charlie):
    """The centre's search is answered by the shared rows' own GIN index, a trust user's by
    a BitmapOr of that index, the trust's rows and the collaborative rows: neither reads
    every matching row in the country and then drops the unshared ones."""
    _postgresql()
    shared_project(trust_b, Sharing.LEARNING)
    learning.rebuild_all()
    analyst = _plan(learning.find(nadia, "huddle")[:20])
    assert "learning_doc_shared_search_gin" in analyst
    assert "learning_doc_search_gin" not in analyst  # the index of every row, dropped
    clinician = _plan(learning.find(charlie, "huddle")[:20])
    assert "BitmapOr" in clinician, clinician
    for index in ("learning_doc_shared_search_gin", "learning_doc_trust_idx",
                  "learning_doc_collab_kind_idx"):
        assert index in clinician
    assert {d.kind for d in learning.find(charlie, "huddle")} == {"project", "change_idea", "pdsa"}
