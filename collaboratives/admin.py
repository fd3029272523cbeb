"""Admin for collaboratives: read-only with history. Every write goes through
collaboratives.services (access, validation, history); the admin is for looking things up."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from collaboratives.models import Collaborative, Enrolment, Participation, SharedMeasure


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ParticipationInline(ReadOnlyMixin, admin.TabularInline):
    model = Participation
    fields = ["trust", "status", "invited_at", "responded_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Collaborative)
class CollaborativeAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["name", "host_trust", "start_date", "end_date"]
    search_fields = ["name", "topic"]
    inlines = [ParticipationInline]


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["project", "collaborative", "status"]
    list_filter = ["status"]


@admin.register(SharedMeasure)
class SharedMeasureAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["name", "collaborative", "chart", "version"]
