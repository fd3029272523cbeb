"""Property tests (hypothesis) for the funnel-plot engine's invariants."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reports.funnel import LIMIT_NAMES, funnel, r_round

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = st.sampled_from([("PR", "SHMI"), ("SR", "SHMI"), ("SR", "CQC"), ("RC", "SHMI")])


@st.composite
def funnel_data(draw, min_groups=3, max_groups=25):
    """Aggregated counts that every data type accepts (integers, so sums are exact)."""
    data_type, sr_method = draw(TYPES)
    m = draw(st.integers(min_value=min_groups, max_value=max_groups))
    den = draw(st.lists(st.integers(1, 5000), min_size=m, max_size=m))
    if data_type == "PR":
        num = [draw(st.integers(0, d)) for d in den]
    else:
        num = [draw(st.integers(1 if sr_method == "SHMI" else 0, 2 * d + 5)) for d in den]
    assume(num != den)
    options = {
        "data_type": data_type,
        "sr_method": sr_method,
        "trim_by": draw(st.sampled_from([0.05, 0.1, 0.2])),
        "multiplier": draw(st.sampled_from([1, 100])),
    }
    return num, den, options


def _pr_regular(res):
    """False for PR funnels where the package's clean-up of its arcsine limits leaves them
    not monotonic or not nested (the fixtures pr_extreme_overdispersion*, pr_all_zero and
    pr_small_n check that we copy it): a lower limit whose angle passes -pi/2 or an upper
    one past pi at the smallest n, or a lower angle still below 0 at the grid's last row,
    which the package leaves out of the clean-up (so it stays sin^2 > 0)."""
    if res.data_type != "PR":
        return True
    a = math.asin(math.sqrt(res.target))
    widest = 3.090232 * math.sqrt(1 / (4 * min(res.grid)) + res.tau2)
    at_last = 3.090232 * math.sqrt(1 / (4 * max(res.grid)) + res.tau2)
    return a - widest > -math.pi / 2 and a + widest < math.pi and a - at_last >= 0


def _safe(num, den, groups=None, **options):
    try:
        return funnel(num, den, groups, **options)
    except ValueError:
        assume(False)
        raise


@SETTINGS
@given(funnel_data(), st.booleans())
def test_limits_widen_as_n_falls(data, adjusted):
    num, den, options = data
    res = _safe(num, den, adjusted=adjusted, unadjusted=True, **options)
    assume(_pr_regular(res))
    ns = res.grid
    arrays = res.limit_arrays(ns)
    tol = 1e-12 * options["multiplier"]
    for name in LIMIT_NAMES:
        step = np.diff(arrays[name])
        if "lcl" in name:  # lower limits rise towards the centre as n grows
            assert np.all(step >= -tol), name
        else:
            assert np.all(step <= tol), name


@SETTINGS
@given(funnel_data())
def test_adjusted_limits_contain_unadjusted(data):
    num, den, options = data
    res = _safe(num, den, adjusted=True, unadjusted=True, **options)
    assume(res.tau2 > 0)
    assume(_pr_regular(res))
    plain = _safe(num, den, adjusted=False, unadjusted=True, **options)  # od_* with tau2 = 0
    ns = res.grid  # the same grid as plain's (same denominators)
    wide, narrow = res.limit_arrays(ns), plain.limit_arrays(ns)
    tol = 1e-12 * options["multiplier"]
    for level, z in (("95", 1.959964), ("998", 3.090232)):
        lower = upper = np.ones(len(ns), dtype=bool)
        if options["data_type"] == "PR":
            # Only where the arcsine angles stay in [0, pi/2]: near 0 and pi/2 the package's
            # clean-up keeps a limit that has turned back if it is still below its neighbour.
            a = math.asin(math.sqrt(res.target))
            spread = z * np.sqrt(1 / (4 * ns) + res.tau2)
            lower, upper = a - spread >= 0, a + spread <= math.pi / 2
        lo, hi = f"od_lcl{level}", f"od_ucl{level}"
        assert np.all(wide[lo][lower] <= narrow[lo][lower] + tol)
        assert np.all(wide[hi][upper] >= narrow[hi][upper] - tol)
        if options["data_type"] != "SR":  # SR's plain limits are exact Poisson, not normal
            assert np.all(wide[lo][lower] <= wide[f"lcl{level}"][lower] + tol)
            assert np.all(wide[hi][upper] >= wide[f"ucl{level}"][upper] - tol)


@SETTINGS
@given(funnel_data(), st.booleans(), st.booleans())
def test_outlier_flags_agree_with_limits_and_ratio(data, adjusted, unadjusted):
    num, den, options = data
    res = _safe(num, den, adjusted=adjusted, unadjusted=unadjusted, **options)
    prefix = "od_" if res.adjusted else ""
    for unit in res.units:
        assert unit.ratio == pytest.approx(unit.numerator / unit.denominator * res.multiplier)
        for level, flag in (("95", unit.outlier95), ("998", unit.outlier998)):
            lo = getattr(unit, f"{prefix}lcl{level}")
            hi = getattr(unit, f"{prefix}ucl{level}")
            expected = (res.adjusted or res.unadjusted) and not (lo <= unit.ratio <= hi)
            assert flag == expected
        # 99.8% limits lie outside the 95% ones, so a 99.8% outlier is a 95% outlier.
        if unit.outlier998 and _pr_regular(res):
            assert unit.outlier95
    assert res.limits_at(res.units[0].denominator) == res.units[0].limits


@SETTINGS
@given(funnel_data(max_groups=12), st.randoms(use_true_random=False), st.booleans())
def test_results_do_not_depend_on_row_order(data, rnd, split):
    num, den, options = data
    groups = [f"G{i:02d}" for i in range(len(num))]
    rows = list(zip(num, den, groups, strict=True))
    if split:  # record-level: split each group into two rows
        rows = [r for n, d, g in rows for r in ((n // 2, d // 2, g), (n - n // 2, d - d // 2, g))]
    first = _safe(*map(list, zip(*rows, strict=True)), **options)
    rnd.shuffle(rows)
    second = funnel(*map(list, zip(*rows, strict=True)), **options)
    assert first.to_dict() == second.to_dict()


def test_groups_none_names_rows_in_order():
    res = funnel([1, 2, 3, 4] * 3, [10, 20, 30, 40] * 3, unadjusted=True)
    assert [u.group for u in res.units] == [str(i) for i in range(1, 13)]
    ints = funnel([1, 2, 3], [10, 20, 30], [10, 2, 1])
    assert [u.group for u in ints.units] == ["1", "2", "10"]
    strs = funnel([1, 2, 3], [10, 20, 30], ["10", "2", "1"])
    assert [u.group for u in strs.units] == ["1", "10", "2"]


@pytest.mark.parametrize(
    ("num", "den", "kwargs", "group"),
    [
        ([5, 12, 3, 8], [10, 10, 10, 10], {}, "B"),  # PR numerator above denominator
        ([1, 2, -3, 8], [10, 10, 10, 10], {}, "C"),  # negative count
        ([1, 2, 3, 8], [10, 10, -10, 10], {"data_type": "RC"}, "C"),
        ([1, 2, 3, 8], [10, 10, 10, math.nan], {}, "D"),
    ],
)
def test_value_errors_name_the_group(num, den, kwargs, group):
    groups = list("ABCDE")[: len(num)]
    with pytest.raises(ValueError, match=f"'{group}'"):
        funnel(num, den, groups, **kwargs)


@pytest.mark.parametrize(
    ("num", "den", "kwargs", "group"),
    [
        ([2, 0, 3, 8], [10, 0, 10, 10], {}, "B"),  # zero denominator (0 of 0)
        ([1, 2, 3, 8], [10, 10, 10, 0.004], {"data_type": "SR"}, "D"),  # rounds to 0.00
        ([1, 2, 3, 8], [0, 10, 10, 10], {"data_type": "SR", "sr_method": "CQC"}, "A"),
        ([0, 2, 3, 8], [0, 10, 10, 10], {"data_type": "RC"}, "A"),
    ],
)
def test_a_zero_denominator_is_answered_and_left_out_of_phi(num, den, kwargs, group):
    """FunnelPlotR answers a zero denominator (issue 20 item 7): the group's z is NaN (RC:
    from its numerator) and it is never an outlier; the rest read as if it were absent from
    the over-dispersion estimate."""
    groups = list("ABCD")
    res = funnel(num, den, groups, **kwargs)
    unit = next(u for u in res.units if u.group == group)
    assert not (unit.outlier95 or unit.outlier998)
    if kwargs.get("data_type") != "RC":
        assert math.isnan(unit.z)
        rest = [i for i, g in enumerate(groups) if g != group]
        alone = funnel([num[i] for i in rest], [den[i] for i in rest],
                       [groups[i] for i in rest], **kwargs)
        assert res.phi == pytest.approx(alone.phi, rel=1e-12)
        assert res.tau2 == pytest.approx(alone.tau2, rel=1e-12)


def test_other_value_errors():
    with pytest.raises(ValueError, match="at least 3 groups.*'A', 'B'"):
        funnel([1, 2, 3], [10, 10, 10], ["A", "B", "A"])
    with pytest.raises(ValueError, match="same"):
        funnel([1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="no group is left"):
        funnel([40, 50, 60, 70], [50, 50, 50, 50], data_type="SR", trim_by=0.5)
    with pytest.raises(ValueError, match="pair up"):
        funnel([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="data_type"):
        funnel([1, 2, 3], [4, 5, 6], data_type="XX")
    with pytest.raises(ValueError, match="trim_by"):
        funnel([1, 2, 3], [4, 5, 6], trim_by=0.7)
    with pytest.raises(ValueError, match="multiplier"):
        funnel([1, 2, 3], [4, 5, 6], multiplier=0)


def test_r_round_is_not_pythons_round():
    assert r_round(0.285, 2) == 0.28 and round(0.285, 2) == 0.28
    assert r_round(2.675, 2) == 2.67
    assert r_round(10.125, 2) == 10.12  # the tie goes to the even neighbour
    assert r_round(0.135, 2) == 0.14 and round(0.135, 2) == 0.14
    assert r_round(1.005, 2) == 1.0 and r_round(-2.675, 2) == -2.67


def test_fallback_is_reported():
    res = funnel([20, 21, 19, 20, 22, 18], [100] * 6)
    assert (res.adjusted, res.unadjusted) == (False, True)
    assert res.messages == (
        "No overdispersion detected, or draw_adjusted set to FALSE, plotting using unadjusted "
        "limits",
    )
    assert not any(
        math.isnan(v) for v in res.to_dict()["units"][0].values() if isinstance(v, float)
    )


def test_imports_without_django():
    code = (
        "import sys; sys.modules['django'] = None; sys.modules['plotly'] = None\n"
        "from reports.funnel import funnel\n"
        "print(funnel([1, 2, 3], [10, 20, 30]).centre)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == pytest.approx(0.1)
