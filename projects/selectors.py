"""Reads for projects, already scoped by `organisations.access`."""

from organisations import access


def projects_visible_to(user, *, trust=None, mine=False):
    qs = access.projects_visible_to(user).select_related("trust", "unit", "lead")
    if trust is not None:
        qs = qs.filter(trust=trust)
    if mine:
        qs = qs.filter(pk__in=access.projects_editable_by(user).values("pk"))
    return qs
