"""Compare the G and T charts with qicharts2 0.8.1 run in R.

``reference/qic_rare_qicharts2.json`` was written by
``reference/generators/gen_qic_rare.R`` (see the README there). Every case is
checked point for point like the other qicharts2 charts: lines to a relative
tolerance of 1e-9, limit signals, parts and the runs analysis of each part
exactly; point types and the variation icon follow from the signals for every
improvement direction.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports import spc
from tests.reports.test_spc_reference import _check_series, _same

REF = Path(__file__).parent / "reference"
_DATA = json.loads((REF / "qic_rare_qicharts2.json").read_text(encoding="utf-8"))
# qicharts2 accepts negative gaps on a G chart; reports.spc refuses them (see test below)
NEGATIVE = [c for c in _DATA["cases"] if any(v is not None and v < 0 for v in c["input"]["y"])]
CASES = [c for c in _DATA["cases"] if c not in NEGATIVE]
R_ERRORS = _DATA["skipped"]
RUNS_KEYS = ("n_useful", "longest_run", "longest_run_max", "crossings", "crossings_min")


def _chart(case: dict, improvement: str = "neutral") -> spc.SPCResult:
    inp = case["input"]
    kwargs = {"parts_at": inp["parts_at"], "freeze": inp["freeze"], "improvement": improvement}
    if case["chart"] == "g":
        return spc.g_chart(inp["y"], **kwargs)
    return spc.t_chart(inp["y"], screen_mr=inp["screen_mr"], **kwargs)


def _expected_type(value, lower, upper, signal: bool, improvement: str) -> str:
    if not signal:
        return "common_cause"
    high = upper is not None and value > upper
    if improvement == "neutral":
        return "special_cause_neutral_high" if high else "special_cause_neutral_low"
    good = high == (improvement == "increase")
    return "special_cause_improvement" if good else "special_cause_concern"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rare_matches_qicharts2(case):
    res = _chart(case)
    exp = case["expected"]
    pts = res.points
    assert res.chart == case["chart"]
    _check_series("value", [p.value for p in pts], exp["y"])
    _check_series("centre", [p.centre for p in pts], exp["centre"])
    _check_series("lower", [p.lower for p in pts], exp["lower"])
    _check_series("upper", [p.upper for p in pts], exp["upper"])
    assert [p.phase for p in pts] == [g - 1 for g in exp["part"]]
    assert [p.special_cause for p in pts] == exp["sigma_signal"]
    assert [p.rule for p in pts] == ["outside_limits" if s else None for s in exp["sigma_signal"]]
    assert len(res.phases) == len(exp["parts"])
    for ph, want in zip(res.phases, exp["parts"], strict=True):
        assert (ph.start, ph.n) == (want["start"], want["n"])
        assert _same(ph.centre, exp["centre"][ph.start])
        assert _same(ph.lower, exp["lower"][ph.start])  # constant limits within a part
        assert _same(ph.upper, exp["upper"][ph.start])
        for key in RUNS_KEYS:
            assert getattr(ph, key) == want[key], f"part {want['part']} {key}"
        assert ph.runs_signal is want["runs_signal"]
    assert res.runs_signal is any(p["runs_signal"] for p in exp["parts"])


@pytest.mark.parametrize("improvement", ["increase", "decrease", "neutral"])
def test_rare_point_types_and_icons(improvement):
    """Point types and the icon follow from R's signals for each direction."""
    for case in CASES:
        res = _chart(case, improvement)
        exp = case["expected"]
        want = [
            _expected_type(y, lo, up, s, improvement)
            for y, lo, up, s in zip(
                exp["y"], exp["lower"], exp["upper"], exp["sigma_signal"], strict=True
            )
        ]
        assert [p.point_type for p in res.points] == want, case["name"]
        icon = {
            "common_cause": "common_cause",
            "special_cause_neutral_high": "neutral_high",
            "special_cause_neutral_low": "neutral_low",
            "special_cause_improvement": (
                "improvement_high" if improvement == "increase" else "improvement_low"
            ),
            "special_cause_concern": "concern_low" if improvement == "increase" else "concern_high",
        }[want[-1]]
        assert res.variation_icon == icon, case["name"]


@pytest.mark.parametrize("case", R_ERRORS, ids=[c["name"] for c in R_ERRORS])
def test_rare_where_r_errors(case):
    """qicharts2 stops on a T chart with a time of zero or less; so do we."""
    assert case["error"] == "Time between events must be greater than zero"
    inp = next(c for c in _inputs() if c["name"] == case["name"])
    with pytest.raises(ValueError, match="greater than zero"):
        spc.t_chart(inp["y"], parts_at=inp["parts_at"])


def _inputs() -> list[dict]:
    """The inputs of the cases R refused (the JSON keeps only their names and errors)."""
    return [
        {"name": "t_zero", "y": [3, 0, 4, 8, 2], "parts_at": []},
        {"name": "t_zero_in_second_part", "y": [3, 5, 4, 8, 2, 0, 6], "parts_at": [5]},
        {"name": "t_negative", "y": [3, -2, 4, 8, 2], "parts_at": []},
    ]


@pytest.mark.parametrize("case", NEGATIVE, ids=[c["name"] for c in NEGATIVE])
def test_g_negative_refused(case):
    """qicharts2 draws a G chart of negative gaps; a negative count of
    opportunities is a data error, so reports.spc refuses it."""
    with pytest.raises(ValueError, match="must not be negative"):
        spc.g_chart(case["input"]["y"])


def test_fixture_counts():
    charts = [c["chart"] for c in CASES]
    assert charts.count("g") >= 50 and charts.count("t") >= 50
    assert len(R_ERRORS) == 3 and len(NEGATIVE) == 1
    assert any(c["input"]["parts_at"] for c in CASES)
    assert any(c["input"]["freeze"] for c in CASES)
    assert any(not c["input"]["screen_mr"] for c in CASES)
