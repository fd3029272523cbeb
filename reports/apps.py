from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # Connects the receiver that builds roll-ups after measure snapshots are stored.
        from reports import tasks  # noqa: F401
