"""The stored search document of a project (migration projects 0007, PostgreSQL): the list's
search ranks from it, so it must always equal the document the GIN index and the match use,
after every kind of write, and rank exactly as computing the document did."""

import pytest
from django.db import connection

from projects import selectors
from projects.models import Project
from tests.factories import ProjectFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)")


def _out_of_step() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM projects_project WHERE search_document "
                       f"IS DISTINCT FROM ({selectors.PROJECT_DOCUMENT})")
        return cursor.fetchone()[0]


def test_the_stored_document_follows_every_write(trust_a, alice):
    a = ProjectFactory(trust=trust_a, lead=alice, title="Falls on ward 7", aim="Fewer falls")
    ProjectFactory(trust=trust_a, lead=alice, title="Sepsis screening")
    Project.objects.bulk_create([Project(trust=trust_a, lead=alice, created_by=alice,
                                         title=f"Bulk {i}",
                                         aim="Pressure ulcers", problem="Heels")
                                 for i in range(3)])
    Project.objects.filter(pk=a.pk).update(title="Huddles", problem="Night falls")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projects_project SET aim = 'raw sql aim' WHERE id = %s", [a.pk])
    assert Project.objects.count() == 5
    assert _out_of_step() == 0


def test_ranks_from_the_stored_document_equal_ranks_computed_afresh(trust_a, alice):
    for title, aim in [("Falls falls falls", "falls"), ("Falls", "fewer harms"),
                       ("Discharge", "falls at night"), ("Sepsis", "screening")]:
        ProjectFactory(trust=trust_a, lead=alice, title=title, aim=aim, visibility="trust")
    ranked = list(selectors.project_list(alice, search="falls")
                  .values_list("pk", "search_rank"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, ts_rank({selectors.PROJECT_DOCUMENT}, "
            "websearch_to_tsquery('english', 'falls')) FROM projects_project "
            f"WHERE ({selectors.PROJECT_DOCUMENT}) @@ websearch_to_tsquery('english', 'falls')")
        fresh = dict(cursor.fetchall())
    assert {pk for pk, _ in ranked} == set(fresh) and len(fresh) == 3
    for pk, rank in ranked:
        assert rank == pytest.approx(fresh[pk]), pk
    assert [pk for pk, _ in ranked] == sorted(fresh, key=lambda pk: (-fresh[pk], pk))
