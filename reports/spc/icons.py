"""Our own SVG icons for variation and assurance, circle-based in the spirit of
the NHS "Making Data Count" icons (not copies of them).

Every icon is a self-contained ``<svg>`` with ``role="img"``, a ``<title>`` and
an ``aria-labelledby`` pointing at it, so it reads well in a screen reader.
"""

from __future__ import annotations

import html
import itertools

GREY = "#7B7D7D"
BLUE = "#289DE0"
ORANGE = "#FAB428"
PURPLE = "#361475"

VARIATION_TITLES = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation: improvement (higher values)",
    "improvement_low": "Special cause variation: improvement (lower values)",
    "concern_high": "Special cause variation: concern (higher values)",
    "concern_low": "Special cause variation: concern (lower values)",
    "neutral_high": "Special cause variation: higher values, neither better nor worse",
    "neutral_low": "Special cause variation: lower values, neither better nor worse",
}
"""Accessible titles for each ``SPCResult.variation_icon`` value."""

ASSURANCE_TITLES = {
    "consistent_pass": "Assurance: the target is consistently met",
    "consistent_fail": "Assurance: the target is consistently missed",
    "inconsistent": "Assurance: the target is met only some of the time",
}
"""Accessible titles for each ``SPCResult.assurance`` value."""

_VARIATION_STYLE = {
    "common_cause": (GREY, None),
    "improvement_high": (BLUE, "H"),
    "improvement_low": (BLUE, "L"),
    "concern_high": (ORANGE, "H"),
    "concern_low": (ORANGE, "L"),
    "neutral_high": (PURPLE, "H"),
    "neutral_low": (PURPLE, "L"),
}

_ASSURANCE_STYLE = {
    "consistent_pass": (BLUE, "P"),
    "consistent_fail": (ORANGE, "F"),
    "inconsistent": (GREY, "?"),
}

_ids = itertools.count(1)


def _frame(colour: str, title: str, body: str, size: int) -> str:
    tid = f"spc-icon-title-{next(_ids)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="{size}" '
        f'height="{size}" role="img" aria-labelledby="{tid}" focusable="false">'
        f'<title id="{tid}">{html.escape(title)}</title>'
        f'<circle cx="50" cy="50" r="45" fill="#FFFFFF" stroke="{colour}" stroke-width="7"/>'
        f"{body}</svg>"
    )


def _dots(colour: str, pattern: str) -> str:
    """Seven small dots across the icon; special ones take the icon colour."""
    ys = {
        None: [58, 50, 60, 48, 56, 52, 54],
        "H": [64, 66, 62, 46, 42, 40, 38],
        "L": [36, 34, 38, 54, 58, 60, 62],
    }[pattern]
    out = []
    for i, y in enumerate(ys):
        x = 20 + i * 10
        fill = colour if (pattern and i >= 3) else GREY
        out.append(f'<circle cx="{x}" cy="{y}" r="4" fill="{fill}"/>')
    line = " ".join(f"{20 + i * 10},{y}" for i, y in enumerate(ys))
    return f'<polyline points="{line}" fill="none" stroke="{GREY}" stroke-width="1.5"/>' + "".join(
        out
    )


def variation_icon_svg(name: str, *, size: int = 48, title: str | None = None) -> str:
    """SVG for a ``variation_icon`` value ("common_cause", "improvement_high", …)."""
    if name not in _VARIATION_STYLE:
        raise ValueError(f"unknown variation icon {name!r}")
    colour, letter = _VARIATION_STYLE[name]
    body = _dots(colour, letter)
    if letter:
        y = 30 if letter == "H" else 84
        body += (
            f'<text x="50" y="{y}" text-anchor="middle" font-family="Arial, sans-serif" '
            f'font-size="22" font-weight="bold" fill="{colour}">{letter}</text>'
        )
    return _frame(colour, title or VARIATION_TITLES[name], body, size)


def assurance_icon_svg(name: str | None, *, size: int = 48, title: str | None = None) -> str:
    """SVG for an ``assurance`` value; an empty string for None (no target)."""
    if name is None:
        return ""
    if name not in _ASSURANCE_STYLE:
        raise ValueError(f"unknown assurance icon {name!r}")
    colour, letter = _ASSURANCE_STYLE[name]
    body = (
        f'<line x1="14" y1="68" x2="86" y2="68" stroke="{colour}" stroke-width="4" '
        f'stroke-dasharray="8 5"/>'
        f'<text x="50" y="56" text-anchor="middle" font-family="Arial, sans-serif" '
        f'font-size="40" font-weight="bold" fill="{colour}">{html.escape(letter)}</text>'
    )
    return _frame(colour, title or ASSURANCE_TITLES[name], body, size)


def icons_for(result) -> dict[str, str]:
    """Both icons for an :class:`~reports.spc.SPCResult` (assurance "" when None)."""
    return {
        "variation": variation_icon_svg(result.variation_icon),
        "assurance": assurance_icon_svg(result.assurance),
    }
