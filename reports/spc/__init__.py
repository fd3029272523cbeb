"""Statistical process control engine (pure Python + numpy, no Django).

XmR charts follow NHSRplotthedots 0.2.2 ("Making Data Count"); run, P, U, C,
G and T charts follow qicharts2 0.8.1 (Anhøj rules).

    from reports import spc
    result = spc.xmr([12, 15, 11, ...], improvement="decrease", target=10)
    result.variation_icon, result.assurance, result.points[0].upper

Entry points: ``xmr`` (default improvement "increase", as NHSRplotthedots),
``xmr_batch`` and ``qic_batch`` (many series at once, identical results), ``run_chart``,
``p_chart``, ``u_chart`` and ``c_chart``, and for rare events ``g_chart``
(opportunities between events) and ``t_chart`` (time between events, e.g.
from ``days_between_events``); these
default to improvement "neutral", since qicharts2 has no direction. Laney P′/U′
and the T chart screen their moving ranges by default, as qicharts2 does once
attached (``screen_mr=False`` for the unattached ``qicharts2::qic``
behaviour). See ``reading.describe`` for a plain-English reading,
``reading.rare_event_summary`` for "34 days since the last fall with harm",
``icons`` for SVG icons; Plotly figures are built in ``measures.charts``.
"""

from .attribute import c_chart, p_chart, qic_batch, run_chart, u_chart
from .rare import days_between_events, g_chart, t_chart
from .result import POINT_TYPES, RULES, Phase, Point, SPCResult
from .runs import qbinom_05, runs_analysis
from .xmr import xmr, xmr_batch

__all__ = [
    "POINT_TYPES",
    "RULES",
    "Phase",
    "Point",
    "SPCResult",
    "c_chart",
    "days_between_events",
    "g_chart",
    "p_chart",
    "qbinom_05",
    "qic_batch",
    "run_chart",
    "runs_analysis",
    "t_chart",
    "u_chart",
    "xmr",
    "xmr_batch",
]
