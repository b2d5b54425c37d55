"""外省职称确认: what the applicant asked to confirm arrives with the submission; when the review approves
it, the title is recorded under 我的证书 once (source out_of_province), even if the answer comes first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from integration.certificates.conftest import Api
from integration.certificates.test_verifications import decided
from zc_contracts import Envelope, applications_v1, make_envelope, review_v1
from zc_messaging import TransientError

TITLE = applications_v1.OutOfProvinceTitle(
    original_title="高级农艺师",
    original_title_specialty="农业机械化",
    original_title_obtained="2019-12-20",  # type: ignore[arg-type]
    original_committee="陕西省农业技术人员高级职称评审委员会",
    proposed_series="农业技术人员",
    proposed_specialty="农业机械化",
    proposed_title="高级农艺师",
)


def submission(record_id: uuid.UUID, region_code: str | None = None) -> Envelope:
    payload = applications_v1.RecordSubmitted(
        record_id=record_id,
        kind="out_of_province",
        applicant_id="usr_zhang",
        unit_id=uuid.uuid4(),
        submitted_at=datetime.now(UTC),
        confirmed_title=TITLE,
        region_code=region_code,
    )
    return make_envelope(payload, source="applications", subject_id=str(record_id))


def answer(record_id: uuid.UUID, outcome: str = "approved") -> Envelope:
    payload = review_v1.RecordDecided(
        record_id=record_id,
        outcome=outcome,
        decided_at=datetime.now(UTC),
        kind="out_of_province",  # type: ignore[arg-type]
    )
    return make_envelope(payload, source="review", subject_id=str(record_id))


async def keep(api: Api, envelope: Envelope) -> None:
    async with api.service._sessions() as s, s.begin():
        await api.service.keep_confirmation_request(s, envelope)


async def confirm(api: Api, envelope: Envelope) -> object:
    async with api.service._sessions() as s, s.begin():
        return await api.service.record_confirmed_title(s, envelope)


async def test_an_approved_confirmation_is_recorded_once(api: Api) -> None:
    record = uuid.uuid4()
    with pytest.raises(TransientError):  # the answer overtook the submission: wait for it
        await confirm(api, answer(record))
    await keep(api, submission(record))
    assert await confirm(api, answer(record)) is not None
    assert await confirm(api, answer(record)) is None
    mine = (await api.get("/certificates/mine", headers=api.holder())).json()["items"]
    assert [(c["certificate_no"], c["source_name"], c["qualification_name"]) for c in mine] == [
        ("512026WS000001", "外省职称确认", "高级农艺师")
    ]
    assert mine[0]["committee_name"] == "陕西省农业技术人员高级职称评审委员会"


async def test_a_returned_or_other_decision_records_nothing(api: Api) -> None:
    record = uuid.uuid4()
    await keep(api, submission(record))
    assert await confirm(api, answer(record, "returned")) is None
    assert await confirm(api, decided(str(record), "approved")) is None  # a 证书核验 answer is not ours here
    assert (await api.get("/certificates/mine", headers=api.holder())).json()["items"] == []
