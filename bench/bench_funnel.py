"""Benchmark the funnel-plot engine (reports.funnel).

Each call takes 10,000 record-level rows (patients) in 200 trusts and computes the whole
FunnelPlotR analysis: group sums, z-scores, truncation or winsorising, phi, tau2, the
package's limit grid (1,000 points plus the trusts' denominators) and both sets of limits
at every trust, and the outlier flags. The same run times a numpy baseline doing the least
a funnel needs: a group sum (``np.bincount``) and normal-approximation proportion limits at
each trust's denominator.

    python bench/bench_funnel.py             # 200 calls of each kind
    python bench/bench_funnel.py --calls 20  # quick check
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from reports.funnel import funnel  # noqa: E402

TRUSTS = 200
ROWS = 10_000


def make_rows(seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Patients in trusts: died (0/1) and a predicted risk, trusts over-dispersed."""
    rng = np.random.default_rng(seed)
    trust = rng.integers(0, TRUSTS, ROWS)
    effect = np.exp(rng.normal(0, 0.15, TRUSTS))
    risk = 1 / (1 + np.exp(-rng.normal(-2.2, 0.9, ROWS)))
    died = (rng.random(ROWS) < np.minimum(1, risk * effect[trust])).astype(float)
    names = [f"R{t:03d}" for t in trust]
    return died, risk, names


def baseline(died: np.ndarray, codes: np.ndarray) -> np.ndarray:
    o = np.bincount(codes, weights=died, minlength=TRUSTS)
    n = np.bincount(codes, minlength=TRUSTS).astype(float)
    p = o.sum() / n.sum()
    se = np.sqrt(p * (1 - p) / n)
    return np.stack((p - 3.090232 * se, p + 3.090232 * se, o / n))


def timed(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    died, risk, names = make_rows(20261127)
    codes = np.array([int(g[1:]) for g in names])
    ones = np.ones(ROWS)

    cases = {
        "numpy baseline (bincount + PR limits)": lambda: baseline(died, codes),
        "funnel PR (adjusted)": lambda: funnel(died, ones, names, data_type="PR"),
        "funnel PR (adjusted + unadjusted)": lambda: funnel(
            died, ones, names, data_type="PR", unadjusted=True
        ),
        "funnel SR SHMI (adjusted + exact Poisson)": lambda: funnel(
            died, risk, names, data_type="SR", unadjusted=True
        ),
        "funnel SR CQC": lambda: funnel(died, risk, names, data_type="SR", sr_method="CQC"),
        "funnel RC": lambda: funnel(died + 1, ones * 2, names, data_type="RC"),
        "funnel PR, codes as ints": lambda: funnel(died, ones, codes, data_type="PR"),
    }
    for fn in cases.values():  # warm up
        fn()
    base = None
    print(f"{TRUSTS} trusts, {ROWS:,} rows per call, {args.calls} calls each")
    print(f"{'case':45s} {'per call':>10s} {'x baseline':>11s}")
    for name, fn in cases.items():
        per = timed(fn, args.calls)
        base = base or per
        print(f"{name:45s} {per * 1e3:8.2f} ms {per / base:11.0f}")


if __name__ == "__main__":
    main()
