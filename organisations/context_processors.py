"""Navigation by role. The menu only shows places the user may go (access decides)."""

from django.urls import NoReverseMatch, reverse

from organisations import access
from organisations.access import Permission


def _url(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        items.append(("Projects", _url("projects:list")))
        creator_trusts = access.trust_ids_with(user, Permission.PROJECT_CREATE)
        if creator_trusts is None or creator_trusts:
            # People who run projects; boards and analysts read, they do not log cycles.
            items.append(("My PDSA cycles", _url("pdsa:mine")))
        trust_ids = access.trust_ids_with(user, Permission.TRUST_DASHBOARD_VIEW)
        if trust_ids is None or trust_ids:
            items.append(("Trusts", _url("reports:trusts")))
        if access.reads_national_definitions(user):
            items.append(("Compare trusts", _url("reports:compare")))
        if access.uses_learning_repository(user):
            items.append(("Learning", _url("reports:learning")))
        if access.has_permission(user, Permission.NATIONAL_VIEW):
            items.append(("National view", _url("reports:national")))
    path = request.path if request is not None else ""
    # The most specific place is the current one (/national/learning/ is Learning, not
    # National view as well).
    matches = [url for _, url in items if url and path.startswith(url)]
    current = max(matches, key=len) if matches else None
    nav_items = [
        {"label": label, "url": url, "current": url == current}
        for label, url in items
        if url
    ]
    return {
        "nav_items": nav_items,
        "account_url": _url("accounts:profile"),
        "signout_url": _url("accounts:logout"),
        "signin_url": _url("accounts:login"),
    }
