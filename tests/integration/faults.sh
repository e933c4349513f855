#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# faults: a flood of nftables events from another process overflows fwd's
# event socket (ENOBUFS): fwd resynchronises, keeps its ruleset, leaves the
# other table alone and keeps serving. Runs with --no-lock, the mode in
# which fwd depends on events (kernels before 6.9).
. "$(dirname "$0")/../lib.sh"
need_root

ns_add srv
SOCK="$T_TMP/srv/sock"
mkdir -p "$T_TMP/srv"
ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f --no-lock -s "$SOCK" \
	-d "$T_TMP/srv/state" 2>"$T_TMP/srv/log"
wait_for 10 test -S "$SOCK"
export FWD_SOCKET="$SOCK"
"$TOP/$BUILD/fwctl" apply "$TOP/rules/db.json" >/dev/null
fwd_list srv -s >"$T_TMP/before"
awk 'BEGIN { printf "table inet other {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { "
	for (i = 0; i < 50000; i++)
		printf "%s10.%d.%d.%d", (i ? ", " : ""), int(i / 65536) % 256,
			int(i / 256) % 256, i % 256
	print " }\n\t}\n}" }' >"$T_TMP/big.nft"
nsx srv nft -f "$T_TMP/big.nft"
same "$?" 0 "another process loads 50,000 set elements in one transaction"
# Whether the socket overflows depends on how fast fwd reads; when it
# does, fwd must say so and resynchronise.
if wait_for 3 grep -q "could not watch it" "$T_TMP/srv/log"; then
	ok "fwd noticed that it lost events and resynchronised"
else
	ok "# SKIP fwd kept up with the flood this time (no events lost)"
fi
fwd_list srv -s >"$T_TMP/after"
check "fwd's ruleset is intact" cmp -s "$T_TMP/before" "$T_TMP/after"
same "$(nsx srv nft list set inet other s | grep -oE '10\.[0-9]+\.[0-9]+\.[0-9]+' | wc -l)" 50000 \
	"the other table is left alone"
"$TOP/$BUILD/fwctl" status >/dev/null
same "$?" 0 "fwd keeps serving"
"$TOP/$BUILD/fwctl" apply "$TOP/rules/db.json" >"$T_TMP/out"
same "$(cat "$T_TMP/out")" "unchanged" "and applies as before"

# --- the kernel refuses a batch: nothing changes, fwd keeps serving ---
# Two fwd instances want the same table "shared"; the first one locks it,
# so the kernel refuses the second one's whole batch (EPERM). Needs the
# table lock (Linux 6.9+).
ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -t shared -s "$T_TMP/srv/sock1" \
	-d "$T_TMP/srv/state1" 2>"$T_TMP/srv/log1"
wait_for 10 test -S "$T_TMP/srv/sock1"
ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -t shared -s "$T_TMP/srv/sock2" \
	-d "$T_TMP/srv/state2" 2>"$T_TMP/srv/log2"
wait_for 10 test -S "$T_TMP/srv/sock2"
if grep -q "is locked against other processes" "$T_TMP/srv/log1"; then
	FWD_SOCKET="$T_TMP/srv/sock1" "$TOP/$BUILD/fwctl" apply \
		"$TOP/rules/db.json" >/dev/null
	nsx srv nft -s list table inet shared >"$T_TMP/before"
	FWD_SOCKET="$T_TMP/srv/sock2" "$TOP/$BUILD/fwctl" apply \
		"$TOP/rules/web.json" >"$T_TMP/out" 2>&1
	same "$?" 1 "an apply the kernel refuses exits 1"
	check "and the error gives the kernel's reason" \
		grep -q "Operation not permitted" "$T_TMP/out"
	check "and the likely cause: another fwd" \
		grep -q "table inet shared may be another process's (a second fwd?), or fwd lacks CAP_NET_ADMIN" "$T_TMP/out"
	check "and stays short: one line per kind of refusal, the rest counted" \
		sh -c "[ \$(wc -l <'$T_TMP/out') -le 6 ]"
	nsx srv nft -s list table inet shared >"$T_TMP/after"
	check "the ruleset is exactly as before" cmp -s "$T_TMP/before" "$T_TMP/after"
	FWD_SOCKET="$T_TMP/srv/sock2" "$TOP/$BUILD/fwctl" status >/dev/null
	same "$?" 0 "the refused fwd keeps serving"
else
	ok "# SKIP this kernel cannot lock tables (Linux 6.9+)"
fi
