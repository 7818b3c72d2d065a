#!/bin/bash
# Installs a reception node on one Debian machine (a commune's PC, a
# district's server) as the systemd service `receptiond`.
#
#   deploy/systemd/install.sh --config deploy/config/commune.yaml
#       [--build build] [--root DIR] [--no-start]
#
# Puts receptiond and receptionctl in /usr/local/bin, the topologies, rule
# packs and calendars in /usr/local/share/reception, the unit in
# /etc/systemd/system, the configuration in /etc/reception/node.yaml (kept
# if there is one), and creates the system user `reception` with its data
# in /var/lib/reception (mode 0700). --root installs into a staging tree
# instead (no user, no systemctl: for packaging and tests). Build first:
# tools/dev/test.sh, or cmake -S . -B build -G Ninja && ninja -C build.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT=/; BUILD="$SRC/build"; CONFIG=""; START=1
while (($#)); do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --root) ROOT="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
[[ -n "$CONFIG" ]] || { echo "install.sh: --config FILE is required (see deploy/config/)" >&2; exit 2; }
for bin in services/node/receptiond tools/receptionctl; do
  [[ -x "$BUILD/$bin" ]] || { echo "install.sh: $BUILD/$bin is not built" >&2; exit 2; }
done
R="${ROOT%/}"

install -D -m 0755 "$BUILD/services/node/receptiond" "$R/usr/local/bin/receptiond"
install -D -m 0755 "$BUILD/tools/receptionctl" "$R/usr/local/bin/receptionctl"
for d in topology rules calendars forms; do
  install -d -m 0755 "$R/usr/local/share/reception/$d"
  cp -r "$SRC/deploy/$d/." "$R/usr/local/share/reception/$d/"
done
install -D -m 0644 "$SRC/README.md" "$R/usr/local/share/doc/reception/README.md"
install -D -m 0644 "$SRC/deploy/RUNBOOK.md" "$R/usr/local/share/doc/reception/RUNBOOK.md"
install -D -m 0644 "$SRC/deploy/systemd/receptiond.service" "$R/etc/systemd/system/receptiond.service"
install -d -m 0750 "$R/etc/reception" "$R/etc/reception/tls"
install -d -m 0700 "$R/var/lib/reception"
if [[ -f "$R/etc/reception/node.yaml" ]]; then
  echo "kept the existing $R/etc/reception/node.yaml"
else
  install -m 0640 "$CONFIG" "$R/etc/reception/node.yaml"
  echo "installed $CONFIG as $R/etc/reception/node.yaml: set unit_code and the peers' addresses"
fi

if [[ "$ROOT" == "/" ]]; then
  getent passwd reception >/dev/null ||
    useradd --system --home-dir /var/lib/reception --shell /usr/sbin/nologin reception
  chown -R reception:reception /var/lib/reception
  chgrp -R reception /etc/reception
fi

missing=()
for f in tls/ca.crt tls/node.crt tls/node.key jwks.json matching.key; do
  [[ -f "$R/etc/reception/$f" ]] || missing+=("/etc/reception/$f")
done
if ((${#missing[@]})); then
  echo "before starting, put in place (mode 0640, group reception; keys 0600 are fine too):"
  printf '  %s\n' "${missing[@]}"
  echo "  (the node's certificate naming spiffe://<trust domain>/unit/<unit>/node and its key,"
  echo "   the province's CA bundle, its identity provider's key set, its matching key)"
fi
if [[ "$ROOT" == "/" && $START == 1 && ${#missing[@]} == 0 ]] && command -v systemctl >/dev/null; then
  systemctl daemon-reload
  systemctl enable --now receptiond
  echo "started: systemctl status receptiond; journalctl -u receptiond"
else
  echo "then: systemctl daemon-reload && systemctl enable --now receptiond"
fi
