"""Admin for the project register: read-only with history.

Every write goes through projects.services (access checks, validation, history), so the
admin is for platform operators to look things up, not to change them.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from projects.models import ProgressScore, Project, TeamMember


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TeamMemberInline(ReadOnlyMixin, admin.TabularInline):
    model = TeamMember
    fields = ["user", "name", "role"]
    extra = 0


class ProgressScoreInline(ReadOnlyMixin, admin.TabularInline):
    model = ProgressScore
    fields = ["scored_on", "score", "comment", "recorded_by", "recorded_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Project)
class ProjectAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["title", "trust", "unit", "status", "progress_score", "progress_scored_on",
                    "lead", "updated_at"]
    list_filter = ["status", "visibility", "quality_dimension", "trust"]
    search_fields = ["title", "aim", "trust__ods_code", "lead__email"]
    list_select_related = ["trust", "unit", "lead"]
    raw_id_fields = ["unit", "lead", "sponsor", "coach", "created_by"]
    inlines = [TeamMemberInline, ProgressScoreInline]
    date_hierarchy = "created_at"
