#!/bin/bash
# The Kubernetes manifests, offline: k8s/base's copies of deploy/'s data and
# alert rules are current; the committed overlays are the generator's output;
# an overlay for every unit of both shipped topologies (Quảng Nam on
# 2025-06-16: province, 18 districts, their communes; Đà Nẵng on 2026-08-03)
# builds with `kubectl kustomize`; every object validates against the
# Kubernetes API schemas (tests/deploy/k8s_validate.js, kubernetes-models
# from npm) and every workload passes the hardening policy
# (tests/deploy/k8s_policy.py). A broken manifest is also shown to fail.
#
#   tests/deploy/k8s_test.sh SOURCE_DIR
set -euo pipefail
SRC="$1"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export NODE_PATH="$SRC/.cache/npm/node_modules"
command -v kubectl >/dev/null || fail "kubectl is not installed (tools/dev/setup.sh installs kubernetes-client)"
[[ -d "$NODE_PATH/kubernetes-models" ]] || fail "kubernetes-models is not installed (tools/dev/setup.sh)"
GEN=(/usr/bin/python3 "$SRC/tools/k8s/generate.py")

"${GEN[@]}" check || fail "k8s/base is stale against deploy/"
"${GEN[@]}" overlays --topology "$SRC/deploy/topology/quang-nam-2024.yaml" --date 2025-06-16 \
  --units 49,502,502-1 --out "$T/committed" >/dev/null
# The generator writes relative paths from where the overlays are: compare
# what the committed ones would be in place.
for u in 49 502 502-1; do
  sed "s#^  - .*/k8s/base/#  - ../../base/#" "$T/committed/$u/kustomization.yaml" >"$T/committed/$u/k"
  mv "$T/committed/$u/k" "$T/committed/$u/kustomization.yaml"
done
diff -r "$T/committed" "$SRC/k8s/overlays" || fail "k8s/overlays is not the generator's output: regenerate"

"${GEN[@]}" overlays --topology "$SRC/deploy/topology/quang-nam-2024.yaml" --date 2025-06-16 \
  --out "$T/qn" >/dev/null
"${GEN[@]}" overlays --topology "$SRC/deploy/topology/da-nang-2025.yaml" --date 2026-08-03 \
  --out "$T/dn" >/dev/null
mkdir -p "$T/built"
n=0
for o in "$SRC"/k8s/overlays/* "$T"/qn/* "$T"/dn/*; do
  out="$T/built/$(basename "$(dirname "$o")")-$(basename "$o").yaml"
  kubectl kustomize "$o" >"$out" 2>"$T/err" || { cat "$T/err"; fail "kubectl kustomize $o"; }
  n=$((n + 1))
done
echo "$n overlays built with $(kubectl version --client 2>/dev/null | head -1)"
node "$SRC/tests/deploy/k8s_validate.js" "$T"/built/*.yaml | tail -5 || fail "schema validation"
/usr/bin/python3 "$SRC/tests/deploy/k8s_policy.py" "$T"/built/*.yaml | tail -5 ||
  fail "hardening policy"

# The checks can fail: a wrong type and a writable root are caught.
sed 's/containerPort: 50051/containerPort: "grpc"/' "$T/built/overlays-502.yaml" >"$T/bad-type.yaml"
if node "$SRC/tests/deploy/k8s_validate.js" "$T/bad-type.yaml" >/dev/null; then
  fail "the schema validator accepted a string port"
fi
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "$T/built/overlays-502.yaml" \
  >"$T/bad-policy.yaml"
if /usr/bin/python3 "$SRC/tests/deploy/k8s_policy.py" "$T/bad-policy.yaml" >/dev/null; then
  fail "the policy accepted a writable root file system"
fi
echo "PASS: $n overlays build, validate and pass the policy"
