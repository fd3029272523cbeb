"""Logging helpers: a refused request is one line in the log, not a traceback."""

import logging


class OneLineForbidden(logging.Filter):
    """Django logs PermissionDenied (403) with its traceback; a refusal is expected
    behaviour, so keep the line and drop the traceback."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
