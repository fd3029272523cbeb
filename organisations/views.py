"""Home, accounts, health, and a trust administrator's pages (people, roles, units, audit
trail). Thin: parse, ask a selector/access or call a service, render."""

import redis
from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.views import add_errors, form_args
from organisations import access, forms, selectors, services, tokens
from organisations.access import Permission
from organisations.models import ApiToken, Membership, Trust, Unit, User


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
    # A collaborative's invitation waits for this person's answer: say so on arrival.
    for invite in access.invitations_waiting_for(user):
        messages.info(request, format_html(
            '{} has been invited to join {}. <a href="{}">See the invitation and answer it'
            "</a>.", invite["trust"], invite["collaborative"],
            reverse("collaboratives:detail", args=[invite["collaborative_id"]])))
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
    memberships = list(selectors.memberships_of(request.user).order_by("trust__name", "role"))
    # "Manage people / units" links for the trusts where the user holds a role and may
    # manage them (access decides; the role map is already cached, so no query per trust).
    trusts = {m.trust_id: m.trust for m in memberships}.values()
    managed = [
        {
            "trust": trust,
            "people": access.manages_people_at(request.user, trust),
            "units": access.manages_units_at(request.user, trust),
        }
        for trust in trusts
    ]
    return render(
        request,
        "accounts/profile.html",
        {
            "memberships": memberships,
            "managed": [m for m in managed if m["people"] or m["units"]],
            "crumbs": [("Home", "/"), ("My trusts and roles", None)],
        },
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


# ---- a trust administrator's pages: people, roles, units and the audit trail -----------
# Fetching the trust and checking access are one step (`_managed_trust`): an outsider gets
# 404, a member without the right (or a national analyst, who changes nothing) 403. Any id
# in the URL or the POST that is not this trust's answers 404 too.

PEOPLE_PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50


def _managed_trust(request, ods_code, perm=Permission.MEMBERSHIP_MANAGE) -> Trust:
    trust = get_object_or_404(Trust.objects.select_related("region"), ods_code=ods_code.upper())
    access.check(request.user, perm, trust=trust)
    return trust


def _trust_crumbs(trust, *rest) -> list:
    return [
        ("Home", "/"),
        ("Trusts", reverse("reports:trusts")),
        (trust.name, reverse("reports:trust", args=[trust.ods_code])),
        *rest,
    ]


def _people_crumb(trust):
    return ("Manage people", reverse("trust_admin:people", args=[trust.ods_code]))


def _units_crumb(trust):
    return ("Manage units", reverse("trust_admin:units", args=[trust.ods_code]))


def _person_at(trust, user_id) -> tuple[User, list[Membership]]:
    """A person with a role at `trust` and those roles; anyone else is 404 here."""
    roles = list(
        Membership.objects.filter(trust=trust, user_id=user_id).select_related("user")
        .order_by("role")
    )
    if not roles:
        raise Http404
    return roles[0].user, roles


def _refuse_foreign_choice(form, field) -> None:
    """A posted id that is not one of this trust's choices was not offered by the page:
    a tampered request, answered 404 like any other id outside the user's scope."""
    if form.has_error(field, "invalid_choice"):
        raise Http404


@login_required
@require_GET
def people(request, ods_code):
    trust = _managed_trust(request, ods_code)
    search = forms.PeopleSearchForm(request.GET or None)
    q = search.cleaned_data["q"].strip() if search.is_valid() else ""
    page = Paginator(selectors.people_at(trust, search=q), PEOPLE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "organisations/people.html",
        {
            "trust": trust,
            "form": search,
            "q": q,
            "page": page,
            "can_manage_units": access.manages_units_at(request.user, trust),
            "crumbs": _trust_crumbs(trust, ("Manage people", None)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def invite(request, ods_code):
    trust = _managed_trust(request, ods_code)
    form = forms.InviteForm(*form_args(request))
    if form.is_bound and form.is_valid():
        try:
            invitation = services.invite_person(
                trust=trust, by=request.user, base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, invitation.message)
            return redirect("trust_admin:person", trust.ods_code, invitation.user.pk)
    return render(
        request,
        "organisations/invite.html",
        {"trust": trust, "form": form,
         "crumbs": _trust_crumbs(trust, _people_crumb(trust), ("Invite a person", None))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def person(request, ods_code, user_id):
    """One person's roles at this trust, with a form to grant another."""
    trust = _managed_trust(request, ods_code)
    person, roles = _person_at(trust, user_id)
    form = forms.GrantRoleForm(*form_args(request), held={m.role for m in roles})
    if form.is_bound and form.is_valid():
        try:
            membership = services.grant_role(
                trust=trust, user=person, role=form.cleaned_data["role"], by=request.user
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, f"{person} is now a {membership.get_role_display()} at {trust.name}."
            )
            return redirect("trust_admin:person", trust.ods_code, person.pk)
    return render(
        request,
        "organisations/person.html",
        {"trust": trust, "person": person, "roles": roles, "form": form,
         "crumbs": _trust_crumbs(trust, _people_crumb(trust), (str(person), None))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request, ods_code, membership_id):
    trust = _managed_trust(request, ods_code)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "trust"), pk=membership_id, trust=trust
    )
    person = membership.user
    form = django_forms.Form(*form_args(request))  # no fields: carries the service's error
    only_role = not Membership.objects.filter(trust=trust, user=person).exclude(
        pk=membership.pk
    ).exists()
    if form.is_bound:
        try:
            still_member = services.revoke_role(membership=membership, by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            role = membership.get_role_display()
            if still_member:
                messages.success(request, f"Revoked {role} from {person}.")
                return redirect("trust_admin:person", trust.ods_code, person.pk)
            messages.success(
                request,
                f"Revoked {role} from {person}. They no longer hold any role at {trust.name}.",
            )
            return redirect("trust_admin:people", trust.ods_code)
    return render(
        request,
        "organisations/revoke.html",
        {
            "trust": trust, "membership": membership, "person": person, "form": form,
            "only_role": only_role,
            "crumbs": _trust_crumbs(
                trust, _people_crumb(trust),
                (str(person), reverse("trust_admin:person", args=[trust.ods_code, person.pk])),
                ("Revoke a role", None),
            ),
        },
    )


def _trust_units(trust):
    return Unit.objects.filter(trust=trust).order_by("path")


@login_required
@require_GET
def units(request, ods_code):
    trust = _managed_trust(request, ods_code, Permission.UNIT_MANAGE)
    tree = _trust_units(trust).annotate(child_count=Count("children"))
    return render(
        request,
        "organisations/units.html",
        {
            "trust": trust,
            "units": tree,
            "can_manage_people": access.manages_people_at(request.user, trust),
            "crumbs": _trust_crumbs(trust, ("Manage units", None)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_add(request, ods_code):
    trust = _managed_trust(request, ods_code, Permission.UNIT_MANAGE)
    initial = {}
    if request.GET.get("parent", "").isdigit():
        initial["parent"] = request.GET["parent"]
    form = forms.UnitAddForm(*form_args(request), initial=initial, units=_trust_units(trust))
    if form.is_bound:
        valid = form.is_valid()
        _refuse_foreign_choice(form, "parent")
        if valid:
            try:
                unit = services.add_unit(trust=trust, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Added {unit.name}.")
                return redirect("trust_admin:units", trust.ods_code)
    return render(
        request,
        "organisations/unit_form.html",
        {"trust": trust, "form": form, "heading": "Add a unit", "button": "Add unit",
         "crumbs": _trust_crumbs(trust, _units_crumb(trust), ("Add a unit", None))},
    )


def _unit_at(trust, unit_id) -> Unit:
    return get_object_or_404(Unit.objects.select_related("trust", "parent"), pk=unit_id,
                             trust=trust)


@login_required
@require_http_methods(["GET", "POST"])
def unit_rename(request, ods_code, unit_id):
    trust = _managed_trust(request, ods_code, Permission.UNIT_MANAGE)
    unit = _unit_at(trust, unit_id)
    form = forms.UnitRenameForm(*form_args(request), initial={"name": unit.name})
    if form.is_bound and form.is_valid():
        old = unit.name
        try:
            unit = services.rename_unit(unit=unit, name=form.cleaned_data["name"], by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Renamed {old} to {unit.name}.")
            return redirect("trust_admin:units", trust.ods_code)
    return render(
        request,
        "organisations/unit_form.html",
        {"trust": trust, "unit": unit, "form": form, "heading": f"Rename {unit.name}",
         "button": "Rename unit",
         "crumbs": _trust_crumbs(trust, _units_crumb(trust), (f"Rename {unit.name}", None))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_move(request, ods_code, unit_id):
    trust = _managed_trust(request, ods_code, Permission.UNIT_MANAGE)
    unit = _unit_at(trust, unit_id)
    form = forms.UnitMoveForm(*form_args(request), initial={"parent": unit.parent_id},
                              units=_trust_units(trust))
    if form.is_bound:
        valid = form.is_valid()
        _refuse_foreign_choice(form, "parent")
        if valid:
            try:
                unit = services.move_unit(unit=unit, parent=form.cleaned_data["parent"],
                                          by=request.user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                where = unit.parent.name if unit.parent else "the top of the trust"
                messages.success(request, f"Moved {unit.name} to {where}.")
                return redirect("trust_admin:units", trust.ods_code)
    return render(
        request,
        "organisations/unit_form.html",
        {"trust": trust, "unit": unit, "form": form, "heading": f"Move {unit.name}",
         "button": "Move unit",
         "crumbs": _trust_crumbs(trust, _units_crumb(trust), (f"Move {unit.name}", None))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_remove(request, ods_code, unit_id):
    trust = _managed_trust(request, ods_code, Permission.UNIT_MANAGE)
    unit = _unit_at(trust, unit_id)
    form = django_forms.Form(*form_args(request))
    if form.is_bound:
        try:
            services.remove_unit(unit=unit, by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Removed {unit.name}.")
            return redirect("trust_admin:units", trust.ods_code)
    # Say up front what stops the removal, rather than offer a button that can only fail.
    blockers = {"children": unit.children.count(), "projects": unit.projects.count()}
    return render(
        request,
        "organisations/unit_remove.html",
        {"trust": trust, "unit": unit, "form": form, "blockers": blockers,
         "blocked": any(blockers.values()),
         "crumbs": _trust_crumbs(trust, _units_crumb(trust), (f"Remove {unit.name}", None))},
    )


@login_required
@require_GET
def audit(request, ods_code):
    trust = _managed_trust(request, ods_code)
    page = Paginator(selectors.audit_events_at(trust), AUDIT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "organisations/audit.html",
        {"trust": trust, "page": page,
         "crumbs": _trust_crumbs(trust, _people_crumb(trust), ("Audit trail", None))},
    )


# ---- API tokens: a person's own, and a trust's service tokens ---------------------------
# The secret is rendered once, on the response to the POST that made it (never stored, never
# in a redirect or a message), with no-store so no cache keeps it.


def _secret_page(request, template, context):
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


def _account_crumbs(*rest):
    return [("Home", "/"), ("My trusts and roles", reverse("accounts:profile")), *rest]


@login_required
@require_GET
def api_tokens(request):
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": tokens.personal_tokens_of(request.user), "now": timezone.now(),
         "crumbs": _account_crumbs(("API tokens", None))},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def api_token_create(request):
    form = forms.TokenCreateForm(*form_args(request))
    if form.is_bound and form.is_valid():
        try:
            token, secret = services.api_token_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            return _secret_page(request, "accounts/tokens_created.html", {
                "token": token, "secret": secret,
                "back": reverse("accounts:api_tokens"),
                "crumbs": _account_crumbs(
                    ("API tokens", reverse("accounts:api_tokens")), ("Token created", None)),
            })
    return render(
        request,
        "accounts/tokens_form.html",
        {"form": form, "heading": "Create an API token",
         "action": reverse("accounts:api_token_create"),
         "back": reverse("accounts:api_tokens"),
         "crumbs": _account_crumbs(("API tokens", reverse("accounts:api_tokens")),
                                   ("Create a token", None))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request, token_id):
    # Someone else's token, or a service token, is not in this person's scope: 404.
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user, trust__isnull=True)
    form = django_forms.Form(*form_args(request))
    if form.is_bound:
        try:
            services.api_token_revoke(token=token, by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Revoked {token.name}. It no longer works.")
            return redirect("accounts:api_tokens")
    return render(
        request,
        "accounts/tokens_revoke.html",
        {"token": token, "form": form,
         "action": reverse("accounts:api_token_revoke", args=[token.pk]),
         "back": reverse("accounts:api_tokens"),
         "crumbs": _account_crumbs(("API tokens", reverse("accounts:api_tokens")),
                                   ("Revoke a token", None))},
    )


def _service_tokens_trust(request, ods_code) -> Trust:
    trust = _managed_trust(request, ods_code)
    if not access.manages_service_tokens_at(request.user, trust):
        raise PermissionDenied
    return trust


def _service_tokens_crumb(trust):
    return ("Service tokens", reverse("trust_admin:service_tokens", args=[trust.ods_code]))


@login_required
@require_GET
def service_tokens(request, ods_code):
    trust = _service_tokens_trust(request, ods_code)
    return render(
        request,
        "organisations/tokens_service.html",
        {"trust": trust, "tokens": tokens.service_tokens_at(trust), "now": timezone.now(),
         "crumbs": _trust_crumbs(trust, _people_crumb(trust), ("Service tokens", None))},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def service_token_create(request, ods_code):
    trust = _service_tokens_trust(request, ods_code)
    form = forms.ServiceTokenCreateForm(*form_args(request))
    back = reverse("trust_admin:service_tokens", args=[trust.ods_code])
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = services.service_token_create(
                trust=trust, by=request.user, name=data["name"],
                expires_in_days=data["expires_in_days"],
                read_only=data["access"] == "read_only",
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            return _secret_page(request, "accounts/tokens_created.html", {
                "token": token, "secret": secret, "trust": trust, "back": back,
                "crumbs": _trust_crumbs(trust, _service_tokens_crumb(trust),
                                        ("Token created", None)),
            })
    return render(
        request,
        "accounts/tokens_form.html",
        {"form": form, "trust": trust, "heading": "Create a service token",
         "action": reverse("trust_admin:service_token_create", args=[trust.ods_code]),
         "back": back,
         "crumbs": _trust_crumbs(trust, _service_tokens_crumb(trust),
                                 ("Create a service token", None))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_token_revoke(request, ods_code, token_id):
    trust = _service_tokens_trust(request, ods_code)
    token = get_object_or_404(ApiToken, pk=token_id, trust=trust)
    form = django_forms.Form(*form_args(request))
    back = reverse("trust_admin:service_tokens", args=[trust.ods_code])
    if form.is_bound:
        try:
            services.service_token_revoke(token=token, by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Revoked {token.name}. It no longer works.")
            return redirect(back)
    return render(
        request,
        "accounts/tokens_revoke.html",
        {"token": token, "form": form, "trust": trust, "back": back,
         "action": reverse("trust_admin:service_token_revoke", args=[trust.ods_code, token.pk]),
         "crumbs": _trust_crumbs(trust, _service_tokens_crumb(trust),
                                 ("Revoke a service token", None))},
    )
