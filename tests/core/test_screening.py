import pytest
from django.core.exceptions import ValidationError

from core.screening import (
    DOB_MESSAGE,
    NHS_NUMBER_MESSAGE,
    is_valid_nhs_number,
    no_patient_identifiers,
    screen_text,
)


@pytest.mark.parametrize(
    "number", ["9434765919", "943 476 5919", "943-476-5919", "4010232137", "9990000018"]
)
def test_valid_nhs_numbers_in_each_format_are_refused(number):
    assert screen_text(f"Patient {number} fell twice") == [NHS_NUMBER_MESSAGE]


def test_the_message_says_why():
    assert NHS_NUMBER_MESSAGE == (
        "This looks like an NHS number. Do not enter patient-identifiable information; "
        "QI data must be aggregate."
    )


@pytest.mark.parametrize(
    "text",
    [
        "9434765918",  # wrong check digit
        "943 476 5910",
        "Ref 1234567890",  # check digit would be 10: never valid
        "020 7946 0000",  # London phone number
        "02079460000",
        "0161 496 0000",
        "19434765919",  # NHS-number-like digits inside a longer run
        "94347659190",
        "audit on 12/03/2025",
        "Falls fell from 12 to 6 between 01/02/2026 and 28/02/2026",
        "Huddle started 3 March 2026 on Ward 7",
        "",
        None,
    ],
)
def test_ordinary_text_is_allowed(text):
    assert screen_text(text) == []


def test_check_digit_rule():
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")
    assert not is_valid_nhs_number("123456789")


@pytest.mark.parametrize(
    "text",
    [
        "DOB 12/03/1954",
        "dob: 12-03-54",
        "d.o.b. 12/03/1954",
        "D.O.B 12.03.1954",
        "born 12 March 1954",
        "Date of birth 1 Jan 1950",
        "patient born on 12th March 1954",
    ],
)
def test_a_date_of_birth_is_refused(text):
    assert screen_text(text) == [DOB_MESSAGE]


@pytest.mark.parametrize(
    "text",
    [
        "John Smith 12/03/1954",
        "seen: Mary O'Brien, 4 May 1948",
        "12/03/1954 John Smith",
        "Ian McDonald (03/04/1961)",
    ],
)
def test_a_name_next_to_a_date_is_refused(text):
    problems = screen_text(text)
    assert len(problems) == 1
    assert "name next to a date" in problems[0]


@pytest.mark.parametrize("text", ["Ward Round 12/03/2026", "Safety Huddle 3 March 2026"])
def test_event_names_next_to_dates_are_allowed(text):
    assert screen_text(text) == []


def test_validator_raises_with_the_reason():
    with pytest.raises(ValidationError) as exc:
        no_patient_identifiers("NHS no 943 476 5919, DOB 12/03/1954")
    assert exc.value.messages == [NHS_NUMBER_MESSAGE, DOB_MESSAGE]
    no_patient_identifiers("Falls fell by a third")
