#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh: the whole suite -- unit tests (normal and ASan/UBSan builds), the
# CLI, schema, install and Debian package tests, short fuzz runs, and as
# root the namespace integration tests.
# Counts "ok"/"not ok" lines and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
LOG=$(mktemp /tmp/fwd-tests.XXXXXX)
FUZZ_SECONDS=${FUZZ_SECONDS:-5}

suite() { # NAME COMMAND...
	name=$1
	shift
	echo "# suite $name"
	start=$(date +%s)
	"$@" 2>&1
	rc=$?
	echo "# suite $name: exit $rc, $(($(date +%s) - start)) s"
	if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
		echo "not ok - suite $name exited with status $rc"
	fi
}

run_unit() { # BUILD
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		case $(basename "$t") in
		test_nl*)
			# Needs CAP_NET_ADMIN, and only ever in a fresh netns.
			if [ "$(id -u)" -eq 0 ]; then
				suite "$t" unshare -n "$t"
			fi
			;;
		*) suite "$t" "$t" ;;
		esac
	done
}

{
	run_unit build
	run_unit build-san
	for b in build build-san; do
		suite "cli ($b)" env BUILD=$b sh tests/cli.sh
	done
	suite schema sh tests/schema.sh
	suite install sh tests/install.sh
	suite deb sh tests/deb.sh
	suite fuzz tests/fuzz/run.sh "$FUZZ_SECONDS" build-fuzz/fuzz_*
	if [ "$(id -u)" -eq 0 ]; then
		for t in tests/integration/*.sh; do
			suite "$t" sh "$t"
		done
		# The daemon's paths once more under ASan/UBSan/LSan.
		for t in site safety observe hostile oracle delta quick; do
			suite "$t (build-san)" env BUILD=build-san \
				sh "tests/integration/$t.sh"
		done
		# Big enough for fwd to let the set go once applied.
		suite "big (build-san)" env BUILD=build-san BIG_N=300000 \
			sh tests/integration/big.sh
	else
		echo "# integration tests skipped: they need root"
	fi
} | tee "$LOG"

pass=$(grep -c '^ok' "$LOG")
fail=$(grep -c '^not ok' "$LOG")
if [ "$fail" -gt 0 ]; then
	echo
	echo "# failures:"
	grep '^not ok' "$LOG"
fi
rm -f "$LOG"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
