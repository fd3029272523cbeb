"""What the project pages and the pages of the apps above share: breadcrumbs, and fetching
a project with its access check in one step (outsider 404, member without the right 403)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse

from organisations import access
from organisations.access import Permission
from projects.models import Project


def crumbs(*items) -> list:
    return [("Home", "/"), ("Projects", reverse("projects:list")), *items]


def project_crumbs(project, *rest) -> list:
    return crumbs((project.title, reverse("projects:detail", args=[project.pk])), *rest)


def project_for(request, pk, perm=Permission.PROJECT_VIEW) -> Project:
    project = get_object_or_404(Project.objects.select_related("trust"), pk=pk)
    access.check(request.user, perm, project=project)
    return project
