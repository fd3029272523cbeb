import datetime

import pytest
from django.urls import reverse

from pdsa import services
from pdsa.models import Cycle
from pdsa.views import project_page_context
from tests.factories import ChangeIdeaFactory, MeasureFactory, ProjectFactory
from tests.pdsa.conftest import sign_in

pytestmark = pytest.mark.urls("tests.pdsa.urls")

HTMX = {"HTTP_HX_REQUEST": "true"}


def stage_url(cycle, stage):
    return reverse("pdsa:stage", args=[cycle.pk, stage])


# ---- the cycle page ---------------------------------------------------------------------


def test_member_sees_one_form_per_stage(client, alice, cycle):
    response = sign_in(client, alice).get(cycle.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    for stage in ("plan", "do", "study", "act"):
        assert f'action="/pdsa/{cycle.pk}/{stage}/"' in html
        assert f'id="id_{stage}_version"' in html
    assert "Cycle quality: 1 of 4" in html
    assert 'type="date" name="planned_start" value="2026-03-02"' in html  # ISO for the picker
    assert "Prediction made" in html


def test_reader_sees_the_cycle_without_forms(client, bob, cycle):
    response = sign_in(client, bob).get(cycle.get_absolute_url())
    assert response.status_code == 200
    assert b"<form method=\"post\" action=\"/pdsa/" not in response.content
    assert b"Falls in the bay will halve" in response.content


def test_outsider_gets_404(client, charlie, project, cycle):
    project.visibility = project.Visibility.TEAM
    project.save()
    sign_in(client, charlie)
    assert client.get(cycle.get_absolute_url()).status_code == 404
    response = client.post(stage_url(cycle, "plan"), {"objective": "x", "version": 1})
    assert response.status_code == 404


def test_anonymous_is_sent_to_sign_in(client, cycle):
    response = client.get(cycle.get_absolute_url())
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_board_member_gets_403_on_edit(client, bob, cycle):
    response = sign_in(client, bob).post(
        stage_url(cycle, "plan"), {"objective": "Board edit", "version": 1}
    )
    assert response.status_code == 403
    cycle.refresh_from_db()
    assert cycle.objective != "Board edit"


def test_national_analyst_can_read_not_write(client, nadia, cycle):
    sign_in(client, nadia)
    assert client.get(cycle.get_absolute_url()).status_code == 200
    response = client.post(stage_url(cycle, "plan"), {"objective": "x", "version": 1})
    assert response.status_code == 403


def test_unknown_stage_is_404(client, alice, cycle):
    assert sign_in(client, alice).post(stage_url(cycle, "later"), {}).status_code == 404


def test_saving_a_stage_redirects_back_to_it(client, alice, cycle):
    response = sign_in(client, alice).post(
        stage_url(cycle, "do"),
        {"version": 1, "carried_out_as_planned": "partly", "what_happened": "Night shift only"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/pdsa/{cycle.pk}/#stage-do"
    cycle.refresh_from_db()
    assert (cycle.what_happened, cycle.status, cycle.version) == (
        "Night shift only", "studying", 2,
    )
    page = client.get(response["Location"])
    assert b"Do saved." in page.content


def test_missing_required_fields_are_named(client, alice, cycle):
    response = sign_in(client, alice).post(stage_url(cycle, "do"), {"version": 1})
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    assert b"Select whether the test was carried out as planned" in response.content
    assert b'href="#id_do_carried_out_as_planned_0"' in response.content


def test_do_without_a_prediction_gets_a_clear_error(client, alice, idea, make_cycle):
    cycle = make_cycle(idea, prediction="")
    response = sign_in(client, alice).post(
        stage_url(cycle, "do"),
        {"version": 1, "carried_out_as_planned": "yes", "what_happened": "We did it"},
    )
    assert response.status_code == 200
    assert services.PREDICTION_FIRST.encode() in response.content
    cycle.refresh_from_db()
    assert cycle.what_happened == ""


def test_nhs_number_in_a_stage_is_refused_and_input_kept(client, alice, cycle):
    response = sign_in(client, alice).post(
        stage_url(cycle, "study"), {"version": 1, "results": "Bed 4, 943-476-5919, fell"}
    )
    assert response.status_code == 200
    assert b"This looks like an NHS number." in response.content
    assert b"Bed 4, 943-476-5919, fell" in response.content
    cycle.refresh_from_db()
    assert cycle.results == ""


def test_study_shows_the_prediction_beside_the_result(client, alice, cycle):
    html = sign_in(client, alice).get(cycle.get_absolute_url()).content.decode()
    study = html[html.index('id="stage-study"'):html.index('id="stage-act"')]
    assert "Your prediction" in study
    assert "Falls in the bay will halve" in study


# ---- conflicts --------------------------------------------------------------------------


def test_second_save_with_the_same_version_gets_a_conflict(client, alice, quentin, cycle):
    sign_in(client, alice).post(
        stage_url(cycle, "plan"), {"version": 1, "objective": "Rounding in bay A"}
    )
    client.logout()
    response = sign_in(client, quentin).post(
        stage_url(cycle, "plan"),
        {"version": 1, "objective": "Rounding in bay B", "prediction": "Falls halve"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this cycle while you were editing" in html
    # Their saved value and your unsaved input, field by field.
    assert "Rounding in bay A" in html
    assert html.count("Rounding in bay B") >= 2  # in the comparison and kept in the form
    # The form now carries the current version, so saving again is a deliberate overwrite.
    assert 'name="version" value="2"' in html
    cycle.refresh_from_db()
    assert (cycle.objective, cycle.version) == ("Rounding in bay A", 2)


def test_conflict_over_htmx_returns_the_stage_with_both_values(client, alice, quentin, cycle):
    services.cycle_save_stage(
        cycle=cycle, stage="plan", data={"objective": "Alice's bay"}, expected_version=1,
        by=alice,
    )
    response = sign_in(client, quentin).post(
        stage_url(cycle, "plan"), {"version": 1, "objective": "Quentin's bay"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Alice&#x27;s bay" in html and "Quentin&#x27;s bay" in html


# ---- htmx -------------------------------------------------------------------------------


def test_htmx_save_returns_the_stage_fragment_with_saved_status(client, alice, cycle):
    response = sign_in(client, alice).post(
        stage_url(cycle, "plan"),
        {"version": 1, "objective": "One bay", "prediction": "Fewer falls"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="stage-plan-status" hx-swap-oob="innerHTML"' in html
    assert "Plan saved." in html
    # The other stages' hidden versions move on, so their next save is not a false conflict.
    for stage in ("do", "study", "act"):
        assert f'value="2" id="id_{stage}_version" hx-swap-oob="true"' in html
    assert 'id="cycle-quality" hx-swap-oob="true"' in html


def test_stage_forms_post_without_javascript_and_with_htmx(client, alice, cycle):
    html = sign_in(client, alice).get(cycle.get_absolute_url()).content.decode()
    assert f'method="post" action="/pdsa/{cycle.pk}/plan/"' in html
    assert f'hx-post="/pdsa/{cycle.pk}/plan/"' in html
    assert "<script>" not in html and "onclick" not in html
    assert '/static/js/pdsa.js' in html


# ---- new cycle, next cycle, quick log ------------------------------------------------------


def test_new_cycle_for_a_change_idea(client, alice, idea, measure):
    sign_in(client, alice)
    url = reverse("pdsa:new") + f"?change_idea={idea.pk}"
    page = client.get(url)
    assert page.status_code == 200
    assert b"Falls per 1,000 bed days" in page.content
    response = client.post(
        url,
        {
            "change_idea": idea.pk,
            "objective": "Rounding on bay A",
            "prediction": "Falls halve",
            "measures": [measure.pk],
            "planned_start": "2026-03-02",
        },
    )
    cycle = Cycle.objects.get()
    assert response.status_code == 302
    assert response["Location"] == cycle.get_absolute_url()
    assert (cycle.number, cycle.created_by, cycle.status) == (1, alice, "doing")
    assert list(cycle.measures.all()) == [measure]


def test_new_cycle_from_the_project_url(client, alice, project, idea):
    url = f"/projects/{project.pk}/pdsa/new/"
    sign_in(client, alice)
    assert client.get(url).status_code == 200
    response = client.post(url, {"change_idea": idea.pk, "objective": "Test"})
    assert response.status_code == 302
    assert Cycle.objects.get().prediction == ""


def test_new_cycle_needs_an_objective_and_a_change_idea(client, alice, idea):
    response = sign_in(client, alice).post(reverse("pdsa:new"), {})
    assert b"Select the change idea this cycle tests" in response.content
    assert b"Enter the objective of this test" in response.content
    assert not Cycle.objects.exists()


def test_new_cycle_offers_only_editable_change_ideas(client, alice, idea, trust_a):
    hidden = ChangeIdeaFactory(project=ProjectFactory(trust=trust_a), text="Someone else's idea")
    html = sign_in(client, alice).get(reverse("pdsa:new")).content.decode()
    assert idea.text in html
    assert hidden.text not in html


def test_start_next_cycle_from_act_links_the_ramp(client, alice, studied_cycle, measure):
    cycle = studied_cycle
    services.cycle_save_stage(
        cycle=cycle, stage="act", data={"decision": "adapt", "next_steps": "Try two bays"},
        expected_version=1, by=alice,
    )
    page = sign_in(client, alice).get(cycle.get_absolute_url())
    next_url = reverse("pdsa:new") + f"?follows={cycle.pk}"
    assert next_url.encode() in page.content
    form = client.get(next_url)
    assert b"Try two bays" in form.content  # pre-filled from the Act's next steps
    response = client.post(
        next_url, {"change_idea": cycle.change_idea_id, "objective": "Two bays"}
    )
    assert response.status_code == 302
    second = Cycle.objects.get(number=2)
    assert (second.follows, second.change_idea) == (cycle, cycle.change_idea)
    # The ramp goes on from its latest cycle: the first now links to the second instead.
    page = client.get(cycle.get_absolute_url())
    assert next_url.encode() not in page.content
    assert f'<a href="/pdsa/{second.pk}/">cycle 2</a>'.encode() in page.content


def test_no_next_cycle_after_abandon(client, alice, studied_cycle):
    cycle = studied_cycle
    services.cycle_save_stage(
        cycle=cycle, stage="act", data={"decision": "abandon"}, expected_version=1, by=alice
    )
    page = sign_in(client, alice).get(cycle.get_absolute_url())
    assert b"Start next cycle" not in page.content


def test_board_member_cannot_open_the_new_cycle_page(client, bob, idea):
    url = reverse("pdsa:new") + f"?change_idea={idea.pk}"
    assert sign_in(client, bob).get(url).status_code == 403


def test_quick_log_saves_all_four_stages(client, alice, idea):
    response = sign_in(client, alice).post(
        reverse("pdsa:quick"),
        {
            "change_idea": idea.pk,
            "objective": "Huddle on one shift",
            "prediction": "Staff will name high-risk patients",
            "carried_out_as_planned": "yes",
            "what_happened": "Five-minute huddle held",
            "results": "All high-risk patients named",
            "decision": "adopt",
            "done_date": "2026-02-10",
        },
    )
    assert response.status_code == 302
    cycle = Cycle.objects.get()
    assert (cycle.status, cycle.decision, cycle.done_date) == (
        "complete", "adopt", datetime.date(2026, 2, 10),
    )


def test_quick_log_requires_a_prediction(client, alice, idea):
    response = sign_in(client, alice).post(
        reverse("pdsa:quick"),
        {"change_idea": idea.pk, "objective": "x", "carried_out_as_planned": "yes",
         "what_happened": "y", "results": "z", "decision": "adopt"},
    )
    assert b"Enter your prediction of what will happen" in response.content
    assert not Cycle.objects.exists()


# ---- timeline, my cycles, project section ----------------------------------------------


def _ramp(idea, make_cycle, alice, decisions):
    previous = None
    for decision in decisions:
        previous = make_cycle(idea, follows=previous, decision=decision)
    return previous


def test_timeline_groups_ramps_with_decision_tags(client, alice, project, idea, make_cycle):
    _ramp(idea, make_cycle, alice, ["adapt", "adapt", "adopt"])
    other = ChangeIdeaFactory(project=project, text="Bed-rail assessment")
    _ramp(other, make_cycle, alice, ["abandon"])
    response = sign_in(client, alice).get(f"/projects/{project.pk}/pdsa/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Intentional rounding") < html.index("Bed-rail assessment")
    assert html.count("nhsuk-tag--yellow") == 2
    assert html.count("nhsuk-tag--green\">Adopt") == 1
    assert html.count("nhsuk-tag--red\">Abandon") == 1


def test_timeline_fallback_url_works_before_the_project_urls_are_mounted(client, alice, project):
    response = sign_in(client, alice).get(reverse("pdsa:project_timeline", args=[project.pk]))
    assert response.status_code == 200


def test_timeline_outsider_gets_404(client, charlie, project):
    project.visibility = project.Visibility.TEAM
    project.save()
    assert sign_in(client, charlie).get(f"/projects/{project.pk}/pdsa/").status_code == 404


@pytest.mark.parametrize("n", [5, 500])
def test_timeline_query_count_is_constant(
    client, alice, project, idea, n, django_assert_max_num_queries
):
    Cycle.objects.bulk_create(
        Cycle(change_idea=idea, number=i + 1, objective=f"Test {i}", created_by=alice)
        for i in range(n)
    )
    sign_in(client, alice)
    # 1 session, 2 user, 3 project, 4 memberships (role map, cached for the access checks
    # and the navigation), 5 change ideas, 6 their cycles with quality annotations
    # (prefetch), 7 quality summary (one aggregate). Alice leads the project, so no team
    # lookup; one spare for it.
    with django_assert_max_num_queries(8):
        response = client.get(f"/projects/{project.pk}/pdsa/")
    assert response.content.decode().count("nhsuk-card__link") == n


def test_my_open_cycles(client, alice, quentin, project, idea, make_cycle, trust_a):
    mine_open = make_cycle(idea)
    make_cycle(idea, decision="adopt")  # complete: not listed
    not_mine = make_cycle(
        ChangeIdeaFactory(project=ProjectFactory(trust=trust_a, lead=quentin)), by=quentin
    )
    html = sign_in(client, alice).get(reverse("pdsa:mine")).content.decode()
    assert f"/pdsa/{mine_open.pk}/" in html
    assert f"/pdsa/{not_mine.pk}/" not in html
    assert "1 open cycle." in html


@pytest.mark.parametrize("n", [5, 500])
def test_my_cycles_query_count_is_constant(client, alice, idea, n, django_assert_max_num_queries):
    Cycle.objects.bulk_create(
        Cycle(change_idea=idea, number=i + 1, objective=f"Test {i}", created_by=alice)
        for i in range(n)
    )
    sign_in(client, alice)
    # 1 session, 2 user, 3 memberships (role map: scopes and navigation), 4 paginator count,
    # 5 one page of cycles (joined to change idea, project, trust, creator; quality
    # annotated as subqueries).
    with django_assert_max_num_queries(5):
        response = client.get(reverse("pdsa:mine"))
    assert response.status_code == 200


def test_project_page_context(rf, alice, bob, charlie, project, idea, make_cycle):

    make_cycle(idea, measures=[MeasureFactory(project=project)])
    project.visibility = project.Visibility.TEAM
    project.save()
    request = rf.get("/")
    request.user = alice
    context = project_page_context(request, project)
    assert context["pdsa_section"] is True
    assert context["pdsa_summary"]["total"] == 1
    assert context["pdsa_summary"]["data_linked"] == 1
    assert context["pdsa_new_url"] == f"/projects/{project.pk}/pdsa/new/"
    assert context["pdsa_timeline_url"] == f"/projects/{project.pk}/pdsa/"
    request.user = charlie
    assert project_page_context(request, project) == {"pdsa_section": False}


def test_project_section_template_renders(rf, alice, project, cycle):
    from django.template.loader import render_to_string


    request = rf.get("/")
    request.user = alice
    html = render_to_string("pdsa/_project_section.html", project_page_context(request, project))
    assert "PDSA cycles" in html
    assert cycle.get_absolute_url() in html


def test_project_page_shows_the_pdsa_section(client, alice, project, cycle):
    response = sign_in(client, alice).get(project.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="pdsa-section-heading"' in html
    assert cycle.get_absolute_url() in html
    assert f"/projects/{project.pk}/pdsa/" in html
