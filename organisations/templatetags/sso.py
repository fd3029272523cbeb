"""`{% load sso %}{% sso_sign_in as sso %}`: whether single sign-on is on, and the name of
the provider to show on its button (organisations/oidc.py)."""

from django import template

from organisations import oidc

register = template.Library()


@register.simple_tag
def sso_sign_in():
    return {"enabled": oidc.enabled(), "provider_name": oidc.provider_name()}
