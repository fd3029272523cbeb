"""Forms for measures, the data grid and uploads (NHS.UK classes via NHSFormMixin).

Forms only shape input; the rules live in measures.services and measures.imports.
"""

from __future__ import annotations

from django import forms

from core.forms import NHSFormMixin
from measures.imports import ANNOTATION_MAX
from measures.models import Measure
from projects.models import Driver

CHART_HINTS = {
    "run": "A simple chart of values over time with a median line. Use it when you have "
           "fewer than 13 points or are just starting.",
    "xmr": "For a single value each period, such as a rate, an average or a time (for "
           "example falls per 1,000 bed days, minutes to antibiotics).",
    "p": "For a percentage of a total that changes each period (for example patients given "
         "antibiotics within one hour out of all patients with sepsis).",
    "u": "For a rate of events per unit of exposure that changes each period (for example "
         "falls per 1,000 bed days, entered as falls and bed days in thousands).",
    "c": "For a count of events when the opportunity stays about the same each period (for "
         "example incidents of restraint each month on one ward).",
    "g": "For rare events, counted in cases between them: enter each event's date and how "
         "many cases (for example operations) there were since the previous one. Choose "
         "“Each event” as the frequency.",
    "t": "For rare events, as time between them: enter only the date of each event (for "
         "example each fall with harm). Choose “Each event” as the frequency.",
}



class MeasureForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["name", "kind", "definition", "unit_label", "frequency", "chart",
                  "rate_per", "direction", "target", "driver"]
        labels = {
            "name": "Measure name",
            "kind": "Type of measure",
            "chart": "Chart",
            "direction": "Which way is better?",
            "rate_per": "Rate per (U charts only)",
            "target": "Target (optional)",
            "driver": "Driver it measures (optional)",
        }
        help_texts = {
            "name": "For example: Falls per 1,000 occupied bed days.",
            "kind": "Outcome measures show the aim; process measures show the drivers; "
                    "balancing measures show what might get worse.",
            "definition": "Exactly what is counted, from where, and how often, so anyone "
                          "collects it the same way.",
            "rate_per": "A U chart shows the count per this many of the denominator: 1000 "
                        "for falls per 1,000 bed days. Leave 1 for a rate per 1 (other "
                        "charts ignore it).",
            "target": "A number in the same unit as the data. For P charts write a "
                      "proportion, for example 0.95 for 95%. For U charts write the rate "
                      "per the number above, for example 5 for 5 falls per 1,000 bed days.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "chart": forms.RadioSelect,
            "direction": forms.RadioSelect,
            "definition": forms.Textarea(attrs={"rows": 4}),
            "target": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "rate_per": forms.NumberInput(attrs={"inputmode": "numeric",
                                                 "class": "nhsuk-input nhsuk-input--width-10"}),
        }
        error_messages = {
            "name": {"required": "Enter the measure name"},
            "kind": {"required": "Choose the type of measure"},
            "definition": {"required": "Enter the operational definition"},
            "frequency": {"required": "Choose how often the data is collected"},
            "chart": {"required": "Choose a chart"},
            "direction": {"required": "Choose which way is better"},
            "target": {"invalid": "Enter the target as a number, for example 5.5"},
            "rate_per": {"required": "Enter the rate per, for example 1000 (or 1)",
                         "invalid": "Enter the rate per as a whole number, for example 1000",
                         "min_value": "Enter the rate per as 1 or more",
                         "max_value": "Enter the rate per as 1,000,000 or less"},
        }

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["driver"].queryset = Driver.objects.filter(project=project).select_related(
            "parent").order_by("parent_id", "position", "id")
        self.fields["driver"].empty_label = "Not linked to a driver"
        self.fields["driver"].label_from_instance = (
            lambda d: f"{d.text} (secondary)" if d.parent_id else f"{d.text} (primary)"
        )
        # Radios need no blank "---------" option; required-ness is enough.
        self.fields["kind"].choices = Measure.Kind.choices
        self.fields["direction"].choices = Measure.Direction.choices
        self.fields["frequency"].choices = Measure.Frequency.choices
        self.fields["frequency"].initial = Measure.Frequency.MONTHLY
        # Only U charts read it, so an empty box means "per 1".
        self.fields["rate_per"].required = False
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and hasattr(instance, "national_adoption"):
            # The national definition sets the rate; comparisons count on it.
            self.fields["rate_per"].disabled = True
            self.fields["rate_per"].help_text = ("Set by the national definition this measure "
                                                 "follows.")
        self.chart_options = [
            {"value": value, "label": label, "hint": CHART_HINTS[value]}
            for value, label in Measure.Chart.choices
        ]

    def clean_rate_per(self):
        return self.cleaned_data.get("rate_per") or 1


NUMBER_ATTRS = {"inputmode": "decimal", "class": "nhsuk-input nhsuk-input--width-5"}


class DataRowForm(forms.Form):
    """One row of the grid. Text fields on purpose: measures.imports checks the values.

    Not an NHSFormMixin form: the mixin reads `errors` in __init__, which would validate
    before the formset adds its DELETE field. The widgets carry their classes instead.
    """

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    period = forms.CharField(
        label="Period", required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "nhsuk-input app-grid-date"}),
    )
    value = forms.CharField(
        label="Value", required=False,
        widget=forms.TextInput(attrs=NUMBER_ATTRS),
    )
    numerator = forms.CharField(
        label="Numerator", required=False,
        widget=forms.TextInput(attrs=NUMBER_ATTRS),
    )
    denominator = forms.CharField(
        label="Denominator", required=False,
        widget=forms.TextInput(attrs=NUMBER_ATTRS),
    )
    annotation = forms.CharField(label="Annotation", required=False,
                                 max_length=ANNOTATION_MAX + 50,
                                 widget=forms.TextInput(attrs={"class": "nhsuk-input"}))
    rebaseline = forms.BooleanField(label="Re-baseline", required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("id") and not any(
            (data.get(k) or "").strip()
            for k in ("period", "value", "numerator", "denominator", "annotation")
        )


class BaseDataFormSet(forms.BaseFormSet):
    pass


DataFormSet = forms.formset_factory(
    DataRowForm, formset=BaseDataFormSet, extra=3, can_delete=True, max_num=2000,
    absolute_max=2100, validate_max=True,
)


class UploadForm(NHSFormMixin, forms.Form):
    file = forms.FileField(
        label="Upload a file",
        help_text="CSV or Excel (.xlsx), up to 5 MB and 2,000 rows.",
        error_messages={"required": "Choose a CSV or Excel file to upload",
                        "empty": "The file is empty"},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    # The measure's data_version when the page was opened: replacing values that someone
    # changed after it is refused (services.DataConflict) rather than done silently.
    base_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
