"""Forms for collaboratives (NHS.UK classes via NHSFormMixin). Forms only shape input; the
rules live in collaboratives.services and the patient-data screen on every model field."""

from __future__ import annotations

import datetime as dt

from django import forms

from collaboratives.models import (
    SCORE_CHOICES,
    Collaborative,
    LearningPost,
    LearningSession,
    SharedMeasure,
    TeamReport,
)
from core.forms import NHSFormMixin
from core.screening import NO_PATIENT_DATA

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CollaborativeForm(NHSFormMixin, forms.ModelForm):
    host_trust = forms.ModelChoiceField(queryset=None, label="Host organisation",
                                        empty_label=None)

    class Meta:
        model = Collaborative
        fields = ["name", "topic", "aim", "description", "start_date", "end_date",
                  "report_due_day"]
        labels = {"name": "Name of the collaborative", "description": "Description (optional)",
                  "start_date": "Start date", "end_date": "End date",
                  "report_due_day": "Monthly data and reports are due by day"}
        help_texts = {"topic": "For example: falls prevention in older people.",
                      "report_due_day": "Data and the report for a month are due by this day "
                                        "of the next month (1 to 28)."}
        widgets = {"start_date": DATE, "end_date": DATE,
                   "aim": forms.Textarea(attrs={"rows": 3}),
                   "description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, host_trusts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if host_trusts is None:
            del self.fields["host_trust"]
        else:
            self.fields["host_trust"].queryset = host_trusts
            self.order_fields(["host_trust"])


class SessionForm(NHSFormMixin, forms.ModelForm):
    materials_url = forms.URLField(
        label="Link to materials (optional)", required=False, assume_scheme="https",
        max_length=200, validators=NO_PATIENT_DATA,
        help_text="For example the slides or the shared folder.")

    class Meta:
        model = LearningSession
        fields = ["title", "date", "online", "place", "agenda", "materials_url"]
        labels = {"title": "Name of the session", "online": "Held online",
                  "place": "Place (if not online)", "agenda": "Agenda (optional)",
                  "materials_url": "Link to materials (optional)"}
        widgets = {"date": DATE, "agenda": forms.Textarea(attrs={"rows": 4})}


class FacilitatorForm(NHSFormMixin, forms.Form):
    email = forms.EmailField(label="Email address of the new facilitator",
                             help_text="They must already have a QI Portal account.")


class InviteForm(NHSFormMixin, forms.Form):
    trust = forms.ModelChoiceField(queryset=None, label="Trust to invite")

    def __init__(self, *args, trusts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trust"].queryset = trusts


class EnrolForm(NHSFormMixin, forms.Form):
    project = forms.ModelChoiceField(queryset=None, label="Project to enrol as a team",
                                     help_text="A project may take part in several "
                                               "collaboratives.")

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["project"].label_from_instance = (
            lambda p: f"{p.title} ({p.trust.ods_code})")


class SharedMeasureForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = SharedMeasure
        fields = ["name", "kind", "definition", "numerator", "denominator", "unit_label",
                  "chart", "direction", "frequency", "target"]
        labels = {"name": "Measure name", "kind": "Type of measure",
                  "numerator": "Numerator (P and U charts)",
                  "denominator": "Denominator (P and U charts)",
                  "direction": "Which way is better?", "target": "Target (optional)"}
        help_texts = {
            "definition": "Exactly what every team counts, from where, and how often.",
            "target": "In the same unit as the data. For P charts a proportion, for "
                      "example 0.95 for 95%.",
            "chart": "P chart for a percentage of a total and U chart for a rate per unit of "
                     "exposure (both need a numerator and a denominator); XmR for a single "
                     "value each period. Only P and U charts can be compared on a funnel "
                     "plot.",
        }
        widgets = {"kind": forms.RadioSelect, "direction": forms.RadioSelect,
                   "definition": forms.Textarea(attrs={"rows": 3})}


def month_choices(first: dt.date, last: dt.date) -> list[tuple[str, str]]:
    out, d = [], last.replace(day=1)
    while d >= first.replace(day=1):
        out.append((d.strftime("%Y-%m"), d.strftime("%B %Y")))
        d = (d - dt.timedelta(days=1)).replace(day=1)
    return out


class TeamReportForm(NHSFormMixin, forms.ModelForm):
    month = forms.ChoiceField(label="Month reported on")

    class Meta:
        model = TeamReport
        fields = ["score", "tested", "learned", "help_needed"]
        labels = {"score": "Where is the team on the IHI progress scale?"}
        widgets = {"score": forms.RadioSelect,
                   "tested": forms.Textarea(attrs={"rows": 3}),
                   "learned": forms.Textarea(attrs={"rows": 3}),
                   "help_needed": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, months, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = months
        self.fields["score"].choices = SCORE_CHOICES
        self.order_fields(["month"])

    def clean_month(self):
        return dt.datetime.strptime(self.cleaned_data["month"], "%Y-%m").date()


class AssessForm(NHSFormMixin, forms.Form):
    faculty_score = forms.TypedChoiceField(
        label="The faculty's progress score", choices=SCORE_CHOICES, coerce=str,
        widget=forms.RadioSelect)
    faculty_comment = forms.CharField(label="Comment for the team (optional)", required=False,
                                      widget=forms.Textarea(attrs={"rows": 3}),
                                      validators=NO_PATIENT_DATA)


class PostForm(NHSFormMixin, forms.ModelForm):
    tags = forms.CharField(label="Tags (optional)", required=False, max_length=300,
                           help_text="Separate tags with commas, for example: huddles, "
                                     "night shift.", validators=NO_PATIENT_DATA)
    enrolment = forms.ModelChoiceField(queryset=None, required=False, label="Team (optional)",
                                       empty_label="Not from one team")

    class Meta:
        model = LearningPost
        fields = ["title", "body"]
        labels = {"title": "Title", "body": "What did you learn?"}
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrolment"].queryset = teams
        self.fields["enrolment"].label_from_instance = lambda e: e.team_name
        self.order_fields(["title", "body", "tags", "enrolment"])


class CommentForm(NHSFormMixin, forms.Form):
    body = forms.CharField(label="Add a comment", widget=forms.Textarea(attrs={"rows": 3}),
                           validators=NO_PATIENT_DATA)


class PackageIdeaForm(NHSFormMixin, forms.Form):
    title = forms.CharField(label="Change idea", max_length=300, validators=NO_PATIENT_DATA,
                            help_text="For example: lying and standing blood pressure on the "
                                      "morning drug round.")
    description = forms.CharField(label="Description (optional)", required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  validators=NO_PATIENT_DATA)
    shared_measure = forms.ModelChoiceField(queryset=None, required=False,
                                            label="Shared measure it should move (optional)")

    def __init__(self, *args, shared_measures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shared_measure"].queryset = shared_measures


class PackageLinkForm(NHSFormMixin, forms.Form):
    idea = forms.ModelChoiceField(queryset=None, label="Change idea of the package")
    cycle = forms.ModelChoiceField(queryset=None, label="Your PDSA cycle that tested it",
                                   help_text="The collaborative will see its decision (adopt, "
                                             "adapt or abandon) and its dates.")

    def __init__(self, *args, ideas, cycles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idea"].queryset = ideas
        self.fields["cycle"].queryset = cycles
        self.fields["cycle"].label_from_instance = (
            lambda c: f"Cycle {c.number}: {c.change_idea.text}"
                      + (f" ({c.get_decision_display()})" if c.decision else ""))
