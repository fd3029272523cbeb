"""Demo organisations and people for local use. Idempotent: safe to run again.

The trusts are fictional (ODS-style codes starting with Z, which NHS trusts do not use) and
the password is documented in README.md: never use this data anywhere real.
"""

from organisations import services
from organisations.models import Membership, Region, Trust, Unit, User

DEMO_PASSWORD = "Improve-2026"

REGIONS = [("Y56", "London"), ("Y63", "North East and Yorkshire")]

TRUSTS = [
    {
        "ods_code": "ZNT",
        "name": "Northgate Teaching Hospitals NHS Foundation Trust",
        "trust_type": Trust.Type.ACUTE,
        "region": "Y63",
        "staff_headcount": 18500,
        "units": {
            ("Medicine", "division"): [
                ("Older People's Medicine", "directorate", [("Ward 7 (Elderly Care)", "ward"),
                                                            ("Ward 8 (Frailty)", "ward")]),
                ("Emergency Medicine", "directorate", [("Emergency Department", "service"),
                                                      ("Acute Medical Unit", "ward")]),
            ],
            ("Surgery", "division"): [
                ("General Surgery", "directorate", [("Ward 21 (Surgical)", "ward"),
                                                    ("Theatres", "service")]),
            ],
        },
    },
    {
        "ods_code": "ZEB",
        "name": "Eastbrook Mental Health NHS Foundation Trust",
        "trust_type": Trust.Type.MENTAL_HEALTH,
        "region": "Y56",
        "staff_headcount": 6200,
        "units": {
            ("Inpatient Services", "division"): [
                ("Adult Acute", "directorate", [("Willow Ward", "ward"), ("Cedar Ward", "ward")]),
            ],
            ("Community Services", "division"): [
                ("Community Mental Health", "directorate", [("North Locality Team", "team")]),
            ],
        },
    },
    {
        "ods_code": "ZWM",
        "name": "Westmoor Community Health NHS Trust",
        "trust_type": Trust.Type.COMMUNITY,
        "region": "Y56",
        "staff_headcount": 4100,
        "units": {
            ("Adult Community Services", "division"): [
                ("District Nursing", "directorate", [("Westmoor District Nursing Team", "team")]),
            ],
        },
    },
]

# email, full name, job title, [(trust, role)], national analyst, superuser
PEOPLE = [
    ("clinician@example.nhs.uk", "Aisha Khan", "Ward sister, Ward 7",
     [("ZNT", Membership.Role.CLINICIAN)], False, False),
    ("qilead@example.nhs.uk", "Tom Price", "Head of Quality Improvement",
     [("ZNT", Membership.Role.QI_LEAD)], False, False),
    ("board@example.nhs.uk", "Dr Helen Marsh", "Chief Nurse",
     [("ZNT", Membership.Role.BOARD_MEMBER)], False, False),
    ("trustadmin@example.nhs.uk", "Sam Okafor", "Business manager",
     [("ZNT", Membership.Role.TRUST_ADMIN)], False, False),
    ("clinician.eastbrook@example.nhs.uk", "Priya Shah", "Charge nurse, Willow Ward",
     [("ZEB", Membership.Role.CLINICIAN)], False, False),
    ("qilead.eastbrook@example.nhs.uk", "Mark Ellis", "QI coach",
     [("ZEB", Membership.Role.QI_LEAD)], False, False),
    ("clinician.westmoor@example.nhs.uk", "Grace Boateng", "District nurse",
     [("ZWM", Membership.Role.CLINICIAN)], False, False),
    # Facilitator of the demo falls-prevention collaborative (collaboratives/demo.py).
    ("facilitator@example.nhs.uk", "Dr Fiona Hart", "Improvement advisor, falls collaborative",
     [("ZNT", Membership.Role.QI_LEAD)], False, False),
    ("national@example.nhs.uk", "Dr Ravi Menon", "National improvement analyst",
     [], True, False),
    ("admin@example.nhs.uk", "Portal Administrator", "Platform operator", [], False, True),
]


def _units(trust, tree, parent=None):
    for key, children in tree.items() if isinstance(tree, dict) else []:
        name, kind = key
        unit = _unit(trust, name, kind, parent)
        for child_name, child_kind, grandchildren in children:
            child = _unit(trust, child_name, child_kind, unit)
            for gname, gkind in grandchildren:
                _unit(trust, gname, gkind, child)


def _unit(trust, name, kind, parent):
    existing = Unit.objects.filter(trust=trust, name=name, parent=parent).first()
    return existing or services.unit_create(trust=trust, name=name, kind=kind, parent=parent)


def seed(stdout=None) -> dict:
    regions = {
        code: Region.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in REGIONS
    }
    trusts = {}
    for spec in TRUSTS:
        trust = Trust.objects.filter(ods_code=spec["ods_code"]).first()
        if trust is None:
            trust = services.trust_create(
                ods_code=spec["ods_code"],
                name=spec["name"],
                trust_type=spec["trust_type"],
                region=regions[spec["region"]],
                staff_headcount=spec["staff_headcount"],
            )
        _units(trust, spec["units"])
        trusts[trust.ods_code] = trust
    users = {}
    for email, name, title, roles, national, superuser in PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                full_name=name,
                job_title=title,
                is_national_analyst=national,
                is_staff=superuser,
                is_superuser=superuser,
            )
        for ods, role in roles:
            services.membership_add(user=user, trust=trusts[ods], role=role)
        users[email] = user
    return {"regions": regions, "trusts": trusts, "users": users}
