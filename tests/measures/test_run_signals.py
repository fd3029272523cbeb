"""A sustained shift inside the limits is shown on P, U and C charts (issue 9, item 5): the
engine's runs analysis reaches the chart, the reading and the dashboards, and no number
the engine returns changes."""

import datetime as dt

from django.urls import reverse

from measures import charts, snapshots
from reports import spc
from reports.spc.reading import describe
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

# Ten months below the centre and ten above, all inside the limits.
NUM = [40, 41, 39, 42, 40, 41, 40, 39, 42, 41, 59, 60, 58, 61, 60, 59, 61, 60, 58, 60]


def run_measure(project):
    """A P chart measure whose shift stays inside its limits, with its snapshot built."""
    measure = MeasureFactory(project=project, chart="p", direction="increase",
                             frequency="monthly", name="Antibiotics within an hour")
    for i, n in enumerate(NUM):
        DataPointFactory(measure=measure, period=dt.date(2024 + i // 12, i % 12 + 1, 1),
                         value=None, numerator=n, denominator=100)
    snapshots.measure_refresh(measure_id=measure.pk)
    return measure


def test_the_engine_sees_a_run_the_limits_do_not():
    result = spc.p_chart(NUM, [100] * 20, improvement="increase")
    assert result.variation_icon == "common_cause"  # nothing beyond a limit…
    assert result.phases[-1].runs_signal is True  # …but a long run and few crossings
    assert "Non-random variation" in describe(result)


def test_the_chart_draws_the_run_as_qicharts2_does():
    fig = charts.spc_figure(spc.p_chart(NUM, [100] * 20, improvement="increase"),
                            percent=True)
    run = [t for t in fig.data if t.name.startswith("Non-random run")]
    assert run and run[0].line.dash == "dash"
    assert sum(y is not None for y in run[0].y) == 20
    quiet = charts.spc_figure(spc.p_chart([50] * 20, [100] * 20))
    assert not [t for t in quiet.data if t.name.startswith("Non-random run")]


def test_the_dashboards_show_the_run(client, bob, trust_a):
    project = ProjectFactory(trust=trust_a)
    measure = run_measure(project)
    measure.snapshot.refresh_from_db()
    assert measure.snapshot.runs_signal
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    trust = client.get(reverse("reports:trust", args=[trust_a.ods_code])).content.decode()
    assert "Non-random run" in trust and "1 shows a non-random run" in trust
    page = client.get(project.get_absolute_url()).content.decode()
    assert "Non-random variation: a long run" in page
