"""Form helpers every app's forms share: NHS.UK classes on every widget."""

from django import forms


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
