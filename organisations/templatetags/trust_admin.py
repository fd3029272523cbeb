"""`{% trust_admin_links trust as links %}`: whether the signed-in user may manage a trust's
people and units, decided by `organisations.access`, for pages of other apps (the trust
dashboard) whose views do not pass these booleans themselves."""

from django import template

from organisations import access

register = template.Library()


@register.simple_tag(takes_context=True)
def trust_admin_links(context, trust) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "people": access.manages_people_at(user, trust),
        "units": access.manages_units_at(user, trust),
    }
