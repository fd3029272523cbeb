"""Issue 20 item 8: every horizontally scrolling wrapper can be reached and scrolled by
keyboard and is named for screen readers (axe `scrollable-region-focusable`): each one in
every template is a focusable, labelled region."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SCROLLERS = ("app-table-scroll", "nhsuk-table-container", "app-driver-diagram")


def test_every_scrolling_wrapper_is_a_focusable_named_region():
    found, bad = 0, []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<div\b[^>]*>", path.read_text()):
            classes = re.search(r'class="([^"]*)"', tag)
            if not classes or not set(classes.group(1).split()) & set(SCROLLERS):
                continue
            found += 1
            label = re.search(r'aria-label="([^"]+)"', tag)
            if 'tabindex="0"' not in tag or 'role="region"' not in tag or not label:
                bad.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert found >= 20
    assert not bad, "\n".join(bad)
