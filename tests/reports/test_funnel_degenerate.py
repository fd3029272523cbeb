"""Issue 20 item 7: degenerate funnels answer as FunnelPlotR 0.6.0 does instead of raising.

An infinite z kept by the over-dispersion step makes the package's phi_func and tau_func
return Inf (sum of an infinite square; max(0, Inf)); its adjusted limits are then
exp(+-z sqrt(1/N + Inf)) = 0 and Inf, so nobody is an outlier. For RC with every numerator
zero the target's log is -Inf and the upper limit is -Inf + Inf = NaN: the package's
outlier test is NA there, which flags nobody."""

import math

from reports.funnel import funnel


def test_tiny_shmi_case_with_a_zero_observed_count_kept_returns_infinite_phi():
    # 3 groups, trim_by 0.1: bands floor(rank x 10 / 4) = 2, 5, 7 keep every group, the
    # zero-observed one (z = -Inf) included.
    r = funnel([0, 3, 5], [1.2, 2.5, 4.0], ["a", "b", "c"], data_type="SR")
    assert math.isinf(r.phi) and math.isinf(r.tau2)
    assert r.adjusted  # phi > 1: the package keeps drawing adjusted limits
    for u in r.units:
        assert u.od_lcl95 == 0.0 and math.isinf(u.od_ucl95)
        assert u.od_lcl998 == 0.0 and math.isinf(u.od_ucl998)
        assert not u.outlier95 and not u.outlier998
    assert r.units[0].ratio == 0.0 and r.units[0].z == -math.inf
    d = r.to_dict()
    assert d["phi"] is None and d["tau2"] is None  # non-finite numbers are written as None


def test_rc_with_every_numerator_zero_flags_nobody():
    r = funnel([0, 0, 0], [10, 20, 30], ["a", "b", "c"], data_type="RC")
    assert math.isinf(r.phi)
    assert all(u.ratio == 0.0 for u in r.units)
    assert not any(u.outlier95 or u.outlier998 for u in r.units)


def test_unadjusted_limits_of_the_same_case_stay_finite():
    r = funnel([0, 3, 5], [1.2, 2.5, 4.0], ["a", "b", "c"], data_type="SR", adjusted=False,
               unadjusted=True)
    assert r.phi == 0.0 and r.tau2 == 0.0
    assert all(math.isfinite(u.ucl95) for u in r.units)


def test_all_groups_equal_fall_back_to_unadjusted_limits():
    r = funnel([10, 10, 10], [100, 100, 100], ["a", "b", "c"], data_type="PR")
    assert r.phi == 0.0 and not r.adjusted and r.unadjusted
    assert not any(u.outlier95 for u in r.units)
