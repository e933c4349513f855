#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# delta: re-applying a policy that differs in a few group members and map
# elements changes only those in the kernel (the rules' handles stay), the
# kernel then holds exactly the new ruleset, and no counter loses counts --
# neither the untouched rules' nor the changed map rule's.
. "$(dirname "$0")/../lib.sh"
need_root
GOOD="$TOP/tests/cases/good"
counter() { # RULE: packets of input_RULE in fwctl status --json
	"$TOP/$BUILD/fwctl" --json status |
		jq -r --arg r "$1" '.chains[] | select(.name == "input") | .rules[] | select(.name == $r) | .packets'
}

# in_place FILE MESSAGE: applying FILE keeps every rule of the input chain
# (same handles: only counters and elements changed).
in_place() {
	nsx srv nft -a list chain inet fwd_filter input >"$T_TMP/handles-1"
	"$TOP/$BUILD/fwctl" apply "$1" >/dev/null
	nsx srv nft -a list chain inet fwd_filter input >"$T_TMP/handles-2"
	check "$2" cmp -s "$T_TMP/handles-1" "$T_TMP/handles-2"
}

lab_up
mkdir -p "$T_TMP/fw"
export FWD_SOCKET="$T_TMP/fw/sock"
ns_bg srv "$TOP/$BUILD/fwd" -f -s "$FWD_SOCKET" -d "$T_TMP/fw/state" 2>"$T_TMP/fw/log"
wait_for 10 test -S "$FWD_SOCKET"
# B: one lb member and two map rules changed.
sed -e 's|"lb": \["10.10.0.0/24"|"lb": ["10.10.0.0/24", "10.11.0.9"|' \
	-e 's|"s1", "proto": "tcp", "port": 7001|"s1", "proto": "tcp", "port": 7101|' \
	-e 's|"s11", "proto": "tcp", "port": 7011, "from": "10.50.0.11"|"s11", "proto": "tcp", "port": 7011, "from": "10.50.0.111"|' \
	"$GOOD/maps.json" >"$T_TMP/b.json"
# A group used by a rule the maps do not hold: a named set, changed too.
sed -i 's|"after-lan", "proto": "tcp", "port": \[9000, 9001\], "from": "10.40.0.1"|"after-lan", "proto": "tcp", "port": [9000, 9001], "from": "lb"|' "$T_TMP/b.json"
cp "$T_TMP/b.json" "$T_TMP/a.json"
sed -i 's|"lb": \["10.10.0.0/24", "10.11.0.9"|"lb": ["10.10.0.0/24"|; s|"port": 7101|"port": 7001|; s|"from": "10.50.0.111"|"from": "10.50.0.11"|' "$T_TMP/a.json"
"$TOP/$BUILD/fwctl" apply "$T_TMP/a.json" >/dev/null
nsx srv nft list table inet fwd_filter >/dev/null 2>&1 && ok "policy A applied" || not_ok "policy A applied"
printf '%s\n' "10.50.0.1 192.0.2.1 7001 tcp open" "10.50.0.11 192.0.2.1 7011 tcp open" \
	"10.50.0.9 192.0.2.1 7009 tcp open" >"$T_TMP/p"
lab_probes "$T_TMP/p"
lab_run_probes "A"
s1=$(counter s1) s9=$(counter s9) s11=$(counter s11)
in_place "$T_TMP/b.json" \
	"B went in place: the input chain's rules kept their handles"
holds "$T_TMP/b.json" "the kernel holds exactly policy B"
same "$(counter s9)" "$s9" "an untouched map rule keeps its count ($s9)"
same "$(counter s1)" "$s1" "a changed map rule keeps its count ($s1)"
same "$(counter s11)" "$s11" "a map rule with new sources keeps its count ($s11)"
printf '%s\n' "10.11.0.9 192.0.2.1 443 tcp open" "10.50.0.1 192.0.2.1 7101 tcp open" \
	"10.50.0.1 192.0.2.1 7001 tcp dropped" "10.11.0.9 192.0.2.1 9001 tcp open" >"$T_TMP/p2"
kill "$BG_PID"
lab_probes "$T_TMP/p2"
lab_run_probes "B"
"$TOP/$BUILD/fwctl" apply "$T_TMP/a.json" >/dev/null
holds "$T_TMP/a.json" "and back: the kernel holds exactly policy A"
# C: one more rule that the maps cannot hold changes the chain, so the whole
# table is replaced; the map rules' counts move into their new elements.
s1=$(counter s1) s9=$(counter s9) s11=$(counter s11)
sed 's|"rules": \[|"rules": [{"name": "extra", "proto": "tcp", "port": 2222, "iif": "eth9"},|' \
	"$T_TMP/a.json" >"$T_TMP/c.json"
nsx srv nft -a list chain inet fwd_filter input >"$T_TMP/handles-a"
"$TOP/$BUILD/fwctl" apply "$T_TMP/c.json" >/dev/null
nsx srv nft -a list chain inet fwd_filter input >"$T_TMP/handles-c"
check "C replaced the chain" test "$(cat "$T_TMP/handles-a")" != "$(cat "$T_TMP/handles-c")"
check "s9 has counted something before C ($s9)" test "$s9" -gt 0
same "$(counter s9)" "$s9" "a replace keeps an untouched map rule's count ($s9)"
same "$(counter s1)" "$s1" "a replace keeps s1's count ($s1)"
same "$(counter s11)" "$s11" "a replace keeps s11's count ($s11)"
# D: a rule that loses a source which counted, and keeps another: its kept
# element is sent again carrying the lost element's count.
sed 's|"s9", "proto": "tcp", "port": 7009, "from": "10.50.0.9"|"s9", "proto": "tcp", "port": 7009, "from": ["10.50.0.9", "10.50.0.8"]|' \
	"$T_TMP/a.json" >"$T_TMP/d1.json"
"$TOP/$BUILD/fwctl" apply "$T_TMP/d1.json" >/dev/null
kill "$BG_PID"
printf '%s\n' "10.50.0.8 192.0.2.1 7009 tcp open" >"$T_TMP/p3"
lab_probes "$T_TMP/p3"
lab_run_probes "D"
s9=$(counter s9)
check "s9 counted the probe from its second source ($s9)" test "$s9" -gt 1
"$TOP/$BUILD/fwctl" apply "$T_TMP/a.json" >/dev/null
same "$(counter s9)" "$s9" "a rule that lost a counted source keeps its count ($s9)"
holds "$T_TMP/a.json" "and the kernel holds exactly policy A again"
# E: hash maps (a policy big enough for them) change in place too.
sed 's|"from": "10.1.0.8"|"from": "10.1.0.9"|' "$GOOD/hashmaps.json" >"$T_TMP/h2.json"
check "the hash-map policy differs in one source" test "$(cmp -s "$GOOD/hashmaps.json" "$T_TMP/h2.json"; echo $?)" = 1
"$TOP/$BUILD/fwctl" apply "$GOOD/hashmaps.json" >/dev/null
in_place "$T_TMP/h2.json" \
	"a hash-map policy changed in one element went in place"
holds "$T_TMP/h2.json" "the kernel holds exactly the changed hash-map policy"
grep -c 'vmap @input_accept_ip_32' "$T_TMP/want" >/dev/null &&
	ok "the changed policy uses hash maps" || not_ok "the changed policy uses hash maps"
kill "$BG_PID"
printf '%s\n' "10.1.0.9 192.0.2.1 20007 tcp open" "10.2.9.1 192.0.2.1 21009 tcp open" >"$T_TMP/p4"
lab_probes "$T_TMP/p4"
lab_run_probes "E"
# At least 1: a SYN sent again before the answer is counted again.
a7=$(counter a7) b9=$(counter b9)
check "status counts a rule held in a /32 hash map ($a7)" test "$a7" -ge 1
check "status counts a rule held in a /24 hash map ($b9)" test "$b9" -ge 1
