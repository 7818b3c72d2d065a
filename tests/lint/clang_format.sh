#!/bin/bash
# Every C++ file of the project is as clang-format (14, the Debian 12
# package, with .clang-format: Google style, 100 columns) would write it.
# Fix with: git ls-files '*.cc' '*.h' | grep -v ^third_party/ | xargs clang-format-14 -i
#   clang_format.sh SOURCE_DIR
set -u
cd "$1" || exit 2
tool=$(command -v clang-format-14 || command -v clang-format) || {
  echo "clang-format is not installed (tools/dev/setup.sh installs clang-format-14)"
  exit 1
}
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '^third_party/')
else
  mapfile -t files < <(find services tools tests -name '*.cc' -o -name '*.h')
fi
out=$("$tool" --dry-run --Werror "${files[@]}" 2>&1)
if [[ -n "$out" ]]; then
  echo "$out" | grep -E '^[^ ].*(warning|error):' | cut -d: -f1 | sort -u | sed 's/^/not formatted: /'
  echo "$out" | head -40
  exit 1
fi
echo "${#files[@]} files formatted"
