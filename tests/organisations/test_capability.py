"""QI capability returns and NHS IMPACT self-assessments: models, forms, services, uploads."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from organisations import capability
from organisations.forms import CapabilityReturnForm, ImpactAssessmentForm
from organisations.models import (
    DEFAULT_CAPABILITY_LEVELS,
    IMPACT_COMPONENTS,
    CapabilityCount,
    CapabilityReturn,
    ImpactAssessment,
)

Q1 = dt.date(2025, 1, 1)
Q2 = dt.date(2025, 4, 1)
NHS_NUMBER = "943 476 5919"  # a valid NHS number (checksum), the screen's test case


def _csv(text: str, name="returns.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _header():
    return ",".join(capability.upload_columns())


def test_default_levels_are_made_once_in_order(db):
    first = capability.levels()
    assert [lv.name for lv in first] == list(DEFAULT_CAPABILITY_LEVELS)
    assert [lv.pk for lv in capability.levels()] == [lv.pk for lv in first]


def test_parse_quarter_accepts_labels_and_dates():
    assert capability.parse_quarter("2025 Q2") == Q2
    assert capability.parse_quarter("2025-q1") == Q1
    assert capability.parse_quarter("2025-05-17") == Q2
    assert capability.parse_quarter(dt.date(2025, 3, 31)) == Q1
    assert capability.parse_quarter("spring") is None


def test_return_save_records_counts_and_replaces(quentin, trust_a):
    levels = capability.levels()
    ret = capability.return_save(quentin, trust_a, quarter=Q1, headcount=4000,
                                 leadership_completions=3,
                                 trained={levels[0].pk: 200, levels[1].pk: 40})
    assert {c.level_id: c.trained for c in ret.counts.all()} == {levels[0].pk: 200,
                                                                  levels[1].pk: 40}
    capability.return_save(quentin, trust_a, quarter=Q1, headcount=4100,
                           leadership_completions=5, trained={levels[0].pk: 210})
    assert CapabilityReturn.objects.filter(trust=trust_a).count() == 1
    again = CapabilityReturn.objects.get(trust=trust_a)
    assert again.headcount == 4100
    assert list(again.counts.values_list("trained", flat=True)) == [210]


def test_return_rejects_a_date_that_is_not_a_quarter_start_and_saves_nothing(quentin, trust_a):
    with pytest.raises(ValidationError):
        capability.return_save(quentin, trust_a, quarter=dt.date(2025, 2, 1), headcount=10,
                               leadership_completions=0, trained={})
    assert not CapabilityReturn.objects.exists()


def test_headcount_must_be_positive_in_the_database(trust_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        CapabilityReturn.objects.create(trust=trust_a, quarter=Q1, headcount=0)


def test_clinician_and_analyst_may_not_record(alice, nadia, trust_a):
    for user in (alice, nadia):
        with pytest.raises(PermissionDenied):
            capability.return_save(user, trust_a, quarter=Q1, headcount=10,
                                   leadership_completions=0, trained={})
    assert not CapabilityReturn.objects.exists()


def test_form_has_a_field_per_level_and_plain_errors(db):
    levels = capability.levels()
    form = CapabilityReturnForm({"quarter": "", "headcount": "0", "leadership_completions": "x"},
                                levels=levels, quarters=[Q1, Q2])
    assert [f"trained_{lv.pk}" in form.fields for lv in levels] == [True] * 4
    assert not form.is_valid()
    assert form.errors["quarter"] == ["Choose the quarter"]
    assert "more than 0" in form.errors["headcount"][0]
    assert "whole number" in form.errors["leadership_completions"][0]
    assert form.errors[f"trained_{levels[0].pk}"][0].startswith("Enter staff trained")


def test_upload_saves_every_row(quentin, trust_a):
    levels = capability.levels()
    text = f"{_header()}\n2025 Q1,4000,3,100,20,5,1\n2025-04-01,4100,4,120,25,6,2\n"
    parsed, saved = capability.upload_save(quentin, trust_a, _csv(text))
    assert parsed.errors == [] and saved == 2
    q2 = CapabilityReturn.objects.get(trust=trust_a, quarter=Q2)
    assert q2.headcount == 4100 and q2.leadership_completions == 4
    assert q2.counts.get(level=levels[0]).trained == 120


def test_upload_is_all_or_nothing_with_row_errors(quentin, trust_a):
    text = (f"{_header()}\n2025 Q1,4000,3,100,20,5,1\n"
            "2025 Q5,4000,3,100,20,5,1\n2025 Q1,0,3,-1,20,5,1\n")
    parsed, saved = capability.upload_save(quentin, trust_a, _csv(text))
    assert saved == 0
    messages = [str(e) for e in parsed.errors]
    assert "Row 3, column ‘quarter’: must be a quarter such as 2025 Q1, or a date in it" \
        in messages
    assert "Row 4, column ‘quarter’: repeats row 2" in messages
    assert "Row 4, column ‘headcount’: must be more than 0" in messages
    assert any(m.startswith("Row 4, column ‘awareness’") for m in messages)
    assert not CapabilityReturn.objects.exists()


def test_upload_reports_missing_columns(quentin, trust_a):
    parsed, saved = capability.upload_save(quentin, trust_a, _csv("quarter,headcount\n"
                                                                  "2025 Q1,10\n"))
    assert saved == 0
    assert "leadership_completions" in str(parsed.errors[0])


def test_upload_reads_xlsx(quentin, trust_a):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(capability.upload_columns())
    sheet.append([dt.datetime(2025, 2, 14), 3000, 2, 90, 10, 3, 1])
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("r.xlsx", out.getvalue())
    parsed, saved = capability.upload_save(quentin, trust_a, upload)
    assert parsed.errors == [] and saved == 1
    ret = CapabilityReturn.objects.get(trust=trust_a)
    assert ret.quarter == Q1
    assert sum(CapabilityCount.objects.filter(capability_return=ret)
               .values_list("trained", flat=True)) == 104


def test_upload_rejects_other_files(quentin, trust_a):
    parsed, _ = capability.upload_save(quentin, trust_a, SimpleUploadedFile("a.txt", b"x"))
    assert "CSV or an Excel" in str(parsed.errors[0])
    parsed, _ = capability.upload_save(quentin, trust_a, SimpleUploadedFile("a.xlsx", b"nope"))
    assert "not an Excel workbook" in str(parsed.errors[0])


def _impact_scores(n=3):
    return {k: n for k, _ in IMPACT_COMPONENTS}


def test_impact_save_and_replace(tara, trust_a):
    capability.impact_save(tara, trust_a, year=2025, scores=_impact_scores(2),
                           evidence={"purpose": "Board strategy session"})
    capability.impact_save(tara, trust_a, year=2025, scores=_impact_scores(4), evidence={})
    only = ImpactAssessment.objects.get(trust=trust_a)
    assert only.purpose_score == 4 and only.systems_score == 4 and only.purpose_evidence == ""


def test_impact_evidence_is_screened_for_patient_data(tara, trust_a):
    with pytest.raises(ValidationError) as exc:
        capability.impact_save(tara, trust_a, year=2025, scores=_impact_scores(),
                               evidence={"people": f"Patient {NHS_NUMBER} said so"})
    assert "people_evidence" in exc.value.message_dict
    assert not ImpactAssessment.objects.exists()
    form = ImpactAssessmentForm({"year": "2025", **{f"{k}_score": "3" for k, _ in
                                                    IMPACT_COMPONENTS},
                                 "people_evidence": f"NHS number {NHS_NUMBER}"},
                                years=[2025])
    assert not form.is_valid()
    assert "people_evidence" in form.errors


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_record_page_saves_a_quarter(client, quentin, trust_a):
    levels = capability.levels()
    quarter = capability.recent_quarters(2)[0]
    url = reverse("reports:trust_capability_record", args=[trust_a.ods_code])
    data = {"quarter": quarter.isoformat(), "headcount": "2000", "leadership_completions": "1",
            **{f"trained_{lv.pk}": str(10 * (i + 1)) for i, lv in enumerate(levels)}}
    response = _sign_in(client, quentin).post(url, data)
    assert response.status_code == 302
    ret = CapabilityReturn.objects.get(trust=trust_a)
    assert ret.quarter == quarter and sum(c.trained for c in ret.counts.all()) == 100
    page = client.get(reverse("reports:trust_capability", args=[trust_a.ods_code]))
    assert "50.0" in page.content.decode()  # 100 trained × 1,000 ÷ 2,000


def test_record_page_shows_an_error_summary(client, quentin, trust_a):
    url = reverse("reports:trust_capability_record", args=[trust_a.ods_code])
    response = _sign_in(client, quentin).post(url, {"headcount": "abc"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body and "Choose the quarter" in body
    assert not CapabilityReturn.objects.exists()


def test_upload_page_lists_row_errors(client, quentin, trust_a):
    url = reverse("reports:trust_capability_upload", args=[trust_a.ods_code])
    text = f"{_header()}\n2025 Q1,4000,x,1,1,1,1\n"
    response = _sign_in(client, quentin).post(url, {"file": _csv(text)})
    assert response.status_code == 200
    assert "Row 2, column ‘leadership_completions’" in response.content.decode()
    assert not CapabilityReturn.objects.exists()


def test_the_template_sent_back_unchanged_saves_nothing(quentin, trust_a):
    """Issue 20 item 6: the template's example is a comment line the upload ignores; real
    looking rows would have overwritten a trust's returns with zeros."""
    from organisations.models import CapabilityReturn

    text = capability.template_csv().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].split(",")[:3] == ["quarter", "headcount", "improvement_projects"] or \
        lines[0].startswith("quarter")
    assert all(line.startswith('"#') or line.startswith("#") for line in lines[1:])
    parsed, saved = capability.upload_save(
        quentin, trust_a, SimpleUploadedFile("template.csv", text.encode("utf-8-sig")))
    assert saved == 0 and not CapabilityReturn.objects.filter(trust=trust_a).exists()
    assert any("no quarters" in e.message for e in parsed.errors)
