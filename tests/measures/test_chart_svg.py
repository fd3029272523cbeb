"""The static SVG chart: the same points, colours, limits and markers as the Plotly figure,
shown without JavaScript (and in print), every text escaped."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from measures import charts
from measures.chart_svg import figure_svg
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

pytestmark = pytest.mark.django_db

VALUES = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12, 30, 10, 9, 11, 5, 6, 5, 6, 5, 6, 5, 6]


@pytest.fixture
def measure(alice, trust_a):
    project = ProjectFactory(trust=trust_a, lead=alice)
    measure = MeasureFactory(project=project, chart="xmr", direction="decrease", target=8,
                             unit_label='falls <b onmouseover="x">per</b> 1,000')
    for i, v in enumerate(VALUES):
        DataPointFactory(measure=measure, period=dt.date(2023 + i // 12, i % 12 + 1, 1),
                         value=v, rebaseline=(i == 16),
                         annotation="Huddle <started>" if i == 16 else "")
    return measure


def _context(measure):
    return charts.measure_chart_context(measure, list(measure.points.order_by("period")))


def _circles(svg):
    """(x, y, fill) of each point, in drawing order: each run of one colour is a <g>."""
    return [(float(x), float(y), fill)
            for fill, run in re.findall(
                r'<g class="app-chart-svg__dots" fill="([^"]+)" stroke="#FFFFFF" '
                r'stroke-width="0.5">(.*?)</g>', svg, re.S)
            for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="[\d.]+">', run)]


def _lines(svg, name):
    """The polylines of one named trace, as lists of (x, y) pixels."""
    found = re.findall(rf'data-name="{re.escape(name)}" points="([^"]+)"', svg)
    return [[tuple(map(float, p.split(","))) for p in pts.split()] for pts in found]


def test_every_point_is_drawn_with_its_plotly_colour(measure):
    ctx = _context(measure)
    values = next(t for t in ctx["figure"]["data"] if t["name"] == "Value")
    circles = _circles(str(ctx["figure_svg"]))
    assert len(circles) == len(VALUES)
    assert [fill for _, _, fill in circles] == values["marker"]["color"]
    assert [x for x, _, _ in circles] == sorted(x for x, _, _ in circles)  # time runs right


def test_points_sit_on_the_same_side_of_the_limits_as_in_the_data(measure):
    ctx = _context(measure)
    svg = str(ctx["figure_svg"])
    fig = {t["name"]: t for t in ctx["figure"]["data"]}
    upper = dict(zip(fig["Upper process limit"]["x"], fig["Upper process limit"]["y"],
                     strict=True))
    upper_px = [pt for run in _lines(svg, "Upper process limit") for pt in run]
    assert len(_lines(svg, "Upper process limit")) == 2  # a new phase after the re-baseline
    circles = _circles(svg)
    above = 0
    for (cx, cy, _), x, y in zip(circles, fig["Value"]["x"], fig["Value"]["y"], strict=True):
        limit = upper.get(x)
        if limit is None:
            continue
        limit_px = min(upper_px, key=lambda p, cx=cx: abs(p[0] - cx))[1]
        # SVG y grows downwards: a value above the limit has a smaller pixel y.
        assert (y > limit) == (cy < limit_px), (x, y, limit)
        above += y > limit
    assert above == 1  # the 30: special cause, drawn above the line


def test_targets_phases_and_notes_are_drawn_and_escaped(measure):
    svg = str(_context(measure)["figure_svg"])
    assert _lines(svg, "Target")
    assert 'class="app-chart-svg__shape"' in svg  # the phase break
    assert "Huddle &lt;started&gt;" in svg and "<started>" not in svg
    assert "&lt;b onmouseover=&quot;x&quot;&gt;" in svg and "<b " not in svg


def test_a_points_hover_text_reads_as_lines_not_as_markup(measure):
    """Each point's <title> is its Plotly hover text, whose line break is "<br>": the
    tooltip shows two lines, not the tag."""
    ctx = _context(measure)
    svg = str(ctx["figure_svg"])
    values = next(t for t in ctx["figure"]["data"] if t["name"] == "Value")
    special = [t for t in values["text"] if "<br>" in t]
    assert special  # the 30 and the shift after the re-baseline
    titles = re.findall(r"<circle [^>]*><title>(.*?)</title>", svg, re.S)
    assert len(titles) == len(VALUES)
    assert "br&gt;" not in svg
    assert [t for t in titles if "\n" in t] == [
        t.replace("<br>", "\n").replace("&#x27;", "'").replace("&#39;", "'") for t in special]


def test_an_empty_or_one_point_figure_still_renders():
    assert figure_svg({"data": [], "layout": {"title": {"text": "Nothing <yet>"}}}).endswith(
        "</svg>")
    one = figure_svg({"data": [{"type": "scatter", "mode": "markers", "x": ["2024-01-01"],
                                "y": [3], "marker": {"color": "#7B7D7D"}}],
                      "layout": {"xaxis": {"type": "date"}}})
    assert len(_circles(one)) == 1


def test_the_measure_page_without_javascript_shows_the_svg(client, measure, alice):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("projects:measure_detail",
                              args=[measure.project_id, measure.pk])).content.decode()
    assert html.count('class="app-chart-svg"') == 1
    assert f'data-chart-static="measure-{measure.pk}"' in html
    assert len(_circles(html)) == len(VALUES)


def test_the_figure_describes_itself_as_the_page_does(trust_a, alice):
    project = ProjectFactory(trust=trust_a, lead=alice)
    measure = MeasureFactory(project=project, chart="p", direction="increase", target=0.9)
    for i in range(15):
        DataPointFactory(measure=measure, period=dt.date(2024 + i // 12, i % 12 + 1, 1),
                         value=None, numerator=40 + i % 3, denominator=50)
    ctx = _context(measure)
    description = ctx["figure"]["layout"]["meta"]["description"]
    assert description == ctx["reading"] and "%" in description and "0.8" not in description


def _paper(measure):
    return str(charts.measure_chart_context(
        measure, list(measure.points.order_by("period")), paper=True)["figure_svg"])


def test_on_paper_the_same_points_are_drawn_as_one_path_per_colour(measure):
    """The board pack's charts (paper=True): every point where the screen chart puts it, in
    its colour, with no hover text: per colour one path of round dots over a white rim,
    instead of a <circle> each."""
    screen = _circles(str(_context(measure)["figure_svg"]))
    paper = _paper(measure)
    assert "<circle" not in paper
    paths = re.findall(r'<path class="app-chart-svg__points" d="([^"]+)" fill="none" '
                       r'stroke="([^"]+)" stroke-width="([\d.]+)" stroke-linecap="round"/>',
                       paper)
    rims = [(d, float(w)) for d, stroke, w in paths if stroke == "#FFFFFF"]
    dots = [(d, stroke, float(w)) for d, stroke, w in paths if stroke != "#FFFFFF"]
    drawn = [(float(x), float(y), fill) for d, fill, _ in dots
             for x, y in re.findall(r"M([\d.]+) ([\d.]+)h0", d)]
    assert sorted(drawn) == sorted((round(x, 1), y, fill) for x, y, fill in screen)
    assert len({fill for _, _, fill in drawn}) == len(dots) == len(rims) > 1
    assert [d for d, _ in rims] == [d for d, _, _ in dots]  # a rim under every dot
    assert all(rim > dot for (_, rim), (_, _, dot) in zip(rims, dots, strict=True))


def _spans(html):
    return re.findall(r'<span(?: class="([^"]*)")? style="left:(-?[\d.]+)%;top:(-?[\d.]+)%;'
                      r'[^"]*">([^<]*)</span>', html)


def test_on_paper_the_labels_are_html_over_the_svg_where_the_svg_puts_its_text(measure):
    """WeasyPrint draws SVG text a glyph at a time: on paper every label the screen chart
    writes as <text> is an HTML span over the SVG instead, the same words (escaped), at the
    same place in percentages of the chart, anchored as the SVG anchors it."""
    screen = str(_context(measure)["figure_svg"])
    paper = _paper(measure)
    assert paper.startswith('<div class="app-chart-paper"><div><svg') and "<text" not in paper
    texts = re.findall(r'<text (?:class="[^"]*" )?(?:x="([\d.]+)" y="([\d.]+)"|'
                       r'transform="translate\(([\d.]+) ([\d.]+)\) rotate\(-90\)")'
                       r'[^>]*?(?: text-anchor="(\w+)")? fill="[^"]+">([^<]*)', screen)
    spans = _spans(paper)
    # The legend is one span of swatches and names (drawn after the labels), spaced by the
    # text rather than by the screen chart's estimate of each name's width.
    legend = re.findall(r'<b><i style="border-color:([^"]+)"></i>([^<]*)</b>', paper)
    named = re.findall(r'<line x1="[\d.]+" x2="[\d.]+" y1="346" y2="346" stroke="([^"]+)"',
                       screen)
    assert len(legend) == len(named) > 1 and [c for c, _ in legend] == named
    texts, legend_texts = texts[:-len(legend)], texts[-len(legend):]
    assert [name for _, name in legend] == [words for *_, words in legend_texts]
    assert len(spans) == paper.count("<span") > 10  # title, ticks, axis title, note
    assert [words for *_, words in spans] == [words for *_, words in texts]
    assert "Huddle &lt;started&gt;" in paper and "<b onmouseover" not in paper
    box = 360 / 720 * 100  # the width a centred or end-anchored label is placed in
    for (classes, left, top, _), (x, y, rx, ry, anchor, _) in zip(spans, texts, strict=True):
        x, y = float(x or rx), float(y or ry)
        shift = {"": 0, "middle": box / 2, "end": box}[anchor]
        assert float(left) + shift == pytest.approx(x / 720 * 100, abs=0.15)
        assert float(top) < y / 360 * 100 < float(top) + 4  # the baseline in the line box
        assert ("m" in classes.split()) == (anchor == "middle")
        assert ("r" in classes.split()) == bool(rx)  # the y axis title, turned


def test_the_paper_chart_is_drawn_by_weasyprint(measure):
    """The board pack's form of the chart makes a PDF with its labels as text."""
    from weasyprint import HTML

    from measures.chart_svg import PAPER_CSS

    pdf = HTML(string=f"<style>{PAPER_CSS}</style>{_paper(measure)}").write_pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
