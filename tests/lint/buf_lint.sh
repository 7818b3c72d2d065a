#!/bin/bash
# Runs `buf lint` (npm @bufbuild/buf, STANDARD rules, buf.yaml at the root) on
# the API protos, then checks that every field a request can set states its
# google.api.field_behavior (field_behavior_check.py). tools/dev/setup.sh
# installs buf under .cache/npm.
set -euo pipefail
src="$1"
buf="$src/.cache/npm/node_modules/.bin/buf"
if [[ ! -x "$buf" ]]; then
  echo "buf is not installed at $buf; run tools/dev/setup.sh" >&2
  exit 1
fi
cd "$src"
"$buf" lint
echo "buf lint: proto/ passes the STANDARD rules"
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3  # Debian's, with python3-protobuf
"$py" "$src/tests/lint/field_behavior_check.py" "$src"
