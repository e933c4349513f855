#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# demo: the SPEC's three-tier site in network namespaces on a bridge --
# load balancer, web, app, database, bastion, monitoring and a host on the
# internet -- with the real fwd on every server running the rules/
# policies. Probes every host -> server -> port with real TCP, prints the
# matrix and the database server's status, and removes everything.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/site.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root (it creates network namespaces)" >&2
	exit 1
fi

echo "== building the site: $SITE_HOSTS (namespaces on a bridge)"
site_up
for h in $SITE_SERVERS; do site_fwd "$h"; done
for h in $SITE_SERVERS; do
	printf '   %-8s fwctl apply rules/%s.json: %s\n' "$h" \
		"$(site_policy "$h")" \
		"$(fwctl_on "$h" apply "$TOP/rules/$(site_policy "$h").json")"
done

echo
echo "== probing every host -> server -> port, TCP over IPv4 and IPv6"
echo "   ports: $SITE_PORTS"
site_probe "$T_TMP/matrix"
echo
printf '   %-8s' "from \\ to"
for s in $SITE_SERVERS; do printf ' %-17s' "$s"; done
echo
for c in $SITE_HOSTS; do
	printf '   %-8s' "$c"
	for s in $SITE_SERVERS; do
		cell=$(awk -v c="$c" -v s="$s" '$1 == c && $2 == s && $5 != "dropped" {
				v = $5 == "open" ? $4 : $4 "(rej)"
				if (!(v in seen)) { seen[v] = 1; out = out (out ? "," : "") v }
			} END { print out }' "$T_TMP/matrix")
		[ "$c" = "$s" ] && cell="(self)"
		printf ' %-17s' "${cell:--}"
	done
	echo
done
total=$(wc -l <"$T_TMP/matrix")
for v in open refused dropped; do
	eval "n_$v=$(awk -v v=$v '$5 == v' "$T_TMP/matrix" | wc -l)"
done
echo
echo "   cells list the ports that answered (allowed; (rej) = rejected at"
echo "   once); every other port was dropped. $total probes: $n_open allowed, $n_refused rejected, $n_dropped dropped."
v6diff=$(awk '{k = $1 " " $2 " " $4; v[k, $3] = $5} END {
	for (x in v) { split(x, p, SUBSEP); if (p[2] == 4 && v[p[1], 6] != v[x]) n++ }
	print n + 0 }' "$T_TMP/matrix")
echo "   IPv4 and IPv6 verdicts differ for $v6diff host/port pairs."

echo
echo "== some traffic for the counters: 40 SYNs from the internet to db:3306,"
echo "   20 from app to db:3306, 10 from monitoring to db:9100"
nsx out hping3 -q -S -p 3306 -c 40 -i u5000 10.10.0.41 >/dev/null 2>&1
nsx app hping3 -q -S -p 3306 -c 20 -i u5000 10.10.0.41 >/dev/null 2>&1
nsx mon hping3 -q -S -p 9100 -c 10 -i u5000 10.10.0.41 >/dev/null 2>&1
echo
echo "== fwctl status on db"
fwctl_on db status | sed 's/^/   /'
echo
# The demo is also a check: a step that went wrong, or a site where nothing
# answered, fails it.
if [ "$T_FAILS" -ne 0 ] || [ "$n_open" -eq 0 ]; then
	echo "== the demo FAILED: $T_FAILS step(s) went wrong, $n_open probes allowed" >&2
	exit 1
fi
echo "== removing the site"
