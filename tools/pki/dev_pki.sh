#!/bin/bash
# A development PKI for a federation, made with the OpenSSL CLI: a CA, and
# for each unit a node certificate whose URI SAN names it
# (spiffe://<trust domain>/unit/<unit>/node), with the loopback addresses (and
# any --san you add) for hostname verification. Never for production keys.
#
#   tools/pki/dev_pki.sh DIR [--trust-domain TD] [--days N] [--san DNS:host]...
#                            [--expired] [--ca-only] UNIT...
#
# DIR/ca.crt, DIR/ca.key (created once, reused), DIR/<unit>/node.crt and
# DIR/<unit>/node.key (mode 0600), and DIR/matching.key (created once, mode
# 0600): the province's matching key every node shares
# (duplicates.matching_key_file). --expired issues certificates that ended
# yesterday (for tests). Re-running for a unit issues it a new certificate
# (rotation: the node reads the files again on its own).
set -euo pipefail
if (($# < 1)); then sed -n '2,14p' "$0"; exit 2; fi
DIR="$1"; shift
TD="reception.local"; DAYS=825; EXPIRED=0; CA_ONLY=0; SANS=(); UNITS=()
while (($#)); do
  case "$1" in
    --trust-domain) TD="$2"; shift 2 ;;
    --days) DAYS="$2"; shift 2 ;;
    --san) SANS+=("$2"); shift 2 ;;
    --expired) EXPIRED=1; shift ;;
    --ca-only) CA_ONLY=1; shift ;;
    -*) echo "dev_pki: unknown option $1" >&2; exit 2 ;;
    *) UNITS+=("$1"); shift ;;
  esac
done
mkdir -p "$DIR"
cd "$DIR"
umask 077
if [[ ! -f ca.key ]]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/O=reception dev/CN=reception dev CA ${TD}" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
  chmod 0644 ca.crt
fi
if [[ ! -f matching.key ]]; then
  openssl rand -hex 32 > matching.key
  chmod 0600 matching.key
fi
((CA_ONLY)) && exit 0
mkdir -p .ca/new
[[ -f .ca/index.txt ]] || : > .ca/index.txt
[[ -f .ca/serial ]] || openssl rand -hex 16 > .ca/serial
cat > .ca/ca.cnf <<CNF
[ca]
default_ca = dev
[dev]
dir = .ca
database = .ca/index.txt
new_certs_dir = .ca/new
serial = .ca/serial
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
organizationName = optional
commonName = supplied
CNF
for unit in "${UNITS[@]}"; do
  [[ "$unit" =~ ^[A-Za-z0-9._-]{1,32}$ ]] || { echo "dev_pki: bad unit code $unit" >&2; exit 2; }
  mkdir -p "$unit"
  san="URI:spiffe://${TD}/unit/${unit}/node,IP:127.0.0.1,IP:::1,DNS:localhost"
  for s in "${SANS[@]}"; do san="${san},${s}"; done
  printf '[node]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san" > ".ca/${unit}.ext"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$unit/node.key.new" 2>/dev/null
  openssl req -new -key "$unit/node.key.new" -subj "/O=reception dev/CN=node ${unit}" -out ".ca/${unit}.csr"
  if ((EXPIRED)); then
    dates=(-startdate "$(date -u -d '-3 days' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)")
  else
    dates=(-startdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" -days "$DAYS")
  fi
  openssl ca -batch -notext -config .ca/ca.cnf -extfile ".ca/${unit}.ext" -extensions node "${dates[@]}" \
    -in ".ca/${unit}.csr" -out "$unit/node.crt.new" 2>/dev/null
  # Replace both files by rename, key first, so a watcher never pairs a new
  # certificate with an old key for long.
  mv "$unit/node.key.new" "$unit/node.key"
  mv "$unit/node.crt.new" "$unit/node.crt"
  chmod 0644 "$unit/node.crt"
done
