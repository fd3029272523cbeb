"""reports forms."""

from django import forms

from core.forms import NHSFormMixin
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
