#!/bin/bash
# receptionctl refuses options it does not know (before any command runs):
# the lists in tools/receptionctl/cli.cc must hold every option any command
# file reads, and a misspelt option must fail with a suggestion, exit code 2.
# Every command has its own --help, and exit codes say what happened.
#   receptionctl_options.sh SOURCE_DIR RECEPTIONCTL
set -u
src_dir="$1/tools/receptionctl"
ctl="$2"
fail=0
# The two lists, however clang-format wraps them.
lists=$(awk '/^const std::set<std::string> k(BooleanFlags|ValueOptions) =/ {on = 1} on {print} on && /};/ {on = 0}' "$src_dir/cli.cc")
for name in $(cat "$src_dir"/*.cc "$src_dir"/*.h | grep -oE '\b(Get|GetOr|All|Has|need)\("[a-z0-9-]+"' | sed -E 's/.*\("(.*)"/\1/' | sort -u); do
  if ! grep -q "\"$name\"" <<<"$lists"; then
    echo "option --$name is read but not in kBooleanFlags/kValueOptions"
    fail=1
  fi
done
check() {  # check "args" "expected text"
  out=$("$ctl" $1 2>&1)
  rc=$?
  if [[ $rc -ne 2 ]] || ! grep -qF -- "$2" <<<"$out"; then
    echo "receptionctl $1: exit $rc, wanted 2 and \"$2\"; printed: $out"
    fail=1
  fi
}
check "list --overdeu --kind complaint --server 127.0.0.1:1 --unit 48" "did you mean --overdue?"
check "accept 48-2026-000001 --etga v9 --server 127.0.0.1:1 --unit 48" "did you mean --etag?"
check "list --json=yes --server 127.0.0.1:1 --unit 48" "--json takes no value"
check "federation outbox --no-such-thing 1" "unknown option --no-such-thing"
check "frobnicate" "unknown command \"frobnicate\""
# Each command's own help: its usage lines and the exit codes, exit 0.
for cmd in create accept list transfer room session register token calendar federation; do
  out=$("$ctl" "$cmd" --help 2>&1)
  rc=$?
  if [[ $rc -ne 0 ]] || ! grep -qE "^  $cmd( |$)" <<<"$out" || ! grep -q "Exit codes" <<<"$out"; then
    echo "receptionctl $cmd --help: exit $rc; printed: $out"
    fail=1
  fi
done
# Nothing listens on port 1: UNAVAILABLE is exit code 7 (retry later).
out=$("$ctl" get 48-2026-000001 --server 127.0.0.1:1 --unit 48 --timeout 2 2>&1)
rc=$?
if [[ $rc -ne 7 ]] || ! grep -q "UNAVAILABLE" <<<"$out"; then
  echo "receptionctl get on a closed port: exit $rc, wanted 7; printed: $out"
  fail=1
fi
exit $fail
