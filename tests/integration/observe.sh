#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# observe: counters, rates, drop logging over nflog, top dropped sources,
# Prometheus metrics (checked by promtool) and the --textfile served by the
# real node_exporter -- all against the real fwd in a namespace.
. "$(dirname "$0")/../lib.sh"
need_root

lab_up
mkdir -p "$T_TMP/srv/textfile"
cat >"$T_TMP/policy.json" <<'JSON'
{
  "version": 1,
  "host": "obs1",
  "input": {
    "default": "drop",
    "rules": [
      {"name": "ssh", "proto": "tcp", "port": 22, "from": "192.0.2.2"}
    ]
  },
  "options": {"log_drops": {"rate": "50/second"}}
}
JSON
SOCK="$T_TMP/srv/sock"
ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -s "$SOCK" -d "$T_TMP/srv/state" \
	--textfile "$T_TMP/srv/textfile/fwd.prom" 2>"$T_TMP/srv/log"
FWD=$BG_PID
wait_for 10 test -S "$SOCK"
jqe() { jq -e "$@" >/dev/null; }
fw() { FWD_SOCKET="$SOCK" "$TOP/$BUILD/fwctl" "$@"; }
fw apply "$T_TMP/policy.json" >/dev/null
ns_addr cli eth0 203.0.113.77/32

dropped() { fw --json status | jq -r '.chains[0].dropped.packets'; }
N=20
d0=$(dropped)
nsx cli hping3 -q -S -a 203.0.113.77 -p 5555 -c $N -i u20000 192.0.2.1 \
	>/dev/null 2>&1
sleep 1.2
d1=$(dropped)
same "$((d1 - d0))" "$N" "$N SYNs to a closed port add exactly $N to the default drop"
check "fwd logs a dropped packet with its source, destination port and interface" \
	grep -q "fwd drop input: in=eth0 src=203.0.113.77 dst=192.0.2.1 proto=tcp sport=[0-9]* dport=5555" \
	"$T_TMP/srv/log"
fw --json status >"$T_TMP/status.json"
same "$(jq -r '.top_dropped[0].source' "$T_TMP/status.json")" "203.0.113.77" \
	"the source is first in top_dropped"
check "top_dropped counts the logged drops" \
	test "$(jq -r '.top_dropped[0].packets' "$T_TMP/status.json")" -ge 1
check "the default drop has a positive rate after the burst" \
	jqe '.chains[0].dropped.rate > 0' "$T_TMP/status.json"
same "$(jq -r '.host, .chains[0].rules[0].name, .chains[0].default' "$T_TMP/status.json" | tr '\n' ' ')" \
	"obs1 ssh drop " "status --json names host, rules and default"
check "status --json has applied_at in RFC 3339" \
	jqe '.applied_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' "$T_TMP/status.json"

fw status >"$T_TMP/status.txt"
check "fwctl status prints the rule table" grep -q "ssh *accept" "$T_TMP/status.txt"
check "fwctl status prints the top dropped sources" grep -q "203.0.113.77" "$T_TMP/status.txt"
FWD_SOCKET="$SOCK" timeout 2.5 "$TOP/$BUILD/fwctl" status --watch 1 >"$T_TMP/watch.txt"
check "status --watch redraws" test "$(grep -c 'chain input' "$T_TMP/watch.txt")" -ge 2
check "and, to a file, clears no screen" test "$(grep -c "$(printf '\033')" "$T_TMP/watch.txt")" -eq 0
FWD_SOCKET="$SOCK" timeout 2.5 "$TOP/$BUILD/fwctl" --json status --watch 1 >"$T_TMP/watch.json"
check "status --json --watch: a JSON document per line" \
	sh -c "test \$(wc -l <'$T_TMP/watch.json') -ge 2 && jq -e -c .chains '$T_TMP/watch.json' >/dev/null"

fw metrics >"$T_TMP/metrics.txt"
same "$?" 0 "fwctl metrics works"
promtool check metrics <"$T_TMP/metrics.txt" >"$T_TMP/promtool.out" 2>&1
same "$?" 0 "fwctl metrics passes promtool check metrics"
sed 's/^/# /' "$T_TMP/promtool.out"
check "metrics carry the default drop" \
	grep -q "^fwd_default_drop_packets_total{chain=\"input\"} $d1$" "$T_TMP/metrics.txt"
check "metrics carry the policy" \
	grep -q '^fwd_policy_info{host="obs1",sha256="[0-9a-f]*"} 1$' "$T_TMP/metrics.txt"
check "metrics carry rule counters" \
	grep -q '^fwd_rule_packets_total{chain="input",rule="ssh",action="accept"} 0$' "$T_TMP/metrics.txt"

check "--textfile is written after an apply" test -s "$T_TMP/srv/textfile/fwd.prom"
promtool check metrics <"$T_TMP/srv/textfile/fwd.prom" >/dev/null 2>&1
same "$?" 0 "the textfile passes promtool check metrics"

NE=$(command -v prometheus-node-exporter || command -v node_exporter)
if [ -n "$NE" ]; then
	ns_bg srv "$NE" --web.listen-address=127.0.0.1:19100 \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$T_TMP/srv/textfile" \
		>"$T_TMP/ne.log" 2>&1
	wait_for 10 nsx srv curl -sf http://127.0.0.1:19100/metrics
	nsx srv curl -sf http://127.0.0.1:19100/metrics >"$T_TMP/scrape.txt"
	check "node_exporter serves fwd's metrics from the textfile" \
		grep -q '^fwd_default_drop_packets_total{chain="input"}' "$T_TMP/scrape.txt"
else
	ok "# SKIP node_exporter is not installed"
fi
