"""reports.funnel against FunnelPlotR 0.6.0 run in R (fixtures in tests/reports/reference/)."""

import json
import math
from pathlib import Path

import pytest

from reports.funnel import LIMIT_NAMES, funnel, r_round

REFERENCE = Path(__file__).parent / "reference"
FILES = sorted(REFERENCE.glob("funnel_funnelplotr*.json"))
FIXTURES = {path.name: json.loads(path.read_text()) for path in FILES}
REL = 1e-9
UNIT_FLOATS = ("numerator", "denominator", "ratio", "z", *LIMIT_NAMES)


def num(x):
    """A fixture number: %.17g, or the strings "Infinity"/"-Infinity"."""
    if isinstance(x, str):
        return {"Infinity": math.inf, "-Infinity": -math.inf}[x]
    return float(x)


def close(a, b):
    if math.isinf(b) or math.isinf(a):
        return a == b
    return a == pytest.approx(b, rel=REL, abs=1e-300)


def r_message(m):
    """FunnelPlotR's message with its line break and indentation collapsed."""
    return " ".join(m.split()).replace(" ,", ",")


def call(inp):
    return funnel(
        [num(x) for x in inp["numerators"]],
        [num(x) for x in inp["denominators"]],
        inp["groups"],
        data_type=inp["data_type"],
        sr_method=inp["sr_method"],
        adjusted=inp["adjusted"],
        unadjusted=inp["unadjusted"],
        trim_by=inp["trim_by"],
        multiplier=inp["multiplier"],
        shmi_rounding=inp["shmi_rounding"],
    )


def params(key):
    return [
        pytest.param(case, id=f"{name}:{case['name']}")
        for name, data in FIXTURES.items()
        for case in data[key]
    ]


def test_fixtures_are_present():
    assert "funnel_funnelplotr.json" in FIXTURES
    assert sum(len(d["cases"]) for d in FIXTURES.values()) >= 80


@pytest.mark.parametrize("case", params("cases"))
def test_matches_funnelplotr(case):
    exp = case["expected"]
    res = call(case["input"])
    for key in ("target", "centre", "phi", "tau2"):
        assert close(getattr(res, key), num(exp[key])), key
    assert res.adjusted is exp["adjusted"]
    assert res.unadjusted is exp["unadjusted"]
    assert list(res.messages) == [r_message(m) for m in exp["messages"]]
    assert exp["warnings"] == []
    units = exp["units"]
    assert [u.group for u in res.units] == units["group"]
    for key in UNIT_FLOATS:
        for unit, want in zip(res.units, units[key], strict=True):
            assert close(getattr(unit, key), num(want)), (unit.group, key)
    assert [int(u.outlier95) for u in res.units] == units["outlier95"]
    assert [int(u.outlier998) for u in res.units] == units["outlier998"]
    # The package's limits_lookup table (a sample of its rows) from limits_at().
    lookup = exp["lookup"]
    rows = res.limits_at([num(n) for n in lookup["n"]])
    for key in LIMIT_NAMES:
        for n, row, want in zip(lookup["n"], rows, lookup[key], strict=True):
            assert close(getattr(row, key), num(want)), (n, key)


def _infinite_phi(case) -> bool:
    """R returned these (no stop): phi and tau2 Inf. The generator filed them as errors;
    the package answers them, so the port does too (issue 20 item 7)."""
    return case.get("r_phi") == "Infinity"


@pytest.mark.parametrize("case", [p for p in params("errors") if _infinite_phi(p.values[0])])
def test_an_infinite_z_kept_gives_the_packages_infinite_phi(case):
    res = call(case["input"])
    assert math.isinf(res.phi) and math.isinf(res.tau2)
    assert res.adjusted  # phi > 1: no fallback to the unadjusted limits
    for u in res.units:
        assert u.od_lcl95 == 0.0 and u.od_lcl998 == 0.0
        assert math.isinf(u.od_ucl95) or math.isnan(u.od_ucl95)
    assert not any(u.outlier95 or u.outlier998 for u in res.units)


def _zero_denominator(case) -> bool:
    """R answered these with a finite phi: a group's denominator (or SHMI-rounded expected
    count) is 0 and its NaN z is left out; the port answers them as R does."""
    inp = case["input"]
    return (isinstance(case.get("r_phi"), float) and min(inp["denominators"]) < 0.005
            and min(inp["numerators"]) >= 0)


@pytest.mark.parametrize("case", [p for p in params("errors") if _zero_denominator(p.values[0])])
def test_a_zero_denominator_is_answered_as_funnelplotr_does(case):
    res = call(case["input"])
    assert close(res.phi, case["r_phi"]) and close(res.tau2, case["r_tau2"])
    zero = [u for u in res.units if u.denominator == 0]
    others = [u for u in res.units if u.denominator > 0]
    assert zero and others
    for u in zero:
        if case["input"]["data_type"] != "RC":
            assert math.isnan(u.z)
        assert not (u.outlier95 or u.outlier998)
    for u in others:  # the rest keep finite limits and a reading
        assert all(math.isfinite(getattr(u, name)) for name in LIMIT_NAMES), u
    # The API/JSON form never carries NaN or Inf.
    assert json.loads(json.dumps(res.to_dict(), allow_nan=False))


@pytest.mark.parametrize("case", [p for p in params("errors")
                                  if not (_infinite_phi(p.values[0])
                                          or _zero_denominator(p.values[0]))])
def test_cases_funnelplotr_cannot_answer_raise(case):
    with pytest.raises(ValueError) as info:
        call(case["input"])
    groups = case["input"]["groups"]
    if groups and case["name"].startswith("bad_"):
        assert any(f"group {g!r}" in str(info.value) for g in groups), info.value


def test_r_round_matches_r():
    for data in FIXTURES.values():
        rounding = data.get("roundings") or {}
        for x, want in zip(rounding.get("x", []), rounding.get("r_round2", []), strict=True):
            assert r_round(num(x), 2) == num(want), x
