"""reports forms."""

import datetime as dt

from django import forms
from django.utils import timezone

from core.forms import NHSFormMixin
from organisations.models import Trust, Unit
from pdsa.models import Cycle
from reports import history
from reports.models import CaseStudy, NationalMeasure


class HistoryFilterForm(NHSFormMixin, forms.Form):
    """The project history's filter (GET): which kinds of change to show; none means all."""

    kind = forms.MultipleChoiceField(
        choices=list(history.KINDS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Show only these kinds of change",
        help_text="Leave them all unticked to see every change.",
    )

    def kinds(self) -> list[str]:
        if not self.is_bound:
            return []
        if self.is_valid():
            return self.cleaned_data["kind"]
        # A kind that no longer exists (an old bookmark) is ignored, not an error page.
        return [k for k in self.data.getlist("kind") if k in history.KINDS]


def _last_months(n: int = 13) -> list[tuple[str, str]]:
    month = timezone.localdate().replace(day=1)
    choices = []
    for _ in range(n):
        choices.append((month.isoformat(), f"{month:%B %Y}"))
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return choices


class BoardPackForm(NHSFormMixin, forms.Form):
    month = forms.TypedChoiceField(label="Month", coerce=dt.date.fromisoformat,
                                   help_text="The month the pack reports on.")
    unit = forms.ModelChoiceField(
        label="Division or ward (optional)", queryset=None, required=False,
        empty_label="The whole trust",
        help_text="Leave as the whole trust, or choose a part of it.")

    def __init__(self, *args, trust, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = _last_months()
        self.fields["unit"].queryset = Unit.objects.filter(trust=trust).order_by("path")


# ---- comparing trusts: national definitions, the centre's setting, adoption, the picker ----


class NationalMeasureForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = NationalMeasure
        fields = ["name", "topic", "definition", "numerator", "denominator", "chart",
                  "rate_per", "unit_label", "direction", "frequency"]
        labels = {"name": "Name of the measure", "unit_label": "Unit (optional)"}
        widgets = {"definition": forms.Textarea(attrs={"rows": 4}),
                   "chart": forms.RadioSelect, "direction": forms.RadioSelect}


class ComparisonSettingForm(NHSFormMixin, forms.Form):
    name_trusts = forms.BooleanField(
        label="Show other trusts by name to trust users", required=False,
        help_text="Unticked, trust users see their own trust by name and the others as "
                  "Trust A, Trust B and so on. National analysts always see names.")


class NationalAdoptForm(NHSFormMixin, forms.Form):
    how = forms.ChoiceField(
        label="How will your trust report this measure?", widget=forms.RadioSelect,
        choices=[("link", "Link a measure we already collect"),
                 ("create", "Add a new measure to a project, from this definition")])
    measure = forms.ModelChoiceField(
        label="Your measure", queryset=None, required=False, empty_label="Choose a measure",
        help_text="Only measures with the same kind of chart are listed.")
    project = forms.ModelChoiceField(
        label="Project to add the new measure to", queryset=None, required=False,
        empty_label="Choose a project")

    def __init__(self, *args, measures, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].queryset = measures
        self.fields["measure"].label_from_instance = (
            lambda m: f"{m.name} ({m.project.title}, {m.project.trust.name})")
        self.fields["project"].queryset = projects
        self.fields["project"].label_from_instance = (
            lambda p: f"{p.title} ({p.trust.name})")

    def clean(self):
        data = super().clean()
        how = data.get("how")
        if how == "link" and not data.get("measure"):
            self.add_error("measure", "Choose the measure to link.")
        if how == "create" and not data.get("project"):
            self.add_error("project", "Choose the project to add the measure to.")
        return data


class CompareForm(NHSFormMixin, forms.Form):
    """The comparison page's picker (GET): a period and, for the deciles chart, a trust."""

    period = forms.ChoiceField(label="Period for the funnel plot")
    trust = forms.TypedChoiceField(label="Trust to show against the national deciles",
                                   coerce=int)

    def __init__(self, *args, periods, trusts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = periods
        self.fields["trust"].choices = trusts


# ---- learning repository (reports/learning.py) ------------------------------------------


class LearningSearchForm(NHSFormMixin, forms.Form):
    """The repository's search and filters (GET). `facets` (reports.learning.facets) and
    `regions` give the choices, so a filter only offers what the reader could find."""

    q = forms.CharField(label="Search shared learning", required=False, max_length=200,
                        help_text='For example: falls, "sepsis six", huddle -night')
    topic = forms.ChoiceField(label="Topic", required=False)
    trust_type = forms.MultipleChoiceField(
        label="Trust type", required=False, widget=forms.CheckboxSelectMultiple,
        choices=Trust.Type.choices)
    region = forms.TypedChoiceField(label="Region", required=False, coerce=int,
                                    empty_value=None)
    decision = forms.MultipleChoiceField(
        label="PDSA decision", required=False, widget=forms.CheckboxSelectMultiple,
        choices=Cycle.Decision.choices)
    collaborative = forms.TypedChoiceField(label="Collaborative", required=False, coerce=int,
                                           empty_value=None)
    year = forms.TypedChoiceField(label="Year", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, facets: dict, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [("", "Any topic")] + [(t, t) for t in facets["topics"]]
        self.fields["region"].choices = [("", "Any region")] + [(r.pk, r.name) for r in regions]
        self.fields["collaborative"].choices = [("", "Any collaborative")] + [
            (pk, name) for pk, name in facets["collaboratives"]]
        self.fields["year"].choices = [("", "Any year")] + [(y, y) for y in facets["years"]]


class CaseStudyForm(NHSFormMixin, forms.ModelForm):
    source_url = forms.URLField(
        label="Link to the source", max_length=500, assume_scheme="https",
        help_text="The public page the case study comes from, starting https://",
        error_messages={"required": "Enter the link to the source",
                        "invalid": "Enter a link starting https://"})

    class Meta:
        model = CaseStudy
        fields = ["title", "source_name", "source_url", "country", "year", "topic", "summary"]
        labels = {"source_name": "Source", "source_url": "Link to the source",
                  "topic": "Topic (optional)", "summary": "Summary"}
        help_texts = {
            "source_url": "The public page the case study comes from, starting https://",
            "summary": "What they did and what they learned, in your own words. Never include "
            "patient-identifiable information.",
            "year": "The year the work was reported, for example 2019.",
        }
        error_messages = {
            "title": {"required": "Enter a title"},
            "source_name": {"required": "Enter the source"},
            "source_url": {"required": "Enter the link to the source",
                           "invalid": "Enter a link starting https://"},
            "country": {"required": "Enter the country"},
            "year": {"required": "Enter the year", "invalid": "Enter the year as a number"},
            "summary": {"required": "Enter a summary"},
        }
        widgets = {"summary": forms.Textarea(attrs={"rows": 6})}

    def clean_year(self):
        year = self.cleaned_data["year"]
        if not 1990 <= year <= timezone.localdate().year:
            raise forms.ValidationError(
                f"Enter a year between 1990 and {timezone.localdate().year}")
        return year
