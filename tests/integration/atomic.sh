#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# atomic: fwd is killed with SIGKILL at random moments while it applies
# two 5,000-rule policies in turn; the kernel must hold one of the two
# rulesets whole every time, never a mix, and a restarted fwd must load
# the policy it had saved.
. "$(dirname "$0")/../lib.sh"
need_root
ROUNDS=${ROUNDS:-6}

gen() { # PREFIX PORT-OFFSET
	awk -v p="$1" -v off="$2" 'BEGIN {
		printf "{\"version\": 1, \"input\": {\"default\": \"drop\", \"rules\": [\n"
		for (i = 0; i < 5000; i++)
			printf "%s{\"name\": \"%s%d\", \"proto\": \"tcp\", \"port\": %d, \"from\": \"10.%d.%d.0/24\"}\n",
				(i ? "," : ""), p, i, 10000 + i + off, int(i / 250), i % 250
		print "]}}" }'
}
# The ruleset as a sorted list of lines, counter values zeroed: the same
# content whatever order the kernel lists objects in.
norm() {
	sed 's/packets [0-9]* bytes [0-9]*/packets 0 bytes 0/' "$1" | sort
}

gen a 0 >"$T_TMP/a.json"
gen b 7 >"$T_TMP/b.json"
"$TOP/$BUILD/fwctl" compile "$T_TMP/a.json" >"$T_TMP/a.nft"
"$TOP/$BUILD/fwctl" compile "$T_TMP/b.json" >"$T_TMP/b.nft"
norm "$T_TMP/a.nft" >"$T_TMP/a.norm"
norm "$T_TMP/b.nft" >"$T_TMP/b.norm"

ns_add srv
mkdir -p "$T_TMP/srv"
export FWD_SOCKET="$T_TMP/srv/sock"
start_fwd() {
	rm -f "$FWD_SOCKET"
	ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -s "$FWD_SOCKET" -d "$T_TMP/srv/state" \
		2>>"$T_TMP/srv/log"
	FWD=$BG_PID
	wait_for 20 test -S "$FWD_SOCKET"
}
which_ruleset() {
	fwd_list srv >"$T_TMP/now" 2>/dev/null
	norm "$T_TMP/now" >"$T_TMP/now.norm"
	if cmp -s "$T_TMP/now.norm" "$T_TMP/a.norm"; then echo a
	elif cmp -s "$T_TMP/now.norm" "$T_TMP/b.norm"; then echo b
	else echo mixed; fi
}

start_fwd
nsx srv "$TOP/$BUILD/fwctl" apply "$T_TMP/a.json" >/dev/null
same "$(which_ruleset)" a "the first 5,000-rule policy is loaded"
seed=$$
i=0
while [ $i -lt "$ROUNDS" ]; do
	i=$((i + 1))
	(
		n=0
		while [ $n -lt 10 ]; do
			nsx srv "$TOP/$BUILD/fwctl" apply "$T_TMP/b.json"
			nsx srv "$TOP/$BUILD/fwctl" apply "$T_TMP/a.json"
			n=$((n + 1))
		done
	) >/dev/null 2>&1 &
	loop=$!
	delay=$(awk -v s=$((seed + i)) 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 1.2 }')
	sleep "$delay"
	kill -KILL "$FWD"
	wait "$FWD" 2>/dev/null
	kill "$loop" 2>/dev/null
	wait "$loop" 2>/dev/null
	got=$(which_ruleset)
	case $got in
	a | b) ok "round $i: SIGKILL after ${delay}s left ruleset $got whole" ;;
	*) not_ok "round $i: SIGKILL after ${delay}s left a mixed ruleset" ;;
	esac
	start_fwd
	saved=$(grep -q '"name": *"a0"' "$T_TMP/srv/state/active.json" && echo a || echo b)
	same "$(which_ruleset)" "$saved" "round $i: the restarted fwd holds the policy it saved ($saved)"
done
