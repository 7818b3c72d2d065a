#!/bin/bash
# Runs `buf lint` (npm @bufbuild/buf, STANDARD rules, proto/buf.yaml) on the
# API protos. tools/dev/setup.sh installs buf under .cache/npm.
set -euo pipefail
src="$1"
buf="$src/.cache/npm/node_modules/.bin/buf"
if [[ ! -x "$buf" ]]; then
  echo "buf is not installed at $buf; run tools/dev/setup.sh" >&2
  exit 1
fi
cd "$src/proto"
"$buf" lint
echo "buf lint: proto/ passes the STANDARD rules"
