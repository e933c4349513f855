#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh SECONDS BIN...: runs each libFuzzer binary for SECONDS on its seed
# corpus (tests/fuzz/corpus_<name without fuzz_>), read-only: new inputs go
# to a scratch dir. Prints "ok - fuzz NAME ran N s, X execs" or "not ok";
# exits 1 on any crash, leak or timeout, keeping the reproducer next to BIN.
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 SECONDS BIN..." >&2
	exit 2
fi
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
status=0

for bin in "$@"; do
	base=$(basename "$bin")
	name=${base#fuzz_}
	seeds=$here/corpus_$name
	work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX")
	mkdir "$work/corpus"
	[ -d "$seeds" ] || seeds=
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/" \
		"$work/corpus" $seeds >"$work/log" 2>&1
	rc=$?
	ran=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" |
		tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$execs" ]; then
		echo "ok - fuzz $name ran $ran s, $execs execs"
		rm -rf "$work"
		continue
	fi
	status=1
	echo "not ok - fuzz $name failed (exit $rc) after $ran s"
	sed -n '/ERROR\|SUMMARY\|Test unit written/p' "$work/log" | head -n 20
	for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
		"$work"/oom-*; do
		[ -e "$a" ] || continue
		cp "$a" "$(dirname "$bin")/" &&
			echo "# reproducer: $(dirname "$bin")/$(basename "$a")"
	done
	echo "# full log: $work/log"
done
exit $status
