#!/bin/sh
# Put promtool (from Debian's `prometheus` package) at $1 (default .tools/bin/promtool),
# without installing anything system-wide: the package is downloaded and unpacked.
set -eu
target=${1:-.tools/bin/promtool}
[ -x "$target" ] && exit 0
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
if ! (cd "$workdir" && apt-get download prometheus >/dev/null 2>&1); then
    # A fresh machine may have no package lists yet; only root can fetch them.
    if [ "$(id -u)" = 0 ]; then
        apt-get update >/dev/null
        (cd "$workdir" && apt-get download prometheus >/dev/null)
    else
        echo "cannot download Debian's prometheus package (try: sudo apt-get update)" >&2
        exit 1
    fi
fi
dpkg-deb -x "$workdir"/prometheus_*.deb "$workdir/unpacked"
mkdir -p "$(dirname "$target")"
cp "$workdir/unpacked/usr/bin/promtool" "$target"
chmod +x "$target"
"$target" --version | head -1
