#!/bin/bash
# Builds the images (deploy/container/Containerfile) from Debian packages
# alone: mmdebstrap makes a root file system of exactly the packages that own
# the shared libraries the binaries load (found with ldd and dpkg -S), plus
# the fonts the papers are set in; the binaries, the shipped data and a
# non-root user are copied in; podman builds one image per binary on it.
#
#   deploy/container/build_images.sh [--build DIR] [--tag TAG] [--suite bookworm]
#
# Images: localhost/reception/{receptiond,case,routing,media,scheduling}:TAG.
# Reproducible: SOURCE_DATE_EPOCH is the last commit's time, so the same
# commit and the same Debian package versions give the same root file system;
# the package list (with versions) is in the image at
# /usr/local/share/reception/packages.txt and printed at the end.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$SRC/build"; TAG=dev; SUITE=bookworm
while (($#)); do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    --suite) SUITE="$2"; shift 2 ;;
    *) echo "build_images: unknown option $1" >&2; exit 2 ;;
  esac
done
BINARIES=(services/node/receptiond services/case/reception-case services/routing/reception-routing
          services/media/reception-media services/scheduling/reception-scheduling tools/receptionctl)
for b in "${BINARIES[@]}"; do
  [[ -x "$BUILD/$b" ]] || { echo "build_images: $BUILD/$b is missing: build first" >&2; exit 1; }
done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The runtime packages: the owners of every shared library the binaries load.
for b in "${BINARIES[@]}"; do ldd "$BUILD/$b" | awk '/=> \//{print $3}'; done | sort -u >"$WORK/libs"
while read -r lib; do
  owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
          dpkg -S "/usr$lib" 2>/dev/null) || { echo "build_images: no package owns $lib" >&2; exit 1; }
  echo "${owner%%: *}" | sed 's/:amd64$//'
done <"$WORK/libs" | sort -u >"$WORK/packages"
# Pango finds its fonts through fontconfig's configuration.
printf '%s\n' fonts-dejavu-core fontconfig-config >>"$WORK/packages"
INCLUDE=$(sort -u "$WORK/packages" | paste -sd, -)

export SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=$(git -C "$SRC" log -1 --format=%ct 2>/dev/null || echo 0)
# extract: the packages' files only, no maintainer scripts, no shell, no
# package manager in the image (so the files go in by extract hooks).
mmdebstrap --quiet --mode=root --variant=extract --include="$INCLUDE" \
  --extract-hook='mkdir -p "$1/usr/local/bin" "$1/usr/local/share/reception" "$1/etc/reception/tls" "$1/var/lib/reception" "$1/tmp"' \
  --extract-hook='chmod 1777 "$1/tmp"' \
  --extract-hook="copy-in $(printf '%s ' "${BINARIES[@]/#/$BUILD/}")/usr/local/bin" \
  --extract-hook="copy-in $SRC/deploy/topology $SRC/deploy/rules $SRC/deploy/calendars $SRC/deploy/forms /usr/local/share/reception" \
  --extract-hook='printf "root:x:0:0:root:/root:/usr/sbin/nologin\nreception:x:10001:10001:reception:/var/lib/reception:/usr/sbin/nologin\n" >"$1/etc/passwd"' \
  --extract-hook='printf "root:x:0:\nreception:x:10001:\n" >"$1/etc/group"' \
  --extract-hook='chown 10001:10001 "$1/var/lib/reception"' \
  --extract-hook='rm -rf "$1/usr/share/doc" "$1/usr/share/man" "$1/usr/share/locale"' \
  --extract-hook='ls "$1/var/cache/apt/archives/" | sed -n "s/_[^_]*[.]deb\$//p" | tr _ " " >"$1/usr/local/share/reception/packages.txt"' \
  "$SUITE" "$WORK/rootfs.tar"
cp "$SRC/deploy/container/Containerfile" "$WORK/Containerfile"
for target in receptiond case routing media scheduling; do
  podman build --quiet --format docker --target "$target" --timestamp "$SOURCE_DATE_EPOCH" \
    -t "localhost/reception/$target:$TAG" "$WORK" >/dev/null
  echo "built localhost/reception/$target:$TAG"
done
echo "runtime packages: $(sort -u "$WORK/packages" | wc -l) (see /usr/local/share/reception/packages.txt in the image)"
