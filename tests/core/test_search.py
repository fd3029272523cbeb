"""core.search: filter, rank and highlight, on whichever database the suite runs on
(SQLite's fallback by default, PostgreSQL's full-text search with DATABASE_URL)."""

import pytest
from django.db import connection

from core import search
from projects.models import Project
from tests.factories import ProjectFactory

FIELDS = {"title": "A", "aim": "B"}


@pytest.fixture
def projects(db):
    return {
        "title": ProjectFactory(title="Falls huddle at handover",
                                aim="Name every patient at risk each shift."),
        "aim": ProjectFactory(title="Safer nights on Ward 7",
                              aim="Hold huddles about falls at the evening handover."),
        "other": ProjectFactory(title="Theatre cancellations",
                                aim="Fewer cancellations on the day of surgery."),
    }


def _titles(qs):
    return [p.title for p in qs]


def test_matches_in_the_title_rank_above_matches_in_the_aim(projects):
    found = list(search.search(Project.objects.all(), FIELDS, "huddle"))
    assert [p.pk for p in found] == [projects["title"].pk, projects["aim"].pk]
    assert found[0].search_rank > found[1].search_rank > 0


def test_plurals_and_case_match_the_same_words(projects):
    assert set(_titles(search.search(Project.objects.all(), FIELDS, "HUDDLES"))) == {
        projects["title"].title, projects["aim"].title}


def test_every_word_must_match(projects):
    assert _titles(search.search(Project.objects.all(), FIELDS, "huddle evening")) == [
        projects["aim"].title]
    assert _titles(search.search(Project.objects.all(), FIELDS, "huddle surgery")) == []


def test_minus_excludes_and_quotes_keep_a_phrase(projects):
    assert _titles(search.search(Project.objects.all(), FIELDS, "huddle -evening")) == [
        projects["title"].title]
    assert _titles(search.search(Project.objects.all(), FIELDS, '"falls huddle"')) == [
        projects["title"].title]


def test_a_blank_query_or_only_stop_words_finds_nothing(projects):
    assert list(search.search(Project.objects.all(), FIELDS, "   ")) == []
    assert list(search.search(Project.objects.all(), FIELDS, "the and of")) == []


def test_the_engine_matches_the_database():
    assert search.is_postgresql(Project.objects.all()) is (connection.vendor == "postgresql")


def test_highlight_marks_matches_and_escapes_everything_else(db):
    ProjectFactory(title="Huddle <script>alert(1)</script>", aim="A huddle & a <b>plan</b>")
    row = search.search(Project.objects.all(), FIELDS, "huddle",
                        headline_fields=("title", "aim")).get()
    title = str(search.highlight(row, "title", "huddle"))
    aim = str(search.highlight(row, "aim", "huddle"))
    assert "<mark>Huddle</mark>" in title
    # Escaped by us, or (PostgreSQL's ts_headline) dropped as a tag: never markup.
    assert "<script" not in title and "<b>" not in aim
    assert "<mark>huddle</mark>" in aim
    assert title.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert aim.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    if connection.vendor != "postgresql":
        assert "&lt;script&gt;" in title and "&amp;" in aim


def test_the_python_highlighter_cuts_long_text_around_the_first_match():
    text = " ".join(["word"] * 100) + " sepsis six " + " ".join(["more"] * 100)
    html = str(search.highlight_text(text, "sepsis six", words=20))
    assert html.startswith("… ") and html.endswith(" …")
    assert "<mark>sepsis</mark> <mark>six</mark>" in html
    assert len(html.split()) < 30


def test_stems():
    assert search.stem("huddles") == search.stem("huddle") == search.stem("huddling")
    assert search.stem("falls") == "fall"
    assert search.stem("sepsis") == "sepsis"


def test_joined_text_searches_related_rows_without_duplicating(db):
    from django.db.models import OuterRef, Subquery

    from projects.models import ChangeIdea
    from tests.factories import ChangeIdeaFactory

    project = ProjectFactory(title="Ward 7", aim="Fewer falls")
    ChangeIdeaFactory(project=project, text="Safewards calm-down methods")
    ChangeIdeaFactory(project=project, text="Mutual help meeting")
    ProjectFactory(title="Ward 8", aim="Fewer falls")
    ideas = (ChangeIdea.objects.filter(project=OuterRef("pk")).order_by()
             .values("project").annotate(t=search.JoinedText("text")).values("t"))
    qs = Project.objects.annotate(ideas=Subquery(ideas))
    found = list(search.search(qs, {"title": "A", "ideas": "C"}, "safewards"))
    assert [p.pk for p in found] == [project.pk]
