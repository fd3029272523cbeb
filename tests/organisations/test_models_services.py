import io

import pytest
from django.core.exceptions import ValidationError

from organisations import services
from organisations.models import Trust, Unit
from tests.factories import RegionFactory, UnitFactory


@pytest.mark.parametrize("code", ["RW", "RWKK", "rw!", "R K", ""])
def test_bad_ods_code_is_refused_and_nothing_saved(db, code):
    region = RegionFactory()
    with pytest.raises(ValidationError) as err:
        services.trust_create(
            ods_code=code, name="Bad", trust_type="acute", region=region, staff_headcount=10
        )
    assert "ods_code" in err.value.message_dict
    assert not Trust.objects.filter(name="Bad").exists()


def test_ods_code_is_upper_cased_and_unique(db):
    region = RegionFactory()
    trust = services.trust_create(
        ods_code="rwk", name="East", trust_type="mental_health", region=region, staff_headcount=1
    )
    assert trust.ods_code == "RWK"
    with pytest.raises(ValidationError) as err:
        services.trust_create(
            ods_code="RWK", name="Copy", trust_type="acute", region=region, staff_headcount=1
        )
    assert "ods_code" in err.value.message_dict
    assert Trust.objects.count() == 1


def test_descendants_are_one_prefix_query(trust_a, django_assert_num_queries):
    division = UnitFactory(trust=trust_a, name="Medicine", kind="division")
    directorate = UnitFactory(trust=trust_a, name="Elderly", kind="directorate", parent=division)
    ward = UnitFactory(trust=trust_a, name="Ward 7", kind="ward", parent=directorate)
    other = UnitFactory(trust=trust_a, name="Surgery", kind="division")
    with django_assert_num_queries(1):  # SELECT units WHERE path LIKE 'division/%'
        names = {u.name for u in services.unit_descendants(division)}
    assert names == {"Medicine", "Elderly", "Ward 7"}
    assert ward.depth == 2
    assert other.name not in names


def test_moving_a_unit_moves_its_subtree(trust_a):
    med = UnitFactory(trust=trust_a, name="Medicine", kind="division")
    surg = UnitFactory(trust=trust_a, name="Surgery", kind="division")
    directorate = UnitFactory(trust=trust_a, name="Elderly", kind="directorate", parent=med)
    ward = UnitFactory(trust=trust_a, name="Ward 7", kind="ward", parent=directorate)
    services.unit_update(unit=directorate, parent=surg)
    ward.refresh_from_db()
    assert ward.path.startswith(surg.path)
    assert ward.depth == 2
    assert {u.name for u in services.unit_descendants(med)} == {"Medicine"}


def test_unit_parent_must_be_in_same_trust(trust_a, trust_b):
    foreign = UnitFactory(trust=trust_b, name="Willow", kind="ward")
    with pytest.raises(ValidationError):
        services.unit_create(trust=trust_a, name="Ward 9", kind="ward", parent=foreign)
    assert not Unit.objects.filter(name="Ward 9").exists()


def test_unit_cannot_move_under_itself(trust_a):
    med = UnitFactory(trust=trust_a, name="Medicine", kind="division")
    ward = UnitFactory(trust=trust_a, name="Ward 7", kind="ward", parent=med)
    with pytest.raises(ValidationError):
        services.unit_update(unit=med, parent=ward)
    med.refresh_from_db()
    assert med.parent_id is None


def test_unit_create_checks_access_when_given_an_actor(alice, trust_a):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.unit_create(trust=trust_a, name="Ward X", kind="ward", by=alice)
    assert not Unit.objects.filter(name="Ward X").exists()


def test_demo_seed_is_idempotent(db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    counts = (Trust.objects.count(), Unit.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Trust.objects.count(), Unit.objects.count()) == counts
    assert counts[0] >= 3
    assert Trust.objects.values("region").distinct().count() >= 2
