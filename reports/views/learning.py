"""The learning repository (issue 14, item 4): /national/learning/ searches what trusts
share beyond themselves and the centre's outside case studies; national analysts add case
studies. Reads only `LearningDocument` rows (reports/learning.py); a constant number of
queries whatever the size of the repository. Who reads what: organisations.access.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_http_methods

from core.pagination import CappedPaginator
from core.views import add_errors
from organisations import access
from organisations.models import Region
from reports import learning
from reports.forms import CaseStudyForm, LearningSearchForm

PAGE_SIZE = 20
RESULTS_COUNTED = 1000  # a common word matches tens of thousands: count no further
CRUMBS = [("Home", "/"), ("Learning repository", None)]


@login_required
@require_GET
def learning_search(request):
    access.check_learning_repository(request.user)
    built = learning.built_at()
    form = LearningSearchForm(request.GET or None,
                              facets=learning.facets(request.user, built=built),
                              regions=Region.objects.order_by("name"))
    filters, query = {}, ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        query = data["q"].strip()
        filters = {name: data[name] for name in learning.FILTERS if data.get(name)}
    rows = learning.find(request.user, query, **filters).only("pk")  # see with_highlights
    page = CappedPaginator(rows, PAGE_SIZE, cap=RESULTS_COUNTED).get_page(request.GET.get("page"))
    results = learning.with_highlights(page.object_list, query, request.user)
    return render(request, "reports/learning/search.html", {
        "form": form, "query": query, "page": page, "results": results,
        "filtered": bool(filters), "searched": bool(query) or bool(filters),
        "built_ago": timesince(built) if built else "",
        "can_add_case_study": access.manages_case_studies(request.user),
        "crumbs": CRUMBS,
    })


@login_required
@require_http_methods(["GET", "POST"])
def case_study_create(request):
    access.check_manage_case_studies(request.user)
    form = CaseStudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = learning.case_study_create(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Case study “{case.title}” added to the repository.")
            return redirect(reverse("reports:learning") + "?" + urlencode({"q": case.title}))
    return render(request, "reports/learning/case_study_form.html", {
        "form": form,
        "crumbs": [("Home", "/"), ("Learning repository", reverse("reports:learning")),
                   ("Add a case study", None)],
    })
