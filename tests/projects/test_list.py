"""The project list: filters, search, sorting, pagination, stale tags, query budget."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.models import Project
from tests.factories import ProjectFactory, TeamMemberFactory, UnitFactory

TODAY = timezone.localdate()


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def titles(response):
    return [p.title for p in response.context["page"].object_list]


def bulk_projects(trust, lead, n, **extra):
    Project.objects.bulk_create(
        Project(trust=trust, lead=lead, created_by=lead, title=f"Bulk project {i:05d}",
                aim="Reduce something by 10% by 2027.", status="active", **extra)
        for i in range(n)
    )


def test_list_shows_visible_projects_only(client, alice, trust_a, trust_b):
    ProjectFactory(trust=trust_a, title="Falls on Ward 7")
    ProjectFactory(trust=trust_a, title="Secret", visibility=Project.Visibility.TEAM)
    ProjectFactory(trust=trust_b, title="Willow Ward")
    response = sign_in(client, alice).get(reverse("projects:list"))
    assert response.status_code == 200
    assert titles(response) == ["Falls on Ward 7"]


def test_filters_by_trust_status_theme_score_and_stale(client, nadia, trust_a, trust_b):
    old = TODAY - datetime.timedelta(days=90)
    ProjectFactory(trust=trust_a, title="A1", status="active", strategic_theme="Safety",
                   progress_score=Decimal("2.0"), progress_scored_on=old)
    ProjectFactory(trust=trust_a, title="A2", status="proposed", strategic_theme="Flow")
    ProjectFactory(trust=trust_b, title="B1", status="active", progress_score=Decimal("3.0"),
                   progress_scored_on=TODAY)
    sign_in(client, nadia)
    url = reverse("projects:list")
    assert sorted(titles(client.get(url, {"trust": trust_a.ods_code}))) == ["A1", "A2"]
    assert titles(client.get(url, {"status": "proposed"})) == ["A2"]
    assert titles(client.get(url, {"theme": "Safety"})) == ["A1"]
    assert titles(client.get(url, {"score": "3.0"})) == ["B1"]
    assert titles(client.get(url, {"stale": "yes"})) == ["A1"]
    assert sorted(titles(client.get(url, {"stale": "no"}))) == ["A2", "B1"]


def test_unit_filter_includes_the_subtree(client, quentin, trust_a, ward_a):
    division = ward_a.parent
    other = UnitFactory(trust=trust_a, name="Surgery", kind="division")
    ProjectFactory(trust=trust_a, title="On the ward", unit=ward_a)
    ProjectFactory(trust=trust_a, title="Division wide", unit=division)
    ProjectFactory(trust=trust_a, title="Surgical", unit=other)
    sign_in(client, quentin)
    url = reverse("projects:list")
    assert sorted(titles(client.get(url, {"unit": division.pk}))) == ["Division wide",
                                                                      "On the ward"]
    assert titles(client.get(url, {"unit": ward_a.pk})) == ["On the ward"]


def test_mine_means_lead_or_team_not_every_trust_project(client, quentin, trust_a):
    ProjectFactory(trust=trust_a, title="Led", lead=quentin)
    TeamMemberFactory(project=ProjectFactory(trust=trust_a, title="On team"), user=quentin)
    ProjectFactory(trust=trust_a, title="Someone else's")
    response = sign_in(client, quentin).get(reverse("projects:list"), {"mine": "1"})
    assert sorted(titles(response)) == ["Led", "On team"]
    assert b"<h1>My projects</h1>" in response.content
    assert b'name="mine" type="checkbox" checked' in response.content


def test_search_over_title_and_aim(client, alice, trust_a):
    ProjectFactory(trust=trust_a, title="Falls on Ward 7", aim="Fewer falls")
    ProjectFactory(trust=trust_a, title="Sepsis", aim="Antibiotics within one hour")
    sign_in(client, alice)
    url = reverse("projects:list")
    assert titles(client.get(url, {"search": "antibiotics"})) == ["Sepsis"]
    assert titles(client.get(url, {"search": "FALLS ward"})) == ["Falls on Ward 7"]


def test_sorting_and_links_keep_filters(client, alice, trust_a):
    ProjectFactory(trust=trust_a, title="B", target_date=datetime.date(2027, 1, 1))
    ProjectFactory(trust=trust_a, title="A", target_date=datetime.date(2028, 1, 1))
    ProjectFactory(trust=trust_a, title="C", target_date=datetime.date(2026, 1, 1))
    sign_in(client, alice)
    url = reverse("projects:list")
    assert titles(client.get(url, {"sort": "title"})) == ["A", "B", "C"]
    assert titles(client.get(url, {"sort": "-title"})) == ["C", "B", "A"]
    assert titles(client.get(url, {"sort": "target"})) == ["C", "B", "A"]
    content = client.get(url, {"sort": "title", "status": "active"}).content.decode()
    assert 'href="?sort=-title&amp;status=active"' in content
    assert 'aria-sort="ascending"' in content


def test_bad_filter_values_are_ignored_not_fatal(client, alice, trust_a):
    ProjectFactory(trust=trust_a, title="Falls")
    response = sign_in(client, alice).get(
        reverse("projects:list"), {"trust": "NOPE", "unit": "x", "sort": "evil", "page": "9"}
    )
    assert response.status_code == 200
    assert titles(response) == ["Falls"]


def test_pagination_keeps_filters(client, quentin, trust_a):
    bulk_projects(trust_a, quentin, 30)
    sign_in(client, quentin)
    response = client.get(reverse("projects:list"), {"status": "active", "sort": "title"})
    assert len(titles(response)) == 25
    assert 'href="?status=active&amp;sort=title&amp;page=2"' in response.content.decode()
    page2 = client.get(reverse("projects:list"), {"status": "active", "sort": "title",
                                                  "page": "2"})
    assert len(titles(page2)) == 5


def test_stale_tag_on_the_list(client, alice, trust_a):
    ProjectFactory(trust=trust_a, title="Old", start_date=TODAY - datetime.timedelta(days=90))
    content = sign_in(client, alice).get(reverse("projects:list")).content.decode()
    assert "Score out of date" in content


@pytest.mark.parametrize("n", [10, 1000])
def test_list_query_count_is_constant(client, quentin, trust_a, ward_a, n,
                                      django_assert_max_num_queries):
    bulk_projects(trust_a, quentin, n, unit=ward_a)
    sign_in(client, quentin)
    # session, user, memberships (role map, cached for the request), filter choices:
    # the newest project change and the strategic themes (kept until the next change),
    # trusts (one plain query); count; one page of projects joined to trust, unit and lead
    # (stale is an annotation, "mine" a subquery); a QI lead's worklist (proposed projects
    # awaiting approval, at most 11 rows).
    with django_assert_max_num_queries(9):
        response = client.get(reverse("projects:list"), {"sort": "title", "mine": "1"})
    assert response.context["page"].paginator.count == n


@pytest.mark.parametrize("team_size", [1, 50])
def test_project_page_query_count_is_constant(client, quentin, alice, trust_a, team_size,
                                              django_assert_max_num_queries):
    from projects import services

    project = ProjectFactory(trust=trust_a, lead=alice)
    for _ in range(team_size):
        TeamMemberFactory(project=project)
    for days in range(0, team_size * 7, 7):
        services.progress_score_record(by=alice, project=project, score="2.0",
                                       scored_on=TODAY - datetime.timedelta(days=days))
    sign_in(client, quentin)
    # session, user, project (+trust, unit, lead, sponsor, coach), team (+users), scores
    # (+recorded_by), memberships, suggestion: drivers, change ideas, cycles, measures
    # with data, improving measures; plus access's team-member check once per permission
    # asked (view, edit, transitions: 5; it does not read the prefetched team) = 16.
    with django_assert_max_num_queries(16):
        response = client.get(project.get_absolute_url())
    assert response.status_code == 200


def test_a_qi_leads_list_starts_with_proposals_awaiting_approval(client, quentin, alice,
                                                                 trust_a, trust_b):
    waiting = ProjectFactory(trust=trust_a, title="Hand hygiene audit", status="proposed")
    ProjectFactory(trust=trust_a, title="Already approved", status="approved")
    ProjectFactory(trust=trust_b, title="Elsewhere", status="proposed")
    page = sign_in(client, quentin).get(reverse("projects:list") + "?mine=1")
    assert [p.title for p in page.context["awaiting"]] == [waiting.title]
    assert "Waiting for your approval" in page.content.decode()
    page = sign_in(client, alice).get(reverse("projects:list") + "?mine=1")
    assert page.context["awaiting"] == []  # a clinician approves nothing
    assert "Waiting for your approval" not in page.content.decode()


# ---- issue 21: the unit filter is a text box resolved on the server, not every unit -------


def test_the_unit_box_is_resolved_on_the_server_and_lists_no_units(client, quentin, nadia,
                                                                   trust_a, trust_b, ward_a,
                                                                   django_assert_max_num_queries):
    ProjectFactory(trust=trust_a, title="On the ward", unit=ward_a)
    ProjectFactory(trust=trust_a, title="Elsewhere")
    for i in range(40):
        UnitFactory(trust=trust_b, name=f"Bay {i}", kind="ward")
    sign_in(client, nadia)  # sees every trust's units
    url = reverse("projects:list")
    page = client.get(url).content.decode()
    assert "Bay 39" not in page and "<option" not in page.split('id="id_unit_name"')[0][-400:]
    assert 'name="unit_name"' in page
    assert titles(client.get(url, {"unit_name": ward_a.name})) == ["On the ward"]
    assert titles(client.get(url, {"unit_name": ward_a.name.upper()[:4]})) in (
        ["On the ward"], sorted(titles(client.get(url))))  # a part of the name
    missing = client.get(url, {"unit_name": "No such ward"})
    assert "No unit you can see has “No such ward” in its name" in missing.content.decode()
    many = client.get(url, {"unit_name": "Bay"}).content.decode()
    assert "More than one unit matches “Bay”" in many and "and more" in many
    # a link to one unit by its id shows its name in the box, and keeps working
    linked = client.get(url, {"unit": ward_a.pk})
    assert titles(linked) == ["On the ward"]
    assert f'value="{ward_a.name}"' in linked.content.decode()
    # the same queries whether 40 or 4,000 units exist
    with django_assert_max_num_queries(14):
        client.get(url, {"unit_name": "Bay 3"})


def test_a_name_shared_by_two_trusts_narrows_by_trust(client, nadia, trust_a, trust_b):
    a = UnitFactory(trust=trust_a, name="Ward 12", kind="ward")
    UnitFactory(trust=trust_b, name="Ward 12", kind="ward")
    ProjectFactory(trust=trust_a, title="Northgate ward 12", unit=a)
    sign_in(client, nadia)
    url = reverse("projects:list")
    both = client.get(url, {"unit_name": "Ward 12"}).content.decode()
    assert "More than one unit matches" in both
    assert titles(client.get(url, {"unit_name": "Ward 12", "trust": trust_a.ods_code})) == [
        "Northgate ward 12"]


def test_list_rows_are_the_markup_the_shared_templates_give(client, alice, trust_a, ward_a):
    """The list writes its rows in one pass (projects/templatetags/project_list.py); each
    must read as the row the templates gave before: title link, trust · unit · lead, the
    status tag of _status_tag.html, the score with _stale_tag.html, the two dates."""
    from django.template import Context, Template

    old = TODAY - datetime.timedelta(days=90)
    ProjectFactory(trust=trust_a, unit=ward_a, title="Falls <b>& ward</b>", status="active",
                   progress_score=Decimal("2.5"), progress_scored_on=old,
                   target_date=datetime.date(2027, 3, 31))
    for status in ("proposed", "approved", "sustaining", "completed", "stopped"):
        ProjectFactory(trust=trust_a, title=f"A {status} project", status=status,
                       stopped_reason="Paused by the board" if status == "stopped" else "")
    response = sign_in(client, alice).get(reverse("projects:list"))
    projects = list(response.context["page"].object_list)
    assert len(projects) == 6
    row = Template(
        '{% for project in projects %}<tr class="nhsuk-table__row">'
        '<td class="nhsuk-table__cell"><a href="{{ project.get_absolute_url }}">'
        '{{ project.title }}</a> <span class="nhsuk-body-s nhsuk-u-secondary-text-colour '
        'nhsuk-u-display-block">{{ project.trust.ods_code }}{% if project.unit %} · '
        "{{ project.unit.name }}{% endif %} · {{ project.lead }}</span></td>"
        '<td class="nhsuk-table__cell">{% include "projects/_status_tag.html" %}</td>'
        '<td class="nhsuk-table__cell">{% if project.progress_score is not None %}'
        "{{ project.progress_score }}{% else %}"
        '<span class="nhsuk-u-secondary-text-colour">None yet</span>{% endif %} '
        '{% include "projects/_stale_tag.html" %}</td>'
        '<td class="nhsuk-table__cell">{{ project.target_date|date:"j M Y"|default:"–" }}</td>'
        '<td class="nhsuk-table__cell">{{ project.updated_at|date:"j M Y" }}</td></tr>'
        "{% endfor %}")
    expected = row.render(Context({"projects": projects}))
    content = response.content.decode()

    def squeeze(html):
        return " ".join(html.replace("><", "> <").split())

    assert squeeze(expected) in squeeze(content)
    assert "Falls &lt;b&gt;&amp; ward&lt;/b&gt;" in content
    assert "nhsuk-tag--blue" in content and "nhsuk-tag--purple" in content
    assert "31 Mar 2027" in content and "Score out of date" in content


def test_a_new_theme_is_a_filter_choice_at_once(client, nadia, trust_a):
    ProjectFactory(trust=trust_a, title="A1", strategic_theme="Safety")
    sign_in(client, nadia)
    url = reverse("projects:list")
    choices = [v for v, _ in client.get(url).context["form"].fields["theme"].choices]
    assert choices == ["", "Safety"]
    ProjectFactory(trust=trust_a, title="A2", strategic_theme="Flow")  # kept list is stale
    choices = [v for v, _ in client.get(url).context["form"].fields["theme"].choices]
    assert choices == ["", "Flow", "Safety"]
    assert titles(client.get(url, {"theme": "Flow"})) == ["A2"]


def test_a_search_counts_no_further_than_the_cap(client, nadia, trust_a, monkeypatch):
    from projects.views import charter

    bulk_projects(trust_a, nadia, 6)  # "Bulk project …": all match "bulk"
    sign_in(client, nadia)
    monkeypatch.setattr(charter, "SEARCH_MATCHES_COUNTED", 4)
    html = client.get(reverse("projects:list"), {"search": "bulk"}).content.decode()
    assert "More than 4 projects match your filters" in html
    # the filters alone are counted exactly
    html = client.get(reverse("projects:list"), {"status": "active"}).content.decode()
    assert "6 projects match your filters" in html


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL (set DATABASE_URL)")
def test_the_unit_box_reads_the_matching_units_through_their_name_index(
        client, nadia, trust_b):
    """The unit box's lookups (exact, then a part of the name) ask of a unit the very
    expression the trigram index of migration organisations 0007 holds (so PostgreSQL can
    answer them from it: the national bench's plans do), and join each match to its trust
    only, not to the parent every unit choice is labelled with (a hash of every unit in the
    country). Which plan PostgreSQL picks on a test table of a few rows is its own call."""
    for i in range(30):
        UnitFactory(trust=trust_b, name=f"Bay {i}", kind="ward")
    sign_in(client, nadia)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("projects:list"), {"unit_name": "Bay"})  # no exact match
    lookups = [q["sql"] for q in queries.captured_queries
               if 'UPPER("organisations_unit"."name"::text)' in q["sql"]]
    assert len(lookups) == 2  # exact, then contains
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                       ["unit_name_upper_trgm"])
        indexdef = cursor.fetchone()[0]
        assert "USING gin" in indexdef and "gin_trgm_ops" in indexdef
        expression = indexdef.split("USING gin (", 1)[1].rsplit(" gin_trgm_ops", 1)[0]
        assert expression.startswith("upper(")
        for sql, operator in zip(lookups, ("=", "~~"), strict=True):
            assert "T3" not in sql and '"organisations_trust"' in sql
            condition = sql.split(" WHERE ", 1)[1].split(" ORDER BY ", 1)[0]
            cursor.execute(f'EXPLAIN SELECT 1 FROM "organisations_unit" WHERE {condition}')
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"({expression} {operator} '" in plan, plan
