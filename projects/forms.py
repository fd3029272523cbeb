"""Forms for the project register. They parse and show input; services.py decides and writes."""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.urls import reverse
from django.utils import timezone

from core import forms as core_forms
from core.forms import QuickSelect, nhsuk_widgets
from organisations import access
from organisations.access import Permission
from organisations.models import Membership, Trust, Unit, User
from projects import selectors
from projects.models import PROGRESS_SCALE, Driver, Project, TeamMember
from projects.services import CHARTER_FIELDS


class NHSFormMixin:
    """NHS.UK classes on every widget, applied once the form's own __init__ is done.

    Not `core.forms.NHSFormMixin`: that one styles inside `__init__`, before
    which validates a bound form before a subclass has narrowed its choices (trusts,
    units, people) or disabled a field.
    """

    def _styled(self):
        """Call at the end of __init__: style now if unbound, else after validation."""
        if not self.is_bound:
            nhsuk_widgets(self)

    def full_clean(self):
        super().full_clean()
        nhsuk_widgets(self)


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class UnitChoiceField(forms.ModelChoiceField):
    show_trust = False

    def label_from_instance(self, unit):
        indent = "\u2014 " * unit.depth
        suffix = f" ({unit.trust.ods_code})" if self.show_trust else ""
        return f"{indent}{unit.name}{suffix}"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.full_name} ({user.email})" if user.full_name else user.email


class ProjectForm(NHSFormMixin, forms.ModelForm):
    """The charter. `user` decides the choices: trusts where they may register projects,
    their units, and the people of those trusts."""

    confirm_different = forms.BooleanField(
        required=False,
        label="Yes, this is a different project",
        help_text="Tick this if none of the projects above is the one you want to register.",
    )

    class Meta:
        model = Project
        fields = [
            "title", "trust", "unit", "problem", "aim", "scope", "lead", "sponsor", "coach",
            "start_date", "target_date", "quality_dimension", "strategic_theme",
            "patient_involvement", "visibility", "sharing",
        ]
        labels = {
            "title": "Project title",
            "problem": "Problem and background",
            "aim": "SMART aim",
            "lead": "Project lead",
            "sponsor": "Sponsor (optional)",
            "coach": "QI coach (optional)",
            "scope": "Scope (optional)",
            "start_date": "Start date (optional)",
            "target_date": "Target date (optional)",
            "quality_dimension": "Quality dimension (optional)",
            "strategic_theme": "Strategic theme (optional)",
            "patient_involvement": "Patient and public involvement (optional)",
            "visibility": "Who can see this project",
            "sharing": "What to share beyond your trust",
        }
        help_texts = {
            "title": "A short name people will recognise, for example: Reducing falls on Ward 7.",
            "aim": "What, for whom, how much, by when. For example: reduce inpatient falls on "
            "Ward 7 by 30% by March 2027.",
            "problem": "What is the problem, how do you know, and why does it matter?",
            "scope": "What is in and out of the project: wards, patient groups, times.",
            "unit": "The ward, team or service where the project happens.",
            "sponsor": "A senior person accountable for the project.",
            "lead": "Usually you. Must be a member of the trust.",
            "patient_involvement": "How patients, service users or carers take part.",
            "strategic_theme": "For example: patient safety, flow, workforce.",
            "sharing": "Other trusts and the national centre find what you share in the "
            "learning repository and on the national pages. Nothing is shared until you "
            "choose. The summary is the title, aim and change ideas; the learning adds what "
            "your PDSA cycles found and decided and your learning posts. Never include "
            "patient-identifiable information.",
        }
        error_messages = {
            "title": {"required": "Enter a project title"},
            "aim": {"required": "Enter the aim: what, for whom, how much, by when"},
            "trust": {"required": "Choose the trust"},
            "lead": {"required": "Choose the project lead"},
        }
        widgets = {
            "start_date": _DateInput(),
            "target_date": _DateInput(),
            "problem": forms.Textarea(attrs={"rows": 4}),
            "aim": forms.Textarea(attrs={"rows": 3}),
            "scope": forms.Textarea(attrs={"rows": 3}),
            "patient_involvement": forms.Textarea(attrs={"rows": 3}),
            "visibility": forms.RadioSelect,
            "sharing": forms.RadioSelect,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        if editing:
            trusts = Trust.objects.filter(pk=self.instance.trust_id)
            self.fields["trust"].disabled = True
            self.fields["trust"].help_text = "A project stays with the trust it was registered at."
            del self.fields["confirm_different"]
        else:
            trusts = access.trusts_where(user, Permission.PROJECT_CREATE).order_by("name")
            self.initial.setdefault("lead", user.pk)
            # While the title is typed, htmx asks for similar projects (the fragment goes
            # under the title). Without JavaScript the check happens on submit instead.
            self.fields["title"].widget.attrs.update(
                {
                    "hx-get": reverse("projects:similar"),
                    "hx-trigger": "keyup changed delay:400ms",
                    "hx-target": "#similar-projects",
                    "hx-include": "#id_trust",
                    "hx-swap": "innerHTML",
                    "autocomplete": "off",
                }
            )
        trust_ids = list(trusts.values_list("pk", flat=True))
        self.fields["trust"].queryset = trusts
        self.fields["trust"].empty_label = None if len(trust_ids) == 1 else "Choose a trust"
        units = Unit.objects.filter(trust_id__in=trust_ids).select_related("trust")
        unit_field = UnitChoiceField(
            queryset=units.order_by("trust__name", "path"),
            required=False,
            label="Unit (optional)",
            help_text=self.Meta.help_texts["unit"],
            empty_label="Choose a unit",
        )
        unit_field.show_trust = len(trust_ids) > 1
        if unit_field.show_trust:
            # static/js/projects.js shows only the chosen trust's units.
            unit_field.widget.attrs["data-unit-trusts"] = json.dumps(
                dict(units.values_list("pk", "trust_id"))
            )
        self.fields["unit"] = unit_field
        people = User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.filter(trust_id__in=trust_ids).values("user_id"),
        ).order_by("full_name", "email")
        for name in ("lead", "sponsor", "coach"):
            old = self.fields[name]
            self.fields[name] = PersonChoiceField(
                queryset=people,
                required=name == "lead",
                label=old.label,
                help_text=old.help_text,
                error_messages=old.error_messages,
                empty_label="Choose a person",
            )
        self.fields["quality_dimension"].choices = [("", "Choose a dimension")] + list(
            self.fields["quality_dimension"].choices
        )[1:]
        self.fields["sharing"].required = False
        self.order_fields(self.Meta.fields)
        self._styled()

    def clean_sharing(self):
        # A form (or API client) that leaves the choice out keeps what the project has:
        # "nothing" for a new project.
        return (self.cleaned_data.get("sharing") or self.instance.sharing
                or Project.Sharing.NOTHING)

    def charter_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k in CHARTER_FIELDS}


class Checkbox(forms.CheckboxInput):
    """A checkbox that also reads "1"/"0", "true"/"false" from a query string. (Named so
    its `widget_type` stays "checkbox" for components/field.html.)"""

    def value_from_datadict(self, data, files, name):
        return str(data.get(name, "")).strip().lower() in {"1", "true", "yes", "on"}


STALE_CHOICES = [("", "Any"), ("yes", "Stale (no score for 60 days)"), ("no", "Up to date")]
SCORE_CHOICES = [("", "Any score")] + [(str(s), f"{s} {label}") for s, label in PROGRESS_SCALE]
SORT_CHOICES = [(key, key) for key in selectors.SORTS]


class ProjectFilterForm(NHSFormMixin, forms.Form):
    """Filters for the project list and the API (GET parameters; all optional)."""

    search = forms.CharField(
        required=False, max_length=200, label="Search projects",
        help_text="Searches titles, aims, problems, change ideas and PDSA cycles. "
        'For example: huddle, "discharge before noon", falls -night')
    trust = forms.ModelChoiceField(
        queryset=None, required=False, to_field_name="ods_code", empty_label="Any trust",
        widget=QuickSelect)
    # The unit is typed, not picked from a list: a list of every unit the analyst may see
    # is 9,000 <option>s at national scale (issue 21). `unit` (an id) still works in links
    # and the API; `unit_name` is resolved on the server, with or without JavaScript.
    unit = UnitChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    unit_name = forms.CharField(
        required=False, max_length=200, label="Unit",
        help_text="Type part of the ward, team or division's name, for example Ward 7. "
                  "Includes the wards and teams under it.",
    )
    status = forms.ChoiceField(
        choices=[("", "Any status")] + Project.Status.choices, required=False,
        widget=QuickSelect)
    theme = forms.ChoiceField(choices=[], required=False, label="Strategic theme",
                              widget=QuickSelect)
    score = forms.ChoiceField(choices=SCORE_CHOICES, required=False, label="Progress score",
                              widget=QuickSelect)
    stale = forms.ChoiceField(choices=STALE_CHOICES, required=False, label="Progress updates",
                              widget=QuickSelect)
    mine = forms.BooleanField(
        required=False, widget=Checkbox, label="Only projects I lead or am on the team of"
    )
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        trusts = access.trusts_visible_to(user).order_by("name").select_related(None)
        self.fields["trust"].queryset = trusts  # what a chosen code is checked against
        # The choices as plain values: building the country's 200 Trust rows to print
        # their names cost more than the rest of the filter form (issue 21).
        self.fields["trust"].widget.choices = [("", self.fields["trust"].empty_label)] + [
            (code, Trust.label(name, code))
            for code, name in trusts.values_list("ods_code", "name")]
        units = access.units_visible_to(user).order_by("trust__name", "path")
        self.fields["unit"].queryset = units
        self.fields["unit"].show_trust = True
        themes = selectors.themes_visible_to(user)
        self.fields["theme"].choices = [("", "Any theme")] + [(t, t) for t in themes]
        self.fields["sort"].widget = forms.HiddenInput()
        self._units = units
        if self.is_bound and self.data.get("unit") and not self.data.get("unit_name"):
            # A link to one unit (?unit=<id>): show its name in the box.
            found = units.filter(pk=str(self.data["unit"])).values_list("name", flat=True) \
                if str(self.data["unit"]).isdigit() else []
            if found:
                self.data = self.data.copy()
                self.data["unit_name"] = found[0]
        self._styled()

    UNIT_MATCHES_SHOWN = 8

    def clean(self):
        data = super().clean()
        typed = (data.get("unit_name") or "").strip()
        unit = data.get("unit")
        if not typed:
            data["unit"] = None if "unit_name" in self.data else unit
            return data
        if unit is not None and unit.name.lower() == typed.lower():
            return data  # the unit shown in the box, by its id: names repeat across trusts
        # Not the parent the choice labels join (every unit of the country, hashed, to
        # name 200 matches' parents): the answer and its message need the trust only.
        units = self._units.select_related(None).select_related("trust")
        if data.get("trust") is not None:
            units = units.filter(trust=data["trust"])
        exact = list(units.filter(name__iexact=typed)[:2])
        found = exact if len(exact) == 1 else list(
            units.filter(name__icontains=typed)[: self.UNIT_MATCHES_SHOWN + 1])
        if len(found) == 1:
            data["unit"] = found[0]
        elif not found:
            data["unit"] = None
            self.add_error("unit_name", f"No unit you can see has “{typed}” in its name. "
                                        "Check the spelling, or leave it empty for any unit")
        else:
            data["unit"] = None
            names = ", ".join(f"{u.name} ({u.trust.ods_code})"
                              for u in found[: self.UNIT_MATCHES_SHOWN])
            more = " and more" if len(found) > self.UNIT_MATCHES_SHOWN else ""
            self.add_error("unit_name", f"More than one unit matches “{typed}”: {names}{more}. "
                                        "Type more of the name, or choose the trust too")
        return data

    def filters(self) -> dict:
        """Keyword arguments for `selectors.project_list` from the valid fields."""
        data = self.cleaned_data if self.is_bound else {}
        stale = data.get("stale")
        return {
            "search": data.get("search") or "",
            "trust": data.get("trust"),
            "unit": data.get("unit"),
            "status": data.get("status") or "",
            "theme": data.get("theme") or "",
            "score": Decimal(data["score"]) if data.get("score") else None,
            "stale": {"yes": True, "no": False}.get(stale or ""),
            "mine": bool(data.get("mine")),
            "sort": data.get("sort") or selectors.DEFAULT_SORT,
        }


class TransitionForm(NHSFormMixin, forms.Form):
    to = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="New status",
        error_messages={"required": "Choose the new status"},
    )
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for stopping",
        help_text="Needed only if you stop the project. Say what was learned, too.",
    )

    def __init__(self, *args, allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(s, Project.Status(s).label) for s in allowed]
        self._styled()


class ProgressScoreForm(NHSFormMixin, forms.Form):
    score = forms.TypedChoiceField(
        choices=[(str(s), f"{s} – {label}") for s, label in PROGRESS_SCALE],
        coerce=Decimal,
        widget=forms.RadioSelect,
        label="Progress score",
        help_text="The IHI progress scale, from 0.5 (intent to participate) to 5.0 "
        "(outstanding sustainable results).",
        error_messages={"required": "Choose a progress score"},
    )
    scored_on = forms.DateField(
        widget=_DateInput(),
        label="Date of the score",
        help_text="Today or earlier.",
        error_messages={"required": "Enter the date of the score",
                        "invalid": "Enter a real date, for example 2026-11-26"},
    )
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Comment (optional)",
        help_text="What has changed since the last score?",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scored_on"].initial = timezone.localdate()
        self._styled()


class TeamMemberForm(NHSFormMixin, forms.Form):
    user = PersonChoiceField(
        queryset=None,
        required=False,
        label="Person at the trust",
        help_text="Someone who signs in to the portal.",
        empty_label="Choose a person",
    )
    name = forms.CharField(
        required=False,
        max_length=150,
        label="Or the name of a patient, service user or carer partner",
        help_text="For partners who do not sign in to the portal. Do not enter NHS numbers "
        "or health details.",
    )
    role = forms.ChoiceField(
        choices=TeamMember.Role.choices, initial=TeamMember.Role.MEMBER, label="Role"
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = selectors.trust_people(project.trust_id)
        self._styled()


# ---- driver diagram ----------------------------------------------------------------------


class DriverForm(core_forms.NHSFormMixin, forms.Form):
    text = forms.CharField(
        label="Driver", max_length=300,
        error_messages={"required": "Enter the driver"},
    )


class SecondaryDriverForm(core_forms.NHSFormMixin, forms.Form):
    parent = forms.ModelChoiceField(
        label="Primary driver it sits under", queryset=Driver.objects.none(),
        empty_label=None,
        error_messages={"required": "Choose the primary driver",
                        "invalid_choice": "Choose a primary driver from this diagram"},
    )
    text = forms.CharField(
        label="Secondary driver", max_length=300,
        error_messages={"required": "Enter the secondary driver"},
    )

    def __init__(self, *args, primaries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Driver.objects.filter(
            pk__in=[d.pk for d in primaries]
        )
        self.fields["parent"].choices = [(d.pk, d.text) for d in primaries]


class SecondaryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.text} ({obj.parent.text})" if obj.parent_id else obj.text


class ChangeIdeaForm(core_forms.NHSFormMixin, forms.Form):
    text = forms.CharField(
        label="Change idea", max_length=300,
        error_messages={"required": "Enter the change idea"},
    )
    drivers = SecondaryChoiceField(
        label="Secondary drivers it acts on",
        help_text="Choose at least one.",
        queryset=Driver.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one secondary driver this change idea "
                                    "acts on",
                        "invalid_choice": "Choose secondary drivers from this diagram"},
    )

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["drivers"].queryset = (
            Driver.objects.filter(project=project, parent__isnull=False)
            .select_related("parent").order_by("parent__position", "parent_id", "position", "id")
        )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
