"""XmR chart tests: NHSRplotthedots 0.2.2 rules, ported examples and hand-worked cases."""

import math

import pytest

from reports import spc

FLAT20 = [10.0] * 20


def rules(res):
    return [p.rule for p in res.points]


def flagged(res):
    return [p.index for p in res.points if p.special_cause]


# --- limits -----------------------------------------------------------------


def test_limits_hand_worked():
    values = [1, 3, 2, 4, 3, 5, 4, 6, 5, 7, 6, 8, 7]
    res = spc.xmr(values, screen_outliers=False)
    mean = sum(values) / len(values)
    amr = sum(abs(b - a) for a, b in zip(values, values[1:], strict=False)) / 12
    ph = res.phases[0]
    assert ph.centre == pytest.approx(mean)
    assert ph.lower == pytest.approx(mean - 2.66 * amr)
    assert ph.upper == pytest.approx(mean + 2.66 * amr)
    assert ph.lower_near == pytest.approx(mean - 2 * 2.66 / 3 * amr)
    assert ph.upper_near == pytest.approx(mean + 2 * 2.66 / 3 * amr)
    p = res.points[0]
    assert (p.centre, p.lower, p.upper) == (ph.centre, ph.lower, ph.upper)
    assert res.chart == "xmr" and res.improvement == "increase" and res.target is None


def test_screening_drops_large_moving_ranges_once():
    values = list(range(1, 16)) + [50]
    res = spc.xmr(values)
    # moving ranges: fourteen 1s and one 35; mean 49/15; 35 >= 3.267 * mean is dropped
    assert res.phases[0].upper == pytest.approx(sum(values) / 16 + 2.66)
    unscreened = spc.xmr(values, screen_outliers=False)
    assert unscreened.phases[0].upper == pytest.approx(sum(values) / 16 + 2.66 * 49 / 15)
    assert res.points[-1].rule == "outside_limits"
    assert res.points[-1].point_type == "special_cause_improvement"


def test_moving_ranges_do_not_cross_missing_values():
    values = [1, 2, None, 10, 11, float("nan"), 20, 21]
    res = spc.xmr(values, screen_outliers=False)
    present = [1, 2, 10, 11, 20, 21]
    assert res.phases[0].centre == pytest.approx(sum(present) / 6)
    # only 1->2, 10->11, 20->21 are moving ranges
    assert res.phases[0].upper == pytest.approx(sum(present) / 6 + 2.66 * 1)
    assert res.points[2].value is None and res.points[5].value is None
    assert not res.points[2].special_cause
    assert res.points[2].point_type == "common_cause"


def test_flat_series_screened_has_no_limits():
    # every moving range is 0 and 0 < 3.267 * 0 is false: all screened, so no limits
    res = spc.xmr(FLAT20)
    assert res.phases[0].centre == 10
    assert res.phases[0].lower is None and res.phases[0].upper is None
    assert not any(p.special_cause for p in res.points)
    assert res.variation_icon == "common_cause"
    unscreened = spc.xmr(FLAT20, screen_outliers=False)
    assert unscreened.phases[0].lower == 10 and unscreened.phases[0].upper == 10
    assert not any(p.special_cause for p in unscreened.points)  # on the centre: no shift


def test_single_point_and_short_series():
    res = spc.xmr([5])
    assert res.phases[0].centre == 5 and res.phases[0].upper is None
    assert len(res.points) == 1 and res.variation_icon == "common_cause"
    for n in range(2, 13):
        res = spc.xmr(list(range(n)))
        assert len(res.points) == n
        assert any("trial limits until there are 13" in w for w in res.warnings)
    assert spc.xmr(list(range(13))).warnings == []


def test_fix_after_uses_first_n_points_of_each_phase():
    base = [10, 12, 11, 13, 12, 11, 10, 12, 13, 11, 12, 10]
    values = base + [30, 31, 32] + base + [0, 1]
    res = spc.xmr(values, fix_after=12, rebase_at=[15], screen_outliers=False)
    mean = sum(base) / 12
    amr = sum(abs(b - a) for a, b in zip(base, base[1:], strict=False)) / 11
    for ph in res.phases:
        assert ph.centre == pytest.approx(mean)
        assert ph.upper == pytest.approx(mean + 2.66 * amr)
    assert [p.rule for p in res.points[12:15]] == ["outside_limits"] * 3
    assert res.phases[1].start == 15 and res.phases[1].n == 14


@pytest.mark.parametrize("bad", [11, 0, -3, 12.5, "12", True])
def test_fix_after_must_be_at_least_12(bad):
    with pytest.raises(ValueError, match="fix_after"):
        spc.xmr(list(range(20)), fix_after=bad)


def test_rebase_splits_phases_and_position_zero_is_ignored():
    values = [1, 2, 1, 2, 1, 2, 10, 11, 10, 11, 10, 11]
    res = spc.xmr(values, rebase_at=[6])
    assert [p.phase for p in res.points] == [0] * 6 + [1] * 6
    assert res.phases[0].centre == 1.5 and res.phases[1].centre == 10.5
    same = spc.xmr(values, rebase_at=[0])
    assert len(same.phases) == 1
    assert same.to_dict() == spc.xmr(values).to_dict()


def test_nothing_carries_across_a_phase_boundary():
    # 4 above the mean before and 4 after a rebase would be 8 in a row without it
    values = [1, 1, 1, 1, 5, 5, 5, 5] + [1, 1, 1, 1, 5, 5, 5, 5]
    res = spc.xmr(values, rebase_at=[8], screen_outliers=False)
    assert not any(p.rule == "shift" for p in res.points)


# --- shift (7 on one side) ----------------------------------------------------


def test_shift_of_seven_flags_every_point_of_the_run():
    values = [5, 4, 6, 5, 4, 6, 5] + [7, 7.5, 7, 7.5, 7, 7.5, 7] + [4, 5, 6]
    res = spc.xmr(values, screen_outliers=False)
    mean = sum(values) / len(values)
    assert all(v > mean for v in values[7:14])
    assert rules(res)[7:14] == ["shift"] * 7
    assert all(p.point_type == "special_cause_improvement" for p in res.points[7:14])
    assert rules(res)[:7] == [None] * 7


def test_six_on_one_side_is_not_a_shift():
    values = [5, 4, 6, 5, 4, 6, 5] + [7, 7.5, 7, 7.5, 7, 7.5] + [3, 4, 5, 6, 4]
    res = spc.xmr(values, screen_outliers=False)
    assert "shift" not in rules(res)


def test_point_on_the_mean_breaks_a_run():
    values = [0, 3, 0, 3, 0, 3, 0, 4, 8, 5, 8, 5, 8, 5, 8]
    # mean is 4: the point at index 7 sits on it
    res = spc.xmr(values, screen_outliers=False)
    assert res.phases[0].centre == 4
    assert res.points[7].rule is None
    assert rules(res)[:7] == ["shift"] * 7
    assert rules(res)[8:] == ["shift"] * 7


def test_missing_value_breaks_a_shift_window():
    values = [5, 4, 6, 5, 4, 6, 5] + [7, 7, 7, None, 7, 7, 7] + [3, 4, 5]
    res = spc.xmr(values, screen_outliers=False)
    assert "shift" not in rules(res)


def test_ported_seven_point_one_side_mean_cases():
    # NHSRplotthedots test: rep(1, 8) then -1 signals at the 7th and 8th ends
    res = spc.xmr([3, 3, 3, 3, 3, 3, 3, 3, -20], screen_outliers=False)
    # mean is 0.4; first eight are above: all flagged by the shift rule
    assert [p.special_cause for p in res.points[:8]] == [True] * 8


# --- trend -----------------------------------------------------------------


def test_trend_of_seven_rising_flags_seven_points():
    values = [5, 9, 1, 9, 1, 5, 2, 3, 4, 5, 6, 7, 8, 5, 9, 1, 5]
    res = spc.xmr(values, screen_outliers=False)
    assert rules(res) == [None] * 6 + ["trend"] * 7 + [None] * 4
    assert [p.point_type for p in res.points[6:13]] == ["special_cause_improvement"] * 7


def test_trend_falling_with_decrease_is_improvement():
    values = [5, 9, 1, 9, 1, 5, 8, 7, 6, 5, 4, 3, 2, 5, 9, 1, 5]
    res = spc.xmr(values, improvement="decrease", screen_outliers=False)
    assert rules(res) == [None] * 6 + ["trend"] * 7 + [None] * 4
    assert {p.point_type for p in res.points[6:13]} == {"special_cause_improvement"}


def test_ties_break_a_trend():
    # NHSRplotthedots: c(1:3, 3:6) is not a trend
    res = spc.xmr([1, 2, 3, 3, 4, 5, 6] + [3] * 6, screen_outliers=False)
    assert "trend" not in rules(res)
    # six steps up: 1:6 is too short, 1:7 is a trend
    assert "trend" not in rules(spc.xmr([1, 2, 3, 4, 5, 6, 3, 3], screen_outliers=False))


def test_ported_trend_windows():
    # ptd_seven_point_trend(c(2, 1:7, 3)) signals only the window ending at 1:7's end
    res = spc.xmr([2, 1, 2, 3, 4, 5, 6, 7, 3], screen_outliers=False)
    assert [p.rule == "trend" for p in res.points] == [False] + [True] * 7 + [False]
    res = spc.xmr([2, 7, 6, 5, 4, 3, 2, 1, 3], screen_outliers=False)
    assert [p.rule == "trend" for p in res.points] == [False] + [True] * 7 + [False]


def test_trend_may_cross_the_mean_and_is_preferred_over_shift():
    values = [20, 0, 20, 12, 4, 5, 6, 7, 8, 9, 10, 0, 20, 0, 20]
    res = spc.xmr(values, screen_outliers=False)
    assert 4 < res.phases[0].centre < 10  # the 7 rising points cross the mean
    assert rules(res) == [None] * 4 + ["trend"] * 7 + [None] * 4
    # a first point beyond a limit outranks the trend it belongs to
    tight = spc.xmr([1, 2, 3, 4, 5, 6, 7], screen_outliers=False)
    assert rules(tight) == ["outside_limits"] + ["trend"] * 5 + ["outside_limits"]


def test_missing_value_inside_trend_window_does_not_signal():
    res = spc.xmr([1, 2, 3, None, 5, 6, 7, 8, 4, 4], screen_outliers=False)
    assert "trend" not in rules(res)


def test_trend_direction_uses_next_step_then_previous():
    # a rising trend of 7 followed directly by a falling trend of 7 (sharing no point)
    values = [0, 20, 0, 20] + [4, 5, 6, 7, 8, 9, 10] + [10, 9, 8, 7, 6, 5, 4] + [20, 0, 20, 0]
    res = spc.xmr(values, improvement="increase", screen_outliers=False)
    assert rules(res)[4:18] == ["trend"] * 14
    types = [p.point_type for p in res.points]
    # index 10 (value 10) is followed by a trend point with a tie (10 -> 10): the step
    # is 0, which the package reads as "decreasing"
    assert types[4:10] == ["special_cause_improvement"] * 6
    assert types[10] == "special_cause_concern"
    assert types[11:18] == ["special_cause_concern"] * 7


# --- two in three ----------------------------------------------------------------


def _two_in_three_series():
    # a stable process, then two of three high values in the outer third
    base = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10]
    return base + [13.3, 10.5, 13.3, 10, 9]


def test_two_in_three_flags_only_the_close_points():
    values = _two_in_three_series()
    res = spc.xmr(values, screen_outliers=False)
    ph = res.phases[0]
    assert ph.upper_near < 13.3 < ph.upper
    assert res.points[16].rule == "two_in_three"
    assert res.points[18].rule == "two_in_three"
    assert res.points[17].rule is None  # same side but not close
    assert res.points[16].point_type == "special_cause_improvement"


def test_two_in_three_needs_all_three_on_one_side():
    base = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10]
    res = spc.xmr(base + [13.3, 9.5, 13.3, 10, 9], screen_outliers=False)
    assert "two_in_three" not in rules(res)


def test_point_beyond_a_limit_is_not_close():
    base = [10, 11, 9] * 14
    res = spc.xmr(base + [13.3, 16, 10.5, 9, 10])
    ph = res.phases[0]
    assert ph.upper_near < 13.3 < ph.upper < 16 and 10.5 > ph.centre
    assert res.points[43].rule == "outside_limits"
    assert res.points[42].rule is None  # only one close point in its windows


# --- outside limits, rule order, point types -------------------------------------


def test_outside_limits_is_strict():
    values = [10, 12] * 10
    res = spc.xmr(values, screen_outliers=False)
    upper = res.phases[0].upper
    res2 = spc.xmr(values + [upper], screen_outliers=False)
    # adding a point changes the limits, so check strictness on a crafted case instead
    assert res2.points[-1].value == upper
    flat = spc.xmr([0, 1] * 10 + [0], screen_outliers=False)
    assert flat.phases[0].upper > 1 and not any(p.special_cause for p in flat.points)


def test_low_point_is_concern_when_increase_is_better():
    values = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 0]
    res = spc.xmr(values)
    assert res.points[-1].rule == "outside_limits"
    assert res.points[-1].point_type == "special_cause_concern"
    assert res.variation_icon == "concern_low"
    assert spc.xmr(values, improvement="decrease").variation_icon == "improvement_low"
    neutral = spc.xmr(values, improvement="neutral")
    assert neutral.points[-1].point_type == "special_cause_neutral_low"
    assert neutral.variation_icon == "neutral_low"


def test_high_point_icons():
    values = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 20]
    assert spc.xmr(values).variation_icon == "improvement_high"
    assert spc.xmr(values, improvement="decrease").variation_icon == "concern_high"
    assert spc.xmr(values, improvement="neutral").variation_icon == "neutral_high"


# --- assurance ---------------------------------------------------------------


STABLE = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10]


@pytest.mark.parametrize(
    ("target", "improvement", "expected"),
    [
        (100, "increase", "consistent_fail"),
        (100, "decrease", "consistent_pass"),
        (0, "increase", "consistent_pass"),
        (0, "decrease", "consistent_fail"),
        (10, "increase", "inconsistent"),
        (10, "neutral", None),
        (None, "increase", None),
    ],
)
def test_assurance(target, improvement, expected):
    assert spc.xmr(STABLE, target=target, improvement=improvement).assurance == expected


def test_target_exactly_on_a_limit_is_inconsistent():
    res = spc.xmr(STABLE)
    for limit in (res.phases[0].upper, res.phases[0].lower):
        assert spc.xmr(STABLE, target=limit).assurance == "inconsistent"


def test_assurance_uses_last_phase():
    values = STABLE + [50, 51, 49, 50, 51, 49, 50, 51, 49, 50, 51, 49, 50]
    res = spc.xmr(values, rebase_at=[16], target=30)
    assert res.assurance == "consistent_pass"


# --- validation and serialisation ----------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": [1, "a", 3]}, "not a number"),
        ({"values": [1, True, 3]}, "not a number"),
        ({"values": [1, math.inf]}, "infinite"),
        ({"values": [1, 2], "improvement": "up"}, "improvement"),
        ({"values": [1, 2], "target": "x"}, "target"),
        ({"values": [1, 2], "rebase_at": [5]}, "rebase_at"),
        ({"values": []}, "at least one"),
        ({"values": "123"}, "sequence"),
    ],
)
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spc.xmr(**kwargs)


def test_to_dict_is_plain():
    import json

    res = spc.xmr([1, None, 3, 4, 2, 5, 3, 4, 6, 2, 3, 4, 100], target=3)
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert "NaN" not in text
    assert d["chart"] == "xmr" and len(d["points"]) == 13
    assert d["points"][1]["value"] is None
    assert set(d["points"][0]) >= {"lower_near", "upper_near", "rule", "point_type"}
    assert "n_useful" not in d["phases"][0]


def test_engine_imports_without_django():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; import reports.spc, reports.spc.reading, reports.spc.icons; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'django']; "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_latest_value_is_the_last_plotted_value_or_none():
    from reports import spc

    assert spc.xmr([3.0, 4.0, 5.5]).latest_value == 5.5
    assert spc.p_chart([1, 3], [4, 4]).latest_value == 0.75
    assert spc.xmr([2.0, float("nan")]).latest_value is None  # a missing last value
