#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# differential: random policies (seeded, bounded: overlapping prefixes and
# ranges, mixed families, deny and accept, some rules that maps cannot
# hold) are compiled twice -- verdict maps forced on (fwplan -m 1) and the
# simple one-rule-per-rule plan (fwplan -s) -- and loaded into two labs of
# namespaces. The same random packets must meet the same verdict in both,
# and the same named counters must count them (a map element counts for
# the rule in its comment).
#   DIFF_SEEDS="1 2 3" DIFF_RULES=30 DIFF_PROBES=150
. "$(dirname "$0")/../lib.sh"
need_root
SEEDS=${DIFF_SEEDS:-"11 22 33"}
# Seeds whose policies have single ports only, planned into hash maps.
HSEEDS=${DIFF_HSEEDS:-"44 66"}
RULES=${DIFF_RULES:-30}
PROBES=${DIFF_PROBES:-150}
FWPLAN="$TOP/$BUILD/fwplan"
FWPROBE="$TOP/$BUILD/fwprobe"
PORTS="7000 7001 7002 7003 7004 7005 7006 7007 7008 7009 7010 7011"

# gen SEED: a random policy.
gen() { # SEED [EXACT]: EXACT=1 gives single ports only
	awk -v seed="$1" -v n="$RULES" -v exact="${2:-0}" '
	function pick(k) { return int(rand() * k) }
	function a4() { # an address, prefix or range of 10.0.0.0/22
		x = pick(4); k = pick(6)
		if (k == 0) return sprintf("10.0.%d.0/24", x)
		if (k == 1) return "10.0.0.0/22"
		if (k == 2) return sprintf("10.0.%d.%d", x, pick(16))
		if (k == 3) return sprintf("10.0.%d.%d/%d", x, 16 * pick(2), 28 + pick(4))
		lo = pick(16); return sprintf("10.0.%d.%d-10.0.%d.%d", x, lo, x, lo + pick(8))
	}
	function a6() {
		x = pick(4); k = pick(5)
		if (k == 0) return sprintf("2001:db8:0:%d::/64", x)
		if (k == 1) return sprintf("2001:db8:0:%d::%x", x, pick(16))
		if (k == 2) return sprintf("2001:db8:0:%d::/%d", x, 124 + pick(4))
		if (k == 3) return "2001:db8::/62"
		lo = pick(16); return sprintf("2001:db8:0:%d::%x-2001:db8:0:%d::%x", x, lo, x, lo + pick(8))
	}
	function ports(   k, p) {
		k = pick(4); p = 7000 + pick(12)
		if (k == 0 || exact) return p
		if (k == 1) return sprintf("[%d, %d]", p, 7000 + pick(12))
		if (k == 2) return sprintf("\"%d-%d\"", p, p + pick(5))
		return sprintf("[%d, \"%d-%d\"]", 7000 + pick(12), p, p + pick(3))
	}
	function from(   k, s, i) {
		k = pick(10)
		if (k == 0) return ""
		s = ", \"from\": ["
		for (i = 0; i <= pick(3); i++)
			s = s (i ? ", " : "") "\"" (pick(3) ? a4() : a6()) "\""
		return s "]"
	}
	BEGIN {
		srand(seed)
		printf "{\"version\": 1, \"input\": {\"default\": \"drop\", \"rules\": [\n"
		for (i = 0; i < n; i++) {
			a = pick(20); act = a < 11 ? "accept" : a < 15 ? "drop" : "reject"
			p = pick(10); proto = p < 4 ? "\"tcp\"" : p < 7 ? "\"udp\"" : "[\"tcp\", \"udp\"]"
			extra = ""
			e = pick(20)
			if (e == 0) extra = ", \"iif\": \"eth0\""
			if (e == 1) extra = ", \"sport\": \"1024-65535\""
			if (e == 2) extra = ", \"to\": \"" (pick(2) ? "192.0.2.1" : "2001:db8:ffff::1") "\""
			if (e == 3) extra = ", \"limit\": \"1000/second\""
			if (e == 4) extra = ", \"log\": true"
			printf "%s{\"name\": \"r%d\", \"action\": \"%s\", \"proto\": %s, \"port\": %s%s%s}\n",
				(i ? "," : ""), i, act, proto, ports(), from(), extra
		}
		print "]}}"
	}'
}

# probes SEED: "SRC DST PORT PROTO" lines.
probes() {
	awk -v seed="$1" -v n="$PROBES" 'BEGIN {
		srand(seed * 7 + 1)
		for (i = 0; i < n; i++) {
			x = int(rand() * 4); h = int(rand() * 40)
			port = 7000 + int(rand() * 12); proto = rand() < 0.5 ? "tcp" : "udp"
			if (rand() < 0.65)
				printf "10.0.%d.%d 192.0.2.1 %d %s\n", x, h, port, proto
			else
				printf "2001:db8:0:%d::%x 2001:db8:ffff::1 %d %s\n", x, h, port, proto
		}
	}' | sort -u
}

# lab NAME: a server and a client namespace, as tests/lib.sh's lab_up.
lab() {
	ns_add "s$1"
	ns_add "c$1"
	ns_link "s$1" eth0 "c$1" eth0
	ns_addr "s$1" eth0 192.0.2.1/24
	ns_addr "s$1" eth0 2001:db8:ffff::1/64
	ns_addr "c$1" eth0 192.0.2.2/24
	ns_addr "c$1" eth0 2001:db8:ffff::2/64
	for n in "s$1" "c$1"; do
		ip -n "$(nsname "$n")" route add default dev eth0
		ip -n "$(nsname "$n")" -6 route add default dev eth0
	done
	ns_bg "s$1" "$FWPROBE" listen $PORTS >"$T_TMP/listen-$1"
	wait_for 5 grep -q ready "$T_TMP/listen-$1"
}

# counts NS: "counter packets" per named counter, map elements included,
# for the counters that moved (a rule whose pieces were all taken by
# earlier rules has no map element to show).
counts() {
	nsx "$1" nft -j list table inet fwd_filter | jq -r '
		.nftables[] |
		if .counter then "\(.counter.name) \(.counter.packets)"
		elif .map then
			(.map.name | sub("_(accept|deny)_ip6?(_[0-9]+)?$"; "")) as $c |
			(.map.elem // [])[] | select(.[1] | has("jump") | not) |
			"\($c)_\(.[0].elem.comment) \(.[0].elem.counter.packets)"
		else empty end' |
		awk '{ s[$1] += $2 } END { for (k in s) if (s[k]) print k, s[k] }' | sort
}

lab S
lab M
for seed in $SEEDS $HSEEDS; do
	case " $HSEEDS " in *" $seed "*) hash=1 ;; *) hash=0 ;; esac
	gen "$seed" "$hash" >"$T_TMP/p.json"
	probes "$seed" >"$T_TMP/probes"
	if [ $hash = 1 ]; then opts="-m 1 -H 1"; else opts="-m 1"; fi
	"$FWPLAN" -s "$T_TMP/p.json" >"$T_TMP/simple.nft" &&
		"$FWPLAN" $opts "$T_TMP/p.json" >"$T_TMP/maps.nft"
	check "seed $seed: the policy compiles" test -s "$T_TMP/maps.nft"
	check "seed $seed: the map plan uses maps" grep -q vmap "$T_TMP/maps.nft"
	[ $hash = 1 ] && check "seed $seed: the map plan uses hash maps" \
		grep -q 'vmap @[a-z]*_[a-z]*_ip6*_[0-9]' "$T_TMP/maps.nft"
	for a in $(awk '{print $1}' "$T_TMP/probes" | sort -u); do
		case $a in *:*) p=128 ;; *) p=32 ;; esac
		for l in S M; do ns_addr "c$l" eth0 "$a/$p" 2>/dev/null; done
	done
	for l in S M; do
		f=$([ $l = S ] && echo simple || echo maps)
		nsx "s$l" nft flush ruleset
		if ! nsx "s$l" nft -f "$T_TMP/$f.nft" 2>"$T_TMP/err"; then
			not_ok "seed $seed: nft -f loads the $f plan"
			sed 's/^/# /' "$T_TMP/err"
		fi
	done
	nsx cS "$FWPROBE" probe 600 <"$T_TMP/probes" | sort >"$T_TMP/gotS" &
	pS=$!
	nsx cM "$FWPROBE" probe 600 <"$T_TMP/probes" | sort >"$T_TMP/gotM"
	wait "$pS"
	n=$(wc -l <"$T_TMP/probes")
	check "seed $seed: $n probes answered in both labs" \
		test "$(wc -l <"$T_TMP/gotS")" -eq "$n" -a "$(wc -l <"$T_TMP/gotM")" -eq "$n"
	if cmp -s "$T_TMP/gotS" "$T_TMP/gotM"; then
		ok "seed $seed: every probe meets the same verdict ($(awk '{print $5}' "$T_TMP/gotS" | sort | uniq -c | tr -s ' \n' ' '))"
	else
		not_ok "seed $seed: every probe meets the same verdict"
		diff "$T_TMP/gotS" "$T_TMP/gotM" | sed 's/^/# /' | head -20
	fi
	counts sS >"$T_TMP/cS"
	counts sM >"$T_TMP/cM"
	if cmp -s "$T_TMP/cS" "$T_TMP/cM" && [ -s "$T_TMP/cS" ]; then
		ok "seed $seed: the same rules counted the same packets ($(wc -l <"$T_TMP/cS") counters moved)"
	else
		not_ok "seed $seed: the same rules counted the same packets"
		diff "$T_TMP/cS" "$T_TMP/cM" | sed 's/^/# /' | head -20
		cp "$T_TMP/p.json" "/tmp/fwd-differential-$seed.json"
		echo "# policy kept in /tmp/fwd-differential-$seed.json"
	fi
done
