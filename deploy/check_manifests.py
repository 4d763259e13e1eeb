"""Validates rendered Kubernetes manifests for deploy/check.sh.

Usage: check_manifests.py KUBERNETES_VERSION README SECRET_EXAMPLE RENDERED...

Each RENDERED file is one `kubectl kustomize` output. Every object must
validate against the Kubernetes JSON schemas that kubernetes-validate
bundles, in strict mode (unknown fields are errors). An object with no
bundled schema fails, except the Prometheus Operator's CRDs below, which get
structural checks instead. Beyond the schemas, for the qlink-facade
ConfigMap of each rendering: the TOML parses, listens where the Service and
probes look, and every ${NAME} it reads is given to the container (by `env`,
or by an `envFrom` Secret that is rendered, or else listed in
SECRET_EXAMPLE).
"""

import re
import sys
import tomllib

import yaml
from kubernetes_validate import utils as kv

# No schema bundled: custom resources. Checked structurally below.
CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
CONFIG_KEY = "qlink-facade.toml"
CONTAINER = "qlink-facade"
# The top-level tables of the contract (and [telemetry], the binary's own).
TOML_TABLES = {"server", "telemetry", "tenant", "store", "cluster"}
LISTEN = {"grpc_addr": "0.0.0.0:50051", "http_addr": "0.0.0.0:8080"}


def load_all(path):
    with open(path, encoding="utf-8") as file:
        return [doc for doc in yaml.safe_load_all(file) if doc]


def exported_metrics(readme_path):
    """Metric names of README.md's Metrics table: the names the binary serves."""
    with open(readme_path, encoding="utf-8") as file:
        return set(re.findall(r"^\| `(qlink_facade_[a-z_]+)` \|", file.read(), re.M))


def check_crd(doc, metrics):
    problems = []
    name = doc.get("metadata", {}).get("name")
    if not name or not isinstance(doc.get("spec"), dict):
        return ["needs metadata.name and a spec"]
    if doc["kind"] == "PrometheusRule":
        for group in doc["spec"].get("groups", []):
            for rule in group.get("rules", []):
                label = rule.get("alert") or rule.get("record")
                if not label or not rule.get("expr"):
                    problems.append(f"rule in group {group.get('name')} needs alert/record and expr")
                    continue
                for used in re.findall(r"qlink_facade_[a-z_]+", rule["expr"]):
                    base = re.sub(r"_(bucket|sum|count)$", "", used)
                    if base not in metrics:
                        problems.append(f"alert {label}: {used} is not in README.md's Metrics table")
    if doc["kind"] == "ServiceMonitor":
        if not doc["spec"].get("selector") or not doc["spec"].get("endpoints"):
            problems.append("needs spec.selector and spec.endpoints")
    return problems


def check_config(docs, secret_example):
    """The facade's TOML against the Deployment that runs it."""
    config_maps = [d for d in docs if d["kind"] == "ConfigMap" and CONFIG_KEY in d.get("data", {})]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    if len(config_maps) != 1 or len(deployments) != 1:
        return [f"expected one ConfigMap with {CONFIG_KEY} and one Deployment"]
    try:
        config = tomllib.loads(config_maps[0]["data"][CONFIG_KEY])
    except tomllib.TOMLDecodeError as err:
        return [f"{CONFIG_KEY} is not valid TOML: {err}"]
    problems = [f"{CONFIG_KEY}: unknown table [{t}]" for t in sorted(set(config) - TOML_TABLES)]
    for key, want in LISTEN.items():
        if config.get("server", {}).get(key) != want:
            problems.append(f"{CONFIG_KEY}: [server] {key} must be {want!r} for the Service and probes")
    if not config.get("tenant"):
        problems.append(f"{CONFIG_KEY}: no [[tenant]]")

    pod = deployments[0]["spec"]["template"]["spec"]
    container = next((c for c in pod["containers"] if c["name"] == CONTAINER), None)
    if container is None:
        return problems + [f"Deployment has no container {CONTAINER}"]
    # A Secret the rendering does not create must be in the example the
    # operator fills in, with the same keys.
    secrets = {d["metadata"]["name"]: d for d in secret_example if d["kind"] == "Secret"}
    secrets |= {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}

    def secret_keys(name):
        secret = secrets.get(name)
        if secret is None:
            problems.append(f"Secret {name} is neither rendered nor in the secret example")
            return set()
        return set(secret.get("data", {})) | set(secret.get("stringData", {}))

    for each in pod["containers"]:
        for env in each.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["key"] not in secret_keys(ref["name"]):
                problems.append(f"container {each['name']}: {env['name']} reads key {ref['key']} missing from Secret {ref['name']}")
    given = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            given |= secret_keys(source["secretRef"]["name"])
    # What the binary expands: ${NAME} in string values (comments are not read).
    wanted = {name for text in _strings(config) for name in re.findall(r"\$\{([^}]+)\}", text)}
    for name in sorted(wanted - given):
        problems.append(f"{CONFIG_KEY} reads ${{{name}}} but the container is not given it")
    return problems


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def main(argv):
    version, readme, secret_example_path, *rendered = argv
    metrics = exported_metrics(readme)
    if not metrics:
        print(f"no metric names found in {readme}'s Metrics table", file=sys.stderr)
        return 1
    secret_example = load_all(secret_example_path)
    failures = 0
    checked = 0
    skipped = set()
    for path in [secret_example_path, *rendered]:
        docs = load_all(path)
        for doc in docs:
            what = f"{path}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            if (doc.get("apiVersion"), doc.get("kind")) in CRD_KINDS:
                problems = check_crd(doc, metrics)
                skipped.add(doc["kind"])
            else:
                try:
                    kv.validate(doc, version, strict=True)
                    problems = []
                except kv.ValidationError as err:
                    at = ".".join(str(part) for part in err.path)
                    problems = [f"{at}: {err.message}"]
                except kv.SchemaNotFoundError as err:
                    problems = [f"no schema: {err.message}"]
            checked += 1
            for problem in problems:
                print(f"FAIL {what}: {problem}", file=sys.stderr)
                failures += 1
        if path != secret_example_path:
            for problem in check_config(docs, secret_example):
                print(f"FAIL {path}: {problem}", file=sys.stderr)
                failures += 1
    print(
        f"{checked} objects against Kubernetes {version} schemas (strict)"
        f"; CRDs checked structurally, no schema: {', '.join(sorted(skipped)) or 'none'}"
        f"; {failures} problems"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
