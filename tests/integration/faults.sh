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
