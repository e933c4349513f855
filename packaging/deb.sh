#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# deb.sh VERSION: builds the Debian package out of tree -- the sources and
# packaging/debian copied to build/deb/fwd-VERSION/ -- with
# dpkg-buildpackage (binary only, unsigned), then runs lintian on it and
# fails on any error. The .deb and .changes end up in build/deb/.
set -eu
VERSION=$1
cd "$(dirname "$0")/.."
OUT=$PWD/build/deb
SRC=$OUT/fwd-$VERSION

for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || {
		echo "deb: $t is missing (apt-get install dpkg-dev debhelper lintian)" >&2
		exit 1
	}
done
cv=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "${cv%-*}" != "$VERSION" ]; then
	echo "deb: packaging/debian/changelog is at $cv, the Makefile at $VERSION" >&2
	exit 1
fi

rm -rf "$OUT"
mkdir -p "$SRC"
cp -a Makefile README.md common fwd fwctl doc packaging rules "$SRC/"
cp -a packaging/debian "$SRC/debian"
(cd "$SRC" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log" >&2
	echo "deb: dpkg-buildpackage failed; log in $OUT/build.log" >&2
	exit 1
}
changes=$(ls "$OUT"/fwd_*.changes)
echo "deb: built $(cd "$OUT" && ls ./*.deb | sed 's|^\./||' | tr '\n' ' ')"
lintian --fail-on error --display-info $([ "$(id -u)" -eq 0 ] && echo --allow-root) "$changes" | tee "$OUT/lintian.log"
echo "deb: lintian: $(grep -c '^E:' "$OUT/lintian.log") errors," \
	"$(grep -c '^W:' "$OUT/lintian.log") warnings," \
	"$(grep -c '^I:' "$OUT/lintian.log") info"
