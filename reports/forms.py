"""reports forms."""

import datetime as dt

from django import forms
from django.utils import timezone

from core.forms import NHSFormMixin
from organisations.models import Unit
from reports import history


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
