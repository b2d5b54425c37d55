"""Who among the reviewers reads a submitted application (applications.domain.application.reviewer_may_read),
issue 17 item 6: at the expert stage, the experts named for the application's panel, and no other expert of
the committee; reviewers of earlier stages keep reading."""

from __future__ import annotations

from collections.abc import Callable

from applications.domain.application import reviewer_may_read

UNIT, COMMITTEE, DEPT = "u-1", "c-1", "d-1"
STAGES = [
    {"stage": "unit"},
    {"stage": "department", "department_id": DEPT},
    {"stage": "committee"},
    {"stage": "expert", "experts": ["usr_e1", "usr_e2", "usr_e3"]},
]


def grants(*held: tuple[str, str, str]) -> Callable[[str, str, str], bool]:
    return lambda role, scope_type, scope_id: (role, scope_type, scope_id) in held


def test_only_named_experts_of_the_committee_read() -> None:
    expert = grants(("expert", "committee", COMMITTEE))
    may_read = {"unit_id": UNIT, "committee_id": COMMITTEE}
    assert reviewer_may_read(STAGES, reviewer="usr_e1", may=expert, **may_read)
    assert not reviewer_may_read(STAGES, reviewer="usr_e9", may=expert, **may_read)  # of the committee, unnamed
    elsewhere = grants(("expert", "committee", "c-2"))
    assert not reviewer_may_read(STAGES, reviewer="usr_e1", may=elsewhere, **may_read)  # named, wrong committee
    assert not reviewer_may_read(STAGES[:3], reviewer="usr_e1", may=expert, **may_read)  # before the panel
    older = [*STAGES[:3], {"stage": "expert"}]  # reached before panels were carried: no expert reads
    assert not reviewer_may_read(older, reviewer="usr_e1", may=expert, **may_read)


def test_earlier_stages_keep_reading() -> None:
    may_read = {"unit_id": UNIT, "committee_id": COMMITTEE, "reviewer": "usr_x"}
    assert reviewer_may_read(STAGES, may=grants(("unit_reviewer", "unit", UNIT)), **may_read)
    assert reviewer_may_read(STAGES, may=grants(("department_reviewer", "department", DEPT)), **may_read)
    assert reviewer_may_read(STAGES, may=grants(("committee_staff", "committee", COMMITTEE)), **may_read)
    assert not reviewer_may_read(STAGES, may=grants(("committee_staff", "committee", "c-2")), **may_read)


def test_the_confirming_authority_reads_from_its_stage_on() -> None:
    """The authority of the committee's region (成都市 510100) reads once the review reached the authority stage
    (the province's above it too: zc_auth's region_covers, which `may` applies); another region's, or before
    that stage: no."""
    may_read = {"unit_id": UNIT, "committee_id": COMMITTEE, "reviewer": "usr_a"}
    reached = [*STAGES, {"stage": "authority", "authority_region": "510100"}]
    assert reviewer_may_read(reached, may=grants(("authority", "region", "510100")), **may_read)
    for region in ("510104", "511100"):
        assert not reviewer_may_read(reached, may=grants(("authority", "region", region)), **may_read)
    assert not reviewer_may_read(STAGES, may=grants(("authority", "region", "510100")), **may_read)
