"""Charts, icons and plain-English readings."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from measures import charts
from reports import spc
from reports.spc import icons, reading

STABLE = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 11, 9, 10]
MONTHS = [dt.date(2024, m, 1) for m in range(1, 13)] + [dt.date(2025, m, 1) for m in range(1, 13)]


def _value_trace(fig):
    return next(t for t in fig.data if t.name == "Value")


def test_figure_colours_and_lines():
    res = spc.xmr(STABLE + [20], target=12)
    fig = charts.spc_figure(res, title="Falls per 1,000 bed days", unit="falls")
    names = [t.name for t in fig.data]
    assert {"Upper process limit", "Lower process limit", "Mean", "Target", "Value"} <= set(names)
    colours = _value_trace(fig).marker.color
    assert colours[-1] == "#289DE0" and colours[0] == "#7B7D7D"
    upper = next(t for t in fig.data if t.name == "Upper process limit")
    assert upper.line.dash == "dash"
    target = next(t for t in fig.data if t.name == "Target")
    assert target.line.dash == "dash" and target.line.color.upper() == "#DE1B1B"
    assert fig.layout.title.text == "Falls per 1,000 bed days"


def test_concern_and_neutral_colours():
    low = spc.xmr(STABLE + [0])
    assert _value_trace(charts.spc_figure(low)).marker.color[-1] == "#FAB428"
    neutral = spc.xmr(STABLE + [0], improvement="neutral")
    assert _value_trace(charts.spc_figure(neutral)).marker.color[-1] == "#361475"


def test_phase_breaks_pdsa_and_annotations():
    values = STABLE + [20, 21, 19, 20, 21, 19, 20, 21]
    res = spc.xmr(values, rebase_at=[16])
    fig = charts.spc_figure(
        res,
        x=MONTHS,
        pdsa=[(MONTHS[10], "PDSA 1: new checklist")],
        annotations=[(MONTHS[16], "Rebased")],
    )
    xs = [s.x0 for s in fig.layout.shapes]
    assert MONTHS[16] in xs and MONTHS[10] in xs
    texts = [a.text for a in fig.layout.annotations]
    hovers = [a.hovertext for a in fig.layout.annotations]
    assert "PDSA 1" in texts and "PDSA 1: new checklist" in hovers and "Rebased" in texts
    centre = next(t for t in fig.data if t.name == "Mean")
    assert None in centre.y  # the centre line breaks between phases


def test_p_chart_as_percent_and_run_chart():
    res = spc.p_chart([45, 47, 44, 48], [50, 50, 50, 50])
    fig = charts.spc_figure(res, percent=True)
    assert _value_trace(fig).y[0] == pytest.approx(90.0)
    run = spc.run_chart([1, 2, 3, 4, 5])
    fig = charts.spc_figure(run)
    assert "Median" in [t.name for t in fig.data]
    assert "Upper process limit" not in [t.name for t in fig.data]


def test_x_length_must_match():
    with pytest.raises(ValueError):
        charts.spc_figure(spc.xmr([1, 2, 3]), x=[1, 2])


def test_figure_to_html():
    fig = charts.spc_figure(spc.xmr(STABLE), title="Waits & delays")
    out = charts.figure_to_html(fig, "chart-1")
    assert out.startswith('<div role="img" aria-label="Waits &amp; delays"')
    assert 'id="chart-1"' in out
    assert '"displaylogo": false' in out
    assert "cdn.plot.ly" not in out and "<script src" not in out


def test_data_table_rows():
    res = spc.xmr(STABLE + [20])
    rows = charts.data_table(res, x=[f"W{i}" for i in range(17)])
    assert len(rows) == 17
    assert rows[-1]["x"] == "W16" and rows[-1]["signal"].startswith("Improvement")
    assert rows[0]["signal"] == "" and rows[0]["phase"] == 1
    assert set(rows[0]) == {
        "x",
        "value",
        "centre",
        "lower",
        "upper",
        "phase",
        "signal",
        "point_type",
    }


@pytest.mark.parametrize("name", sorted(icons.VARIATION_TITLES))
def test_variation_icons_are_accessible_svg(name):
    svg = icons.variation_icon_svg(name)
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == icons.VARIATION_TITLES[name]
    assert root.get("aria-labelledby") == title.get("id")


@pytest.mark.parametrize("name", sorted(icons.ASSURANCE_TITLES))
def test_assurance_icons_are_accessible_svg(name):
    root = ET.fromstring(icons.assurance_icon_svg(name))
    assert root.get("role") == "img"
    assert root.find("{http://www.w3.org/2000/svg}title").text == icons.ASSURANCE_TITLES[name]


def test_icon_errors_and_icons_for():
    with pytest.raises(ValueError):
        icons.variation_icon_svg("nope")
    assert icons.assurance_icon_svg(None) == ""
    both = icons.icons_for(spc.xmr(STABLE, target=100))
    assert "consistently missed" in both["assurance"]


def test_reading_shift_with_target():
    values = [
        88,
        93,
        87,
        92,
        89,
        94,
        86,
        91,
        90,
        88,
        93,
        87,
        92,
        89,
        94,
        86,
        91,
        95,
        93,
        96,
        94,
        95,
        93,
        96,
    ]
    res = spc.xmr(values, target=95, rebase_at=[17])
    # the second phase is short and stable: common cause
    text = reading.describe(res, labels=MONTHS, unit="%")
    assert text.startswith("Common cause variation")
    res = spc.xmr(values, target=80)
    text = reading.describe(res, labels=MONTHS, unit="%")
    assert text == (
        "Special cause improvement: 7 points above the mean since June 2025; "
        "the target of 80% is consistently met."
    )


def test_reading_other_rules():
    out = reading.describe(spc.xmr(STABLE + [0]))
    assert out.startswith("Special cause concern: the latest value (0, point 17) is below")
    trend = spc.xmr([20, 0, 20, 12, 4, 5, 6, 7, 8, 9, 10], screen_outliers=False)
    assert "7 points rising in a row since point 5" in reading.describe(trend)
    run = spc.run_chart(list(range(1, 13)))
    assert reading.describe(run) == (
        "Non-random variation: only 1 crossing of the median (fewer than 3 is unusual)."
    )
    long_run = spc.run_chart([1] * 9 + [5] * 9 + [2, 4])
    assert reading.describe(long_run).startswith("Non-random variation: a run of 9 points")
    assert reading.describe(spc.run_chart([1, 3, 2, 4])).startswith("Random variation only")
    with pytest.raises(ValueError):
        reading.describe(run, labels=["a"])


def test_reading_percent_for_p_charts():
    res = spc.p_chart(
        [45, 47, 44, 48, 46, 45, 47, 44, 48, 46, 45, 47, 30],
        [50] * 13,
        improvement="increase",
        target=0.5,
    )
    text = reading.describe(res, percent=True)
    assert text.startswith("Special cause concern: the latest value (60%, point 13)")
    assert text.endswith("the target of 50% is consistently met.")
