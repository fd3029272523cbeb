"""Benchmark the SPC engine's XmR path.

Runs N series of 36 points (default 60,000) through ``spc.xmr`` one call per
series and through the batched ``spc.xmr_batch``, and compares both with a
numpy baseline that only computes each series' mean in the same run. Every
rule, the point types, the variation icon and the assurance icon are computed
in both paths.

    python bench/bench_spc.py            # full run (about a minute on 2 cores)
    python bench/bench_spc.py --n 2000   # quick check
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from reports import spc  # noqa: E402


def make_data(n: int, points: int, seed: int) -> np.ndarray:
    """Realistic-ish monthly series: level + drift + noise, occasional gaps and steps."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(50, 150, size=(n, 1))
    noise = rng.normal(0, 5, size=(n, points))
    drift = np.cumsum(rng.normal(0, 0.5, size=(n, points)), axis=1)
    step = (rng.random((n, 1)) < 0.2) * rng.normal(0, 15, size=(n, 1))
    y = level + noise + drift
    y[:, points // 2 :] += step
    gaps = rng.random((n, points)) < 0.01
    y[gaps] = np.nan
    return y


def best_of(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` runs of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60_000, help="number of series")
    ap.add_argument("--points", type=int, default=36, help="points per series")
    ap.add_argument("--seed", type=int, default=20250301)
    ap.add_argument("--repeat", type=int, default=3, help="repeats for the fast paths")
    ap.add_argument("--skip-single", action="store_true", help="skip the one-call-per-series run")
    args = ap.parse_args(argv)

    y = make_data(args.n, args.points, args.seed)
    rows = list(y)
    target = 100.0

    def baseline():
        return np.nanmean(y, axis=1)

    def batch():
        res = spc.xmr_batch(y, improvement="increase", target=target)
        return [(r.variation_icon, r.assurance) for r in res]

    t_base = best_of(baseline, args.repeat)
    t_batch = best_of(batch, args.repeat)
    t_single = None
    if not args.skip_single:
        t0 = time.perf_counter()
        single = [spc.xmr(r, improvement="increase", target=target) for r in rows]
        t_single = time.perf_counter() - t0
        icons = [(r.variation_icon, r.assurance) for r in single]
        assert icons == batch(), "xmr and xmr_batch disagree"
    # materialising every Point and to_dict() is extra work a caller may not need
    sample = spc.xmr_batch(y[: min(args.n, 5000)], target=target)
    t_dict = best_of(lambda: [r.to_dict() for r in sample], 1) / len(sample)

    n = args.n
    print(
        f"series: {n} x {args.points} points (numpy {np.__version__}, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    print(f"numpy baseline (means only): {t_base:.4f} s  = {t_base / n * 1e6:.3f} us/series")
    print(
        f"xmr_batch:                   {t_batch:.4f} s  = {t_batch / n * 1e3:.4f} ms/series  "
        f"(x{t_batch / t_base:.0f} baseline)"
    )
    if t_single is not None:
        print(
            f"xmr (one call per series):   {t_single:.4f} s  = "
            f"{t_single / n * 1e3:.4f} ms/series  (x{t_single / t_base:.0f} baseline)"
        )
    print(f"to_dict() per result (extra): {t_dict * 1e3:.4f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
