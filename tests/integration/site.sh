#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# site: the real fwd on every server of the SPEC's site (namespaces on a
# bridge), the rules/ policies applied with fwctl, and then: the full
# probe matrix against site.expect (IPv4 and IPv6), exact counter deltas,
# re-apply keeping counters, a bad policy changing nothing, read-only
# peers, another table left alone, SIGTERM leaving the host filtered, a
# restarted fwd adopting its table, and nft's listing loading back.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/site.sh"
need_root

site_up
for h in $SITE_SERVERS; do site_fwd "$h"; done
site_apply_all

# --- the matrix ---
site_probe "$T_TMP/matrix"
awk 'NR == FNR { if ($0 !~ /^#/ && NF >= 3) {
		v = "open"; p = $2
		if (p ~ /^!/) { v = "refused"; p = substr(p, 2) }
		for (i = 3; i <= NF; i++) rule[$1 " " p " " $i] = v
	} next }
	{ want = rule[$2 " " $4 " *"] ? rule[$2 " " $4 " *"] : \
		rule[$2 " " $4 " " $1] ? rule[$2 " " $4 " " $1] : "dropped"
	  print $0, want }' "$TOP/tests/integration/site.expect" \
	"$T_TMP/matrix" >"$T_TMP/judged"
for s in $SITE_SERVERS; do
	for fam in 4 6; do
		n=$(awk -v s="$s" -v f="$fam" '$2 == s && $3 == f' \
			"$T_TMP/judged" | wc -l)
		bad=$(awk -v s="$s" -v f="$fam" '$2 == s && $3 == f && $5 != $6' \
			"$T_TMP/judged")
		if [ -z "$bad" ] && [ "$n" -gt 0 ]; then
			ok "matrix: $s over IPv$fam matches site.expect ($n probes)"
		else
			not_ok "matrix: $s over IPv$fam matches site.expect ($n probes)"
			echo "$bad" | sed 's/^/# client server family port got want: /'
		fi
	done
done

# --- exact counter deltas, read by fwctl and by nft ---
counter() { # HOST NAME -> packets, as nft lists it
	nsx "$1" nft list counter inet fwd_filter "$2" |
		awk '/packets/ {print $2}'
}
status_rule() { # HOST RULE -> packets, from fwctl status --json
	fwctl_on "$1" --json status |
		jq -r --arg r "$2" '.chains[] | .rules[] | select(.name == $r) | .packets'
}
status_dropped() {
	fwctl_on "$1" --json status |
		jq -r '.chains[] | select(.name == "input") | .dropped.packets'
}
N=25
d0=$(status_dropped db)
m0=$(counter db input_mysql)
nsx out hping3 -q -S -p 3306 -c $N -i u10000 10.10.0.41 >/dev/null 2>&1
nsx app hping3 -q -S -p 3306 -c $N -i u10000 10.10.0.41 >/dev/null 2>&1
d1=$(status_dropped db)
m1=$(counter db input_mysql)
same "$((d1 - d0))" "$N" "$N SYNs from outside to db:3306 add exactly $N to the default drop"
same "$((m1 - m0))" "$N" "$N SYNs from app to db:3306 add exactly $N to rule mysql"
same "$(status_rule db mysql)" "$m1" "fwctl status and nft agree on rule mysql"

# --- re-apply: identical, then changed; counters survive ---
nsx db nft -s list ruleset >"$T_TMP/before"
out=$(fwctl_on db apply "$TOP/rules/db.json")
same "$out" "unchanged" "re-applying the same policy prints unchanged"
nsx db nft -s list ruleset >"$T_TMP/after"
check "re-applying the same policy leaves the kernel untouched" \
	cmp -s "$T_TMP/before" "$T_TMP/after"
cp "$TOP/rules/db.json" "$TOP/rules/groups.json" "$T_TMP/"
sed 's|"rules": \[|"rules": [\n      {"name": "extra", "proto": "tcp", "port": 7777, "from": "bastion"},|' \
	"$TOP/rules/db.json" >"$T_TMP/db.json"
out=$(fwctl_on db apply "$T_TMP/db.json")
same "$out" "changed" "applying a changed policy prints changed"
same "$(counter db input_mysql)" "$m1" "rule mysql keeps its counter across a changed apply"
same "$(status_dropped db)" "$d1" "the default drop keeps its counter across a changed apply"
got=$(printf '10.10.0.5 10.10.0.41 7777 tcp\n' | nsx bastion "$TOP/$BUILD/fwprobe" probe 1000)
same "${got##* }" "refused" "the new rule is live (bastion reaches db:7777, nothing listens)"

# --- a bad policy changes nothing ---
nsx db nft -s list ruleset >"$T_TMP/before"
printf '{"version": 1, "input": {"rules": [{"name": "x", "proto": "tcp", "port": 70000}]}}' >"$T_TMP/bad.json"
fwctl_on db apply "$T_TMP/bad.json" >"$T_TMP/out" 2>&1
same "$?" 1 "fwctl apply of an invalid policy exits 1"
check "fwd's refusal names the file, the path and the problem" \
	grep -qF "$T_TMP/bad.json: input.rules[0].port: 70000 is out of range 1-65535" "$T_TMP/out"
printf '{"v": 1, "cmd": "apply", "policy": "{\\"version\\": 1, \\"input\\": {\\"rules\\": [{\\"name\\": \\"x\\", \\"proto\\": \\"tcp\\", \\"port\\": 70000}]}}"}' |
	nsx db "$TOP/$BUILD/fwprobe" request "$T_TMP/db/sock" >"$T_TMP/reply"
same "$(jq -r '.ok, .errors[0].path, .errors[0].message' "$T_TMP/reply" | tr '\n' '|')" \
	"false|input.rules[0].port|70000 is out of range 1-65535|" \
	"fwd itself refuses an invalid document, naming the path"
nsx db nft -s list ruleset >"$T_TMP/after"
check "an invalid policy leaves the kernel ruleset identical" \
	cmp -s "$T_TMP/before" "$T_TMP/after"

# --- who may do what ---
fwctl_on db apply --dry-run "$TOP/rules/db.json" >"$T_TMP/out"
same "$(cat "$T_TMP/out")" "changed (dry run: nothing was applied)" "a dry run reports what would change"
nsx db nft -s list ruleset >"$T_TMP/after"
check "a dry run leaves the kernel ruleset identical" cmp -s "$T_TMP/before" "$T_TMP/after"
as_nobody() {
	FWD_SOCKET="$T_TMP/db/sock" nsx db setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$TOP/$BUILD/fwctl" "$@"
}
as_nobody status >/dev/null 2>&1
same "$?" 3 "an unprivileged user cannot even connect to the 0600 socket"
chmod 0666 "$T_TMP/db/sock"
chmod 0755 "$T_TMP" "$T_TMP/db"
as_nobody status >/dev/null 2>&1
same "$?" 0 "a peer that can connect may read status"
as_nobody apply "$TOP/rules/db.json" >"$T_TMP/out" 2>&1
same "$?" 1 "a peer outside root and the group cannot apply"
check "and is told why" grep -q "permission denied" "$T_TMP/out"
# Nor is a file it passes read (proto.h): a write-only one would fail so.
if [ -x /usr/bin/python3 ]; then
	printf '{"version": 1}' >"$T_TMP/db/own.json"
	chmod 0666 "$T_TMP/db/own.json"
	nsx db setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 \
		"$TOP/tests/tools/passfd.py" "$T_TMP/db/sock" wronly \
		"$T_TMP/db/own.json" >"$T_TMP/out" 2>&1
	check "a file passed by that peer is not read: permission denied" \
		grep -q "permission denied" "$T_TMP/out"
fi

# --- another table in the namespace stays untouched ---
nsx db nft add table inet other
nsx db nft add chain inet other c '{ type filter hook input priority 10; }'
nsx db nft add rule inet other c tcp dport 1234 counter accept
nsx db nft list table inet other >"$T_TMP/other.before"
fwctl_on db apply "$TOP/rules/db.json" >/dev/null
nsx db nft list table inet other >"$T_TMP/other.after"
check "another table in the same namespace stays untouched" \
	cmp -s "$T_TMP/other.before" "$T_TMP/other.after"

# --- SIGTERM leaves the host filtered; a restart adopts the table ---
fwd_list db -s >"$T_TMP/before"
kill -TERM "$FWD_PID_db"
wait "$FWD_PID_db" 2>/dev/null
check "fwd exits on SIGTERM" sh -c "! kill -0 $FWD_PID_db 2>/dev/null"
fwd_list db -s >"$T_TMP/after"
check "the ruleset stays in place after SIGTERM" cmp -s "$T_TMP/before" "$T_TMP/after"
got=$(echo '203.0.113.50 10.10.0.41 3306 tcp' |
	nsx out "$TOP/$BUILD/fwprobe" probe 1000)
got2=$(echo '10.10.0.31 10.10.0.41 3306 tcp' |
	nsx app "$TOP/$BUILD/fwprobe" probe 1000)
same "${got##* } ${got2##* }" "dropped open" \
	"with fwd stopped, db still drops outsiders (and app still gets in)"
m1=$(counter db input_mysql)
site_fwd db
check "a restarted fwd adopts its table without touching it" \
	grep -q "adopted table inet fwd_filter" "$T_TMP/db/log"
fwd_list db -s >"$T_TMP/after"
check "the ruleset is the same after the restart" cmp -s "$T_TMP/before" "$T_TMP/after"
same "$(status_rule db mysql)" "$m1" "counters survive a restart of fwd"

# --- show, version, SIGHUP ---
fwctl_on db show >"$T_TMP/show"
check "show prints the running policy" grep -q '"host":[[:space:]]*"db1"' "$T_TMP/show"
check "show prints the ruleset with live counters" \
	grep -q "counter input_mysql {" "$T_TMP/show"
same "$(fwctl_on db version | tr '\n' ' ')" "fwctl 0.1.0 fwd 0.1.0 " "version names both"
fwd_list db -s >"$T_TMP/before"
eval "kill -HUP \$FWD_PID_db"
wait_for 5 grep -q "reloaded policy" "$T_TMP/db/log"
check "SIGHUP re-applies the saved policy" grep -q "reloaded policy" "$T_TMP/db/log"
fwd_list db -s >"$T_TMP/after"
check "and the ruleset is the same afterwards" cmp -s "$T_TMP/before" "$T_TMP/after"

# --- nft's listing of fwd's table loads back unchanged elsewhere ---
fwd_list db >"$T_TMP/listed"
ns_add fresh
nsx fresh nft -f "$T_TMP/listed"
nsx fresh nft list table inet fwd_filter >"$T_TMP/relisted"
check "nft list of fwd's table loads into a fresh namespace unchanged" \
	cmp -s "$T_TMP/listed" "$T_TMP/relisted"
