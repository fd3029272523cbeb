"""PDSA admin: for platform operators to inspect cycles and their history. Edits belong in
the portal (services keep numbers, status and versions right), so the admin is read-only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from pdsa.models import Cycle


@admin.register(Cycle)
class CycleAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "status", "decision", "planned_start", "created_by", "updated_at")
    list_filter = ("status", "decision")
    search_fields = ("change_idea__text", "change_idea__project__title", "objective")
    list_select_related = ("change_idea", "created_by")
    raw_id_fields = ("change_idea", "follows", "created_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
