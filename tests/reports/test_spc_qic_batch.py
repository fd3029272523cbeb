"""`spc.qic_batch` (run, C, P and U charts many at once, as the national rebuild computes
them) gives exactly the one-by-one chart for every series, clean or not."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import spc

SINGLE = {"run": spc.run_chart, "c": spc.c_chart, "p": spc.p_chart, "u": spc.u_chart}


def _single(chart, row, den, **opts):
    if chart == "run":
        opts.pop("target", None)
    args = (row,) if den is None else (row, den)
    return SINGLE[chart](*args, **opts)


def _case(draw, chart, n, rows):
    """Rows of counts (and denominators), some with gaps, zeros and rule-breaking values."""
    nums, dens = [], []
    for _ in range(rows):
        den = [draw(st.one_of(st.just(0.0), st.floats(0.5, 400, allow_nan=False)),
                    label="den") if draw(st.booleans()) and draw(st.booleans()) else
               float(draw(st.integers(1, 300))) for _ in range(n)]
        num = []
        for d in den:
            kind = draw(st.integers(0, 19))
            if kind == 0:
                num.append(np.nan)
            elif chart == "p":
                num.append(float(draw(st.integers(0, max(int(d), 0)))))
            elif chart == "run":
                num.append(draw(st.floats(-50, 50, allow_nan=False)))
            else:
                num.append(float(draw(st.integers(0, 40))))
        nums.append(num)
        dens.append(den)
    return np.array(nums), (np.array(dens) if chart in ("p", "u") else None)


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(["run", "c", "p", "u"]), st.integers(1, 40), st.integers(1, 6),
       st.sampled_from(["increase", "decrease", "neutral"]),
       st.one_of(st.none(), st.floats(0, 40, allow_nan=False)), st.data())
def test_qic_batch_equals_one_by_one(chart, n, rows, improvement, target, data):
    y, den = _case(data.draw, chart, n, rows)
    parts = sorted(set(data.draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=2))))
    parts = [p for p in parts if p < n]
    opts = {"parts_at": parts, "improvement": improvement, "target": target}
    batch = spc.qic_batch(chart, y, den, errors="none", **opts)
    for i, got in enumerate(batch):
        try:
            want = _single(chart, y[i], None if den is None else den[i], **dict(opts))
        except ValueError:
            assert got is None
            continue
        assert got is not None
        assert got.to_dict() == want.to_dict()
        assert got.summary() == want.summary()


@pytest.mark.parametrize("chart", ["run", "c", "p", "u"])
def test_qic_batch_on_many_clean_series(chart):
    """Monthly series as the rebuild sees them (every value present): one pass, the same
    readings, special causes and runs signals included."""
    rng = np.random.default_rng(11)
    den = rng.integers(40, 400, size=(300, 50)).astype(float)
    if chart == "p":
        y = rng.binomial(den.astype(int), 0.3).astype(float)
        y[:60, 30:] = np.minimum(den[:60, 30:], np.round(den[:60, 30:] * 0.6))  # a shift
    elif chart == "u":
        den = den / 7.0  # bed days per 1,000, not whole numbers
        y = rng.poisson(den * 2).astype(float)
    else:
        y = rng.poisson(8, size=(300, 50)).astype(float)
        y[:60, 20:] += 9
    batch = spc.qic_batch(chart, y, den if chart in ("p", "u") else None, parts_at=[25],
                          improvement="increase", target=5)
    signals = set()
    for i, got in enumerate(batch):
        want = _single(chart, y[i], den[i] if chart in ("p", "u") else None, parts_at=[25],
                       improvement="increase", target=5)
        assert got.to_dict() == want.to_dict()
        signals |= {ph.runs_signal for ph in want.phases}
    assert signals == {True, False}


def test_qic_batch_raises_as_the_single_chart_would():
    y = np.array([[1.0, 2.0, 3.0], [5.0, 1.0, 2.0]])
    den = np.array([[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]])
    with pytest.raises(ValueError, match="larger than its denominator"):
        spc.qic_batch("p", y, den)
    assert spc.qic_batch("p", y, den, errors="none")[1] is None
    with pytest.raises(ValueError, match="chart must be one of"):
        spc.qic_batch("xmr", y)
