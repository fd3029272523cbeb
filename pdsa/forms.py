"""Forms for the PDSA worksheet: one per stage, a new-cycle form and a one-page quick log.

Forms only parse and check input; writes go through pdsa/services.py. The patient-data
screen runs here (model field validators) and again in the service's full_clean.
"""

from django import forms

from core.forms import NHSFormMixin
from core.screening import no_patient_identifiers
from measures.models import Measure
from pdsa.models import Cycle
from pdsa.services import STAGE_FIELDS
from projects.models import ChangeIdea

NO_PATIENT_DATA_HINT = "Do not enter anything that could identify a patient."

HELP = {
    "objective": "What is this test for? Keep it small: one ward, one shift, a few patients.",
    "questions": "What do you want this test to tell you?",
    "prediction": "What do you think will happen? Write it before you start: the Study "
    "compares the results with it.",
    "who_what_where_when": "Who will do what, where and when.",
    "data_to_collect": "What will you count or observe, and how?",
    "measures": "The project measures that will show whether the prediction held.",
    "what_happened": NO_PATIENT_DATA_HINT,
    "observations": "What did you notice? Anything surprising?",
    "problems": "What got in the way?",
    "results": "Compare what happened with your prediction. Summarise the data.",
    "learning": "What did you learn? What would you do differently?",
    "next_steps": "What will the next cycle test?",
}
LABELS = {
    "objective": "Objective of this test",
    "questions": "Questions",
    "prediction": "Prediction",
    "who_what_where_when": "Who, what, where and when",
    "data_to_collect": "Data to collect",
    "measures": "Linked measures",
    "planned_start": "Planned start (optional)",
    "carried_out_as_planned": "Was the test carried out as planned?",
    "what_happened": "What happened",
    "observations": "Observations and surprises (optional)",
    "problems": "Problems (optional)",
    "done_date": "Date done (optional)",
    "results": "Results compared with the prediction",
    "learning": "What we learned",
    "studied_date": "Date studied (optional)",
    "decision": "Decision",
    "next_steps": "Next steps",
    "act_date": "Date decided (optional)",
}
REQUIRED = {
    "objective": "Enter the objective of this test",
    "carried_out_as_planned": "Select whether the test was carried out as planned",
    "what_happened": "Enter what happened",
    "results": "Enter the results compared with the prediction",
    "decision": "Select adopt, adapt or abandon",
    "prediction": "Enter your prediction of what will happen",
}
DECISION_CHOICES = [
    ("adopt", "Adopt: it worked, make it the way we work"),
    ("adapt", "Adapt: change it and test again"),
    ("abandon", "Abandon: stop testing this idea"),
]


class DateInput(forms.DateInput):
    """A native date picker: it needs ISO values whatever the locale's display format."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):  # noqa: A002 (Django's own name)
        super().__init__(attrs, format=format)


def _textarea(rows=3):
    return forms.Textarea(attrs={"rows": rows})


WIDGETS = {
    name: _textarea()
    for name in (
        "objective",
        "questions",
        "prediction",
        "who_what_where_when",
        "data_to_collect",
        "what_happened",
        "observations",
        "problems",
        "results",
        "learning",
        "next_steps",
    )
}
WIDGETS.update(
    {
        "planned_start": DateInput(),
        "done_date": DateInput(),
        "studied_date": DateInput(),
        "act_date": DateInput(),
        "carried_out_as_planned": forms.RadioSelect,
        "decision": forms.RadioSelect,
        "measures": forms.CheckboxSelectMultiple,
    }
)


class _ConfiguredModelForm(forms.ModelForm):
    """Sets labels, hints, required flags and querysets before NHSFormMixin (earlier in the
    MRO) first validates a bound form and styles its widgets."""

    required_fields: tuple[str, ...] = ()
    always_required: frozenset[str] = frozenset()

    def __init__(self, *args, project=None, change_ideas=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.configure(project=project, change_ideas=change_ideas)

    def configure(self, *, project, change_ideas):
        for name, field in self.fields.items():
            if name in LABELS:
                field.label = LABELS[name]
            if name in HELP:
                field.help_text = HELP[name]
            if name in REQUIRED:
                field.error_messages["required"] = REQUIRED[name]
            field.required = name in self.required_fields or name in self.always_required
            screened = no_patient_identifiers in field.validators
            if isinstance(field, forms.CharField) and not screened:
                field.validators.append(no_patient_identifiers)
        if "carried_out_as_planned" in self.fields:
            self.fields["carried_out_as_planned"].choices = Cycle.AsPlanned.choices
        if "decision" in self.fields:
            self.fields["decision"].choices = DECISION_CHOICES
        if "measures" in self.fields:
            if project is None and self.instance.pk:
                project = self.instance.change_idea.project
            qs = Measure.objects.filter(project=project) if project else Measure.objects.none()
            self.fields["measures"].queryset = qs
            if not qs.exists():
                # Nothing to choose from: hide the empty group rather than show a bare legend.
                del self.fields["measures"]

    def _post_clean(self):
        # The service validates the whole model (full_clean) and writes; the form must not
        # construct or mutate the instance the page is showing.
        pass

    def stage_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class CycleFormBase(NHSFormMixin, _ConfiguredModelForm):
    pass


class StageForm(CycleFormBase):
    """One stage of an existing cycle. `version` is the version the form was loaded at."""

    stage = ""
    always_required = frozenset({"version"})
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        # Each stage's inputs get their own ids: four forms share one page.
        kwargs.setdefault("auto_id", f"id_{self.stage}_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version


class PlanForm(StageForm):
    stage = "plan"
    required_fields = ("objective",)

    class Meta:
        model = Cycle
        fields = STAGE_FIELDS["plan"]
        widgets = WIDGETS


class DoForm(StageForm):
    stage = "do"
    required_fields = ("carried_out_as_planned", "what_happened")

    class Meta:
        model = Cycle
        fields = STAGE_FIELDS["do"]
        widgets = WIDGETS


class StudyForm(StageForm):
    stage = "study"
    required_fields = ("results",)

    class Meta:
        model = Cycle
        fields = STAGE_FIELDS["study"]
        widgets = WIDGETS


class ActForm(StageForm):
    stage = "act"
    required_fields = ("decision",)

    class Meta:
        model = Cycle
        fields = STAGE_FIELDS["act"]
        widgets = WIDGETS


STAGE_FORMS = {"plan": PlanForm, "do": DoForm, "study": StudyForm, "act": ActForm}


class ChangeIdeaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.text} ({obj.project.title})"


class NewCycleForm(CycleFormBase):
    """The Plan of a new cycle, on one page."""

    required_fields = ("objective", "change_idea")

    change_idea = ChangeIdeaChoiceField(
        queryset=ChangeIdea.objects.none(),
        label="Change idea to test",
        empty_label="Select a change idea",
        error_messages={"required": "Select the change idea this cycle tests"},
    )

    class Meta:
        model = Cycle
        fields = ("change_idea", *STAGE_FIELDS["plan"])
        widgets = WIDGETS

    def configure(self, *, project, change_ideas):
        super().configure(project=project, change_ideas=change_ideas)
        ideas = change_ideas if change_ideas is not None else ChangeIdea.objects.none()
        self.fields["change_idea"].queryset = ideas.select_related("project")
        self.fields["change_idea"].widget.attrs["class"] = "nhsuk-select"


class QuickLogForm(NewCycleForm):
    """A small cycle already done: all four stages on one page."""

    required_fields = (
        "change_idea",
        "objective",
        "prediction",
        "carried_out_as_planned",
        "what_happened",
        "results",
        "decision",
    )

    class Meta:
        model = Cycle
        fields = (
            "change_idea",
            *STAGE_FIELDS["plan"],
            *STAGE_FIELDS["do"],
            *STAGE_FIELDS["study"],
            *STAGE_FIELDS["act"],
        )
        widgets = WIDGETS
