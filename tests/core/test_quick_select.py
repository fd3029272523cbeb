"""core.forms.QuickSelect writes the same <select> as Django's Select, in one pass."""

import re

from django import forms

from core.forms import QuickSelect


def _options(html):
    return re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html)


def _attrs(html):
    return sorted(re.match(r"<select([^>]*)>", html).group(1).split())


def test_quick_select_matches_django_select():
    choices = [("", "Any trust"), ("RX1", "Leeds & York <NHS>"), ("R2", 'Say "hi"'),
               (3, "Three")]
    for value in ("", "RX1", "R2", 3, None, "absent"):
        attrs = {"id": "id_trust", "class": "nhsuk-select", "aria-describedby": "h"}
        quick = QuickSelect(choices=choices).render("trust", value, attrs=attrs)
        django = forms.Select(choices=choices).render("trust", value, attrs=attrs)
        assert _options(quick) == _options(django), value
        assert _attrs(quick) == _attrs(django), value
        assert quick.count("<option") == len(choices)
    assert sum(bool(sel) for _, sel, _ in _options(
        QuickSelect(choices=choices).render("t", "R2"))) == 1


def test_grouped_choices_fall_back_to_django():
    grouped = [("North", [("a", "A"), ("b", "B")]), ("", "None")]
    assert "<optgroup" in QuickSelect(choices=grouped).render("x", "a")


def test_a_model_choice_field_renders_through_quick_select(trust_a, trust_b):
    from organisations.models import Trust

    field = forms.ModelChoiceField(queryset=Trust.objects.order_by("name"),
                                   to_field_name="ods_code", widget=QuickSelect,
                                   empty_label="Any trust")
    html = field.widget.render("trust", trust_b.ods_code)
    values = [v for v, _, _ in _options(html)]
    assert values == ["", *Trust.objects.order_by("name").values_list("ods_code", flat=True)]
    assert [v for v, sel, _ in _options(html) if sel] == [trust_b.ods_code]
