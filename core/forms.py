"""Form helpers every app's forms share: NHS.UK classes on every widget."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe


def nhsuk_widgets(form: forms.Form, errors=None) -> None:
    """Give every widget the NHS.UK class, an error class when invalid, and hint links."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "nhsuk-checkboxes__input"
        elif isinstance(widget, forms.Select):
            css = "nhsuk-select"
        elif isinstance(widget, forms.Textarea):
            css = "nhsuk-textarea"
        elif isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
            css = ""
        else:
            css = "nhsuk-input"
        if errors and name in errors and css and css != "nhsuk-checkboxes__input":
            css += f" {css.split()[0]}--error"
        if css:
            classes = widget.attrs.get("class", "").split()
            classes += [c for c in css.split() if c not in classes]
            widget.attrs["class"] = " ".join(classes)
        # Django 5.2 links hint and error text itself (aria-describedby, aria-invalid).


class NHSFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Classes only: reading self.errors here would validate before subclasses finish
        # narrowing their querysets.
        nhsuk_widgets(self)

    def full_clean(self):
        super().full_clean()
        nhsuk_widgets(self, self._errors)


class QuickSelect(forms.Select):
    """A `<select>` of plain choices written in one pass, not one template render per
    `<option>` (Django's default): the national project list's trust filter has 200 trusts,
    and rendering their options was half the page's time (issue 21). The same markup;
    grouped choices fall back to Django's own rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if any(isinstance(label, (list, tuple)) for _, label in choices):
            return super().render(name, value, attrs, renderer)
        chosen = set(self.format_value(value))
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        options = "".join(
            f'<option value="{escape(v)}"{" selected" if str(v) in chosen else ""}>'
            f"{escape(label)}</option>"
            for v, label in ((("" if v is None else str(v)), label) for v, label in choices)
        )
        return mark_safe(f"<select{flatatt(final)}>{options}</select>")  # noqa: S308 — escaped
