from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserCreationForm

from organisations import services
from organisations.models import AuditEvent, Membership, Region, Trust, Unit, User


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["trust"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = EmailUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "job_title", "is_national_analyst", "is_staff"]
    list_filter = ["is_national_analyst", "is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "job_title"]}),
        (
            "Access",
            {
                "fields": [
                    "is_active",
                    "is_national_analyst",
                    "is_staff",
                    "is_superuser",
                    "groups",
                ]
            },
        ),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})
    ]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["name", "code"]


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["ods_code", "name", "trust_type", "region", "staff_headcount"]
    list_filter = ["trust_type", "region"]
    search_fields = ["ods_code", "name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "trust", "parent", "depth"]
    list_filter = ["kind", "trust"]
    search_fields = ["name"]
    autocomplete_fields = ["trust", "parent"]

    def save_model(self, request, obj, form, change):
        # The tree path is kept by the service, never by save().
        if change:
            services.unit_update(
                unit=obj, **{f: form.cleaned_data[f] for f in form.changed_data}
            )
        else:
            created = services.unit_create(
                trust=obj.trust, name=obj.name, kind=obj.kind, parent=obj.parent
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "trust", "role", "created_at"]
    list_filter = ["role", "trust"]
    search_fields = ["user__email", "user__full_name", "trust__name"]
    autocomplete_fields = ["user", "trust"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: entries are written by organisations.services with the change itself."""

    list_display = ["created_at", "trust", "actor", "action", "description"]
    list_filter = ["action", "trust"]
    search_fields = ["description", "actor__email", "actor__full_name"]
    date_hierarchy = "created_at"
    list_select_related = ["trust", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
