"""A U-chart measure that follows a national definition takes the definition's rate (for
example per 1,000 bed days), with its target in the same unit, and is marked for an SPC
rebuild so its snapshot, matrix row and board pack read in that unit (issue 20)."""

from django.db import migrations
from django.utils import timezone


def carry_rate(apps, schema_editor):
    NationalAdoption = apps.get_model("reports", "NationalAdoption")
    Measure = apps.get_model("measures", "Measure")
    now = timezone.now()
    rows = (NationalAdoption.objects.filter(national_measure__chart="u", measure__chart="u")
            .exclude(national_measure__rate_per=1)
            .values_list("measure_id", "national_measure__rate_per"))
    for measure_id, rate in rows.iterator():
        m = Measure.objects.filter(pk=measure_id).first()
        if m is None or m.rate_per == rate:
            continue
        if m.target is not None:
            m.target = m.target * rate / (m.rate_per or 1)
        m.rate_per = rate
        m.dirty_since = m.dirty_since or now
        m.data_changed_at = now
        m.save(update_fields=["rate_per", "target", "dirty_since", "data_changed_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_national_snapshot_key_screened"),
        ("measures", "0010_measure_rate_per"),
    ]

    operations = [migrations.RunPython(carry_rate, migrations.RunPython.noop)]
