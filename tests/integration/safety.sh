#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# safety: commit-confirmed applies that roll back by themselves (also
# across a SIGKILL of fwd), confirm, rollback, diff changing nothing, the
# SSH lockout guard, and tamper repair -- each checked with real probes.
. "$(dirname "$0")/../lib.sh"
need_root

lab_up
SOCK="$T_TMP/srv/sock"
start_fwd() {
	mkdir -p "$T_TMP/srv"
	rm -f "$SOCK"
	ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -s "$SOCK" -d "$T_TMP/srv/state" \
		${FWD_ARGS:-} 2>>"$T_TMP/srv/log"
	FWD=$BG_PID
	wait_for 10 test -S "$SOCK"
}
fw() { FWD_SOCKET="$SOCK" "$TOP/$BUILD/fwctl" "$@"; }
pol() { # NAME PORTS...: accept tcp PORTS from the client, drop the rest
	n=$1
	shift
	ports=$(echo "$@" | tr ' ' ',')
	printf '{"version": 1, "host": "%s", "input": {"default": "drop", "rules": [
	  {"name": "web", "proto": "tcp", "port": [%s], "from": "192.0.2.0/24"}]}}\n' \
		"$n" "$ports" >"$T_TMP/$n.json"
}
verdicts() { # PORT...: the verdicts of tcp probes from cli, space separated
	for p in "$@"; do echo "192.0.2.2 192.0.2.1 $p tcp"; done |
		nsx cli "$TOP/$BUILD/fwprobe" probe 500 | awk '{printf "%s ", $5}'
}
policy_host() { fw --json status | jq -r .host; }
pending() { fw --json status | jq -r .confirm_deadline; }

ns_bg srv "$TOP/$BUILD/fwprobe" listen 22 80 8080 >"$T_TMP/listen"
wait_for 5 grep -q ready "$T_TMP/listen"
start_fwd
pol a 22 80
pol b 22 8080
pol c 22
fw rollback >"$T_TMP/out" 2>&1
same "$?" 1 "rollback before any policy fails"
check "and says there is no previous policy" grep -q "no previous policy" "$T_TMP/out"
fw apply "$T_TMP/a.json" >/dev/null
same "$(verdicts 22 80 8080)" "open open dropped " "policy a: 22 and 80 open"
fw rollback >"$T_TMP/out" 2>&1
same "$?" 1 "rollback after the first policy fails (it would open the host)"
same "$(verdicts 22 80 8080)" "open open dropped " "and policy a stays"
same "$(policy_host)" "a" "status still shows policy a"

# --- an unconfirmed apply rolls back by itself ---
out=$(fw apply --confirm 2 "$T_TMP/b.json")
check "apply --confirm says how to confirm" sh -c "echo '$out' | grep -q 'fwctl confirm'"
same "$(verdicts 80 8080)" "dropped open " "policy b is live while it awaits confirmation"
check "status shows the pending confirmation" test "$(pending)" != null
fw apply "$T_TMP/c.json" >"$T_TMP/out" 2>&1
same "$?" 1 "another apply is refused while a confirmation is pending"
sleep 3
same "$(verdicts 80 8080)" "open dropped " "without confirm, fwd rolled back to policy a"
same "$(policy_host)" "a" "status shows policy a again"
same "$(pending)" "null" "nothing is pending after the rollback"
check "the rollback is logged" grep -q "rolling back" "$T_TMP/srv/log"

# --- a confirmed one stays ---
fw apply --confirm 2 "$T_TMP/b.json" >/dev/null
fw confirm >/dev/null
same "$?" 0 "fwctl confirm succeeds"
sleep 2.5
same "$(verdicts 80 8080)" "dropped open " "a confirmed policy stays past its deadline"
fw confirm >/dev/null 2>&1
same "$?" 1 "confirm with nothing pending fails"

# --- SIGKILL during a pending confirmation, restart after the deadline ---
fw apply --confirm 2 "$T_TMP/c.json" >/dev/null
same "$(verdicts 80 8080)" "dropped dropped " "policy c is live"
kill -KILL "$FWD"
wait "$FWD" 2>/dev/null
sleep 2.5
start_fwd
same "$(verdicts 80 8080)" "dropped open " "a restarted fwd rolled the expired apply back to policy b"
same "$(pending)" "null" "and nothing is pending any more"

# --- the same when fwd cannot adopt its table: another commit meanwhile
# (as after a reboot, or another tool's rules), so it loads its saved
# policy again -- and must still roll back to b, not to c ---
fw apply --confirm 2 "$T_TMP/c.json" >/dev/null
kill -KILL "$FWD"
wait "$FWD" 2>/dev/null
nsx srv nft add table inet someone_else
sleep 2.5
start_fwd
same "$(verdicts 80 8080)" "dropped open " "after another commit too, the restarted fwd rolled back to policy b"
same "$(policy_host)" "b" "status shows policy b"
nsx srv nft delete table inet someone_else

# --- rollback ---
fw apply "$T_TMP/a.json" >/dev/null
same "$(verdicts 80 8080)" "open dropped " "policy a applied"
fw rollback >/dev/null
same "$(verdicts 80 8080)" "dropped open " "fwctl rollback goes back to policy b"
# The running policy again, written otherwise (config management
# re-templating it): it changes nothing, and rollback still goes back to
# the policy before it.
fw apply "$T_TMP/c.json" >/dev/null
fw apply "$T_TMP/a.json" >/dev/null
jq -c . "$T_TMP/a.json" >"$T_TMP/a2.json"
same "$(fw apply "$T_TMP/a2.json")" "unchanged" "a reformatted policy a applies unchanged"
check "its text is the one saved" cmp -s "$T_TMP/a2.json" "$T_TMP/srv/state/active.json"
fw rollback >/dev/null
same "$(verdicts 80 8080)" "dropped dropped " "rollback then goes back to c, the policy before a"
fw apply "$T_TMP/b.json" >/dev/null
jq -c . "$T_TMP/b.json" >"$T_TMP/b2.json"
same "$(fw apply --confirm 2 "$T_TMP/b2.json" | head -1)" "unchanged" \
	"a reformatted policy b with --confirm: unchanged"
same "$(pending)" "null" "and nothing awaits confirmation"
sleep 2.5
same "$(verdicts 80 8080)" "dropped open " "past the would-be deadline policy b stays"

# --- diff changes nothing ---
nsx srv nft -s list ruleset >"$T_TMP/before"
fw diff "$T_TMP/a.json" >"$T_TMP/diff"
same "$?" 0 "fwctl diff exits 0"
check "diff names the changed rule element by element" \
	grep -q '^- chain input: ip saddr 192.0.2.0/24 tcp dport { 22, 8080 }' "$T_TMP/diff"
check "and what replaces it" \
	grep -q '^+ chain input: ip saddr 192.0.2.0/24 tcp dport { 22, 80 }' "$T_TMP/diff"
fw diff --exit-code "$T_TMP/a.json" >/dev/null
same "$?" 1 "diff --exit-code exits 1 when applying would change something"
fw diff --exit-code "$T_TMP/b.json" >"$T_TMP/diff"
same "$?:$(cat "$T_TMP/diff")" "0:no changes" "diff of the running policy: no changes"
nsx srv nft -s list ruleset >"$T_TMP/after"
check "diff leaves the kernel ruleset identical" cmp -s "$T_TMP/before" "$T_TMP/after"

# --- the lockout guard ---
printf '{"version": 1, "input": {"rules": [{"name": "web", "proto": "tcp", "port": 80}]}}' \
	>"$T_TMP/nossh.json"
SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22" fw apply "$T_TMP/nossh.json" \
	>"$T_TMP/out" 2>&1
same "$?" 1 "the lockout guard refuses a policy that would shut out this SSH session"
check "and says why" grep -q "could not reconnect to port 22" "$T_TMP/out"
same "$(verdicts 22)" "open " "the ruleset did not change"
SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22" fw apply "$T_TMP/a.json" >/dev/null
same "$?" 0 "a policy that keeps SSH open passes the guard"
SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22" fw apply --force "$T_TMP/nossh.json" >/dev/null
same "$?" 0 "--force overrides the guard"
same "$(verdicts 22 80)" "dropped open " "and the forced policy is live"

# --- the lock: the kernel itself refuses other processes (Linux 6.9+) ---
if grep -q "is locked against other processes" "$T_TMP/srv/log"; then
	check "nft list shows fwd's table with the owner flag" \
		sh -c "ip netns exec $(nsname srv) nft list table inet fwd_filter | grep -q 'flags owner'"
	nsx srv nft insert rule inet fwd_filter input tcp dport 22 accept \
		>"$T_TMP/out" 2>&1
	same "$?" 1 "the kernel refuses a rule inserted into fwd's locked table"
	check "with EPERM" grep -q "Operation not permitted" "$T_TMP/out"
	fwd_list srv -s >"$T_TMP/before"
	nsx srv nft flush ruleset
	fwd_list srv -s >"$T_TMP/after"
	check "nft flush ruleset leaves the locked table alone" \
		cmp -s "$T_TMP/before" "$T_TMP/after"
	kill -TERM "$FWD"
	wait "$FWD" 2>/dev/null
	fwd_list srv -s >"$T_TMP/after"
	check "the table persists after fwd exits" cmp -s "$T_TMP/before" "$T_TMP/after"
	nsx srv nft delete table inet fwd_filter
	check "an orphaned table can be deleted while fwd is down" \
		sh -c "! ip netns exec $(nsname srv) nft list table inet fwd_filter >/dev/null 2>&1"
	start_fwd
	fwd_list srv -s >"$T_TMP/after"
	check "a restarted fwd puts back a table deleted while it was down" \
		cmp -s "$T_TMP/before" "$T_TMP/after"
else
	ok "# SKIP this kernel cannot lock tables (Linux 6.9+)"
fi

# --- tamper: others' changes to fwd's table are undone within a second ---
# Without the lock (older kernels, or --no-lock), fwd repairs what it sees.
kill -TERM "$FWD"
wait "$FWD" 2>/dev/null
FWD_ARGS=--no-lock
start_fwd
fwd_list srv | sed 's/packets [0-9]* bytes [0-9]*/packets 0 bytes 0/' >"$T_TMP/table"
nsx srv nft insert rule inet fwd_filter input tcp dport 22 accept 2>/dev/null
sleep 1
fwd_list srv | sed 's/packets [0-9]* bytes [0-9]*/packets 0 bytes 0/' >"$T_TMP/now"
check "an accept inserted into fwd's chain by nft is gone within a second" \
	cmp -s "$T_TMP/table" "$T_TMP/now"
same "$(verdicts 22 80)" "dropped open " "and SSH is dropped again"
check "fwd logs which process changed its table" \
	grep -q "table inet fwd_filter was changed by pid [0-9]* (nft)" "$T_TMP/srv/log"
nsx srv nft flush ruleset
sleep 1
fwd_list srv 2>/dev/null | sed 's/packets [0-9]* bytes [0-9]*/packets 0 bytes 0/' >"$T_TMP/now"
check "nft flush ruleset: fwd's table is back within a second" \
	cmp -s "$T_TMP/table" "$T_TMP/now"
same "$(verdicts 22 80)" "dropped open " "and filtering as before"
same "$(fw metrics | awk '/^fwd_tamper_total/ {print $2}')" 2 \
	"fwd_tamper_total counts both repairs"
nsx srv nft add table inet bystander
sleep 0.5
same "$(fw metrics | awk '/^fwd_tamper_total/ {print $2}')" 2 \
	"changes to other tables are not tampering"

# --- the same policy again with --confirm arms nothing ---
fw apply "$T_TMP/a.json" >/dev/null
fw --json apply --confirm 1 "$T_TMP/a.json" >"$T_TMP/out"
same "$(jq -r '.changed, .confirm_deadline' "$T_TMP/out" | tr '\n' ' ')" "false null " \
	"re-applying the running policy with --confirm has nothing to roll back"
sleep 1.5
same "$(verdicts 22 80)" "open open " "and the policy stays in place past the would-be deadline"
jq -c . "$T_TMP/a.json" >"$T_TMP/a3.json"
fw --json apply --confirm 1 "$T_TMP/a3.json" >"$T_TMP/out"
same "$(jq -r '.changed, .confirm_deadline' "$T_TMP/out" | tr '\n' ' ')" "false null " \
	"nor does the running policy written otherwise"
sleep 1.5
same "$(verdicts 22 80)" "open open " "and the policy stays in place past the would-be deadline"

# --- an unconfirmed first apply goes back to the empty policy ---
# (a second fwd, on a table of its own: its first policy ever)
mkdir -p "$T_TMP/srv2"
ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -t first_t -s "$T_TMP/srv2/sock" \
	-d "$T_TMP/srv2/state" 2>>"$T_TMP/srv2/log"
wait_for 10 test -S "$T_TMP/srv2/sock"
FWD_SOCKET="$T_TMP/srv2/sock" "$TOP/$BUILD/fwctl" apply --confirm 1 "$T_TMP/c.json" >/dev/null
same "$(nsx srv nft list table inet first_t | grep -c 'chain input')" 1 \
	"a first apply with --confirm is live"
sleep 2
same "$(nsx srv nft list table inet first_t 2>/dev/null | grep -c chain)" 0 \
	"unconfirmed, it went back to the empty policy: no chain"
same "$(verdicts 22 80)" "open open " "and fwd_filter's policy a is untouched"
