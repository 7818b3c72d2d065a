#!/bin/bash
# The commune PC's installation, checked on this machine without systemd
# running: the unit passes `systemd-analyze verify` and its offline security
# review at exposure 2.0 or better; install.sh stages every file with the
# right modes; and the installed receptiond, on the installed sample
# configuration (paths moved into the staging tree, mTLS from the
# development PKI), serves: `receptionctl health` answers SERVING over TLS,
# and the node's own certificate takes an online backup into backup.dir.
#
#   tests/deploy/systemd_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC="$1"; BUILD="$2"
T="$(mktemp -d)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

UNIT="$SRC/deploy/systemd/receptiond.service"
systemd-analyze security --offline=true --threshold=20 "$UNIT" >"$T/security.txt" 2>&1 ||
  { cat "$T/security.txt"; fail "the unit's exposure is above 2.0"; }
grep -E "Overall exposure level" "$T/security.txt"

S="$T/root"
"$SRC/deploy/systemd/install.sh" --config "$SRC/deploy/config/commune.yaml" --build "$BUILD" \
  --root "$S" --no-start >"$T/install.txt"
for f in usr/local/bin/receptiond usr/local/bin/receptionctl etc/reception/node.yaml \
         etc/systemd/system/receptiond.service usr/local/share/reception/rules/vn.yaml \
         usr/local/share/reception/topology/quang-nam-2024.yaml \
         usr/local/share/reception/calendars/vn-2025-2026.yaml usr/local/share/doc/reception/RUNBOOK.md; do
  [[ -f "$S/$f" ]] || fail "install.sh did not install /$f"
done
[[ "$(stat -c %a "$S/var/lib/reception")" == 700 ]] || fail "/var/lib/reception is not 0700"
[[ "$(stat -c %a "$S/etc/reception/node.yaml")" == 640 ]] || fail "node.yaml is not 0640"
grep -q "/etc/reception/tls/node.key" "$T/install.txt" || fail "install.sh did not list the missing key"
# A second run keeps the configuration an operator edited.
echo "# edited" >>"$S/etc/reception/node.yaml"
"$SRC/deploy/systemd/install.sh" --config "$SRC/deploy/config/commune.yaml" --build "$BUILD" \
  --root "$S" --no-start >/dev/null
grep -q "# edited" "$S/etc/reception/node.yaml" || fail "a second install replaced node.yaml"

sed "s#/usr/local/bin/receptiond#$S/usr/local/bin/receptiond#" "$S/etc/systemd/system/receptiond.service" \
  >"$T/receptiond.service"
systemd-analyze verify "$T/receptiond.service" || fail "systemd-analyze verify"

# The installed files, run: the sample configuration with its paths in the
# staging tree and a free loopback port.
"$SRC/tools/pki/dev_pki.sh" "$T/pki" 502-1 >/dev/null
cp "$T/pki/ca.crt" "$S/etc/reception/tls/ca.crt"
cp "$T/pki/502-1/node.crt" "$S/etc/reception/tls/node.crt"
cp "$T/pki/502-1/node.key" "$S/etc/reception/tls/node.key"
cp "$T/pki/matching.key" "$S/etc/reception/matching.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/issuer.key" 2>/dev/null
"$S/usr/local/bin/receptionctl" token jwks --key "$T/issuer.key" --kid t-1 >"$S/etc/reception/jwks.json"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s#/var/lib/reception#$S/var/lib/reception#g" \
    -e "s#/usr/local/share/reception#$S/usr/local/share/reception#g" \
    -e "s#^listen_address: .*#listen_address: 127.0.0.1:$PORT#" \
    -e "s#^admin_address: .*#admin_address: 127.0.0.1:0#" \
    "$S/etc/reception/node.yaml" >"$S/etc/reception/test.yaml"
"$S/usr/local/bin/receptiond" --config "$S/etc/reception/test.yaml" --ready_file "$T/ready" \
  >"$T/node.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do [[ -f "$T/ready" ]] && break; sleep 0.1; done
[[ -f "$T/ready" ]] || { cat "$T/node.log"; fail "the installed receptiond did not start"; }
CTL=("$S/usr/local/bin/receptionctl" --server "127.0.0.1:$PORT" --ca "$S/etc/reception/tls/ca.crt")
[[ "$("${CTL[@]}" health)" == SERVING ]] || fail "receptionctl health is not SERVING"
"${CTL[@]}" --cert "$S/etc/reception/tls/node.crt" --key "$S/etc/reception/tls/node.key" \
  --unit 502-1 admin backup --label installed >"$T/backup.txt" ||
  { cat "$T/backup.txt"; fail "the node could not back itself up"; }
ls "$S/var/lib/reception/backups/"*-installed/MANIFEST.textproto >/dev/null ||
  fail "no finished backup in backup.dir"
kill -TERM "$PID"; wait "$PID" || true; PID=""
echo "PASS: unit verified, installed, served, backed up"
