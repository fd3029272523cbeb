"""Project pages."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from organisations import access
from organisations.access import Permission
from projects import selectors
from projects.models import Project


@login_required
def project_list(request):
    mine = request.GET.get("mine") == "1"
    qs = selectors.projects_visible_to(request.user, mine=mine).order_by("-updated_at", "-id")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/list.html",
        {"page": page, "mine": mine, "crumbs": [("Home", "/"), ("Projects", None)]},
    )


@login_required
def project_detail(request, pk):
    project = get_object_or_404(
        Project.objects.select_related("trust", "unit", "lead", "sponsor", "coach"), pk=pk
    )
    access.check(request.user, Permission.PROJECT_VIEW, project=project)
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "can_edit": access.has_permission(
                request.user, Permission.PROJECT_EDIT, project=project
            ),
            "crumbs": [("Home", "/"), ("Projects", "/projects/"), (project.title, None)],
        },
    )
