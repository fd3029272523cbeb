from django.urls import path

from organisations import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("me/", views.profile, name="profile"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/new/", views.api_token_create, name="api_token_create"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

# A trust administrator's pages, under the trust: mounted at the site root in the
# "trust_admin" namespace by qi_portal/urls.py. (`/trusts/<ods>/units/<id>/` itself is the
# unit's dashboard in reports; the pages here add a verb after the id.)
trust_urlpatterns = [
    path("trusts/<str:ods_code>/people/", views.people, name="people"),
    path("trusts/<str:ods_code>/people/invite/", views.invite, name="invite"),
    path("trusts/<str:ods_code>/people/<int:user_id>/", views.person, name="person"),
    path(
        "trusts/<str:ods_code>/people/roles/<int:membership_id>/revoke/",
        views.revoke,
        name="revoke",
    ),
    path("trusts/<str:ods_code>/units/", views.units, name="units"),
    path("trusts/<str:ods_code>/units/add/", views.unit_add, name="unit_add"),
    path(
        "trusts/<str:ods_code>/units/<int:unit_id>/rename/", views.unit_rename, name="unit_rename"
    ),
    path("trusts/<str:ods_code>/units/<int:unit_id>/move/", views.unit_move, name="unit_move"),
    path(
        "trusts/<str:ods_code>/units/<int:unit_id>/remove/", views.unit_remove, name="unit_remove"
    ),
    path("trusts/<str:ods_code>/audit/", views.audit, name="audit"),
    path("trusts/<str:ods_code>/service-tokens/", views.service_tokens, name="service_tokens"),
    path(
        "trusts/<str:ods_code>/service-tokens/new/",
        views.service_token_create,
        name="service_token_create",
    ),
    path(
        "trusts/<str:ods_code>/service-tokens/<int:token_id>/revoke/",
        views.service_token_revoke,
        name="service_token_revoke",
    ),
]
