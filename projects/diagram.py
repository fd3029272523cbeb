"""Driver diagram: the tree for pages (aim → primary → secondary → change ideas) and SVG.

`build` makes the tree from already-fetched rows (no queries of its own when given them),
`to_svg` lays it out in four columns and draws it, `to_png` converts the SVG when cairosvg
(and the system's cairo library) is installed.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from projects.models import ChangeIdea, Driver, Project


@dataclass
class Secondary:
    driver: Driver
    ideas: list[ChangeIdea] = field(default_factory=list)


@dataclass
class Primary:
    driver: Driver
    secondaries: list[Secondary] = field(default_factory=list)


@dataclass
class Diagram:
    project: Project
    primaries: list[Primary] = field(default_factory=list)
    ideas: list[ChangeIdea] = field(default_factory=list)
    unlinked_ideas: list[ChangeIdea] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.primaries and not self.ideas

    @property
    def secondaries(self) -> list[Driver]:
        return [s.driver for p in self.primaries for s in p.secondaries]

    @property
    def counts(self) -> dict:
        return {
            "primary": len(self.primaries),
            "secondary": len(self.secondaries),
            "ideas": len(self.ideas),
        }


def fetch(project: Project) -> tuple[list[Driver], list[ChangeIdea]]:
    """Drivers and change ideas (with their driver links) in two queries and a prefetch."""
    drivers = list(Driver.objects.filter(project=project).order_by("position", "id"))
    ideas = list(
        ChangeIdea.objects.filter(project=project)
        .prefetch_related("drivers").order_by("position", "id")
    )
    return drivers, ideas


def build(project: Project, drivers=None, ideas=None) -> Diagram:
    if drivers is None or ideas is None:
        drivers, ideas = fetch(project)
    drivers = sorted(drivers, key=lambda d: (d.position, d.pk))
    ideas = sorted(ideas, key=lambda i: (i.position, i.pk))
    diagram = Diagram(project=project, ideas=ideas)
    by_id: dict[int, Secondary] = {}
    primaries = {d.pk: Primary(d) for d in drivers if d.parent_id is None}
    for d in drivers:
        if d.parent_id is not None and d.parent_id in primaries:
            sec = Secondary(d)
            primaries[d.parent_id].secondaries.append(sec)
            by_id[d.pk] = sec
    diagram.primaries = list(primaries.values())
    for idea in ideas:
        linked = [by_id[d.pk] for d in idea.drivers.all() if d.pk in by_id]
        if not linked:
            diagram.unlinked_ideas.append(idea)
        for sec in linked:
            sec.ideas.append(idea)
    return diagram


# ---- SVG ----------------------------------------------------------------------------------

BOX_W = 230
GAP_X = 50
GAP_Y = 12
LINE_H = 17
PAD = 10
CHARS = 30
COLUMNS = ("Aim", "Primary drivers", "Secondary drivers", "Change ideas")
FILLS = ("#005EB8", "#E8EDEE", "#FFFFFF", "#FFF9C4")
TEXT_FILLS = ("#FFFFFF", "#212B32", "#212B32", "#212B32")
STROKE = "#425563"


def _lines(text: str) -> list[str]:
    return textwrap.wrap(text, CHARS, break_long_words=True) or [""]


def _height(text: str) -> int:
    return len(_lines(text)) * LINE_H + 2 * PAD


@dataclass
class _Box:
    col: int
    text: str
    y: float = 0
    h: float = 0

    @property
    def x(self) -> float:
        return 20 + self.col * (BOX_W + GAP_X)

    @property
    def mid(self) -> float:
        return self.y + self.h / 2


def _layout(diagram: Diagram):
    top = 60
    boxes, links = [], []
    sec_boxes: dict[int, _Box] = {}
    y = top
    prim_boxes = []
    for prim in diagram.primaries:
        pbox = _Box(1, prim.driver.text, h=_height(prim.driver.text))
        start = y
        for sec in prim.secondaries:
            sbox = _Box(2, sec.driver.text, y=y, h=_height(sec.driver.text))
            y += sbox.h + GAP_Y
            sec_boxes[sec.driver.pk] = sbox
            boxes.append(sbox)
            links.append((pbox, sbox))
        span_end = max(y - GAP_Y, start + pbox.h)
        pbox.y = start + (span_end - start - pbox.h) / 2
        y = max(y, start + pbox.h + GAP_Y) + GAP_Y
        boxes.append(pbox)
        prim_boxes.append(pbox)
    # Change ideas: their own column, in order, each level with its first secondary when
    # there is room, else below the previous idea.
    iy = top
    placed = []
    for order, idea in enumerate(diagram.ideas):
        linked = [sec_boxes[d.pk] for d in idea.drivers.all() if d.pk in sec_boxes]
        first = min((b.y for b in linked), default=float("inf"))
        placed.append((first, order, idea, sorted(linked, key=lambda b: b.y)))
    # Top to bottom by the highest secondary each idea acts on, so links cross less.
    for _first, _order, idea, linked in sorted(placed, key=lambda t: (t[0], t[1])):
        ibox = _Box(3, idea.text, h=_height(idea.text))
        want = linked[0].y if linked else iy
        ibox.y = max(iy, want)
        iy = ibox.y + ibox.h + GAP_Y
        boxes.append(ibox)
        links.extend((s, ibox) for s in linked)
    bottom = max([b.y + b.h for b in boxes] + [top + 80])
    aim_text = diagram.project.aim or diagram.project.title
    abox = _Box(0, aim_text, h=_height(aim_text))
    abox.y = max(top, top + (bottom - top - abox.h) / 2)
    boxes.append(abox)
    links.extend((abox, p) for p in prim_boxes)
    height = max(bottom, abox.y + abox.h) + 20
    return boxes, links, height


def to_svg(diagram: Diagram) -> str:
    """A standalone, accessible SVG of the diagram (title, description, text as text)."""
    boxes, links, height = _layout(diagram)
    width = 20 + 4 * BOX_W + 3 * GAP_X + 20
    title = f"Driver diagram: {diagram.project.title}"
    c = diagram.counts
    desc = (f"Aim, {c['primary']} primary drivers, {c['secondary']} secondary drivers and "
            f"{c['ideas']} change ideas.")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" aria-labelledby="dd-title dd-desc" '
        f'font-family="Arial, Helvetica, sans-serif" font-size="14">',
        f'<title id="dd-title">{escape(title)}</title>',
        f'<desc id="dd-desc">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height:.0f}" fill="#FFFFFF"/>',
    ]
    for col, name in enumerate(COLUMNS):
        x = 20 + col * (BOX_W + GAP_X)
        out.append(f'<text x="{x}" y="36" font-size="16" font-weight="bold" '
                   f'fill="#212B32">{escape(name)}</text>')
    for a, b in links:
        x1, y1 = a.x + BOX_W, a.mid
        x2, y2 = b.x, b.mid
        mx = (x1 + x2) / 2
        out.append(f'<path d="M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} '
                   f'{x2:.1f},{y2:.1f}" fill="none" stroke="{STROKE}" stroke-width="1.5"/>')
    for b in boxes:
        out.append(f'<rect x="{b.x}" y="{b.y:.1f}" width="{BOX_W}" height="{b.h:.1f}" rx="4" '
                   f'fill="{FILLS[b.col]}" stroke="{STROKE}" stroke-width="1"/>')
        for i, line in enumerate(_lines(b.text)):
            ty = b.y + PAD + (i + 1) * LINE_H - 4
            out.append(f'<text x="{b.x + PAD}" y="{ty:.1f}" '
                       f'fill="{TEXT_FILLS[b.col]}">{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def png_available() -> bool:
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def to_png(diagram: Diagram) -> bytes:
    import cairosvg

    return cairosvg.svg2png(bytestring=to_svg(diagram).encode("utf-8"), scale=1.5)
