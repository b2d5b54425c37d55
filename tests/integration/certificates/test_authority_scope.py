"""Issue 17 item 2: an authority reads, downloads and revokes only the certificates of its own region and the
regions below it (province-wide is the province's code, a scope like any other); for anyone else the
certificate does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from integration.certificates.conftest import Api, approval
from integration.certificates.test_confirmations import answer, confirm, keep, submission

CHENGDU, LESHAN, JINJIANG, PROVINCE = "510100", "511100", "510104", "510000"


async def _reach(api: Api, cert: dict[str, Any], headers: dict[str, str]) -> tuple[int, int]:
    detail = await api.get(f"/certificates/{cert['id']}", headers=headers)
    pdf = await api.get(f"/certificates/{cert['id']}/pdf", headers=headers)
    return detail.status_code, pdf.status_code


async def test_an_authority_acts_only_within_its_region(api: Api) -> None:
    chengdu = await api.issue(approval(authority_region=CHENGDU))  # a 成都 committee's approval
    assert chengdu is not None and chengdu["region_code"] == CHENGDU
    for region in (CHENGDU, PROVINCE):
        assert await _reach(api, chengdu, api.authority_of(region)) == (200, 200)
    for region in (LESHAN, JINJIANG, "510100-BJ", "520000"):  # a sibling, a district below, 本级 only, 贵州
        assert await _reach(api, chengdu, api.authority_of(region)) == (404, 404)
        refused = await api.post(
            f"/certificates/{chengdu['id']}/revoke", headers=api.authority_of(region), json={"reason": "越权撤销"}
        )
        assert refused.status_code == 404, refused.text
    assert (await api.rows())[0]["status"] == "valid"  # nothing changed
    revoked = await api.post(
        f"/certificates/{chengdu['id']}/revoke", headers=api.authority_of(CHENGDU), json={"reason": "材料不实"}
    )
    assert revoked.status_code == 200


async def test_a_county_authority_reaches_its_own_county_only(api: Api) -> None:
    district = await api.issue(approval(authority_region="510104-BJ"))  # the 本级 node below 锦江区
    assert district is not None
    for region in (JINJIANG, CHENGDU, PROVINCE):
        assert await _reach(api, district, api.authority_of(region)) == (200, 200)
    assert await _reach(api, district, api.authority_of("510105")) == (404, 404)


async def test_certificates_without_a_region_are_the_provinces(api: Api) -> None:
    """Approvals from before regions were carried, and verified historical certificates, name no region: only
    the province's authority reaches them."""
    older = await api.issue(approval())
    assert older is not None and older["region_code"] is None
    assert await _reach(api, older, api.authority_of(PROVINCE)) == (200, 200)
    assert await _reach(api, older, api.authority_of(CHENGDU)) == (404, 404)


async def test_a_confirmed_out_of_province_title_belongs_to_the_units_region(api: Api) -> None:
    record = uuid.uuid4()
    await keep(api, submission(record, region_code="511102"))  # a unit in 乐山市市中区
    await confirm(api, answer(record))
    (row,) = await api.rows()
    assert row["region_code"] == "511102"
    assert await _reach(api, row, api.authority_of(LESHAN)) == (200, 200)
    assert await _reach(api, row, api.authority_of(CHENGDU)) == (404, 404)


async def test_certificate_management_lists_the_authoritys_regions_only(api: Api) -> None:
    """证书管理: each authority lists the certificates it may act on — its region and those below it, the
    province also those without a region — filtered by number; anyone else is refused."""
    chengdu = await api.issue(approval(authority_region=CHENGDU))
    leshan = await api.issue(approval(authority_region=LESHAN))
    older = await api.issue(approval())
    assert chengdu and leshan and older

    async def listed(region: str, **params: str) -> list[str]:
        r = await api.get("/certificates", headers=api.authority_of(region), params=params)
        assert r.status_code == 200, r.text
        return sorted(c["certificate_no"] for c in r.json()["items"])

    assert await listed(CHENGDU) == [chengdu["certificate_no"]]
    assert await listed(LESHAN) == [leshan["certificate_no"]]
    assert await listed(JINJIANG) == []  # a district below 成都 does not see the city's
    everything = sorted(c["certificate_no"] for c in (chengdu, leshan, older))
    assert await listed(PROVINCE) == everything
    assert await listed(PROVINCE, number=leshan["certificate_no"]) == [leshan["certificate_no"]]
    paged = (await api.get("/certificates", headers=api.authority_of(PROVINCE), params={"size": 2})).json()
    assert paged["total"] == 3 and len(paged["items"]) == 2
    assert (await api.get("/certificates", headers=api.holder())).status_code == 403
