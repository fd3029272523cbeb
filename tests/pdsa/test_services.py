import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.screening import NHS_NUMBER_MESSAGE
from pdsa import services
from pdsa.models import Cycle
from tests.factories import ChangeIdeaFactory, MeasureFactory


def test_cycles_are_numbered_within_their_change_idea(idea, project, make_cycle):
    other_idea = ChangeIdeaFactory(project=project)
    first = make_cycle(idea)
    second = make_cycle(idea, follows=first)
    elsewhere = make_cycle(other_idea)
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert second.follows == first
    assert list(first.followed_by.all()) == [second]


def test_create_records_history_with_the_actor(cycle, alice):
    record = cycle.history.get()
    assert record.history_user == alice
    assert record.history_type == "+"


def test_a_cycle_can_only_follow_a_cycle_of_the_same_change_idea(project, idea, make_cycle):
    first = make_cycle(idea)
    with pytest.raises(ValidationError) as exc:
        make_cycle(ChangeIdeaFactory(project=project), follows=first)
    assert "follows" in exc.value.error_dict


def test_status_is_derived_from_the_stages_filled(idea, make_cycle, alice):
    cycle = make_cycle(idea, prediction="")
    assert cycle.status == Cycle.Status.PLANNING
    steps = [
        ("plan", {"objective": cycle.objective, "prediction": "Halve falls"}, "doing"),
        ("do", {"carried_out_as_planned": "yes", "what_happened": "Done"}, "studying"),
        ("study", {"results": "Falls 4 → 2, as predicted"}, "acting"),
        ("act", {"decision": "adapt", "next_steps": "Try two bays"}, "complete"),
    ]
    for stage, data, expected in steps:
        cycle = services.cycle_save_stage(
            cycle=cycle, stage=stage, data=data, expected_version=cycle.version, by=alice
        )
        assert cycle.status == expected
    assert cycle.version == 5
    assert Cycle.objects.get().status == Cycle.Status.COMPLETE
    assert cycle.history.count() == 5


def test_do_cannot_be_saved_before_a_prediction(idea, make_cycle, alice):
    cycle = make_cycle(idea, prediction="")
    with pytest.raises(ValidationError) as exc:
        services.cycle_save_stage(
            cycle=cycle,
            stage="do",
            data={"carried_out_as_planned": "yes", "what_happened": "Rounded hourly"},
            expected_version=1,
            by=alice,
        )
    assert exc.value.error_dict["prediction"][0].message == services.PREDICTION_FIRST
    cycle.refresh_from_db()
    assert (cycle.what_happened, cycle.version) == ("", 1)


def test_stage_save_ignores_other_stages_fields(done_cycle, alice):
    saved = services.cycle_save_stage(
        cycle=done_cycle,
        stage="study",
        data={"results": "As predicted", "decision": "adopt"},
        expected_version=1,
        by=alice,
    )
    assert (saved.results, saved.decision) == ("As predicted", "")


def test_stale_version_raises_conflict_and_keeps_the_first_save(cycle, alice, quentin):
    services.cycle_save_stage(
        cycle=cycle, stage="plan", data={"objective": "Alice's objective"},
        expected_version=1, by=alice,
    )
    with pytest.raises(services.ConflictError) as exc:
        services.cycle_save_stage(
            cycle=cycle, stage="plan", data={"objective": "Quentin's objective"},
            expected_version=1, by=quentin,
        )
    assert exc.value.current.objective == "Alice's objective"
    assert exc.value.current.version == 2
    cycle.refresh_from_db()
    assert (cycle.objective, cycle.version) == ("Alice's objective", 2)


def test_measures_must_belong_to_the_cycle_project(idea, measure, make_cycle, alice):
    cycle = make_cycle(idea, measures=[measure])
    assert list(cycle.measures.all()) == [measure]
    foreign = MeasureFactory()
    with pytest.raises(ValidationError) as exc:
        services.cycle_save_stage(
            cycle=cycle, stage="plan",
            data={"objective": "x", "measures": [foreign]}, expected_version=1, by=alice,
        )
    assert "measures" in exc.value.error_dict
    assert list(cycle.measures.all()) == [measure]


def test_patient_identifiers_are_refused_by_the_service(idea, make_cycle):
    with pytest.raises(ValidationError) as exc:
        make_cycle(idea, what_happened="Patient 943 476 5919 fell", carried_out_as_planned="yes")
    assert exc.value.error_dict["what_happened"][0].messages == [NHS_NUMBER_MESSAGE]
    assert not Cycle.objects.exists()


@pytest.mark.parametrize("persona", ["bob", "tara", "charlie", "nadia", "stranger"])
def test_people_without_pdsa_edit_cannot_write(persona, personas, idea, cycle):
    user = personas[persona]
    with pytest.raises(PermissionDenied):
        services.cycle_create(change_idea=idea, by=user, objective="x")
    with pytest.raises(PermissionDenied):
        services.cycle_save_stage(
            cycle=cycle, stage="plan", data={"objective": "y"}, expected_version=1, by=user
        )


def test_qi_lead_can_write_on_any_trust_project(idea, studied_cycle, quentin):
    saved = services.cycle_save_stage(
        cycle=studied_cycle, stage="act",
        data={"decision": "adopt", "act_date": datetime.date(2026, 4, 1)},
        expected_version=1, by=quentin,
    )
    assert saved.decision == "adopt"
    assert saved.history.first().history_user == quentin


def test_quality_features(idea, measure, make_cycle, alice):
    first = make_cycle(idea, prediction="")
    assert first.quality_features() == {
        "prediction": False, "data_linked": False, "study_compares": False, "ramp": False,
    }
    second = make_cycle(idea, follows=first, measures=[measure], results="Falls halved")
    assert second.quality_features() == {
        "prediction": True, "data_linked": True, "study_compares": True, "ramp": True,
    }
    # A service returns the cycle as it committed it; read it again to see later changes.
    assert first.quality_features()["ramp"] is False
    assert Cycle.objects.get(pk=first.pk).quality_features()["ramp"] is True
    assert second.quality_score == 4


def test_the_prediction_cannot_be_removed_once_the_test_is_done(cycle, alice):
    cycle = services.cycle_save_stage(
        cycle=cycle, stage="do", data={"carried_out_as_planned": "yes", "what_happened": "Done"},
        expected_version=1, by=alice,
    )
    with pytest.raises(ValidationError) as exc:
        services.cycle_save_stage(
            cycle=cycle, stage="plan", data={"objective": "x", "prediction": ""},
            expected_version=2, by=alice,
        )
    assert exc.value.error_dict["prediction"][0].message == services.PREDICTION_KEPT


# ---- the IHI worksheet's order (issue 9, item 2) --------------------------------------------


def test_an_untested_cycle_cannot_be_closed(idea, alice):
    # A new cycle with no prediction, then Adopt and "Save act": refused, nothing saved.
    cycle = services.cycle_create(change_idea=idea, by=alice, objective="Try rounding")
    with pytest.raises(ValidationError) as error:
        services.cycle_save_stage(cycle=cycle, stage="act", data={"decision": "adopt"},
                                  expected_version=1, by=alice)
    assert "Write the Plan first" in error.value.message_dict["decision"][0]
    cycle.refresh_from_db()
    assert (cycle.decision, cycle.status, cycle.version) == ("", "planning", 1)


@pytest.mark.parametrize(
    "stage, data, field, message",
    [
        ("study", {"results": "Halved"}, "results", "Record the Do first"),
        ("act", {"decision": "adopt"}, "decision", "Record the Do first"),
    ],
)
def test_each_stage_needs_the_one_before(cycle, alice, stage, data, field, message):
    with pytest.raises(ValidationError) as error:
        services.cycle_save_stage(cycle=cycle, stage=stage, data=data, expected_version=1,
                                  by=alice)
    assert message in error.value.message_dict[field][0]


def test_act_after_a_do_still_needs_the_study(done_cycle, alice):
    with pytest.raises(ValidationError) as error:
        services.cycle_save_stage(cycle=done_cycle, stage="act", data={"decision": "adopt"},
                                  expected_version=1, by=alice)
    assert "Write the Study first" in error.value.message_dict["decision"][0]


def test_in_order_the_cycle_completes(studied_cycle, alice):
    saved = services.cycle_save_stage(cycle=studied_cycle, stage="act",
                                      data={"decision": "adopt"}, expected_version=1, by=alice)
    assert saved.status == "complete" and saved.out_of_order == []


def test_a_cycle_saved_out_of_order_before_the_rules_is_shown_as_such(cycle, alice, client):
    # As if saved before the rules held: a decision with no Do or Study.
    Cycle.objects.filter(pk=cycle.pk).update(decision="adopt", status="complete")
    stored = Cycle.objects.get(pk=cycle.pk)
    assert stored.out_of_order == ["do", "study"]
    assert services.derive_status(stored) == "doing"
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(stored.get_absolute_url()).content.decode()
    assert "Out of order" in html and "Saved out of order" in html
    assert 'nhsuk-tag--white">Complete' not in html
