"""Account forms, styled with NHS.UK classes. Errors are plain-English and actionable."""

from django import forms
from django.contrib.auth import forms as auth_forms


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


class SignInForm(NHSFormMixin, auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct email address and password. Both are case-sensitive.",
        "inactive": "This account is inactive. Ask your trust administrator.",
    }

    username = auth_forms.UsernameField(
        label="Email address",
        error_messages={"required": "Enter your email address"},
        widget=forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        error_messages={"required": "Enter your password"},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class PasswordChange(NHSFormMixin, auth_forms.PasswordChangeForm):
    pass


class PasswordReset(NHSFormMixin, auth_forms.PasswordResetForm):
    pass


class SetPassword(NHSFormMixin, auth_forms.SetPasswordForm):
    pass
