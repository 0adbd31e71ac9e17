"""deploy/k8s: every manifest against the Kubernetes API schema (kubernetes-validate's bundled
schemas, strict: an unknown field is an error; offline), and what a schema cannot see: env
names that are config fields with values the config accepts, probes on container ports,
Services that select pods and their ports, references that resolve. Each cross-check is a
function returning its problems, and each is shown to find a deliberately broken manifest.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from edge.agent.config import ENV_PREFIX as AGENT_PREFIX
from edge.agent.config import AgentConfig, load_agent_config
from splitvlm.config import ENV_PREFIX, ServiceConfig, load_config
from splitvlm.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.30"  # the oldest schema the manifests must hold for (autoscaling/v2, policy/v1)
CLI_ENV = {"SPLITVLM_LOG_LEVEL"}  # read by `splitvlm serve` itself, not a config field
WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")
Doc = dict[str, Any]


def _load() -> list[tuple[str, Doc]]:
    out = []
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            out += [(str(path.relative_to(K8S)), d) for d in yaml.safe_load_all(path.read_text())
                    if d]
    return out


MANIFESTS = _load()
DOCS = [d for _, d in MANIFESTS]


def _id(doc: Doc) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def _named(docs: list[Doc], kind: str, name: str) -> Doc | None:
    return next((d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name), None)


def _containers(docs: list[Doc]) -> Iterator[tuple[Doc, Doc]]:
    for w in docs:
        if w["kind"] in WORKLOADS:
            for c in w["spec"]["template"]["spec"]["containers"]:
                yield w, c


def _env(docs: list[Doc], container: Doc) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        cm = _named(docs, "ConfigMap", source["configMapRef"]["name"])
        env.update((cm or {}).get("data", {}))
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


def _mounted_files(workload: Doc, container: Doc) -> set[str]:
    """The files the container's volume mounts provide (Secret / ConfigMap items)."""
    volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"].get("volumes", [])}
    files = set()
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        source = volume.get("secret") or volume.get("configMap") or {}
        for item in source.get("items", []):
            if mount.get("subPath"):
                files.update([mount["mountPath"]] if mount["subPath"] == item["path"] else [])
            else:
                files.add(f"{mount['mountPath']}/{item['path']}")
    return files


def _serves(container: Doc) -> str | None:
    """The tier a `splitvlm serve TIER` container serves; None for anything else."""
    command = container.get("command", []) + container.get("args", [])
    return command[2] if command[:2] == ["splitvlm", "serve"] else None


def _agent_config(docs: list[Doc], workload: Doc, container: Doc) -> str | None:
    """The agent's config file text, from the ConfigMap mounted at its --config path."""
    command = container.get("command", [])
    if command[:2] != ["splitvlm", "agent"]:
        return None
    path = command[command.index("--config") + 1]
    volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"].get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        source = volumes.get(mount["name"], {}).get("configMap")
        if source and mount["mountPath"] == path:
            cm = _named(docs, "ConfigMap", source["name"])
            return str((cm or {}).get("data", {}).get(mount.get("subPath", ""), ""))
    return ""


# --- the cross-checks: each returns its problems --------------------------------------------

def env_problems(docs: list[Doc]) -> list[str]:
    """SPLITVLM_<FIELD> names are ServiceConfig fields, SPLITVLM_AGENT_<FIELD> AgentConfig ones,
    and the values load as each tier's config (load_config, the file path empty)."""
    service = {ENV_PREFIX + f.name.upper() for f in fields(ServiceConfig)}
    agent = {AGENT_PREFIX + f.name.upper() for f in fields(AgentConfig) if f.name != "sources"}
    problems = []
    for w, c in _containers(docs):
        env, tier = _env(docs, c), _serves(c)
        known = service | CLI_ENV if tier else agent
        problems += [f"{_id(w)}/{c['name']}: {name} is no config field" for name in env
                     if name.startswith(ENV_PREFIX) and name not in known]
        if tier:
            try:
                load_config(tier, None, env=env)
            except ConfigError as exc:
                problems.append(f"{_id(w)}/{c['name']}: {exc}")
    return problems


def agent_problems(docs: list[Doc], tmp: Path) -> list[str]:
    problems = []
    for w, c in _containers(docs):
        text = _agent_config(docs, w, c)
        if text is None:
            continue
        path = tmp / f"{w['metadata']['name']}-{c['name']}.toml"
        path.write_text(text)
        try:
            load_agent_config(path, env=_env(docs, c))
        except ConfigError as exc:
            problems.append(f"{_id(w)}/{c['name']}: {exc}")
    return problems


def probe_problems(docs: list[Doc]) -> list[str]:
    """Every probe's port is one of its container's ports (by name or number); an exec probe
    is `splitvlm health 127.0.0.1:PORT` on the container's gRPC port."""
    problems = []
    for w, c in _containers(docs):
        ports = {p.get("name") for p in c.get("ports", [])} | {
            p["containerPort"] for p in c.get("ports", [])}
        grpc_port = next((p["containerPort"] for p in c.get("ports", [])
                          if p.get("name") == "grpc"), None)
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = c.get(kind, {})
            for action in ("grpc", "tcpSocket", "httpGet"):
                if action in probe and probe[action]["port"] not in ports:
                    problems.append(f"{_id(w)}/{c['name']}: {kind} port "
                                    f"{probe[action]['port']!r} is not a container port")
            command = probe.get("exec", {}).get("command")
            if command is not None and (command[:2] != ["splitvlm", "health"]
                                        or command[2] != f"127.0.0.1:{grpc_port}"):
                problems.append(f"{_id(w)}/{c['name']}: {kind} runs {command}, not "
                                f"`splitvlm health 127.0.0.1:{grpc_port}`")
    return problems


def _template_labels(docs: list[Doc]) -> list[tuple[Doc, dict[str, str]]]:
    return [(w, w["spec"]["template"]["metadata"]["labels"]) for w in docs
            if w["kind"] in WORKLOADS]


def selector_problems(docs: list[Doc]) -> list[str]:
    """Workload selectors match their templates; every Service selects one workload's pods
    and targets a port they have; the HPA and PDB select what exists."""
    problems = []
    for w, labels in _template_labels(docs):
        if not w["spec"]["selector"]["matchLabels"].items() <= labels.items():
            problems.append(f"{_id(w)}: its selector does not match its pod template")
    for s in (d for d in docs if d["kind"] == "Service"):
        chosen = [w for w, labels in _template_labels(docs)
                  if s["spec"]["selector"].items() <= labels.items()]
        if len(chosen) != 1:
            problems.append(f"{_id(s)} selects {len(chosen)} workloads' pods")
            continue
        ports = {p.get("name") for _, c in _containers(chosen) for p in c.get("ports", [])} | {
            p["containerPort"] for _, c in _containers(chosen) for p in c.get("ports", [])}
        problems += [f"{_id(s)}: targetPort {p['targetPort']!r} is no port of its pods"
                     for p in s["spec"]["ports"] if p.get("targetPort", p["port"]) not in ports]
    for d in docs:
        if d["kind"] == "HorizontalPodAutoscaler":
            ref = d["spec"]["scaleTargetRef"]
            if _named(docs, ref["kind"], ref["name"]) is None:
                problems.append(f"{_id(d)}: scales {ref['kind']}/{ref['name']}, not here")
        if d["kind"] == "PodDisruptionBudget" and not any(
                d["spec"]["selector"]["matchLabels"].items() <= labels.items()
                for _, labels in _template_labels(docs)):
            problems.append(f"{_id(d)} selects no pods")
    return problems


def reference_problems(docs: list[Doc]) -> list[str]:
    """ConfigMaps referenced exist; the files the config names (TLS, tokens) are mounted; the
    metrics annotation is the metrics port; next_hop names a Service and its port."""
    problems = []
    for w, c in _containers(docs):
        where = f"{_id(w)}/{c['name']}"
        for source in c.get("envFrom", []):
            if _named(docs, "ConfigMap", source["configMapRef"]["name"]) is None:
                problems.append(f"{where}: ConfigMap {source['configMapRef']['name']} missing")
        env, files = _env(docs, c), _mounted_files(w, c)
        paths = {k: v for k, v in env.items() if k.endswith(("_TLS_CA", "_TLS_CERT", "_TLS_KEY",
                                                             "_TOKENS_FILE", "_TOKEN_FILE"))}
        problems += [f"{where}: {k}={v} is not a mounted file" for k, v in paths.items()
                     if v not in files]
        if _serves(c):
            annotations = w["spec"]["template"]["metadata"].get("annotations", {})
            port = env.get("SPLITVLM_METRICS_PORT")
            named = {str(p["containerPort"]) for p in c["ports"] if p.get("name") == "metrics"}
            if annotations.get("prometheus.io/port") != port or {port} != named:
                problems.append(f"{where}: metrics port {port}, annotation "
                                f"{annotations.get('prometheus.io/port')}, port named {named}")
            problems += _next_hop_problems(docs, where, env.get("SPLITVLM_NEXT_HOP", ""))
    for w in docs:
        for v in w["spec"]["template"]["spec"].get("volumes", []) if w["kind"] in WORKLOADS else ():
            if "configMap" in v and _named(docs, "ConfigMap", v["configMap"]["name"]) is None:
                problems.append(f"{_id(w)}: volume {v['name']}: no ConfigMap "
                                f"{v['configMap']['name']}")
    return problems


def _next_hop_problems(docs: list[Doc], where: str, next_hop: str) -> list[str]:
    if not next_hop:
        return []
    headless = next_hop.startswith("dns:///")
    host, _, port = next_hop.removeprefix("dns:///").rpartition(":")
    service = _named(docs, "Service", host)
    if service is None or int(port) not in [p["port"] for p in service["spec"]["ports"]]:
        return [f"{where}: next_hop {next_hop} is no Service port here"]
    if headless != (service["spec"].get("clusterIP") == "None"):
        return [f"{where}: next_hop {next_hop}: dns:/// (client-side balancing) goes with a "
                "headless Service, and only with one"]
    return []


# --- the tests ------------------------------------------------------------------------------

@pytest.mark.parametrize("doc", DOCS, ids=[f"{p}:{_id(d)}" for p, d in MANIFESTS])
def test_manifest_holds_to_the_api_schema(doc: Doc) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _deployment() -> Doc:
    doc = _named(DOCS, "Deployment", "splitvlm-cloud")
    assert doc is not None
    return copy.deepcopy(doc)


def _wrong_type(d: Doc) -> None:
    d["spec"]["replicas"] = "two"


def _unknown_field(d: Doc) -> None:
    d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPrt"] = 50053


def _missing_required(d: Doc) -> None:
    del d["spec"]["template"]["spec"]["containers"][0]["name"]


@pytest.mark.parametrize("breaks", [_wrong_type, _unknown_field, _missing_required])
def test_a_broken_manifest_is_rejected(breaks: Callable[[Doc], None]) -> None:
    doc = _deployment()
    breaks(doc)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted({p for p, _ in MANIFESTS})


def test_cli_env_is_read_by_the_cli() -> None:
    cli = (ROOT / "splitvlm" / "cli.py").read_text()
    assert all(f'"{name}"' in cli for name in CLI_ENV)


def test_the_cross_checks_pass(tmp_path: Path) -> None:
    assert env_problems(DOCS) == []
    assert agent_problems(DOCS, tmp_path) == []
    assert probe_problems(DOCS) == []
    assert selector_problems(DOCS) == []
    assert reference_problems(DOCS) == []


def _break(docs: list[Doc], kind: str, name: str, change: Callable[[Doc], None]) -> list[Doc]:
    docs = copy.deepcopy(docs)
    target = _named(docs, kind, name)
    assert target is not None
    change(target)
    return docs


def _container(doc: Doc) -> Doc:
    container: Doc = doc["spec"]["template"]["spec"]["containers"][0]
    return container


BROKEN: list[tuple[str, Callable[[list[Doc]], list[str]], str, str, Callable[[Doc], None]]] = [
    ("misspelt env", env_problems, "ConfigMap", "splitvlm-cloud",
     lambda d: d["data"].update(SPLITVLM_MAX_BATCHES="8")),
    ("bad env value", env_problems, "ConfigMap", "splitvlm-fog-site-a",
     lambda d: d["data"].update(SPLITVLM_CACHE_BYTES="lots")),
    ("agent env", env_problems, "ConfigMap", "splitvlm-agent-site-a",
     lambda d: d["data"].update(SPLITVLM_AGENT_EDGES="x:1")),
    ("probe port", probe_problems, "Deployment", "splitvlm-cloud",
     lambda d: _container(d)["startupProbe"].update(tcpSocket={"port": 50052})),
    ("health probe port", probe_problems, "Deployment", "splitvlm-cloud",
     lambda d: _container(d)["livenessProbe"]["exec"]["command"].__setitem__(
         2, "127.0.0.1:50052")),
    ("service selector", selector_problems, "Service", "splitvlm-cloud-headless",
     lambda d: d["spec"]["selector"].update({"app.kubernetes.io/component": "clouds"})),
    ("target port", selector_problems, "Service", "splitvlm-fog-site-a",
     lambda d: d["spec"]["ports"][0].update(targetPort="grcp")),
    ("workload selector", selector_problems, "DaemonSet", "splitvlm-edge-site-a",
     lambda d: d["spec"]["selector"]["matchLabels"].update({"splitvlm.io/site": "site-b"})),
    ("unmounted TLS file", reference_problems, "ConfigMap", "splitvlm-edge-site-a",
     lambda d: d["data"].update(SPLITVLM_TLS_KEY="/etc/splitvlm/tls/fog.key")),
    ("metrics annotation", reference_problems, "Deployment", "splitvlm-fog-site-a",
     lambda d: d["spec"]["template"]["metadata"]["annotations"].update(
         {"prometheus.io/port": "9090"})),
    ("next hop", reference_problems, "ConfigMap", "splitvlm-fog-site-a",
     lambda d: d["data"].update(SPLITVLM_NEXT_HOP="splitvlm-cloud-headless:50053")),
]


@pytest.mark.parametrize(("check", "kind", "name", "change"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_a_cross_check_finds_a_broken_manifest(
        check: Callable[[list[Doc]], list[str]], kind: str, name: str,
        change: Callable[[Doc], None]) -> None:
    assert check(DOCS) == []
    assert check(_break(DOCS, kind, name, change)) != []


def test_a_bad_agent_file_is_found(tmp_path: Path) -> None:
    broken = _break(DOCS, "ConfigMap", "splitvlm-agent-toml-site-a", lambda d: d["data"].update(
        {"agent.toml": d["data"]["agent.toml"].replace('kind = "grpc"', 'kind = "camera"')}))
    assert agent_problems(broken, tmp_path) != []
