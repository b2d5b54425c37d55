"""A running `make run` stack that the outside-in security tests share (the API fuzzing and the authorization
matrix): a fresh data directory, demo data, one gateway port; they reach it only over HTTP as a browser would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from e2e.browser import launched_browser, opened_page
from e2e.test_dev_stack import stop_with_ctrl_c, wait_until_running
from playwright.sync_api import Browser, Page

from zc_devstack.procs import free_port
from zc_devstack.stack import clock_offset_file

# what the web client sends with every request: the gateway turns the session cookie into a token for a state
# change only when our own pages sent it (CSRF)
CLIENT_HEADER = {"X-Requested-With": "zhicheng"}


@dataclass
class ProbeStack:
    base: str
    clock_file: Path | None = None  # the stack's clock offset (seconds ahead of the real time)
    sessions: dict[str, httpx.Client] = field(default_factory=dict)

    def advance(self, seconds: float) -> None:
        """Move every service's clock forward (the 公示 periods); `reset_clock` puts it back."""
        assert self.clock_file is not None
        current = float(self.clock_file.read_text() or 0) if self.clock_file.exists() else 0.0
        self.clock_file.write_text(str(current + seconds), encoding="utf-8")

    def reset_clock(self) -> None:
        if self.clock_file is not None:
            self.clock_file.write_text("0", encoding="utf-8")

    def as_(self, who: str) -> httpx.Client:
        """A browser signed in as the demo user `who` (development login), kept for the whole session."""
        if who not in self.sessions:
            client = httpx.Client(base_url=self.base, timeout=60, headers=CLIENT_HEADER)
            response = client.post(f"/api/identity/dev/login/{who}", params={"return_to": "/"})
            assert response.status_code == 303, response.text
            self.sessions[who] = client
        return self.sessions[who]

    def bearer(self, who: str) -> str:
        """A fresh access token (they live five minutes) for the demo user `who`."""
        response = self.as_(who).post("/api/identity/session/token", json={})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def session_cookie(self, who: str) -> str:
        return str(self.as_(who).cookies["zc_session"])

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60, headers=CLIENT_HEADER)


@pytest.fixture(scope="session")
def probe_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbeStack]:
    tmp = tmp_path_factory.mktemp("probe-stack")
    port, log = free_port(), tmp / "stack.log"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(tmp / "data"), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**{k: v for k, v in os.environ.items() if k != "ZC_CLOCK_OFFSET_FILE"}, "ZC_LOG_FORMAT": "json"},
        )
        stack = ProbeStack(f"http://127.0.0.1:{port}", clock_offset_file(tmp / "data"))
        try:
            wait_until_running(proc, log)
            yield stack
        finally:
            for client in stack.sessions.values():
                client.close()
            stop_with_ctrl_c(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_browser()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, probe_stack: ProbeStack) -> Iterator[Page]:
    for opened in opened_page(browser, probe_stack.base):
        yield opened
        if request.node.stash.get(FAILED, False):  # what the browser showed when the test failed
            failures = Path(__file__).resolve().parents[2] / ".artifacts" / "failures"
            failures.mkdir(parents=True, exist_ok=True)
            opened.screenshot(path=str(failures / f"{request.node.name}.png"), full_page=True)
