"""REST API for trusts and units: read-only, scoped by `organisations.access`."""

from rest_framework import serializers, viewsets

from core.api import SyncMixin
from organisations import access
from organisations.models import Region, Trust, Unit


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class TrustSerializer(serializers.ModelSerializer):
    region = RegionSerializer(read_only=True)

    class Meta:
        model = Trust
        fields = ["id", "ods_code", "name", "trust_type", "region", "staff_headcount"]


class UnitSerializer(serializers.ModelSerializer):
    trust = serializers.SlugRelatedField(slug_field="ods_code", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "trust", "parent", "name", "kind", "depth", "path"]


class TrustViewSet(SyncMixin, viewsets.ReadOnlyModelViewSet):
    """Trusts you belong to (national analysts: every trust)."""

    serializer_class = TrustSerializer
    lookup_field = "ods_code"
    filterset_fields = ["trust_type", "region__code"]

    def get_queryset(self):
        return access.trusts_visible_to(self.request.user).order_by("name")


class UnitViewSet(SyncMixin, viewsets.ReadOnlyModelViewSet):
    """Units of the trusts you belong to. `?under=<unit id>` lists a unit's whole subtree."""

    serializer_class = UnitSerializer
    filterset_fields = ["trust__ods_code", "kind", "parent"]

    def get_queryset(self):
        qs = access.units_visible_to(self.request.user).order_by("trust__name", "path")
        under = self.request.query_params.get("under")
        if under:
            if not under.isdigit():
                raise serializers.ValidationError({"under": "Give a unit id (a whole number)."})
            root = qs.filter(pk=int(under)).first()
            if root is None:
                return qs.none()
            qs = qs.filter(trust_id=root.trust_id, path__startswith=root.path)
        return qs
