"""Run, P, U and C charts: qicharts2 0.8.1 rules, textbook examples and edge cases."""

import json
import math

import pytest

from reports import spc

# Montgomery, Introduction to Statistical Quality Control, Example 7.1 (one of
# the examples qicharts2's own tests use): 30 samples of 50 orange-juice cans.
MONTGOMERY_7_1 = [
    12,
    15,
    8,
    10,
    4,
    7,
    16,
    9,
    14,
    10,
    5,
    6,
    17,
    12,
    22,
    8,
    10,
    5,
    13,
    11,
    20,
    18,
    24,
    15,
    9,
    12,
    7,
    13,
    9,
    6,
]
# Montgomery Example 7.3: nonconformities in 26 samples of 100 circuit boards.
MONTGOMERY_7_3 = [
    21,
    24,
    16,
    12,
    15,
    5,
    28,
    20,
    31,
    25,
    20,
    24,
    16,
    19,
    10,
    17,
    13,
    22,
    18,
    39,
    30,
    24,
    16,
    19,
    17,
    15,
]


def test_p_chart_montgomery_example_7_1():
    res = spc.p_chart(MONTGOMERY_7_1, [50] * 30)
    assert res.chart == "p"
    assert res.phases[0].centre == pytest.approx(347 / 1500)
    p = res.points[0]
    assert p.upper == pytest.approx(0.4102, abs=1e-4)
    assert p.lower == pytest.approx(0.0524, abs=1e-4)
    assert [q.index for q in res.points if q.special_cause] == [14, 22]  # samples 15 and 23
    assert {q.rule for q in res.points if q.special_cause} == {"outside_limits"}
    assert res.improvement == "neutral"
    assert res.points[14].point_type == "special_cause_neutral_high"


def test_c_chart_montgomery_example_7_3():
    res = spc.c_chart(MONTGOMERY_7_3)
    ph = res.phases[0]
    assert ph.centre == pytest.approx(516 / 26)
    assert ph.upper == pytest.approx(19.846 + 3 * math.sqrt(19.846), abs=1e-3)  # book: 33.22
    assert ph.lower == pytest.approx(6.48, abs=5e-3)
    assert [q.index for q in res.points if q.special_cause] == [5, 19]  # samples 6 and 20
    assert res.points[5].point_type == "special_cause_neutral_low"
    decrease = spc.c_chart(MONTGOMERY_7_3, improvement="decrease")
    assert decrease.points[5].point_type == "special_cause_improvement"
    assert decrease.points[19].point_type == "special_cause_concern"


def test_c_chart_freeze_and_missing_points_keep_limits():
    res = spc.c_chart([4, 5, 6, None, 20], freeze=3)
    assert res.phases[0].centre == 5
    assert res.points[3].value is None
    assert res.points[3].upper == pytest.approx(5 + 3 * math.sqrt(5))
    assert res.points[4].special_cause
    assert res.points[0].lower == 0  # 5 - 3*sqrt(5) < 0 is floored


def test_u_chart_hand_worked():
    counts = [3, 5, 2, 8, 4]
    exposure = [1.0, 2.0, 1.5, 2.5, 1.0]
    res = spc.u_chart(counts, exposure)
    u = sum(counts) / sum(exposure)
    assert res.phases[0].centre == pytest.approx(u)
    for p, n in zip(res.points, exposure, strict=True):
        assert p.upper == pytest.approx(u + 3 * math.sqrt(u / n))
        assert p.lower == max(0.0, u - 3 * math.sqrt(u / n)) or p.lower == pytest.approx(
            u - 3 * math.sqrt(u / n)
        )
    assert res.points[1].value == pytest.approx(2.5)


def _laney_sigma(y, cl, sd, screen):
    z = [(a - cl) / s for a, s in zip(y, sd, strict=True)]
    mr = [abs(b - a) for a, b in zip(z, z[1:], strict=False)]
    amr = sum(mr) / len(mr)
    if screen:
        mr = [m for m in mr if m < 3.267 * amr]
        amr = sum(mr) / len(mr)
    return amr / 1.128


@pytest.mark.parametrize("screen", [True, False])
def test_laney_p_prime(screen):
    num = [30, 45, 28, 60, 38, 41, 52, 33, 120, 47, 39, 44]
    den = [400, 420, 380, 450, 410, 400, 430, 390, 440, 420, 400, 410]
    res = spc.p_chart(num, den, laney=True, screen_mr=screen)
    p = sum(num) / sum(den)
    y = [a / b for a, b in zip(num, den, strict=True)]
    sd = [math.sqrt(p * (1 - p) / n) for n in den]
    sig = _laney_sigma(y, p, sd, screen)
    for pt, s in zip(res.points, sd, strict=True):
        assert pt.upper == pytest.approx(p + 3 * s * sig)
        assert pt.lower == pytest.approx(max(0.0, p - 3 * s * sig))
    plain = spc.p_chart(num, den)
    assert plain.points[0].upper < res.points[0].upper  # over-dispersed: wider limits


def test_laney_screening_changes_sigma_when_a_moving_range_is_large():
    counts = [10, 11, 9, 10, 12, 10, 11, 9, 10, 60, 10, 11]
    exposure = [100] * 12
    screened = spc.u_chart(counts, exposure, laney=True)
    unscreened = spc.u_chart(counts, exposure, laney=True, screen_mr=False)
    assert screened.points[0].upper < unscreened.points[0].upper
    u = sum(counts) / 1200
    sd = [math.sqrt(u / 100)] * 12
    sig = _laney_sigma([c / 100 for c in counts], u, sd, True)
    assert screened.points[0].upper == pytest.approx(u + 3 * sd[0] * sig)


def test_p_chart_missing_parts_are_dropped():
    res = spc.p_chart([5, None, 7, 8], [50, 50, None, 40])
    assert res.phases[0].centre == pytest.approx((5 + 8) / 90)
    for i in (1, 2):
        p = res.points[i]
        assert p.value is None and p.lower is None and p.upper is None
        assert not p.special_cause
    assert res.phases[0].n_useful == 2


def test_p_chart_limits_clipped_to_unit_interval():
    res = spc.p_chart([1, 9, 10, 10], [10, 10, 10, 10])
    assert all(p.upper <= 1 for p in res.points)
    assert all(p.lower >= 0 for p in res.points)


def test_zero_denominator_is_missing_with_a_warning():
    res = spc.p_chart([1, 0, 2], [10, 0, 10])
    assert res.points[1].value is None
    assert res.warnings


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: spc.p_chart([1, 2], [3]), "same length"),
        (lambda: spc.p_chart([1, 2], [3, -1]), "negative"),
        (lambda: spc.p_chart([5, 2], [3, 4]), "larger than"),
        (lambda: spc.u_chart([1, 2], [1, 0]), "positive"),
        (lambda: spc.c_chart([1, -2]), "negative"),
        (lambda: spc.c_chart([1, "x"]), "not a number"),
        (lambda: spc.run_chart([1, 2], improvement="better"), "improvement"),
        (lambda: spc.run_chart([1, 2], freeze=0), "freeze"),
        (lambda: spc.run_chart([1, 2], parts_at=[7]), "parts_at"),
        (lambda: spc.run_chart([]), "at least one"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- runs analysis ---------------------------------------------------------------


# Anhøj & Olesen (2014), table of limits: n useful -> (longest run max, crossings min)
ANHOEJ_TABLE = {
    10: (6, 2),
    11: (6, 2),
    12: (7, 3),
    13: (7, 3),
    14: (7, 4),
    15: (7, 4),
    16: (7, 4),
    17: (7, 5),
    18: (7, 5),
    19: (7, 6),
    20: (7, 6),
    21: (7, 6),
    22: (7, 7),
    23: (8, 7),
    24: (8, 8),
    25: (8, 8),
    26: (8, 8),
    27: (8, 9),
    28: (8, 9),
    29: (8, 10),
    30: (8, 10),
}


@pytest.mark.parametrize(("n", "limits"), sorted(ANHOEJ_TABLE.items()))
def test_runs_limits_match_anhoej_table(n, limits):
    from reports.spc.runs import longest_run_max

    assert (longest_run_max(n), spc.qbinom_05(n - 1)) == limits


def test_qbinom_small_cases():
    # qbinom(0.05, size, 0.5) in R
    assert [spc.qbinom_05(k) for k in range(0, 6)] == [0, 0, 0, 0, 0, 1]


def test_run_chart_median_and_runs():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    res = spc.run_chart(values)
    ph = res.phases[0]
    assert ph.centre == 6.5
    assert ph.n_useful == 12 and ph.longest_run == 6 and ph.crossings == 1
    assert ph.longest_run_max == 7 and ph.crossings_min == 3
    assert ph.runs_signal is True
    assert not any(p.special_cause for p in res.points)
    assert res.points[0].lower is None and res.variation_icon == "common_cause"
    assert res.assurance is None


def test_run_chart_points_on_median_and_missing_are_not_useful():
    res = spc.run_chart([1, 5, 9, None, 5, 1, 9, 5])
    ph = res.phases[0]
    assert ph.centre == 5
    assert ph.n_useful == 4  # 1, 9, 1, 9
    assert ph.crossings == 3 and ph.longest_run == 1


def test_run_chart_parts_and_freeze():
    values = [1, 2, 1, 2, 1, 2, 8, 9, 8, 9, 8, 9]
    res = spc.run_chart(values, parts_at=[6], freeze=3)  # freeze ignored with parts
    assert [ph.centre for ph in res.phases] == [1.5, 8.5]
    assert [p.phase for p in res.points] == [0] * 6 + [1] * 6
    frozen = spc.run_chart(values, freeze=6)
    assert frozen.phases[0].centre == 1.5
    # the runs analysis uses every point against the frozen median
    ph = frozen.phases[0]
    assert (ph.n_useful, ph.longest_run, ph.crossings) == (12, 7, 5)


def test_phase_with_no_useful_points_has_none():
    res = spc.run_chart([3, 3, 3, 3])
    ph = res.phases[0]
    assert ph.n_useful == 0
    assert ph.longest_run is None and ph.crossings is None and ph.crossings_min is None
    assert ph.runs_signal is False


def test_attribute_runs_analysis_against_centre():
    res = spc.c_chart([1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9])
    ph = res.phases[0]
    assert ph.centre == 5 and ph.longest_run == 8 and ph.crossings == 1
    assert ph.runs_signal is True


def test_to_dict_json_ready():
    for res in (
        spc.run_chart([1, None, 3]),
        spc.p_chart([1, None, 3], [10, 10, 10], target=0.2, improvement="increase"),
        spc.u_chart([1, 2, 3], [1, 1, 1]),
        spc.c_chart([1, 2, None]),
    ):
        d = res.to_dict()
        json.dumps(d, allow_nan=False)
        assert "n_useful" in d["phases"][0] and "lower_near" not in d["points"][0]


def test_attribute_assurance_uses_last_limits():
    res = spc.p_chart(MONTGOMERY_7_1, [50] * 30, target=0.5, improvement="decrease")
    assert res.assurance == "consistent_pass"
    res = spc.p_chart(MONTGOMERY_7_1, [50] * 30, target=0.01, improvement="decrease")
    assert res.assurance == "consistent_fail"
