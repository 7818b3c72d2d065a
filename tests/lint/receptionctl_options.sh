#!/bin/bash
# receptionctl refuses options it does not know (before any command runs):
# the lists in tools/receptionctl/main.cc must hold every option the code
# reads, and a misspelt option must fail with a suggestion, exit code 2.
#   receptionctl_options.sh SOURCE_DIR RECEPTIONCTL
set -u
src="$1/tools/receptionctl/main.cc"
ctl="$2"
fail=0
# The two lists, however clang-format wraps them.
lists=$(awk '/^const std::set<std::string> k(BooleanFlags|ValueOptions) =/ {on = 1} on {print} on && /};/ {on = 0}' "$src")
for name in $(grep -oE '\b(Get|GetOr|All|Has|need)\("[a-z0-9-]+"' "$src" | sed -E 's/.*\("(.*)"/\1/' | sort -u); do
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
exit $fail
