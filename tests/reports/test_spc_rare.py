"""G and T charts and the rare-event readings: hand-written behaviour tests."""

import datetime as dt
import inspect
import json
import math

import pytest

from reports import spc
from reports.spc import reading
from reports.spc.reading import describe, gap_summary, rare_event_summary

D = dt.date
GAPS = [12, 4, 31, 7, 1, 18, 22, 3, 9, 45, 14, 2, 27, 6, 11, 38, 1, 16, 8, 25]


# ---- the charts -----------------------------------------------------------------


@pytest.mark.parametrize("fn", [spc.g_chart, spc.t_chart])
def test_same_parameters_as_c_chart(fn):
    c_params = inspect.signature(spc.c_chart).parameters
    params = inspect.signature(fn).parameters
    for name, p in list(c_params.items())[1:]:
        assert params[name].default == p.default and params[name].kind is p.kind


@pytest.mark.parametrize("fn", [spc.g_chart, spc.t_chart])
def test_result_shape_same_as_c_chart(fn):
    kwargs = {"parts_at": [10], "improvement": "increase", "target": 5}
    ours = fn(GAPS, **kwargs).to_dict()
    theirs = spc.c_chart(GAPS, **kwargs).to_dict()
    assert ours.keys() == theirs.keys()
    assert ours["chart"] == fn.__name__[0]
    assert [p.keys() for p in ours["points"]] == [p.keys() for p in theirs["points"]]
    assert [p.keys() for p in ours["phases"]] == [p.keys() for p in theirs["phases"]]
    json.dumps(ours, allow_nan=False)


def test_g_chart_lines_by_hand():
    res = spc.g_chart([1, 2, 3, 10])
    mean = 4.0
    sd = math.sqrt(mean * (mean + 1))
    ph = res.phases[0]
    assert ph.centre == 2.5  # the median is drawn ...
    assert ph.upper == pytest.approx(mean + 3 * sd)  # ... the limits come from the mean
    assert ph.lower == 0.0
    assert all(p.centre == 2.5 for p in res.points)
    assert (ph.n_useful, ph.longest_run, ph.crossings) == (4, 2, 1)  # runs about the median


def test_g_chart_signals_long_gap_as_improvement():
    res = spc.g_chart([5, 8, 3, 6, 9, 4, 7, 5, 200], improvement="increase")
    last = res.points[-1]
    assert last.special_cause and last.rule == "outside_limits"
    assert last.point_type == "special_cause_improvement"
    assert res.variation_icon == "improvement_high"
    assert res.special_cause_count == 1


def test_g_chart_zeros_allowed_and_all_zero():
    res = spc.g_chart([0] * 8)
    assert res.phases[0].centre == 0 and res.phases[0].upper == 0 and res.phases[0].lower == 0
    assert res.special_cause_count == 0 and res.phases[0].n_useful == 0


def test_t_chart_lines_by_hand():
    y = [3.0, 10, 1, 25, 7, 1, 40, 12]
    z = [v ** (1 / 3.6) for v in y]
    cl = sum(z) / len(z)
    mr = [abs(b - a) for a, b in zip(z, z[1:], strict=False)]
    amr = sum(mr) / len(mr)
    mr = [m for m in mr if m < 3.267 * amr]
    sigma = sum(mr) / len(mr) / 1.128
    res = spc.t_chart(y)
    ph = res.phases[0]
    assert ph.centre == pytest.approx(cl**3.6)
    assert ph.upper == pytest.approx((cl + 3 * sigma) ** 3.6)
    lo = cl - 3 * sigma
    assert ph.lower == pytest.approx(lo**3.6 if lo > 0 else 0.0)
    assert [p.value for p in res.points] == y  # the input is reported, not the round trip


def test_t_chart_screening_changes_limits():
    y = [5, 7, 4, 6, 8, 5, 6, 3000, 5, 7, 6, 4]
    screened = spc.t_chart(y).phases[0].upper
    unscreened = spc.t_chart(y, screen_mr=False).phases[0].upper
    assert screened < unscreened


def test_t_chart_positive_lower_limit_and_short_gap_signal():
    y = [30, 31, 29, 30, 32, 28, 30, 31, 29, 30, 0.5]
    res = spc.t_chart(y, improvement="increase")
    assert res.phases[0].lower > 0
    assert res.points[-1].point_type == "special_cause_concern"
    assert res.variation_icon == "concern_low"


def test_t_chart_one_point_has_no_upper_limit():
    res = spc.t_chart([7])
    assert res.points[0].upper is None and res.points[0].lower == 0.0
    assert res.variation_icon == "common_cause"


def test_freeze_ignored_with_parts():
    a = spc.g_chart(GAPS, parts_at=[10], freeze=5).to_dict()
    b = spc.g_chart(GAPS, parts_at=[10]).to_dict()
    assert a == b
    frozen = spc.t_chart(GAPS, freeze=5)
    assert frozen.phases[0].centre != spc.t_chart(GAPS).phases[0].centre


def test_missing_values_keep_the_lines():
    res = spc.g_chart([4, None, 9, math.nan, 2, 7])
    assert [p.value for p in res.points][1] is None
    assert res.points[1].centre == res.points[0].centre
    assert res.points[1].upper == res.points[0].upper


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: spc.g_chart([3, -1, 4]), "counts must not be negative"),
        (lambda: spc.t_chart([3, -1, 4]), "greater than zero"),
        (lambda: spc.t_chart([3, 0, 4]), "greater than zero"),
        (lambda: spc.g_chart([]), "at least one point"),
        (lambda: spc.t_chart([]), "at least one point"),
        (lambda: spc.g_chart([1, 2, math.inf]), "infinite"),
        (lambda: spc.g_chart([1, "x"]), "not a number"),
        (lambda: spc.t_chart([1, 2], parts_at=[5]), "outside the series"),
        (lambda: spc.t_chart([1, 2], freeze=0), "at least 1"),
        (lambda: spc.g_chart([1, 2], improvement="up"), "improvement"),
        (lambda: spc.g_chart([1, 2], target="5"), "target"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_assurance_with_target():
    res = spc.t_chart([30, 31, 29, 30, 32, 28, 30, 31, 29, 30], improvement="increase", target=1)
    assert res.assurance == "consistent_pass"  # target below the (positive) lower limit
    res = spc.g_chart(GAPS, improvement="increase", target=1000)
    assert res.assurance == "consistent_fail"


def test_days_between_events():
    dates = [D(2025, 3, 1), D(2025, 1, 1), dt.datetime(2025, 1, 11, 14, 5), D(2025, 3, 1)]
    assert spc.days_between_events(dates) == [10, 49, 0]
    assert spc.days_between_events([D(2025, 1, 1)]) == []
    with pytest.raises(ValueError, match="not a date"):
        spc.days_between_events(["2025-01-01"])


# ---- describe() on rare-event charts ----------------------------------------------


def test_describe_common_cause_speaks_of_gaps():
    text = describe(spc.t_chart(GAPS), unit="days")
    assert text.startswith("Common cause variation: the latest gap (25 days) is within")


def test_describe_long_gap_with_event_dates():
    gaps = [5, 8, 3, 6, 9, 4, 7, 5, 200]
    labels = [D(2025, 1, 1) + dt.timedelta(days=sum(gaps[: i + 1])) for i in range(len(gaps))]
    text = describe(spc.g_chart(gaps, improvement="increase"), labels=labels, unit="patients")
    assert text.startswith(
        "Special cause improvement: the latest gap (200 patients, 5 September 2025) "
        "is above the upper process limit ("
    )


def test_describe_runs_signal_about_the_median_on_g_charts():
    y = [3, 4, 3, 4, 3, 4, 3, 4, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7]
    assert describe(spc.g_chart(y)) == (
        "Non-random variation: a run of 8 points on one side of the median (more than 7 is "
        "unusual) and only 1 crossing of the median (fewer than 3 is unusual)."
    )
    assert describe(spc.t_chart(y)) == (
        "Non-random variation: a run of 10 points on one side of the centre line (more than 7 "
        "is unusual) and only 1 crossing of the centre line (fewer than 5 is unusual)."
    )


# ---- the rare-event sentence ----------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "today", "kwargs", "want"),
    [
        (
            [D(2025, 1, 1), D(2025, 3, 3), D(2025, 1, 20)],
            D(2025, 4, 6),
            {},
            "34 days since the last fall with harm; the longest gap was 42 days.",
        ),
        (
            [D(2025, 1, 1), D(2025, 3, 3)],
            D(2025, 6, 6),
            {},
            "95 days since the last fall with harm, the longest gap so far "
            "(the longest before was 61 days).",
        ),
        (
            [D(2025, 1, 1), D(2025, 1, 11)],
            D(2025, 1, 21),
            {},
            "10 days since the last fall with harm, as long as the longest gap so far.",
        ),
        (
            [D(2025, 1, 1), D(2025, 3, 3), D(2025, 3, 3)],
            D(2025, 3, 3),
            {},
            "The last fall with harm was today (2 on that day); the longest gap was 61 days.",
        ),
        (
            [D(2025, 3, 3), dt.datetime(2025, 3, 3, 23, 59)],
            D(2025, 3, 4),
            {},
            "1 day since the last fall with harm (2 on that day).",
        ),
        ([D(2025, 3, 3)], D(2025, 3, 15), {}, "12 days since the only fall with harm recorded."),
        ([D(2025, 3, 3)], D(2025, 3, 3), {}, "The only fall with harm recorded was today."),
        ([], D(2025, 3, 4), {}, "No fall with harm recorded yet."),
        (
            [],
            D(2025, 4, 1),
            {"since": D(2024, 4, 1)},
            "No fall with harm recorded since 1 April 2024 (365 days).",
        ),
        (
            [D(2025, 1, 1), D(2025, 3, 3)],
            D(2025, 6, 6),
            {"upper_limit": 80.5},
            "95 days since the last fall with harm, the longest gap so far (the longest "
            "before was 61 days); it is already longer than the upper process limit "
            "(80.5 days).",
        ),
        (
            [D(2025, 1, 1), D(2025, 3, 3)],
            D(2025, 3, 4),
            {"upper_limit": 80.5},
            "1 day since the last fall with harm; the longest gap was 61 days.",
        ),
    ],
)
def test_rare_event_summary(dates, today, kwargs, want):
    assert rare_event_summary(dates, today, noun="fall with harm", **kwargs) == want


def test_rare_event_summary_does_not_change_its_input():
    dates = [D(2025, 3, 3), D(2025, 1, 1)]
    rare_event_summary(dates, D(2025, 4, 1))
    assert dates == [D(2025, 3, 3), D(2025, 1, 1)]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([D(2025, 5, 1)], D(2025, 4, 1)), {}, "after today"),
        ((["2025-01-01"], D(2025, 4, 1)), {}, "not a date"),
        (([D(2025, 1, 1)], "2025-04-01"), {}, "today must be a date"),
        (([], D(2025, 4, 1)), {"since": D(2025, 5, 1)}, "since must not be after today"),
        (([D(2024, 1, 1)], D(2025, 4, 1)), {"since": D(2025, 1, 1)}, "before the date"),
    ],
)
def test_rare_event_summary_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rare_event_summary(*args, **kwargs)


def test_gap_summary_other_units():
    assert (
        gap_summary([12, 40, 7], 25, noun="surgical site infection", unit="operation")
        == "25 operations since the last surgical site infection; the longest gap was "
        "40 operations."
    )
    assert (
        gap_summary([], 1, noun="never event", unit="patient")
        == "1 patient since the only never event recorded."
    )
    assert gap_summary([3, None, math.nan], 2, unit="bed day", units="bed days").endswith(
        "the longest gap was 3 bed days."
    )
    with pytest.raises(ValueError, match="current"):
        gap_summary([1], -1)
    with pytest.raises(ValueError, match="negative"):
        gap_summary([-1], 1)


def test_reading_exports():
    assert reading.RARE_CHARTS == ("g", "t")
    assert {"g_chart", "t_chart", "days_between_events"} <= set(spc.__all__)
