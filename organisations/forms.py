"""Account forms, styled with NHS.UK classes. Errors are plain-English and actionable."""

from django import forms
from django.contrib.auth import forms as auth_forms

from core.forms import NHSFormMixin


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
