"""reports.funnel_chart: the Plotly funnel, its SVG twin and the plain-English reading."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports.funnel import funnel
from reports.funnel_chart import (
    COMMON,
    CONCERN,
    IMPROVEMENT,
    NEUTRAL,
    describe,
    funnel_figure,
    funnel_svg,
    outliers,
)

NASTY = '<b onmouseover="x">Evil & Co</b>'
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def sr():
    """SHMI-style data, over-dispersed: three trusts above the limits and two below."""
    expected = list(range(100, 3001, 100))
    observed = [
        105,
        174,
        249,
        451,
        497,
        572,
        653,
        787,
        858,
        1009,
        1091,
        1205,
        1339,
        1430,
        1405,
        1358,
        1874,
        1718,
        2222,
        2064,
        3150,
        2241,
        2324,
        2294,
        2358,
        1560,
        2777,
        2876,
        2887,
        4200,
    ]
    groups = [f"T{i:02d}" for i in range(len(expected))]
    groups[29] = NASTY  # sorts first ("<" comes before "T")
    return funnel(observed, expected, groups, data_type="SR")


def test_reading_names_outliers_and_phi(sr):
    assert sr.adjusted and sr.phi > 1
    above, below = outliers(sr)
    assert [u.group for u in above] == [NASTY, "T18", "T20"]
    assert [u.group for u in below] == ["T15", "T25"]
    text = describe(sr)
    assert text.startswith(f"3 trusts above the 99.8% limit: {NASTY}, T18 and T20. ")
    assert "2 trusts below it: T15 and T25." in text
    assert text.endswith(f"Limits widened for over-dispersion, phi = {sr.phi:.2g}.")
    assert describe(sr, noun="ward", level="95").startswith("4 wards above the 95% limit")


def test_reading_of_other_cases():
    plain = funnel([20, 21, 19, 20, 22, 18], [100] * 6)
    assert describe(plain) == (
        f"No trust is outside the 99.8% limits. No over-dispersion found (phi = {plain.phi:.2g}),"
        " so the limits are not widened."
    )
    off = funnel([20, 21, 19, 20, 22, 18], [100] * 6, adjusted=False, unadjusted=True)
    assert describe(off).endswith("Limits not adjusted for over-dispersion.")
    none = funnel([20, 21, 19, 20, 22, 18], [100] * 6, adjusted=False)
    assert describe(none) == "No control limits are drawn, so no outliers are marked."
    three = funnel(
        [10, 10, 10, 40, 40, 40, 2], [100] * 7, list("ABCDEFG"), adjusted=False, unadjusted=True
    )
    assert describe(three).startswith("3 trusts above the 99.8% limit: D, E and F.")


def test_figure_draws_points_centre_limits_and_escapes(sr):
    fig = funnel_figure(sr, title="SHMI <by> trust", y_title="SHMI & co", improvement="decrease")
    names = [t.name for t in fig.data]
    assert names.count("95% limits (over-dispersed)") == 2
    assert names.count("99.8% limits (over-dispersed)") == 2
    assert "95% limits" not in names
    points = fig.data[-1]
    assert list(points.x) == [u.denominator for u in sr.units]
    assert list(points.y) == [u.ratio for u in sr.units]
    labels = [t for t in points.text if t]
    assert labels == [
        "&lt;b onmouseover=&quot;x&quot;&gt;Evil &amp; Co&lt;/b&gt;",
        "T15",
        "T18",
        "T20",
        "T25",
    ]
    colours = list(points.marker.color)
    index = {u.group: i for i, u in enumerate(sr.units)}
    assert colours[index["T18"]] == CONCERN and colours[index["T15"]] == IMPROVEMENT
    assert colours[index["T01"]] == COMMON
    assert fig.layout.title.text == "SHMI &lt;by&gt; trust"
    assert fig.layout.yaxis.title.text == "SHMI &amp; co"
    dumped = fig.to_json()
    assert "<b" not in dumped and "Evil & Co" not in dumped
    centre = next(t for t in fig.data if t.name.startswith("Centre"))
    assert set(centre.y) == {sr.centre}
    upper = next(t for t in fig.data if t.name == "99.8% limits (over-dispersed)")
    at = sr.limits_at(list(upper.x))
    assert list(upper.y) == [row.od_ucl998 for row in at]


def test_figure_with_both_and_neutral(sr):
    both = funnel(
        [u.numerator for u in sr.units],
        [u.denominator for u in sr.units],
        [u.group for u in sr.units],
        data_type="SR",
        unadjusted=True,
    )
    fig = funnel_figure(both)
    names = {t.name for t in fig.data}
    assert {"95% limits", "99.8% limits", "95% limits (over-dispersed)"} <= names
    assert NEUTRAL in list(fig.data[-1].marker.color)
    with pytest.raises(ValueError):
        funnel_figure(both, level="99")


def test_svg_is_valid_xml_with_escaped_text(sr):
    svg = funnel_svg(sr, title="SHMI <by> trust & more")
    root = ET.fromstring(svg)  # well-formed, so every text was escaped
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "SHMI <by> trust & more" in texts  # parsed back from the escaped form
    assert NASTY in texts and "T18" in texts and "T15" in texts
    assert "<b " not in svg
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == len(sr.units)
    assert len(list(root.iter(f"{SVG}polyline"))) == 4
    assert root.find(f"{SVG}desc").text == describe(sr)


def test_svg_without_limits_and_pr():
    res = funnel([0, 3, 5, 9], [10, 12, 30, 40], ["a", "b", "c", "d"], adjusted=False)
    root = ET.fromstring(funnel_svg(res))
    assert not list(root.iter(f"{SVG}polyline"))
    assert len(list(root.iter(f"{SVG}circle"))) == 4


def test_chart_imports_without_django():
    code = (
        "import sys; sys.modules['django'] = None\n"
        "from reports.funnel import funnel\n"
        "from reports.funnel_chart import funnel_svg\n"
        "print(len(funnel_svg(funnel([1, 2, 3], [10, 20, 30]))) > 0)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


# ---- issue 20 item 6: the no-JavaScript funnel ----------------------------------------------


def test_static_funnel_never_shows_a_negative_axis_and_rings_the_readers_trust():
    import re as _re

    from reports.funnel import funnel as _funnel
    from reports.funnel_chart import funnel_svg as _svg

    # Small proportions near 0 with a tiny group: lower limits far below 0 before.
    res = _funnel([1, 2, 30, 45, 60, 3], [8, 40, 900, 1200, 1500, 60],
                  ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"], data_type="PR")
    svg = _svg(res, highlight=["Gamma"])
    ticks = [float(t.replace(",", "")) for t in _re.findall(
        r'text-anchor="end">(-?[\d.,]+)</text>', svg)]
    assert ticks and min(ticks) >= 0
    # the axis reaches no further than one data span beyond the points
    ratios = [u.ratio for u in res.units]
    assert max(ticks) <= max(ratios) + 2 * (max(ratios) - min(ratios))
    assert "Gamma (your trust)" in svg  # labelled on the chart, not only in a tooltip
    assert svg.count('stroke="#212B32" stroke-width="2.5"') == 1
    for u in res.units:
        assert f"<title>{u.group}" in svg  # every dot names its trust
