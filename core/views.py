"""View helpers every app's pages share. Imports no app."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def form_args(request, *, files=False) -> tuple:
    """Form arguments: bound on POST (even when empty), unbound otherwise."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def add_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
