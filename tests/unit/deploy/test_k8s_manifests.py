"""Static checks of the Kubernetes manifests under deploy/k8s (kustomize base + overlays)."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

K8S = Path(__file__).resolve().parents[3] / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = ("dev", "staging", "prod")

# service dir -> (python package, URL prefix under /api, env var prefix)
SERVICES = {
    "applications": ("applications", "applications", "APPLICATIONS"),
    "review": ("review", "review", "REVIEW"),
    "certificates": ("certificates", "certificates", "CERTIFICATES"),
    "identity-bridge": ("identity_bridge", "identity", "IDENTITY"),
}


def _yaml_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*") if p.suffix in {".yaml", ".yml"})


def _load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def _all_docs() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in _yaml_files() for doc in _load(path)]


def _kinds(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path, doc in _all_docs() if doc.get("kind") == kind]


def _one(path: Path, kind: str) -> dict[str, Any]:
    docs = [doc for doc in _load(path) if doc.get("kind") == kind]
    assert len(docs) == 1, f"{path}: expected one {kind}, found {len(docs)}"
    return docs[0]


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]


def _env_names(container: dict[str, Any], svc: str) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        cm_name = source["configMapRef"]["name"]
        cm = _one(BASE / svc / "configmap.yaml", "ConfigMap")
        assert cm["metadata"]["name"] == cm_name
        names |= set(cm["data"])
    return names


def test_yaml_files_exist():
    names = {p.relative_to(K8S).as_posix() for p in _yaml_files()}
    for svc in SERVICES:
        for f in ("deployment-api", "deployment-worker", "service", "job-migrate", "kustomization"):
            assert f"base/{svc}/{f}.yaml" in names
    for overlay in OVERLAYS:
        assert f"overlays/{overlay}/kustomization.yaml" in names
    assert {"base/kustomization.yaml", "base/ingress.yaml", "base/nats/kustomization.yaml"} <= names


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: p.relative_to(K8S).as_posix())
def test_yaml_parses(path: Path):
    docs = _load(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        assert isinstance(doc, dict)
        assert "apiVersion" in doc and "kind" in doc


@pytest.mark.parametrize("path", sorted(K8S.rglob("kustomization.yaml")), ids=lambda p: p.relative_to(K8S).as_posix())
def test_kustomization_references_exist_and_avoid_bases(path: Path):
    kust = _load(path)[0]
    assert kust["kind"] == ("Component" if "components" in path.parts else "Kustomization")
    assert "bases" not in kust, "`bases:` is deprecated; use `resources:`"
    assert "patchesStrategicMerge" not in kust and "patchesJson6902" not in kust
    assert kust.get("resources"), f"{path} lists no resources"
    for entry in kust["resources"]:
        target = (path.parent / entry).resolve()
        if target.is_dir():
            assert (target / "kustomization.yaml").is_file(), f"{entry}: directory without kustomization.yaml"
        else:
            assert target.is_file(), f"{path}: resource {entry} does not exist"
    for patch in kust.get("patches", []):
        if "path" in patch:
            assert (path.parent / patch["path"]).is_file()


def test_base_kustomization_lists_every_component():
    kust = _load(BASE / "kustomization.yaml")[0]
    assert set(kust["resources"]) == {*SERVICES, "nats", "web", "otel-collector", "ingress.yaml", "network-policy.yaml"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_on_base_and_pins_images(overlay: str):
    kust = _load(K8S / "overlays" / overlay / "kustomization.yaml")[0]
    assert "../../base" in kust["resources"]
    pinned = {img["name"] for img in kust["images"] if img.get("newTag")}
    assert pinned == {f"zhicheng/{svc}" for svc in SERVICES} | {"zhicheng/web"}


def test_prod_runs_three_nats_and_scaled_services():
    """NATS is a 3-server cluster; the services' Deployments are sized by their HPAs (2-3 APIs, 2 workers at
    least: tests/unit/deploy/test_k8s_rendered.py checks the rendered bounds)."""
    kust = _load(K8S / "overlays" / "prod" / "kustomization.yaml")[0]
    counts = {r["name"]: r["count"] for r in kust["replicas"]}
    assert counts == {"nats": 3}
    bounds = {}
    for patch in kust["patches"]:
        if patch.get("target", {}).get("kind") == "HorizontalPodAutoscaler" and "minReplicas" in patch["patch"]:
            ops = {op["path"]: op["value"] for op in yaml.safe_load(patch["patch"])}
            bounds[patch["target"]["name"]] = ops["/spec/minReplicas"]
    for svc in SERVICES:
        assert 2 <= bounds[f"{svc}-api"] <= 3
        assert bounds[f"{svc}-worker"] == 2


@pytest.mark.parametrize("svc", SERVICES)
def test_api_deployment_probes_health_endpoints(svc: str):
    pkg, prefix, _ = SERVICES[svc]
    (container,) = _containers(_one(BASE / svc / "deployment-api.yaml", "Deployment"))
    assert container["image"] == f"zhicheng/{svc}:latest"
    assert container["command"] == ["python", "-m", f"{pkg}.main"]
    assert container["livenessProbe"]["httpGet"]["path"] == f"/api/{prefix}/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == f"/api/{prefix}/readyz"


@pytest.mark.parametrize("svc", SERVICES)
def test_worker_deployment_drains_when_terminated(svc: str):
    pkg, _, _ = SERVICES[svc]
    worker = _one(BASE / svc / "deployment-worker.yaml", "Deployment")
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 60
    (container,) = _containers(worker)
    assert container["command"] == ["python", "-m", f"{pkg}.worker"]
    # the only port answers the kubelet's liveness probe (zc_messaging.health); no Service points at it
    assert container["ports"] == [{"name": "health", "containerPort": 8081}]
    assert {"name": "ZC_WORKER_HEALTH_PORT", "value": "8081"} in container["env"]


@pytest.mark.parametrize("svc", SERVICES)
def test_migrate_job_runs_alembic_before_rollout(svc: str):
    job = _one(BASE / svc / "job-migrate.yaml", "Job")
    assert job["metadata"]["annotations"]["zhicheng.dev/rollout-phase"] == "pre-deploy"
    (container,) = _containers(job)
    assert container["command"] == [
        "alembic",
        "-c",
        f"/app/services/{svc}/migrations/alembic.ini",
        "upgrade",
        "head",
    ]


@pytest.mark.parametrize("svc", SERVICES)
@pytest.mark.parametrize("manifest", ["deployment-api.yaml", "deployment-worker.yaml", "job-migrate.yaml"])
def test_service_env_uses_package_prefix(svc: str, manifest: str):
    _, _, p = SERVICES[svc]
    kind = "Job" if manifest.startswith("job") else "Deployment"
    (container,) = _containers(_one(BASE / svc / manifest, kind))
    db = next(e for e in container["env"] if e["name"] == f"{p}_DATABASE_URL")
    assert db["valueFrom"]["secretKeyRef"] == {"name": f"{svc}-db", "key": "url"}
    names = _env_names(container, svc)
    expected = {f"{p}_NATS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "ZC_LOG_FORMAT"}
    assert expected <= names
    assert (f"{p}_JWKS_URL" in names) == (svc != "identity-bridge")
    assert not [n for n in names if n.endswith("_DATABASE_URL") and n != f"{p}_DATABASE_URL"]


@pytest.mark.parametrize("svc", SERVICES)
def test_service_config_values(svc: str):
    _, _, p = SERVICES[svc]
    data = _one(BASE / svc / "configmap.yaml", "ConfigMap")["data"]
    assert data[f"{p}_NATS_URL"] == "nats://nats:4222"
    assert data["OTEL_TRACES_EXPORTER"] == "otlp"
    assert data["ZC_LOG_FORMAT"] == "json"
    if svc != "identity-bridge":
        assert data[f"{p}_JWKS_URL"] == "http://identity-bridge:8000/api/identity/.well-known/jwks.json"


def test_workloads_run_as_non_root_with_locked_down_containers():
    # the workloads themselves (base); overlays only patch parts of them, and their rendering is checked below
    workloads = [
        (path, doc)
        for kind in ("Deployment", "StatefulSet", "Job")
        for path, doc in _kinds(kind)
        if BASE in path.parents
    ]
    assert len(workloads) >= 15
    for path, doc in workloads:
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, path
        assert pod["automountServiceAccountToken"] is False, path
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, path
            assert sc["readOnlyRootFilesystem"] is True, path
            assert sc["capabilities"]["drop"] == ["ALL"], path
            assert {"requests", "limits"} <= set(container["resources"]), path


def test_service_accounts_mount_no_token():
    accounts = _kinds("ServiceAccount")
    assert {doc["metadata"]["name"] for _, doc in accounts} == set(SERVICES)
    for path, doc in accounts:
        assert doc["automountServiceAccountToken"] is False, path


def test_nats_config_syncs_every_write():
    configs = [doc["data"]["nats.conf"] for _, doc in _kinds("ConfigMap") if "nats.conf" in doc.get("data", {})]
    assert len(configs) >= 2  # base and the prod cluster replacement
    for conf in configs:
        assert "sync_interval: always" in conf
        assert "store_dir: /data/jetstream" in conf


def test_nats_statefulset_serves_client_and_monitoring():
    sts = _one(BASE / "nats" / "statefulset.yaml", "StatefulSet")
    assert sts["spec"]["replicas"] == 1
    (container,) = _containers(sts)
    assert container["image"] == "nats:2.11-alpine"
    assert sts["spec"]["volumeClaimTemplates"]
    svc = next(doc for doc in _load(BASE / "nats" / "service.yaml") if doc["metadata"]["name"] == "nats")
    assert {port["port"] for port in svc["spec"]["ports"]} == {4222, 8222}


def test_nats_provision_job_applies_topology():
    job = _one(BASE / "nats" / "job-provision.yaml", "Job")
    assert job["metadata"]["name"] == "nats-provision"
    (container,) = _containers(job)
    assert container["image"] == "zhicheng/applications:latest"
    assert container["command"] == ["python", "-m", "zc_messaging.provision"]


def test_ingress_routes_four_api_prefixes_and_web():
    ingresses = {doc["metadata"]["name"]: doc for _, doc in _kinds("Ingress")}
    assert set(ingresses) == {"zhicheng", "zhicheng-services"}
    routes = {
        path["path"]: (path["pathType"], path["backend"]["service"]["name"])
        for ingress in ingresses.values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes == {
        "/api/applications": ("Prefix", "applications"),
        "/api/review": ("Prefix", "review"),
        "/api/certificates": ("Prefix", "certificates"),
        "/api/identity": ("Prefix", "identity-bridge"),
        "/": ("Prefix", "web"),
    }
    for ingress in ingresses.values():
        annotations = ingress["metadata"].get("annotations", {})
        assert not [a for a in annotations if "rewrite" in a], "paths must pass through unchanged"
    # the services sit behind the session-cookie -> access-token exchange; identity and web do not
    services = ingresses["zhicheng-services"]
    assert {p["path"] for r in services["spec"]["rules"] for p in r["http"]["paths"]} == {
        "/api/applications",
        "/api/review",
        "/api/certificates",
    }
    auth = services["metadata"]["annotations"]
    assert auth["nginx.ingress.kubernetes.io/auth-url"].endswith("/api/identity/session/authz")
    assert auth["nginx.ingress.kubernetes.io/auth-response-headers"] == "Authorization"
    # bodies: the largest route limit of the services behind each Ingress (issue 17, item 3)
    assert auth["nginx.ingress.kubernetes.io/proxy-body-size"] == "16m"
    assert ingresses["zhicheng"]["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/proxy-body-size": "1m"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with built-in kustomize) not installed")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_when_kubectl_available(overlay: str):
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    namespaces = {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"}
    assert namespaces == {f"zhicheng-{overlay}"}
    tags = {
        c["image"]
        for doc in docs
        if doc["kind"] in {"Deployment", "Job"}
        for c in doc["spec"]["template"]["spec"]["containers"]
    }
    assert not [image for image in tags if image.endswith(":latest")]
    # uploaded files: ReadWriteMany volumes in dev and staging, S3-compatible object storage in prod
    claims = {doc["metadata"]["name"] for doc in docs if doc["kind"] == "PersistentVolumeClaim"}
    apis = {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == "Deployment"}
    config = {doc["metadata"]["name"]: doc["data"] for doc in docs if doc["kind"] == "ConfigMap"}
    for svc, prefix in (("applications", "APPLICATIONS"), ("certificates", "CERTIFICATES")):
        (api,) = _containers(apis[f"{svc}-api"])
        env = {e["name"] for e in api.get("env", [])}
        mounts = {m["mountPath"] for m in api.get("volumeMounts", [])}
        if overlay == "prod":
            assert f"{svc}-attachments" not in claims and "/data/attachments" not in mounts
            assert config[f"{svc}-env"][f"{prefix}_ATTACHMENTS_S3_URL"].startswith("s3://")
            assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"} <= env
            assert f"{prefix}_DATABASE_URL" in env  # the patch adds to the env, it does not replace it
        else:
            assert f"{svc}-attachments" in claims and "/data/attachments" in mounts
            assert f"{prefix}_ATTACHMENTS_S3_URL" not in config[f"{svc}-env"]
