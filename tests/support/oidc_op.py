"""Test support: a real OpenID Provider (npm oidc-provider 9.x) on loopback, plus a scripted user browser."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

OP_DIR = Path(__file__).resolve().parent / "oidc_provider"

TEST_ID_NUMBER = "11010519491231002X"  # checksum-valid example number (GB 11643)
TEST_PHONE = "13800138000"

_NPM_LOCK = threading.Lock()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"`{name}` not found on PATH: the OIDC provider test harness needs Node.js (>= 20) and npm "
            f"to run the npm package oidc-provider from {OP_DIR}"
        )
    return path


@contextlib.contextmanager
def _npm_file_lock() -> Iterator[None]:
    """Serialises `npm ci` across processes too (pytest-xdist workers)."""
    import fcntl

    path = Path(tempfile.gettempdir()) / f"zc-oidc-op-npm-{os.getuid()}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_node_modules() -> Path:
    """Runs `npm ci` in the harness directory when node_modules is missing or older than package-lock.json."""
    _tool("node")
    npm = _tool("npm")
    lock = OP_DIR / "package-lock.json"
    installed = OP_DIR / "node_modules" / ".package-lock.json"
    with _NPM_LOCK, _npm_file_lock():
        if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
            return OP_DIR
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=OP_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"`npm ci` failed in {OP_DIR} (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return OP_DIR


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _generate_jwks() -> dict[str, Any]:
    """One RS256 private key, kept by an OpenIdProvider across stop()/start() like a real OP's key store."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    jwk.pop("key_ops", None)  # pyjwt says ["sign"]; the OP also verifies id_token_hint with it
    jwk.update({"kid": f"op-{os.urandom(6).hex()}", "alg": "RS256", "use": "sig"})
    return {"keys": [jwk]}


class OpenIdProvider:
    """A `node op.mjs` subprocess on 127.0.0.1; `stop()` / `start()` restart it on the same port and keys.

    State (sessions, codes, grants) is in memory, so a restart loses it — as a real OP losing its store would.
    """

    def __init__(
        self,
        clients: list[dict[str, Any]],
        accounts: dict[str, dict[str, Any]],
        port: int | None = None,
        *,
        ttl: dict[str, int] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.clients = clients
        self.accounts = accounts
        self.port = port or free_loopback_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self.ttl = ttl or {}
        self.startup_timeout = startup_timeout
        self.jwks = _generate_jwks()
        self._proc: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=400)
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def output(self) -> str:
        """The OP's recent stdout + stderr (warnings, server_error traces)."""
        return "\n".join(self._output)

    def _config(self) -> str:
        return json.dumps(
            {
                "port": self.port,
                "issuer": self.issuer,
                "clients": self.clients,
                "accounts": self.accounts,
                "jwks": self.jwks,
                "ttl": self.ttl,
            },
            ensure_ascii=False,
        )

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            self._output.append(line)
            if line.startswith("READY "):
                self._ready.set()

    def start(self) -> OpenIdProvider:
        if self.running:
            return self
        op_dir = ensure_node_modules()
        self._ready.clear()
        env = {**os.environ, "OP_CONFIG": self._config(), "NODE_ENV": "test"}
        deadline = time.monotonic() + self.startup_timeout
        while True:
            proc = subprocess.Popen(
                [_tool("node"), "op.mjs"],
                cwd=op_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
            self._proc = proc
            self._reader = threading.Thread(target=self._drain, args=(proc,), name="oidc-op-output", daemon=True)
            self._reader.start()
            while not self._ready.is_set() and proc.poll() is None and time.monotonic() < deadline:
                self._ready.wait(0.05)
            if self._ready.is_set():
                return self
            exited = proc.poll() is not None
            self._kill()
            # After stop(), the old socket may linger briefly: retry a failed listen until the deadline.
            if exited and "cannot listen" in self.output and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise RuntimeError(f"OpenID Provider did not become ready on {self.issuer}:\n{self.output}")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None

    def stop(self) -> None:
        self._kill()

    def __enter__(self) -> OpenIdProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Forms(HTMLParser):
    """Collects <form>s: action, method, id and named <input>/<button> values (buttons may use form=...)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None
        self.buttons: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "id": a.get("id", ""),
                "fields": {},
            }
            self.forms.append(self._current)
        elif tag == "input" and a.get("name"):
            target = self._form_for(a)
            if target is not None:
                target["fields"][a["name"]] = a.get("value", "")
        elif tag == "button":
            self.buttons.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None

    def _form_for(self, attrs: dict[str, str]) -> dict[str, Any] | None:
        if attrs.get("form"):
            return next((f for f in self.forms if f["id"] == attrs["form"]), None)
        return self._current


def _parse_forms(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _walk(client: httpx.Client, response: httpx.Response, op_origin: tuple[str, str], login: str) -> str:
    """Follows OP redirects and answers the OP's pages until a redirect leaves the OP; returns its URL."""
    for _ in range(30):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if _origin(target) != op_origin:
                return target
            response = client.get(target)
            continue
        if response.status_code != 200:
            raise AssertionError(f"OP answered {response.status_code} at {response.url}:\n{response.text[:2000]}")
        parsed = _parse_forms(response.text)
        if not parsed.forms:
            raise AssertionError(f"OP page at {response.url} has no form to submit:\n{response.text[:2000]}")
        form = parsed.forms[0]
        action = urljoin(str(response.url), form["action"])
        if _origin(action) != op_origin:
            raise AssertionError(f"OP auto-posts to {action} (response_mode=form_post is not supported here)")
        fields = dict(form["fields"])
        if fields.get("prompt") == "login":
            fields.update({"login": login, "password": "any-password"})
        elif fields.get("prompt") != "consent":
            raise AssertionError(f"unexpected OP form at {response.url}:\n{response.text[:2000]}")
        response = client.post(action, data=fields)
    raise AssertionError("too many steps at the OP without reaching the relying party")


def browser_login(client: httpx.Client, authorize_url: str, login: str) -> str:
    """Drives devInteractions as the user's browser: login as `login` (any password), approve consent.

    `client` must keep cookies and not follow redirects. Returns the OP's final redirect URL to the RP
    (with code & state, or error) without requesting it.
    """
    op_origin = _origin(authorize_url)
    return _walk(client, client.get(authorize_url), op_origin, login)


def browser_logout(client: httpx.Client, end_session_url: str) -> str:
    """Confirms RP-initiated logout as the user's browser; returns the redirect URL out of the OP (not requested).

    Without a post_logout_redirect_uri the OP ends on its own success page; that page's URL is returned then.
    """
    op_origin = _origin(end_session_url)
    response = client.get(end_session_url)
    for _ in range(10):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if _origin(target) != op_origin:
                return target
            response = client.get(target)
            continue
        parsed = _parse_forms(response.text)
        form = next((f for f in parsed.forms if f["id"] == "op.logoutForm"), None)
        if form is None:
            return str(response.url)
        fields = {**form["fields"], "logout": "yes"}
        response = client.post(urljoin(str(response.url), form["action"]), data=fields)
    raise AssertionError("too many steps at the OP end_session endpoint")
