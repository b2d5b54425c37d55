"""The external government sources behind one port.

`DemoRegistry` answers for the embedded default with consistent demo records (derived from the person's
id, so the same person always gets the same records). `HttpRegistry` is the client a real deployment
configures: timeouts, bounded retries with backoff, and a clear error when the source is down.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from typing import Any

import httpx

from zc_registries.ports import PersonResolver, SourceUnavailableError

_SCHOOLS = ("四川大学", "四川农业大学", "西南交通大学", "电子科技大学", "西南财经大学", "成都理工大学")
_MAJORS = ("农学", "农业机械化及其自动化", "土木工程", "计算机科学与技术", "会计学", "临床医学")
_EMPLOYERS = ("成都市示例农业科技有限公司", "四川省示例工程建设集团", "成都市某区人民医院")


class DemoRegistry:
    name = "演示数据源"

    def _rng(self, subject: str, topic: str) -> random.Random:
        seed = int.from_bytes(hashlib.sha256(f"{topic}:{subject}".encode()).digest()[:8], "big")
        return random.Random(seed)

    async def social_insurance(self, subject: str) -> list[dict[str, Any]]:
        rng = self._rng(subject, "si")
        start = 2008 + rng.randint(0, 8)
        employer = rng.choice(_EMPLOYERS)
        return [
            {
                "payer": employer,
                "insurance": kind,
                "status": "正常参保",
                "start": f"{start}-07-01",
                "end": None,
                "payment": "正常缴费",
            }
            for kind in ("企业职工基本养老保险", "失业保险", "工伤保险")
        ]

    async def education(self, subject: str) -> list[dict[str, Any]]:
        rng = self._rng(subject, "edu")
        year = 2004 + rng.randint(0, 6)
        records = [
            {
                "record_id": "edu-1",
                "enrolled": f"{year}-09-01",
                "graduated": f"{year + 4}-07-01",
                "school": rng.choice(_SCHOOLS),
                "major": rng.choice(_MAJORS),
                "degree_level": "大学本科",
                "degree": "学士",
                "years": 4,
            }
        ]
        if rng.random() < 0.5:
            records.append(
                {
                    "record_id": "edu-2",
                    "enrolled": f"{year + 4}-09-01",
                    "graduated": f"{year + 7}-07-01",
                    "school": rng.choice(_SCHOOLS),
                    "major": records[0]["major"],
                    "degree_level": "硕士研究生",
                    "degree": "硕士",
                    "years": 3,
                }
            )
        return records

    async def vocational_certificates(self, subject: str) -> list[dict[str, Any]]:
        rng = self._rng(subject, "voc")
        return [
            {
                "record_id": "voc-1",
                "name": rng.choice(("农业技术员", "计算机信息处理", "测量员")),
                "level": "四级/中级工",
                "certificate_no": f"5101{rng.randint(10**9, 10**10 - 1)}",
                "issued": f"{2012 + rng.randint(0, 8)}-06-30",
                "issuer": "四川省人力资源和社会保障厅",
            }
        ]


class HttpRegistry:
    """POST {base}/{topic} with the person (ID type, ID number, name) in the body, never in the URL →
    {"records": [...]}. The subject is resolved at the identity bridge first (audited there, with the purpose);
    timeouts, bounded retries with backoff, and SourceUnavailableError when the source is down."""

    name = "四川省人社数据共享平台"

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx.AsyncClient,
        resolver: PersonResolver,
        timeout: float = 3.0,
        retries: int = 2,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._resolver = resolver
        self._timeout = timeout
        self._retries = retries

    async def _get(self, topic: str, subject: str, purpose: str) -> list[dict[str, Any]]:
        person = await self._resolver.person(subject, purpose=purpose)
        body = {"id_type": person.id_type, "id_number": person.id_number, "name": person.name}
        delay = 0.2
        for attempt in range(self._retries + 1):
            try:
                resp = await self._http.post(f"{self._base}/{topic}", json=body, timeout=self._timeout)
                if resp.status_code < 500:
                    resp.raise_for_status()
                    records = resp.json().get("records", [])
                    return [dict(r) for r in records]
            except (httpx.TransportError, httpx.TimeoutException):
                pass
            except (httpx.HTTPStatusError, ValueError) as exc:
                raise SourceUnavailableError(f"{topic}: {type(exc).__name__}") from None
            if attempt < self._retries:
                await asyncio.sleep(delay)
                delay *= 2
        raise SourceUnavailableError(f"{topic} did not answer")

    async def social_insurance(self, subject: str) -> list[dict[str, Any]]:
        return await self._get("social-insurance", subject, "社保参保信息查询")

    async def education(self, subject: str) -> list[dict[str, Any]]:
        return await self._get("education", subject, "学历信息同步")

    async def vocational_certificates(self, subject: str) -> list[dict[str, Any]]:
        return await self._get("vocational-certificates", subject, "省职业资格证书同步")
