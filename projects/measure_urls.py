"""URLs for driver diagrams, measures and data (owned by the measures slice)."""

urlpatterns = []
