"""Fixtures for the certificates service: its app on a migrated database, a fixed clock, signed tokens, and
a stand-in for the identity bridge's holder lookup answering over the real NATS server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from certificates.adapters.db.tables import certificates, messaging
from certificates.adapters.signing import generate_key_spec
from certificates.main import create_app
from certificates.settings import Settings
from certificates.usecases.certificates import CertificateService
from certificates.usecases.verifications import VerificationService
from support.clock import Clock
from support.responders import answering
from zc_auth import Role, RoleGrant, ScopeType, StaticJwks, TokenVerifier
from zc_auth.testing import TokenFactory
from zc_contracts import Envelope, make_envelope, review_v1
from zc_db.migrate import upgrade

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
HOLDERS = {
    "usr_zhang": {"name": "张三", "id_type": "居民身份证", "id_number_masked": "**************5532"},
    "usr_li": {"name": "李四", "id_type": "居民身份证", "id_number_masked": "**************0021"},
}


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: TokenFactory
    clock: Clock
    service: CertificateService
    database_url: str
    verifications: VerificationService
    app: Any = None  # the ASGI app, for a client connecting from another address

    def as_(self, *grants: RoleGrant | Role, subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.mint(subject, roles=grants, audience=['certificates'])}"}

    def holder(self, subject: str = "usr_zhang") -> dict[str, str]:
        return self.as_(Role.APPLICANT, subject=subject)

    @property
    def authority(self) -> dict[str, str]:
        """The province's authority (四川 510000): every certificate of the province is in its scope."""
        return self.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510000"), subject="usr_authority")

    def authority_of(self, region: str) -> dict[str, str]:
        return self.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, region), subject=f"usr_authority_{region}")

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(f"/api/certificates{path}", **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(f"/api/certificates{path}", **kw)

    async def issue(self, envelope: Envelope) -> dict[str, Any] | None:
        async with self.service._sessions() as s, s.begin():
            return await self.service.issue_for_approval(s, envelope)

    async def rows(self) -> list[dict[str, Any]]:
        async with self.service._sessions() as s:
            return [
                dict(r._mapping) for r in await s.execute(select(certificates).order_by(certificates.c.certificate_no))
            ]

    async def events(self) -> list[Envelope]:
        async with self.service._sessions() as s:
            rows = await s.execute(select(messaging.outbox.c.payload).order_by(messaging.outbox.c.created_at))
            return [Envelope.from_bytes(r.payload) for r in rows]


def approval(
    applicant: str = "usr_zhang", *, series: str = "GC", application_id: uuid.UUID | None = None, **extra: Any
) -> Envelope:
    payload = review_v1.ApplicationApproved(
        application_id=application_id or uuid.uuid4(),
        applicant_id=applicant,
        qualification_code="GC-ZJ-GCS",
        approved_at=NOW,
        issued_by="authority",
        document_number="川职改〔2026〕18号",
        issue_date=date(2026, 12, 20),
        series_code=series,
        level_code="ZJ",
        method="SHEHUIHUA",
        qualification_name="工程师",
        specialty="土木工程",
        committee_name="四川省工程技术人员中级职称评审委员会",
        **extra,
    )
    return make_envelope(payload, source="review", subject_id=str(payload.application_id))


@pytest.fixture
async def holder_lookups(nats_url: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Answers rpc.identity.holder.v1 like the identity bridge (its own test covers the real one)."""

    def answer(ask: dict[str, Any]) -> dict[str, Any]:
        return HOLDERS.get(ask["user_id"], {"error": "not_found"})

    async with answering(nats_url, "rpc.identity.holder.v1", answer, queue="identity-bridge") as asked:
        yield asked


# the committee directory as the applications service answers it (its own test covers the real answer)
COMMITTEES = {
    "0193a1f0-0000-7000-8000-00000000c001": {
        "id": "0193a1f0-0000-7000-8000-00000000c001",
        "name": "成都市农业系列中级评委会0706",
        "series": "NONGYE",
        "series_name": "农业技术人员",
        "region_scope": "510100",
        "organiser_name": "成都市农业农村局",
        "specialties": ["农学", "农业机械化", "畜牧"],
    }
}


@pytest.fixture
async def committee_lookups(nats_url: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Answers rpc.applications.committee.v1 like the applications service."""

    def answer(ask: dict[str, Any]) -> dict[str, Any]:
        return COMMITTEES.get(ask["committee_id"], {"error": "not_found"})

    async with answering(nats_url, "rpc.applications.committee.v1", answer, queue="applications") as asked:
        yield asked


@pytest.fixture
async def certificates_db(database_url: str) -> str:
    await asyncio.to_thread(upgrade, REPO / "services" / "certificates" / "migrations", database_url)
    return database_url


def certificate_settings(database_url: str, nats_url: str, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        nats_url=nats_url,
        jwks_url="http://127.0.0.1:9/unused",
        signing_key=extra.pop("signing_key", None) or generate_key_spec("t1"),
        public_base_url="https://zhicheng.example",
        **extra,
    )


@pytest.fixture
async def api(
    certificates_db: str,
    nats_url: str,
    holder_lookups: list[dict[str, Any]],
    committee_lookups: list[dict[str, Any]],
    tmp_path: Path,
) -> AsyncIterator[Api]:
    clock = Clock(NOW)
    tokens = TokenFactory(issuer="http://127.0.0.1:8000/api/identity", audience="certificates")
    settings = certificate_settings(certificates_db, nats_url, checks_per_minute=5, attachments_dir=tmp_path / "files")
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        app.state.token_verifier = TokenVerifier(
            issuer=tokens.issuer, audience="certificates", jwks=StaticJwks(tokens.jwks)
        )
        container = app.state.container
        await container.runtime.nats.wait_connected(timeout=10)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            yield Api(client, tokens, clock, container.certificates, certificates_db, container.verifications, app)
