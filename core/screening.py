"""Screen free text for patient-identifiable data before it is stored.

QI data must be aggregate. This catches the two identifiers people most often paste by
mistake: an NHS number and a date of birth next to a name. It is a safety net, not a
guarantee; the forms also say plainly what not to enter.

`screen_text(text) -> list[str]` returns the problems found (empty when the text is fine);
`no_patient_identifiers` is the Django validator used by model fields, forms and DRF
serializers. Other apps may import it for their own free text.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_NOT_PATIENT_DATA = (
    "Do not enter patient-identifiable information; QI data must be aggregate."
)
NHS_NUMBER_MESSAGE = f"This looks like an NHS number. {_NOT_PATIENT_DATA}"
DOB_MESSAGE = f"This looks like a date of birth. {_NOT_PATIENT_DATA}"
NAME_DATE_MESSAGE = (
    f"This looks like a person's name next to a date, which could be a date of birth. "
    f"{_NOT_PATIENT_DATA}"
)

# 3-3-4 digits, run together or split by one kind of separator (space or dash), and not part
# of a longer run of digits (so 11-digit phone numbers and reference numbers pass).
_NHS_NUMBER = re.compile(r"(?<![\d])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\d])")

_MONTHS = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"  # 12/03/1954, 12-3-54, 12.03.1954
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{4}}"  # 12 March 1954
    rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 12, 1954
    r"|\d{4}-\d{2}-\d{2})"  # 1954-03-12
)
_DOB = re.compile(
    rf"(?<!\w)(?:d\.?\s?o\.?\s?b\.?|date\s+of\s+birth|born(?:\s+on)?)\s*[:\-–]?\s*{_DATE}",
    re.IGNORECASE,
)
# Two capitalised words (a name) directly before or after a date.
# A capitalised word, allowing O'Brien, McDonald and Smith-Jones.
_WORD = r"[A-Z](?:'[A-Z])?[a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
_NAME = rf"{_WORD}\s+{_WORD}"
_NAME_DATE = re.compile(
    rf"(?P<name1>{_NAME})\s*[,(]?\s*{_DATE}|{_DATE}\s*[,)]?\s*(?P<name2>{_NAME})"
)
# Capitalised words that start sentences or name places and events, not people: a name next
# to a date only counts when neither word is one of these.
_NOT_NAMES = {
    "act", "and", "april", "audit", "august", "board", "clinic", "cycle", "day", "december",
    "do", "during", "february", "friday", "from", "huddle", "in", "january", "july", "june",
    "march", "may", "meeting", "monday", "month", "night", "november", "october", "on",
    "plan", "review", "round", "safety", "saturday", "september", "shift", "since", "started",
    "study", "sunday", "team", "the", "thursday", "trust", "tuesday", "unit", "until", "ward",
    "wednesday", "week", "with",
}


def is_valid_nhs_number(digits: str) -> bool:
    """Modulus 11: weights 10..2 on the first nine digits; 11 → 0; 10 is never valid."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def _looks_like_name(name: str) -> bool:
    return not any(word.lower() in _NOT_NAMES for word in name.split())


def screen_text(text: str | None) -> list[str]:
    """The reasons `text` looks patient-identifiable (empty list when it looks fine)."""
    if not text:
        return []
    problems: list[str] = []
    for match in _NHS_NUMBER.finditer(text):
        if is_valid_nhs_number(match.group(1) + match.group(3) + match.group(4)):
            problems.append(NHS_NUMBER_MESSAGE)
            break
    if _DOB.search(text):
        problems.append(DOB_MESSAGE)
    else:
        for match in _NAME_DATE.finditer(text):
            name = match.group("name1") or match.group("name2")
            if _looks_like_name(name):
                problems.append(NAME_DATE_MESSAGE)
                break
    return problems


@deconstructible(path="core.screening.NoPatientIdentifiers")
class NoPatientIdentifiers:
    """Validator: refuse text that looks like it identifies a patient."""

    code = "patient_identifiable"

    def __call__(self, value):
        problems = screen_text(value if isinstance(value, str) else str(value or ""))
        if problems:
            raise ValidationError(problems, code=self.code)

    def __eq__(self, other):
        return isinstance(other, NoPatientIdentifiers)

    def __hash__(self):
        return hash(self.code)


no_patient_identifiers = NoPatientIdentifiers()

# For model fields: `models.TextField(..., validators=NO_PATIENT_DATA)`. Every free-text
# field of every model carries it (tests/core/test_every_text_field_is_screened.py).
NO_PATIENT_DATA = [no_patient_identifiers]
