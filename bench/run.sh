#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/run.sh: fwd against the tools people would use instead, side by
# side in one run, each in network namespaces this script creates and
# removes (tests/lib.sh). Prints one table of medians over RUNS runs (wall
# and CPU seconds; fwd's CPU is fwctl's plus what fwd spent serving it) with
# each alternative's wall time as a multiple of fwd's. The loads of rules
# and of allowlists run in rounds, each alternative once per round, so that
# a drift in the machine's speed meets them all alike.
#   RUNS=N (default 5)   BENCH_QUICK=1: small sizes, 3 runs (smoke test)
#   BENCH_PPS=0: skip the packets/s part    BENCH_MILLION=0: skip 1e6 addrs
#   BENCH_PPS_ONLY=1: only the packets/s part  PPS_ROUNDS=N (default 5)
#   BENCH_RULES_ONLY=1: only the rule sets, 10,000 rules (with RUNS=31, a
#   long comparison of the largest load against its alternatives)
#   BENCH_GROUPS_ONLY=1: only the allowlist of 100,000 addresses
#   BENCH_SETTLE=S: the pause between an untimed step and a timed run
#   (default 0.3 s)
. "$(dirname "$0")/../tests/lib.sh"
need_root
unset SSH_CONNECTION
QUICK=${BENCH_QUICK:-0}
RUNS=${RUNS:-5}
SETTLE=${BENCH_SETTLE:-0.3}
if [ "$QUICK" = 1 ]; then
	RUNS=3
	SIZES="10 1000"
	GROUPS_N="1000"
	MILLION=0
	PPS_SIZES="1 1000"
else
	SIZES="10 100 1000 10000"
	GROUPS_N="1000 100000"
	MILLION=${BENCH_MILLION:-1}
	PPS_SIZES="1 100 1000 10000"
fi
PPS=${BENCH_PPS:-1}
FWD="$TOP/$BUILD/fwd"
FWCTL="$TOP/$BUILD/fwctl"
TM="$TOP/$BUILD/tm"
B=$T_TMP
TABLE="$B/table"
: >"$TABLE"
have() { command -v "$1" >/dev/null 2>&1; }
say() { echo "# $*" >&2; }

# --- measuring -----------------------------------------------------------

# median FILE COLUMN: the median of a column of numbers.
median() {
	sort -g -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
		END { if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)] }'
}

# once SAMPLES PRE RUN: "PRE" (untimed) then "RUN", which prints "wall
# cpu", appended to SAMPLES. Between them a pause (SETTLE seconds): the
# kernel frees what an nftables PRE deleted in a worker, after the
# transaction, and that work must not run into the next one's time.
once() {
	eval "$2" >/dev/null 2>&1 </dev/null
	sleep "$SETTLE"
	eval "$3" >>"$1" 2>/dev/null </dev/null || echo "fail fail" >>"$1"
}
# row WORK LABEL SAMPLES: the table row of the medians of SAMPLES.
row() {
	if grep -q fail "$3"; then
		_w=n/a _c=n/a
	else
		_w=$(median "$3" 1)
		_c=$(median "$3" 2)
	fi
	echo "$1|$2|$_w|$_c" >>"$TABLE"
	say "$1 | $2 | $_w | $_c"
}
# alt WORK LABEL PRE RUN: RUNS times "PRE" (untimed) then "RUN"; one table
# row. The first alternative of a work is the reference of the ratios.
alt() {
	: >"$B/samples"
	_k=0
	while [ $_k -lt "$RUNS" ]; do
		once "$B/samples" "$3" "$4"
		_k=$((_k + 1))
	done
	row "$1" "$2" "$B/samples"
}
# altq WORK LABEL PRE RUN: as alt, but queued for alts_run [AFTER-FIRST],
# which runs the queued alternatives in turn, RUNS rounds of one run each
# (on a machine whose speed drifts, each round meets every alternative in
# the same state), then writes their rows, AFTER-FIRST after the first.
: >"$B/queue"
altq() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$B/queue"; }
alts_run() {
	_n=$(wc -l <"$B/queue")
	_i=1
	while [ $_i -le "$_n" ]; do : >"$B/samples.$_i"; _i=$((_i + 1)); done
	_k=0
	while [ $_k -lt "$RUNS" ]; do
		_i=1
		while IFS='	' read -r _w _l _pre _run; do
			once "$B/samples.$_i" "$_pre" "$_run"
			_i=$((_i + 1))
		done <"$B/queue"
		_k=$((_k + 1))
	done
	_i=1
	while IFS='	' read -r _w _l _pre _run; do
		row "$_w" "$_l" "$B/samples.$_i"
		[ $_i -eq 1 ] && [ -n "${1:-}" ] && eval "$1" </dev/null
		_i=$((_i + 1))
	done <"$B/queue"
	: >"$B/queue"
}
# phases WORK FILE: where fwd's time went when it applied FILE (medians of
# the phases its log line gives: read, plan, kernel, save), as a row.
phases() {
	_sha=$(sha256sum <"$2" | cut -d' ' -f1)
	_p=$(grep "policy $_sha applied" "$B/fw/log" | sed -n 's/.*(read \([0-9.]*\) ms, plan \([0-9.]*\) ms, kernel \([0-9.]*\) ms, save \([0-9.]*\) ms)$/\1 \2 \3 \4/p')
	_m=""
	for _c in 1 2 3 4; do
		_m="$_m $(echo "$_p" | awk -v c=$_c 'NF { print $c }' | sort -g |
			awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }')"
	done
	set -- "$1" $_m
	note "$1" "fwd's own time, ms: read / plan / kernel / save" "$2 / $3 / $4 / $5"
}
# ksys NS SYSCALLS COMMAND...: runs COMMAND in NS under strace and prints,
# as "wall cpu", the seconds it spent inside SYSCALLS: the kernel's part of
# a load (the batch, or the table replace), apart from the tool's own work.
# Both columns are that wall time: the kernel works there on the CPU.
ksys() {
	_ns=$1 _sc=$2
	shift 2
	nsx "$_ns" strace -f -T -e trace="$_sc" -o "$B/strace" "$@" \
		>/dev/null 2>&1 || return 1
	awk -F'<' '/<[0-9.]+>$/ { t = $NF; sub(/>/, "", t); s += t }
		END { printf "%f %f\n", s, s }' "$B/strace"
}
# note WORK LABEL VALUE: a row that is a measurement of its own (memory).
note() { echo "$1|$2|$3|" >>"$TABLE"; }

# --- namespaces and daemons ---------------------------------------------

ns_add fw  # fwd
ns_add nf  # nft -f
ns_add il  # iptables-legacy-restore, ipset
ns_add in  # iptables-nft-restore
mkdir -p "$B/fw"
export FWD_SOCKET="$B/fw/sock"
fwd_start() { # NS DIR: a fresh fwd; FWD_PID
	rm -rf "$2" && mkdir -p "$2"
	ns_bg "$1" "$FWD" -f -s "$2/sock" -d "$2/state" 2>>"$2/log"
	FWD_PID=$BG_PID
	wait_for 10 test -S "$2/sock"
}
fwd_stop() { kill "$FWD_PID" 2>/dev/null; wait "$FWD_PID" 2>/dev/null; }
fwd_start fw "$B/fw"
apply() { "$FWCTL" apply "$1" >/dev/null; }
tapply() { "$TM" -p "$FWD_PID" "$FWCTL" apply "$1"; }

# --- generators ------------------------------------------------------------

# rules N [PORTSHIFT]: accept tcp port P from one address or a /24 each.
rules_json() {
	awk -v n="$1" -v sh="${2:-0}" 'BEGIN {
		printf "{\"version\": 1, \"input\": {\"default\": \"drop\", \"rules\": [\n"
		for (i = 0; i < n; i++)
			printf "%s{\"name\": \"r%d\", \"proto\": \"tcp\", \"port\": %d, \"from\": \"10.%d.%d.%s\"}\n",
				(i ? "," : ""), i, 10000 + (i + sh) % 50000,
				int(i / 250) % 250, i % 250, (i % 2) ? "0/24" : "1"
		print "]}}" }'
}
rules_ipt() {
	awk -v n="$1" 'BEGIN {
		print "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]"
		print "-A INPUT -i lo -j ACCEPT"
		print "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"
		for (i = 0; i < n; i++)
			printf "-A INPUT -s 10.%d.%d.%s -p tcp --dport %d -j ACCEPT\n",
				int(i / 250) % 250, i % 250, (i % 2) ? "0/24" : "1", 10000 + i % 50000
		print "COMMIT" }'
}
# addrs N [SKIP]: N addresses that never merge into ranges; SKIP changes one.
addrs() {
	awk -v n="$1" -v skip="${2:--1}" 'BEGIN {
		for (i = 0; i < n; i++) {
			j = (i == skip) ? n + 7 : i
			printf "10.%d.%d.%d\n", int(j / 16384) % 256, int(j / 64) % 256, (j % 64) * 4 + 1
		} }'
}
group_json() { # N [SKIP]
	addrs "$1" "${2:--1}" | awk 'BEGIN {
		printf "{\"version\": 1, \"groups\": {\"allow\": [" }
		{ printf "%s\"%s\"", (NR > 1 ? "," : ""), $1 }
		END { print "]}, \"input\": {\"default\": \"drop\", \"rules\": [" \
			"{\"name\": \"https\", \"proto\": \"tcp\", \"port\": 443, \"from\": \"allow\"}]}}" }'
}
group_ipset() { # N
	addrs "$1" | awk 'BEGIN { print "create allow-new hash:ip family inet hashsize 65536 maxelem 2000000 -exist"; print "flush allow-new" }
		{ print "add allow-new " $1 }
		END { print "create allow hash:ip family inet hashsize 65536 maxelem 2000000 -exist"
		      print "swap allow-new allow"; print "destroy allow-new" }'
}
empty_json() {
	echo '{"version": 1, "input": {"default": "drop", "rules": []}}'
}
empty_json >"$B/empty.json"

if [ "${BENCH_PPS_ONLY:-0}" = 1 ]; then SIZES="" GROUPS_N="" MILLION=0; fi
if [ "${BENCH_GROUPS_ONLY:-0}" = 1 ]; then
	SIZES="" GROUPS_N=100000 MILLION=0 PPS=0
fi
if [ "${BENCH_RULES_ONLY:-0}" = 1 ]; then
	SIZES=10000 GROUPS_N="" MILLION=0 PPS=0
fi

# --- 1. rules --------------------------------------------------------------

for sz in $SIZES; do
	say "rules: $sz"
	rules_json "$sz" >"$B/r$sz.json"
	rules_json "$sz" 3 >"$B/r$sz-b.json"
	"$FWCTL" compile "$B/r$sz.json" >"$B/r$sz.nft"
	"$TOP/$BUILD/fwplan" -s "$B/r$sz.json" >"$B/r$sz-lin.nft"
	rules_ipt "$sz" >"$B/r$sz.ipt"
	w="load $sz rules"
	altq "$w" "fwd (fwctl apply)" "apply $B/empty.json" "tapply $B/r$sz.json"
	altq "$w" "nft -f, fwd's ruleset" "nsx nf nft flush ruleset" \
		"nsx nf $TM nft -f $B/r$sz.nft"
	# What the per-rule counters cost the kernel: the same ruleset
	# with no counter in its map elements (no longer fwd's product).
	sed -e 's/ counter packets 0 bytes 0//' -e '/^\t\tcounter$/d' \
		"$B/r$sz.nft" >"$B/r$sz-nocount.nft"
	altq "$w" "nft -f, fwd's, no element counters" \
		"nsx nf nft flush ruleset" "nsx nf $TM nft -f $B/r$sz-nocount.nft"
	altq "$w" "nft -f, one rule per rule" "nsx nf nft flush ruleset" \
		"nsx nf $TM nft -f $B/r$sz-lin.nft"
	# A tool that is missing runs "false": its row says n/a.
	ipt=false
	have iptables-legacy-restore &&
		ipt="nsx il $TM -i $B/r$sz.ipt iptables-legacy-restore"
	altq "$w" "iptables-legacy-restore" "nsx il iptables-legacy -F" "$ipt"
	ipt=false
	have iptables-nft-restore &&
		ipt="nsx in $TM -i $B/r$sz.ipt iptables-nft-restore"
	altq "$w" "iptables-nft-restore" "nsx in nft flush ruleset" "$ipt"
	# The kernel's part alone: what fwd's phases row calls "kernel".
	if have strace; then
		altq "$w" "kernel part: nft -f, fwd's" "nsx nf nft flush ruleset" \
			"ksys nf sendmsg nft -f $B/r$sz.nft"
		altq "$w" "kernel part: the same, no counters" \
			"nsx nf nft flush ruleset" \
			"ksys nf sendmsg nft -f $B/r$sz-nocount.nft"
		have iptables-legacy-restore &&
			altq "$w" "kernel part: iptables-legacy" \
				"nsx il iptables-legacy -F" \
				"ksys il setsockopt iptables-legacy-restore <$B/r$sz.ipt"
	fi
	alts_run "phases '$w' '$B/r$sz.json'"
done

if [ -n "$SIZES" ]; then
# One rule changed in the largest policy, re-applied whole.
sz=${SIZES##* }
w="change 1 rule of $sz"
awk '/"r0"/ { sub(/"port": [0-9]+/, "\"port\": 9") } { print }' "$B/r$sz.json" >"$B/r$sz-c.json"
altq "$w" "fwd (fwctl apply)" "apply $B/r$sz.json" "tapply $B/r$sz-c.json"
altq "$w" "nft -f, whole ruleset" "nsx nf nft flush ruleset" \
	"nsx nf $TM nft -f $B/r$sz.nft"
alts_run "phases '$w' '$B/r$sz-c.json'"

# --- 2. reading counters ----------------------------------------------------

say "counters: $sz rules"
apply "$B/r$sz.json"
nsx nf nft flush ruleset
nsx nf nft -f "$B/r$sz-lin.nft"
w="read counters, $sz rules"
alt "$w" "fwctl status --json" "" "$TM -p $FWD_PID $FWCTL --json status"
alt "$w" "nft -j list ruleset (fwd's)" "" "nsx fw $TM nft -j list ruleset"
alt "$w" "nft -j list ruleset (per rule)" "" "nsx nf $TM nft -j list ruleset"
if have iptables-legacy-save; then
	nsx il iptables-legacy-restore <"$B/r$sz.ipt"
	alt "$w" "iptables-legacy-save -c" "" "nsx il $TM iptables-legacy-save -c"
fi
note "fwd memory" "after $sz rules: VmHWM / VmRSS" \
	"$(awk '/VmHWM|VmRSS/ { printf "%s %s ", $2, $3 }' /proc/$FWD_PID/status)"
fi

# --- 3. allowlist groups ----------------------------------------------------

for sz in $GROUPS_N; do
	say "group: $sz"
	group_json "$sz" >"$B/g$sz.json"
	group_json "$sz" 5 >"$B/g$sz-c.json"
	"$FWCTL" compile "$B/g$sz.json" >"$B/g$sz.nft"
	group_ipset "$sz" >"$B/g$sz.ipset"
	w="allowlist of $sz addresses"
	altq "$w" "fwd (fwctl apply)" "apply $B/empty.json" "tapply $B/g$sz.json"
	altq "$w" "nft -f, fwd's ruleset" "nsx nf nft flush ruleset" \
		"nsx nf $TM nft -f $B/g$sz.nft"
	ips=false
	have ipset && ips="nsx il $TM -i $B/g$sz.ipset ipset restore"
	altq "$w" "ipset restore + swap" "nsx il ipset destroy" "$ips"
	alts_run
	w="change 1 address of $sz"
	new=$(addrs "$sz" 5 | sed -n 6p)
	old=$(addrs "$sz" | sed -n 6p)
	alt "$w" "fwd (fwctl apply, whole file)" "apply $B/g$sz.json" \
		"tapply $B/g$sz-c.json"
	phases "$w" "$B/g$sz-c.json"
	alt "$w" "fwd, the same file again" "apply $B/g$sz.json" \
		"tapply $B/g$sz.json"
	# What the disk flush that saves the text costs: fwd again, its
	# state on tmpfs (nothing to flush), for the largest group.
	if [ "$sz" = "${GROUPS_N##* }" ] && [ -d /dev/shm ]; then
		shm=$(mktemp -d /dev/shm/fwd-bench.XXXXXX)
		fwd_stop
		ns_bg fw "$FWD" -f -s "$B/fw/sock" -d "$shm/state" 2>>"$B/fw/log"
		FWD_PID=$BG_PID
		wait_for 10 test -S "$B/fw/sock"
		alt "$w" "fwd, state on tmpfs (no flush)" "apply $B/g$sz.json" \
			"tapply $B/g$sz-c.json"
		fwd_stop
		rm -rf "$shm"
		fwd_start fw "$B/fw"
	fi
	alt "$w" "nft add element" \
		"nsx nf nft flush ruleset; nsx nf nft -f $B/g$sz.nft" \
		"nsx nf $TM nft add element inet fwd_filter allow_v4 '{ $new }'"
	alt "$w" "nft -f, whole ruleset" "nsx nf nft flush ruleset" \
		"nsx nf $TM nft -f $B/g$sz.nft"
	if have ipset; then
		alt "$w" "ipset add" "nsx il ipset del allow $new" \
			"nsx il $TM ipset add allow $new"
	fi
	: "$old"
done

# --- 4. memory ----------------------------------------------------------------

mem_row() { # LABEL FILE: a fresh fwd applies FILE
	fwd_stop
	fwd_start fw "$B/fw"
	[ -n "$2" ] && apply "$2"
	sleep 1 # fwd gives memory back once idle for 300 ms
	note "fwd memory" "$1: VmHWM / VmRSS" \
		"$(awk '/VmHWM|VmRSS/ { printf "%s %s ", $2, $3 }' /proc/$FWD_PID/status)"
}
[ -n "$GROUPS_N" ] && mem_row "idle, no policy" ""
for sz in $GROUPS_N; do mem_row "$sz addresses" "$B/g$sz.json"; done
if [ "$MILLION" = 1 ]; then
	say "group: 1000000"
	group_json 1000000 >"$B/g1m.json"
	w="allowlist of 1000000 addresses"
	RUNS_SAVE=$RUNS
	RUNS=1
	alt "$w" "fwd (fwctl apply, once)" "apply $B/empty.json" "tapply $B/g1m.json"
	"$FWCTL" compile "$B/g1m.json" >"$B/g1m.nft"
	alt "$w" "nft -f, fwd's ruleset (once)" "nsx nf nft flush ruleset" \
		"nsx nf $TM nft -f $B/g1m.nft"
	nsx nf nft flush ruleset
	rm -f "$B/g1m.nft"
	RUNS=$RUNS_SAVE
	mem_row "1000000 addresses" "$B/g1m.json"
	rm -f "$B/g1m.json"
fi

# --- 5. packets per second ----------------------------------------------------

pps_run() { # RULESET-FILE|"" : prints the receiver's packets/s
	nsx ps nft flush ruleset
	[ -n "$1" ] && nsx ps nft -f "$1"
	nsx pc timeout 10 iperf3 -c 198.18.0.1 -u -l 64 -b 0 -t 3 -J \
		>"$B/iperf.json" 2>/dev/null
	# The receiver's count: the last summary's packets less its losses.
	awk -F: '/"packets"/ { p = $2 + 0 } /"lost_percent"/ { l = $2 + 0 }
		/"seconds"/ { s = $2 + 0 }
		END { if (s > 0) printf "%d\n", p * (1 - l / 100) / s; else print "n/a" }' \
		"$B/iperf.json"
}
# pps_json N: N rules that every packet meets, the last one matching. No
# baseline: iperf3 answers its UDP flow once, and an established flow would
# skip the rules.
pps_json() {
	awk -v n="$1" 'BEGIN {
		printf "{\"version\": 1, \"options\": {\"baseline\": false}, \"input\": {\"default\": \"drop\", \"rules\": [\n"
		for (i = 0; i < n - 1; i++)
			printf "{\"name\": \"r%d\", \"proto\": \"tcp\", \"port\": %d, \"from\": \"10.%d.%d.0/24\"},\n",
				i, 10000 + i % 50000, int(i / 250) % 250, i % 250
		print "{\"name\": \"iperf\", \"proto\": [\"tcp\", \"udp\"], \"port\": 5201, \"from\": \"198.18.0.2\"}]}}" }'
}
if [ "$PPS" = 1 ] && have iperf3; then
	ns_add ps
	ns_add pc
	ns_link ps eth0 pc eth0
	ns_addr ps eth0 198.18.0.1/24
	ns_addr pc eth0 198.18.0.2/24
	# Every configuration once per round, rounds interleaved, so that
	# the machine's drift over the minutes this takes hits them alike.
	configs=""
	for sz in $PPS_SIZES; do
		pps_json "$sz" >"$B/p$sz.json"
		"$FWCTL" compile "$B/p$sz.json" >"$B/p$sz.nft"
		"$TOP/$BUILD/fwplan" -s "$B/p$sz.json" >"$B/p$sz-lin.nft"
		for kind in fwd lin none; do
			[ "$kind" = none ] && [ "$sz" != "${PPS_SIZES%% *}" ] && continue
			configs="$configs $sz:$kind"
			: >"$B/pps-$sz-$kind"
		done
	done
	PPS_ROUNDS=${PPS_ROUNDS:-5}
	k=0
	while [ $k -lt "$PPS_ROUNDS" ]; do
		for c in $configs; do
			sz=${c%%:*} kind=${c##*:}
			case $kind in
			fwd) f="$B/p$sz.nft" ;;
			lin) f="$B/p$sz-lin.nft" ;;
			none) f="" ;;
			esac
			ns_bg ps iperf3 -s -1 >/dev/null 2>&1
			sleep 0.3
			pps_run "$f" >>"$B/pps-$sz-$kind"
			wait "$BG_PID" 2>/dev/null
		done
		k=$((k + 1))
	done
	for c in $configs; do
		sz=${c%%:*} kind=${c##*:}
		case $kind in
		fwd) l="fwd's ruleset" ;;
		lin) l="linear chain" ;;
		none) l="no ruleset" ;;
		esac
		note "64-byte UDP packets/s, $sz rules" "$l" "$(median "$B/pps-$sz-$kind" 1)"
		say "pps $sz $l $(median "$B/pps-$sz-$kind" 1)"
	done
fi

# --- the table -----------------------------------------------------------------

fwd_stop
echo
echo "fwd benchmark: medians of $RUNS runs; ratio = wall / the first row's wall"
echo "($(uname -r), $(nft --version 2>/dev/null), $(nproc) CPUs)"
echo
awk -F'|' '
	BEGIN { printf "%-34s %-34s %10s %10s %8s\n", "work", "alternative", "wall s", "cpu s", "ratio" }
	$1 != last { ref = $3; last = $1; print "" }
	{
		r = ($3 + 0 > 0 && ref + 0 > 0 && $4 != "") ? sprintf("%.2f", $3 / ref) : ""
		if ($4 == "" ) { printf "%-34s %-34s %s\n", $1, $2, $3; next }
		printf "%-34s %-34s %10s %10s %8s\n", $1, $2, $3, $4, r
	}' "$TABLE"
