#!/bin/bash
# Installs everything the project needs on Debian 12 (as root) and builds it.
# Idempotent and quick when everything is already there.
#   tools/dev/setup.sh [BUILD_DIR]      (default: build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git openssl
  clang-format-14                             # the formatting check (tests/lint)
  clang-14 libclang-rt-14-dev                 # the fuzz targets (libFuzzer, sanitizers)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libbenchmark-dev libsodium-dev libicu-dev libyaml-cpp-dev libspdlog-dev
  nlohmann-json3-dev libcpp-jwt-dev libssl-dev libjemalloc-dev libcurl4-openssl-dev libical-dev libcivetweb-dev
  libcairo2-dev libpango1.0-dev libqrencode-dev fonts-dejavu-core  # the papers (PDF, QR code)
  poppler-utils                               # pdftotext/pdftoppm: the papers' tests
  python3 python3-grpcio python3-protobuf   # the non-C++ client test
  prometheus                                  # promtool: metrics, alert rules and their tests
  python3-yaml                                # the alert rules' consistency test
  systemd                                     # systemd-analyze: the unit's verify and security review
  etcd-server etcd-client                     # the benchmark's comparison
  janus                                       # the media server (integration test)
  chromium                                    # the oversight page, in a headless browser (test)
  podman runc mmdebstrap                      # container images from Debian packages, and their test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
# kubectl kustomize for the Kubernetes manifests' test (Debian's
# kubernetes-client unless a kubectl is there already).
if ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these as services on install; the project runs its own.
  for svc in prometheus etcd janus; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" 2>/dev/null || true; fi
  done
fi

# buf (protobuf linter) for the lint test, from npm, kept inside the tree.
if [[ ! -x "$ROOT/.cache/npm/node_modules/.bin/buf" ]]; then
  echo "setup: installing @bufbuild/buf from npm"
  mkdir -p "$ROOT/.cache/npm"
  npm install --prefix "$ROOT/.cache/npm" --no-audit --no-fund --silent @bufbuild/buf@1 >/dev/null
fi

# The Node.js client test's gRPC library, from npm, kept inside the tree.
if [[ ! -d "$ROOT/.cache/npm/node_modules/@grpc/grpc-js" || ! -d "$ROOT/.cache/npm/node_modules/@grpc/proto-loader" ]]; then
  echo "setup: installing @grpc/grpc-js and @grpc/proto-loader from npm"
  mkdir -p "$ROOT/.cache/npm"
  npm install --prefix "$ROOT/.cache/npm" --no-audit --no-fund --silent \
    @bufbuild/buf@1 @grpc/grpc-js@1 @grpc/proto-loader@0 >/dev/null
fi

# The Kubernetes API schemas (and the Prometheus Operator's) for the
# manifests' offline validation, from npm, kept inside the tree.
if [[ ! -d "$ROOT/.cache/npm/node_modules/kubernetes-models" || ! -d "$ROOT/.cache/npm/node_modules/js-yaml" ]]; then
  echo "setup: installing kubernetes-models and js-yaml from npm"
  mkdir -p "$ROOT/.cache/npm"
  npm install --prefix "$ROOT/.cache/npm" --no-audit --no-fund --silent \
    @bufbuild/buf@1 @grpc/grpc-js@1 @grpc/proto-loader@0 \
    kubernetes-models@4.5.1 @kubernetes-models/prometheus-operator@4.4.4 js-yaml@4.1.0 >/dev/null
fi

echo "setup: building in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD"
