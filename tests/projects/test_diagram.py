"""Driver diagram: services, editor pages, SVG/PNG export and the project page sections."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from measures import views as measure_views
from measures.models import MeasureSnapshot
from projects import diagram as dd
from projects import services
from projects.models import ChangeIdea, Driver
from projects.views import diagram as diagram_views
from tests.factories import (
    ChangeIdeaFactory,
    DataPointFactory,
    DriverFactory,
    MeasureFactory,
    ProjectFactory,
)


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice, title="Reducing falls on Ward 7",
                          aim="Reduce falls by 30% by March 2027")


@pytest.fixture
def tree(project, alice):
    p1 = services.driver_create(project=project, text="Safe mobility", by=alice)
    p2 = services.driver_create(project=project, text="Staff awareness", by=alice)
    s1 = services.driver_create(project=project, text="Walking aids in reach", parent=p1,
                                by=alice)
    s2 = services.driver_create(project=project, text="Falls risk assessment", parent=p2,
                                by=alice)
    idea = services.change_idea_create(project=project, text="Falls huddle",
                                       drivers=[s1, s2], by=alice)
    return {"p1": p1, "p2": p2, "s1": s1, "s2": s2, "idea": idea}


# ---- services ---------------------------------------------------------------------------


def test_drivers_get_positions_in_order_and_history(tree, alice):
    assert [tree["p1"].position, tree["p2"].position] == [0, 1]
    assert tree["p1"].history.first().history_user == alice


def test_secondary_under_a_secondary_is_refused(project, tree, alice):
    with pytest.raises(ValidationError):
        services.driver_create(project=project, text="Too deep", parent=tree["s1"], by=alice)


def test_parent_from_another_project_is_refused(project, alice, trust_a):
    other = DriverFactory(project=ProjectFactory(trust=trust_a, lead=alice))
    with pytest.raises(ValidationError):
        services.driver_create(project=project, text="X", parent=other, by=alice)


def test_blank_driver_text_is_refused(project, alice):
    with pytest.raises(ValidationError):
        services.driver_create(project=project, text="   ", by=alice)
    assert not Driver.objects.exists()


def test_change_idea_needs_a_secondary_driver(project, tree, alice):
    with pytest.raises(ValidationError):
        services.change_idea_create(project=project, text="X", drivers=[], by=alice)
    with pytest.raises(ValidationError):
        services.change_idea_create(project=project, text="X", drivers=[tree["p1"]], by=alice)
    assert ChangeIdea.objects.count() == 1


def test_move_swaps_with_neighbour_and_stops_at_the_ends(tree, alice):
    services.driver_move(driver=tree["p2"], direction="up", by=alice)
    assert list(Driver.objects.filter(parent=None).values_list("text", flat=True)) == [
        "Staff awareness", "Safe mobility"]
    services.driver_move(driver=tree["p2"], direction="up", by=alice)  # already first
    assert Driver.objects.get(pk=tree["p2"].pk).position == 0


def test_board_member_cannot_edit_the_diagram(project, bob):
    with pytest.raises(PermissionDenied):
        services.driver_create(project=project, text="X", by=bob)


def test_removing_a_primary_removes_its_secondaries_and_keeps_ideas(tree, alice):
    measure = MeasureFactory(project=tree["p1"].project, driver=tree["s1"])
    services.driver_delete(driver=tree["p1"], by=alice)
    assert not Driver.objects.filter(pk__in=[tree["p1"].pk, tree["s1"].pk]).exists()
    idea = ChangeIdea.objects.get()
    assert list(idea.drivers.all()) == [tree["s2"]]
    measure.refresh_from_db()
    assert measure.driver is None


def test_build_places_ideas_under_each_secondary_and_flags_unlinked(project, tree):
    ChangeIdeaFactory(project=project, text="Orphan")
    diagram = dd.build(project)
    assert [p.driver.text for p in diagram.primaries] == ["Safe mobility", "Staff awareness"]
    assert [i.text for i in diagram.primaries[0].secondaries[0].ideas] == ["Falls huddle"]
    assert [i.text for i in diagram.primaries[1].secondaries[0].ideas] == ["Falls huddle"]
    assert [i.text for i in diagram.unlinked_ideas] == ["Orphan"]


# ---- SVG / PNG ----------------------------------------------------------------------------


def test_svg_is_accessible_escaped_and_holds_every_box(project, tree, alice):
    services.driver_create(project=project, text="Beds <low> & alarms", parent=tree["p1"],
                           by=alice)
    svg = dd.to_svg(dd.build(project))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    for text in ("Safe mobility", "Walking aids in reach", "Falls huddle",
                 "Beds &lt;low&gt; &amp; alarms"):
        assert text in svg
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # well-formed


def test_svg_download_is_an_attachment_for_viewers(client, project, tree, bob, charlie):
    url = reverse("projects:diagram_svg", args=[project.pk])
    response = sign_in(client, bob).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response["Content-Disposition"].startswith("attachment;")
    assert sign_in(client, charlie).get(url).status_code == 404


def test_png_download_when_cairosvg_is_installed(client, project, tree, alice):
    if not dd.png_available():
        pytest.skip("cairosvg not installed")
    response = sign_in(client, alice).get(reverse("projects:diagram_png", args=[project.pk]))
    assert response.status_code == 200
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


# ---- editor pages -----------------------------------------------------------------------


def test_editor_adds_primary_secondary_and_idea(client, project, alice):
    url = reverse("projects:diagram", args=[project.pk])
    sign_in(client, alice)
    assert client.post(url, {"action": "add_primary", "primary-text": "Safe mobility"}
                       ).status_code == 302
    primary = Driver.objects.get()
    assert client.post(url, {"action": "add_secondary", "secondary-parent": primary.pk,
                             "secondary-text": "Walking aids"}).status_code == 302
    secondary = Driver.objects.get(parent=primary)
    response = client.post(url, {"action": "add_idea", "idea-text": "Falls huddle",
                                 "idea-drivers": [secondary.pk]})
    assert response.status_code == 302
    page = client.get(url)
    assert b"Falls huddle" in page.content and b"Move down" not in page.content


def test_editor_shows_errors_and_saves_nothing(client, project, tree, alice):
    url = reverse("projects:diagram", args=[project.pk])
    response = sign_in(client, alice).post(url, {"action": "add_idea", "idea-text": "New"})
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    assert b"Choose at least one secondary driver" in response.content
    assert ChangeIdea.objects.count() == 1
    response = client.post(url, {"action": "add_primary", "primary-text": ""})
    assert b"Enter the driver" in response.content


def test_readers_see_the_diagram_without_controls_and_cannot_post(client, project, tree, bob):
    url = reverse("projects:diagram", args=[project.pk])
    page = sign_in(client, bob).get(url)
    assert page.status_code == 200
    assert b"Safe mobility" in page.content and b"Add primary driver" not in page.content
    assert client.post(url, {"action": "add_primary", "primary-text": "X"}).status_code == 403


def test_outsider_gets_404_everywhere(client, project, tree, charlie):
    sign_in(client, charlie)
    pk = project.pk
    for url in (
        reverse("projects:diagram", args=[pk]),
        reverse("projects:driver_edit", args=[pk, tree["p1"].pk]),
        reverse("projects:driver_remove", args=[pk, tree["p1"].pk]),
        reverse("projects:idea_edit", args=[pk, tree["idea"].pk]),
        reverse("projects:idea_remove", args=[pk, tree["idea"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("projects:driver_move", args=[pk, tree["p1"].pk]),
                       {"direction": "down"}).status_code == 404


def test_board_member_gets_403_on_edit_pages(client, project, tree, bob):
    sign_in(client, bob)
    assert client.get(reverse("projects:driver_edit", args=[project.pk, tree["p1"].pk])
                      ).status_code == 403
    assert client.post(reverse("projects:idea_move", args=[project.pk, tree["idea"].pk]),
                       {"direction": "up"}).status_code == 403


def test_rename_move_and_remove_with_confirmation(client, project, tree, alice):
    sign_in(client, alice)
    pk = project.pk
    r = client.post(reverse("projects:driver_edit", args=[pk, tree["p1"].pk]),
                    {"text": "Safer mobility"})
    assert r.status_code == 302 and Driver.objects.get(pk=tree["p1"].pk).text == "Safer mobility"
    client.post(reverse("projects:driver_move", args=[pk, tree["p1"].pk]), {"direction": "down"})
    assert Driver.objects.filter(parent=None).first().text == "Staff awareness"
    confirm = client.get(reverse("projects:driver_remove", args=[pk, tree["p1"].pk]))
    assert b"Are you sure" in confirm.content and b"Walking aids in reach" in confirm.content
    client.post(reverse("projects:driver_remove", args=[pk, tree["p1"].pk]))
    assert not Driver.objects.filter(pk=tree["p1"].pk).exists()


def test_change_idea_edit_requires_a_driver(client, project, tree, alice):
    url = reverse("projects:idea_edit", args=[project.pk, tree["idea"].pk])
    response = sign_in(client, alice).post(url, {"text": "Huddle"})
    assert b"Choose at least one secondary driver" in response.content
    response = client.post(url, {"text": "Huddle", "drivers": [tree["s2"].pk]})
    assert response.status_code == 302
    assert list(ChangeIdea.objects.get().drivers.all()) == [tree["s2"]]
    client.post(reverse("projects:idea_remove", args=[project.pk, tree["idea"].pk]))
    assert not ChangeIdea.objects.exists()


# ---- project page context --------------------------------------------------------------


def _page_context(project, user):
    request = RequestFactory().get("/")
    request.user = user
    return {
        **diagram_views.project_section(request, project),
        **measure_views.project_section(request, project),
    }


def _big_project(project, n_measures):
    primaries = [DriverFactory(project=project, position=i) for i in range(3)]
    secondaries = [DriverFactory(project=project, parent=p) for p in primaries for _ in range(3)]
    for i in range(5):
        idea = ChangeIdeaFactory(project=project)
        idea.drivers.set(secondaries[i: i + 2])
    for i in range(n_measures):
        m = MeasureFactory(project=project, driver=secondaries[i % len(secondaries)])
        for j in range(3):
            DataPointFactory(measure=m, value=j)
        MeasureSnapshot.objects.create(measure=m, n_points=3, variation_icon="common_cause",
                                       result={"points": [{"value": v} for v in (1, 2, 3)]})


@pytest.mark.parametrize("n", [1, 30])
def test_project_page_context_costs_constant_queries(project, alice, n,
                                                     django_assert_max_num_queries):
    _big_project(project, n)
    # drivers; change ideas; their driver links (prefetch); measures + snapshots + drivers;
    # the user's memberships (role map); team membership for PROJECT_EDIT and DATA_ENTER.
    with django_assert_max_num_queries(7):
        ctx = _page_context(project, alice)
        html = render_to_string("measures/_project_section.html", ctx)
        html += render_to_string("projects/_diagram_section.html", ctx)
    assert ctx["diagram"].counts["primary"] == 3
    assert len(ctx["measure_rows"]) == n
    assert "Common cause variation" in html and "app-sparkline" in html


def test_sections_offer_next_steps_to_editors_only(project, alice, bob):
    editor = render_to_string("measures/_project_section.html", _page_context(project, alice))
    editor += render_to_string("projects/_diagram_section.html", _page_context(project, alice))
    assert "Add a measure" in editor and "Build the driver diagram" in editor
    reader = render_to_string("measures/_project_section.html", _page_context(project, bob))
    assert "Add a measure" not in reader
