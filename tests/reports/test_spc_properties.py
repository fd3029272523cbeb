"""Property tests (hypothesis) for the SPC engine's invariants."""

import json
import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reports import spc

ints = st.integers(min_value=-50, max_value=50)
maybe_ints = st.one_of(st.none(), ints)
series = st.lists(ints, min_size=1, max_size=40)
gappy = st.lists(maybe_ints, min_size=1, max_size=40)
floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


def _phases(draw, n):
    return sorted(draw(st.sets(st.integers(min_value=0, max_value=max(n - 1, 0)), max_size=3)))


@st.composite
def xmr_cases(draw):
    values = draw(st.lists(st.one_of(st.none(), floats), min_size=1, max_size=45))
    n = len(values)
    return {
        "values": values,
        "rebase_at": _phases(draw, n),
        "fix_after": draw(st.one_of(st.none(), st.integers(min_value=12, max_value=20))),
        "screen_outliers": draw(st.booleans()),
        "improvement": draw(st.sampled_from(["increase", "decrease", "neutral"])),
        "target": draw(st.one_of(st.none(), floats)),
    }


def _ordered(lo, mid, hi):
    if lo is not None and mid is not None:
        assert lo <= mid + 1e-9 * (1 + abs(mid))
    if hi is not None and mid is not None:
        assert mid <= hi + 1e-9 * (1 + abs(mid))


@settings(max_examples=150, deadline=None)
@given(xmr_cases())
def test_xmr_invariants(case):
    res = spc.xmr(**case)
    assert len(res.points) == len(case["values"])
    assert sum(ph.n for ph in res.phases) == len(case["values"])
    for p in res.points:
        _ordered(p.lower, p.centre, p.upper)
        _ordered(p.lower_near, p.centre, p.upper_near)
        assert p.special_cause == (p.rule is not None)
        assert (p.point_type == "common_cause") == (not p.special_cause)
        if p.value is None:
            assert not p.special_cause
    json.dumps(res.to_dict(), allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(xmr_cases(), min_size=1, max_size=6), st.data())
def test_xmr_batch_equals_xmr(cases, data):
    n = data.draw(st.integers(min_value=1, max_value=40))
    opts = {k: v for k, v in cases[0].items() if k != "values"}
    opts["rebase_at"] = [p for p in opts["rebase_at"] if p < n]
    rows = [
        data.draw(st.lists(st.one_of(st.none(), floats), min_size=n, max_size=n)) for _ in cases
    ]
    batch = spc.xmr_batch(rows, **opts)
    matrix = spc.xmr_batch(
        np.array([[np.nan if v is None else v for v in r] for r in rows]), **opts
    )
    for row, b, m in zip(rows, batch, matrix, strict=True):
        single = spc.xmr(row, **opts).to_dict()
        assert b.to_dict() == single
        assert m.to_dict() == single


def _near_tie(res):
    lines = []
    for p in res.points:
        for v in (p.centre, p.lower, p.upper, p.lower_near, p.upper_near):
            if v is not None and p.value is not None:
                lines.append(abs(p.value - v))
    return any(d < 1e-6 for d in lines if d != 0)


@settings(max_examples=150, deadline=None)
@given(gappy, st.integers(min_value=-1000, max_value=1000))
def test_xmr_shift_by_constant(values, k):
    res = spc.xmr(values)
    moved = spc.xmr([None if v is None else v + k for v in values])
    assume(not _near_tie(res) and not _near_tie(moved))
    for a, b in zip(res.points, moved.points, strict=True):
        for attr in ("centre", "lower", "upper"):
            x, y = getattr(a, attr), getattr(b, attr)
            assert (x is None) == (y is None)
            if x is not None:
                assert math.isclose(x + k, y, rel_tol=1e-9, abs_tol=1e-9)
        assert (a.rule, a.point_type) == (b.rule, b.point_type)
    assert res.variation_icon == moved.variation_icon


@settings(max_examples=100, deadline=None)
@given(gappy, st.data())
def test_run_chart_invariants(values, data):
    parts = _phases(data.draw, len(values))
    res = spc.run_chart(values, parts_at=parts)
    assert len(res.points) == len(values)
    for ph in res.phases:
        assert 0 <= ph.n_useful <= ph.n
        if ph.n_useful:
            assert 1 <= ph.longest_run <= ph.n_useful
            assert 0 <= ph.crossings <= ph.n_useful - 1
            assert ph.runs_signal == (
                ph.longest_run > ph.longest_run_max or ph.crossings < ph.crossings_min
            )
        else:
            assert ph.longest_run is None and ph.runs_signal is False
    json.dumps(res.to_dict(), allow_nan=False)


@st.composite
def p_cases(draw):
    n = draw(st.integers(min_value=1, max_value=30))
    den = draw(st.lists(st.integers(min_value=1, max_value=500), min_size=n, max_size=n))
    num = [draw(st.one_of(st.none(), st.integers(min_value=0, max_value=d))) for d in den]
    return num, den, _phases(draw, n), draw(st.booleans())


@settings(max_examples=100, deadline=None)
@given(p_cases())
def test_p_chart_invariants(case):
    num, den, parts, laney = case
    res = spc.p_chart(num, den, parts_at=parts, laney=laney)
    assert len(res.points) == len(num)
    for p in res.points:
        if p.value is None:
            assert p.lower is None and p.upper is None and not p.special_cause
        if p.lower is not None:
            assert 0 <= p.lower and p.upper <= 1
            _ordered(p.lower, p.centre, p.upper)
        assert p.rule in (None, "outside_limits")
    json.dumps(res.to_dict(), allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=80)), min_size=1, max_size=30)
)
def test_c_and_u_chart_invariants(counts):
    for res in (spc.c_chart(counts), spc.u_chart(counts, [2.0] * len(counts), laney=True)):
        for p in res.points:
            if p.lower is not None:
                assert p.lower >= 0
                _ordered(p.lower, p.centre, p.upper)
        json.dumps(res.to_dict(), allow_nan=False)


small = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


@st.composite
def rule_heavy(draw):
    """Series built from flat, rising, falling and noisy segments: every rule fires."""
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["flat", "up", "down", "noise"]))
        k = draw(st.integers(min_value=1, max_value=10))
        start = draw(st.integers(min_value=-5, max_value=15))
        if kind == "flat":
            out += [start] * k
        elif kind == "up":
            out += list(range(start, start + k))
        elif kind == "down":
            out += list(range(start, start - k, -1))
        else:
            out += draw(st.lists(small, min_size=k, max_size=k))
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(rule_heavy(), min_size=1, max_size=4),
    st.sampled_from(["increase", "decrease", "neutral"]),
    st.booleans(),
    st.data(),
)
def test_batch_matches_single_on_rule_heavy_series(rows, improvement, screen, data):
    n = min(len(r) for r in rows)
    rows = [r[:n] for r in rows]
    rebase = _phases(data.draw, n)
    opts = {"improvement": improvement, "screen_outliers": screen, "rebase_at": rebase, "target": 3}
    for row, b in zip(rows, spc.xmr_batch(rows, **opts), strict=True):
        assert b.to_dict() == spc.xmr(row, **opts).to_dict()


def test_batch_matches_single_on_many_random_series():
    rng = np.random.default_rng(7)
    y = np.round(rng.normal(10, 2, size=(400, 36)) + np.linspace(0, 3, 36), 0)
    y[:100, 10:18] = 8 + np.arange(8) * 0.7  # some strictly rising stretches
    y[rng.random(y.shape) < 0.03] = np.nan
    batch = spc.xmr_batch(y, target=11)
    seen = set()
    for row, b in zip(y, batch, strict=True):
        single = spc.xmr(row, target=11)
        assert b.to_dict() == single.to_dict()
        seen |= {p.rule for p in single.points}
    assert seen == {None, "outside_limits", "trend", "two_in_three", "shift"}
