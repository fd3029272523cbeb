from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # Connects the receiver that builds roll-ups after measure snapshots are stored, and
        # the ones that keep the learning repository current (reports/learning.py), and
        # the ones that mark kept dashboards out of date (reports/dashboard_cache.py).
        from reports import dashboard_signals, db_triggers, learning_signals, tasks  # noqa: F401

        db_triggers.connect()  # the roll-up marks' triggers, after every migrate
