#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# big: a policy with a million addresses in one group. fwd applies it with
# a bounded peak memory and keeps little once it is in the kernel (the
# plan lets its set elements go); the kernel filters by it; and everything
# that needs the whole plan again -- show, diff, a changed apply, SIGHUP,
# a restart, a repair after someone else's change -- still works.
. "$(dirname "$0")/../lib.sh"
need_root
N=${BIG_N:-1000000}
PEAK_MAX_KB=131072 # 128 MiB
IDLE_MAX_KB=32768  # 32 MiB

# gen [SKIP]: N addresses 10.a.b.(4c+1); SKIP replaces that one with 10.255.0.1.
gen() {
	awk -v n="$N" -v skip="${1:--1}" 'BEGIN {
		printf "{\"version\": 1, \"groups\": {\"allow\": ["
		for (i = 0; i < n; i++) {
			if (i == skip)
				a = "10.255.0.1"
			else
				a = sprintf("10.%d.%d.%d", int(i / 16384) % 256, int(i / 64) % 256, (i % 64) * 4 + 1)
			printf "%s\"%s\"", (i ? "," : ""), a
		}
		print "]}, \"input\": {\"default\": \"drop\", \"rules\": [" \
			"{\"name\": \"https\", \"proto\": \"tcp\", \"port\": 443, \"from\": \"allow\"}]}}" }'
}
# Sanitizers shadow every byte: memory is only bounded in a normal build.
case $BUILD in *san*) memcheck() { ok "# SKIP $1 (sanitizer build)"; } ;;
*) memcheck() { check "$@"; } ;; esac
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# has ADDR: a connection from ADDR to port 443 gets through. (Real traffic:
# nft get element would read the whole set, seconds for a million.)
has() {
	echo "$1 192.0.2.1 443 tcp" | nsx cli "$TOP/$BUILD/fwprobe" probe 600 |
		grep -q ' open$'
}

gen >"$T_TMP/a.json"
gen 5 >"$T_TMP/b.json"
lab_up
mkdir -p "$T_TMP/fw"
export FWD_SOCKET="$T_TMP/fw/sock"
start_fwd() {
	rm -f "$FWD_SOCKET"
	ns_bg srv "$TOP/$BUILD/fwd" -f -s "$FWD_SOCKET" -d "$T_TMP/fw/state" "$@" \
		2>>"$T_TMP/fw/log"
	FWD=$BG_PID
	wait_for 20 test -S "$FWD_SOCKET"
}
start_fwd
check "a policy of $N addresses applies" "$TOP/$BUILD/fwctl" apply "$T_TMP/a.json"
sleep 1
peak=$(kb "$FWD" VmHWM) idle=$(kb "$FWD" VmRSS)
memcheck "peak memory ${peak} kB <= $PEAK_MAX_KB kB" test "$peak" -le $PEAK_MAX_KB
memcheck "idle memory ${idle} kB <= $IDLE_MAX_KB kB" test "$idle" -le $IDLE_MAX_KB

printf '%s\n' "10.0.0.1 192.0.2.1 443 tcp open" "10.0.0.21 192.0.2.1 443 tcp open" \
	"10.0.0.2 192.0.2.1 443 tcp dropped" "10.0.0.1 192.0.2.1 22 tcp dropped" \
	"10.255.0.1 192.0.2.1 443 tcp dropped" >"$T_TMP/p"
lab_probes "$T_TMP/p"
lab_run_probes "a"
"$TOP/$BUILD/fwctl" --json status >"$T_TMP/status"
# At least 2: a SYN sent again before the answer is counted again.
n=$(jq '.chains[0].rules[0].packets' "$T_TMP/status")
check "status counts the two accepted connections ($n)" test "$n" -ge 2

"$TOP/$BUILD/fwctl" --json show >"$T_TMP/show"
check "show gives the policy back" sh -c "jq -r .policy '$T_TMP/show' | grep -q '\"10.0.0.21\"'"
check "show gives the ruleset with the group's members" \
	sh -c "jq -r .ruleset '$T_TMP/show' | grep -q '10.0.0.21,'"
"$TOP/$BUILD/fwctl" diff "$T_TMP/b.json" >"$T_TMP/diff"
same "$(grep -c . "$T_TMP/diff")" 2 "diff names one element out and one in"
check "diff names them" sh -c "grep -q '10.0.0.21' '$T_TMP/diff' && grep -q '10.255.0.1' '$T_TMP/diff'"

check "a policy with one address changed applies" "$TOP/$BUILD/fwctl" apply "$T_TMP/b.json"
check "the new address is in the set" has 10.255.0.1
if has 10.0.0.21; then not_ok "the old address is gone"; else ok "the old address is gone"; fi

kill -HUP "$FWD"
sleep 0.5
wait_for 30 grep -q "reloaded policy" "$T_TMP/fw/log"
check "SIGHUP reloads the whole set" has 10.255.0.1
kill "$FWD"
wait "$FWD" 2>/dev/null
# A fwd that may not lock the table repairs what others change.
start_fwd --no-lock
check "a restarted fwd holds the set" has 10.255.0.1
nsx srv nft flush chain inet fwd_filter input
wait_for 30 has 10.255.0.1
check "a chain flushed by someone else is put back, with the set" has 10.255.0.1
wait_for 10 grep -q "restored policy" "$T_TMP/fw/log"
sleep 1 # fwd gives memory back once idle for 300 ms
idle=$(kb "$FWD" VmRSS)
memcheck "idle memory after the repair ${idle} kB <= $IDLE_MAX_KB kB" test "$idle" -le $IDLE_MAX_KB
exit $T_FAILS
