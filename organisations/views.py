"""Home, accounts and health. Thin: parse, ask a selector/access, render."""

import redis
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from organisations import access, forms, selectors
from organisations.access import Permission


def home(request):
    """Send each person to their place: clinicians to their projects, boards to the trust
    dashboard, national analysts to the national view, the platform operator to /admin/."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "home.html")
    if access.operates_the_platform(user):
        return redirect("admin:index")  # the platform operator's place
    if access.has_permission(user, Permission.NATIONAL_VIEW):
        return redirect("reports:national")
    # People who run projects start at their projects; those who only read dashboards at
    # their trust's dashboard. Which is which is access's question, not a list of roles.
    if access.trust_ids_with(user, Permission.PROJECT_CREATE):
        return redirect(reverse("projects:list") + "?mine=1")
    trust = access.trusts_where(user, Permission.TRUST_DASHBOARD_VIEW).order_by("name").first()
    if trust is not None:
        return redirect("reports:trust", ods_code=trust.ods_code)
    return redirect("accounts:profile")


@login_required
def profile(request):
    memberships = selectors.memberships_of(request.user).order_by("trust__name", "role")
    return render(
        request,
        "accounts/profile.html",
        {"memberships": memberships, "crumbs": [("Home", "/"), ("My trusts and roles", None)]},
    )


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = forms.SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = forms.PasswordChange
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = forms.PasswordReset
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = forms.SetPassword
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def _broker_status() -> str:
    if not settings.REDIS_URL:
        return "eager"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
        return "ok"
    except Exception:  # noqa: BLE001 — any failure means "down"; details are not for the public
        return "down"


@never_cache
@require_GET
def healthz(request):
    """Database up → 200; a broker that is down is reported, not fatal."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception:  # noqa: BLE001
        database = "down"
    broker = _broker_status()
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "error", "database": database, "broker": broker},
        status=status,
    )
