"""Account forms, styled with NHS.UK classes. Errors are plain-English and actionable."""

from django import forms
from django.contrib.auth import forms as auth_forms

from core.forms import NHSFormMixin, nhsuk_widgets
from organisations.models import Membership, Unit


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


# ---- a trust administrator's pages: people, roles and units ----------------------------
# Every choice here is narrowed to one trust by the view; no form names a flag of the user
# (superuser, staff, national analyst) or another trust.

ROLE_CHOICES = Membership.Role.choices


class PeopleSearchForm(NHSFormMixin, forms.Form):
    q = forms.CharField(
        label="Search by name or email address", required=False, max_length=150,
        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false"}),
    )


class InviteForm(NHSFormMixin, forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="Their NHS email address. If they already have an account, we add the "
                  "roles to it and leave their name as it is.",
        error_messages={"required": "Enter their email address",
                        "invalid": "Enter an email address in the correct format, like "
                                   "name@example.nhs.uk"},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    full_name = forms.CharField(
        label="Full name", max_length=150,
        error_messages={"required": "Enter their full name"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    job_title = forms.CharField(label="Job title (optional)", max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        label="Roles at this trust", choices=ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"required": "Choose at least one role"},
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class GrantRoleForm(NHSFormMixin, forms.Form):
    role = forms.ChoiceField(
        label="Role to grant", widget=forms.RadioSelect,
        error_messages={"required": "Choose a role to grant"},
    )

    def __init__(self, *args, held=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(v, label) for v, label in ROLE_CHOICES if v not in held]


class _UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{'– ' * obj.depth}{obj.name}"


def _unit_choice(label, units, help_text):
    return _UnitChoice(
        label=label, queryset=units, required=False, help_text=help_text,
        empty_label="None: at the top of the trust",
    )


class UnitAddForm(NHSFormMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Enter the unit's name"})
    kind = forms.ChoiceField(label="Type", choices=Unit.Kind.choices)
    parent = forms.Field(required=False)  # replaced in __init__, scoped to the trust

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = _unit_choice(
            "Sits under", units, "Wards, teams and services usually sit under a division or "
                                 "directorate.")
        self.order_fields(["name", "kind", "parent"])
        nhsuk_widgets(self)


class UnitRenameForm(NHSFormMixin, forms.Form):
    name = forms.CharField(label="New name", max_length=200,
                           error_messages={"required": "Enter the unit's new name"})


class UnitMoveForm(NHSFormMixin, forms.Form):
    parent = forms.Field(required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = _unit_choice(
            "Move it under", units, "Everything under it moves with it.")
        nhsuk_widgets(self)


# ---- API tokens ------------------------------------------------------------------------


class TokenCreateForm(NHSFormMixin, forms.Form):
    name = forms.CharField(
        label="Name", max_length=100,
        help_text="What the token is for, so you know which one to revoke later. For "
                  "example: monthly falls upload script.",
        error_messages={"required": "Enter a name for the token"},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)", initial=90, min_value=1, max_value=365,
        help_text="From 1 to 365 days. The token stops working after that.",
        error_messages={
            "required": "Enter how many days the token lasts",
            "invalid": "Enter the number of days as a whole number, like 90",
            "min_value": "Enter a number of days from 1 to 365",
            "max_value": "Enter a number of days from 1 to 365",
        },
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric"}),
    )


class ServiceTokenCreateForm(TokenCreateForm):
    access = forms.ChoiceField(
        label="What the system may do",
        choices=[
            ("read_only", "Read only: projects, measures, data and PDSA cycles of this trust"),
            ("read_write", "Read and write: also enter data and log PDSA cycles on this "
                           "trust's projects"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what the system may do"},
    )
