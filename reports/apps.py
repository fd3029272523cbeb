from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # Connects the receiver that builds roll-ups after measure snapshots are stored, and
        # the ones that keep the learning repository current (reports/learning.py).
        from reports import learning_signals, tasks  # noqa: F401
