"""The certificates service asks which committee a 证书核验 names (`rpc.applications.committee.v1`): answered from
the committee directory with the specialties it reviews; an unknown id is not found."""

from __future__ import annotations

from typing import Any

from applications.demo_data import load
from integration.applications.conftest import Api
from zc_messaging.connection import NatsConnection
from zc_messaging.requests import RequestFailedError, request_json

DEMO_COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"  # 成都市农业系列中级评委会0706


async def ask(nats_url: str, question: dict[str, Any]) -> dict[str, Any]:
    nats = NatsConnection(nats_url, name="certificates-test")
    await nats.start()
    try:
        await nats.wait_connected()
        return await request_json(nats, "rpc.applications.committee.v1", question, timeout=5)
    finally:
        await nats.close()


async def test_a_committee_of_the_directory_is_named_with_its_specialties(api: Api, nats_url: str) -> None:
    await load(api.database_url, year=2026)
    found = await ask(nats_url, {"committee_id": DEMO_COMMITTEE})
    assert found["name"] == "成都市农业系列中级评委会0706" and found["series_name"] == "农业技术人员"
    assert "农业机械化" in found["specialties"]
    for unknown, error in (("0193a1f0-0000-7000-8000-0000000000ff", "not_found"), ("not-a-uuid", "bad_request")):
        try:
            await ask(nats_url, {"committee_id": unknown})
        except RequestFailedError as exc:
            assert str(exc) == error
        else:
            raise AssertionError(f"{unknown} was answered")
