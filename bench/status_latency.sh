#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# status_latency: latency of `fwctl status --json` (a whole client process,
# connect to reply) against the real fwd in a namespace, idle and while
# 222 hostile connections (idle, half-sent frames, garbage, a 4 GiB
# header, nested JSON, clients that never read) hold on. Prints medians,
# p99 and max over N calls each.
. "$(dirname "$0")/../tests/lib.sh"
need_root
N=${N:-300}

ns_add srv
SOCK="$T_TMP/srv/sock"
mkdir -p "$T_TMP/srv"
ns_bg srv "$TOP/$BUILD/fwd" -f -s "$SOCK" -d "$T_TMP/srv/state" 2>/dev/null
wait_for 10 test -S "$SOCK"
export FWD_SOCKET="$SOCK"
"$TOP/$BUILD/fwctl" apply "$TOP/rules/db.json" >/dev/null

run() { # LABEL
	i=0
	while [ $i -lt "$N" ]; do
		t0=$(date +%s%N)
		"$TOP/$BUILD/fwctl" --json status >/dev/null || echo fail >&2
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
		i=$((i + 1))
	done | sort -n | awk -v l="$1" '{ v[NR] = $1 } END {
		printf "%-34s %6d %9.2f %9.2f %9.2f\n", l, NR,
			v[int(NR * 0.5 + 0.5)] / 1000, v[int(NR * 0.99 + 0.5)] / 1000,
			v[NR] / 1000 }'
}

printf "%-34s %6s %9s %9s %9s\n" "fwctl status --json" calls "p50 ms" \
	"p99 ms" "max ms"
run "idle fwd"
"$TOP/$BUILD/fwprobe" hostile "$SOCK" 60 >"$T_TMP/hostile" &
T_PIDS="$T_PIDS $!"
wait_for 5 grep -q connected "$T_TMP/hostile"
run "with 222 hostile connections"
