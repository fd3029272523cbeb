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


# ---- QI capability and NHS IMPACT (issue 14; the writes are in organisations.capability) --


def _whole(label, **kwargs):
    return forms.IntegerField(
        label=label, min_value=0, max_value=10_000_000,
        error_messages={"required": f"Enter {label.lower()} (0 if none)",
                        "invalid": f"{label} must be a whole number",
                        "min_value": f"{label} must be 0 or more",
                        "max_value": f"{label} is too large"},
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-5",
                                        "inputmode": "numeric"}),
        **kwargs)


class CapabilityReturnForm(NHSFormMixin, forms.Form):
    """One quarter's return; a field `trained_<level id>` for each of the centre's levels."""

    quarter = forms.TypedChoiceField(label="Quarter", coerce=str,
                                     error_messages={"required": "Choose the quarter"})

    def __init__(self, *args, levels=(), quarters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.levels = list(levels)
        self.fields["quarter"].choices = [("", "Choose a quarter")] + [
            (q.isoformat(), f"{q.year} Q{(q.month - 1) // 3 + 1}") for q in quarters]
        self.fields["headcount"] = _whole("Staff headcount",
                                          help_text="All staff at the end of the quarter.")
        self.fields["headcount"].min_value = 1
        self.fields["headcount"].validators = [v for v in self.fields["headcount"].validators
                                               if getattr(v, "limit_value", 1) != 0]
        for level in self.levels:
            self.fields[f"trained_{level.pk}"] = _whole(
                f"Staff trained: {level.name}",
                help_text="Staff who hold this level of QI training at the end of the quarter.")
        self.fields["leadership_completions"] = _whole(
            "Leadership programme completions",
            help_text="Staff who completed a leadership programme during the quarter.")
        nhsuk_widgets(self)

    def clean_headcount(self):
        value = self.cleaned_data["headcount"]
        if value is not None and value < 1:
            raise forms.ValidationError("Staff headcount must be more than 0")
        return value

    def clean_quarter(self):
        import datetime as dt

        return dt.date.fromisoformat(self.cleaned_data["quarter"])

    def trained(self) -> dict[int, int]:
        return {lv.pk: self.cleaned_data[f"trained_{lv.pk}"] for lv in self.levels}


class CapabilityUploadForm(NHSFormMixin, forms.Form):
    file = forms.FileField(
        label="Upload a CSV or Excel (.xlsx) file",
        error_messages={"required": "Choose a CSV or Excel file to upload",
                        "empty": "The file is empty"})


class ImpactAssessmentForm(NHSFormMixin, forms.Form):
    """The board's NHS IMPACT self-assessment for a year: a score and evidence for each of
    the five components. Evidence is screened for patient data."""

    year = forms.TypedChoiceField(label="Year of the assessment", coerce=int,
                                  error_messages={"required": "Choose the year"})

    def __init__(self, *args, years=(), **kwargs):
        from core.screening import NO_PATIENT_DATA
        from organisations.models import IMPACT_COMPONENTS, IMPACT_SCORES

        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "Choose a year")] + [(y, str(y)) for y in years]
        self.components = []
        for key, label in IMPACT_COMPONENTS:
            self.fields[f"{key}_score"] = forms.TypedChoiceField(
                label=f"{label}: score", choices=[("", "Choose a score"), *IMPACT_SCORES],
                coerce=int, error_messages={"required": f"Choose a score for {label.lower()}"})
            self.fields[f"{key}_evidence"] = forms.CharField(
                label=f"{label}: evidence", required=False, max_length=4000,
                validators=NO_PATIENT_DATA,
                help_text="What the board saw. No patient-identifiable information.",
                widget=forms.Textarea(attrs={"rows": 3}))
            self.components.append((key, label))
        nhsuk_widgets(self)

    def scores(self) -> dict[str, int]:
        return {k: self.cleaned_data[f"{k}_score"] for k, _ in self.components}

    def evidence(self) -> dict[str, str]:
        return {k: self.cleaned_data[f"{k}_evidence"] for k, _ in self.components}


class CapabilityLevelForm(NHSFormMixin, forms.Form):
    name = forms.CharField(label="Name of the level", max_length=60,
                           error_messages={"required": "Enter the name of the level"})
    order = forms.IntegerField(label="Position in the list", min_value=0, max_value=99,
                               initial=10,
                               widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-2"}),
                               error_messages={"required": "Enter a position",
                                               "invalid": "The position must be a number"})
    active = forms.BooleanField(label="Counted in new returns", required=False, initial=True)
