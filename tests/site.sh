# SPDX-License-Identifier: GPL-2.0-or-later
# site.sh: the SPEC's three-tier site as network namespaces on one bridge
# (sourced after lib.sh). Servers run the real fwd with the rules/ policies;
# "out" is a host on the internet. Addresses follow rules/groups.json.

SITE_SERVERS="lb web app db bastion mon"
SITE_HOSTS="$SITE_SERVERS out"
SITE_PORTS="22 80 113 443 3000 3306 8080 8081 8404 9090 9100 9104 9113"

site_v4() {
	case $1 in
	lb) echo 10.10.0.10 ;; web) echo 10.10.0.21 ;; app) echo 10.10.0.31 ;;
	db) echo 10.10.0.41 ;; bastion) echo 10.10.0.5 ;; mon) echo 10.10.0.8 ;;
	out) echo 203.0.113.50 ;;
	esac
}
site_v6() {
	case $1 in
	out) echo 2001:db8:ff::50 ;;
	*) echo "2001:db8:10::$(site_v4 "$1" | cut -d. -f4)" ;;
	esac
}
site_policy() { # the rules/ file of a server
	case $1 in mon) echo monitoring ;; *) echo "$1" ;; esac
}

site_up() {
	ns_add net
	nsx net ip link add br0 type bridge
	nsx net ip link set br0 up
	for h in $SITE_HOSTS; do
		ns_add "$h"
		ip link add eth0 netns "$(nsname "$h")" type veth peer name "v-$h" \
			netns "$(nsname net)" || exit 1
		nsx net ip link set "v-$h" master br0 up
		nsx "$h" ip link set eth0 up
		ns_addr "$h" eth0 "$(site_v4 "$h")/24"
		ns_addr "$h" eth0 "$(site_v6 "$h")/64"
		nsx "$h" ip route add default dev eth0
		nsx "$h" ip -6 route add default dev eth0
	done
	for h in $SITE_SERVERS; do
		ns_bg "$h" "$TOP/$BUILD/fwprobe" listen $SITE_PORTS \
			>"$T_TMP/listen-$h"
	done
	for h in $SITE_SERVERS; do
		wait_for 5 grep -q ready "$T_TMP/listen-$h" ||
			not_ok "listener on $h started"
	done
}

# site_fwd HOST: starts fwd in HOST (state and socket under $T_TMP/HOST);
# sets FWD_PID_<HOST>.
site_fwd() {
	mkdir -p "$T_TMP/$1"
	ns_bg "$1" "$TOP/$BUILD/fwd" -f -s "$T_TMP/$1/sock" \
		-d "$T_TMP/$1/state" ${FWD_ARGS:-} 2>>"$T_TMP/$1/log"
	eval "FWD_PID_$1=$BG_PID"
	wait_for 10 test -S "$T_TMP/$1/sock" || not_ok "fwd started on $1"
}

# fwctl_on HOST ARGS...: fwctl inside HOST, talking to HOST's fwd.
fwctl_on() {
	_fwh=$1
	shift
	FWD_SOCKET="$T_TMP/$_fwh/sock" nsx "$_fwh" "$TOP/$BUILD/fwctl" "$@"
}

site_apply_all() {
	for h in $SITE_SERVERS; do
		fwctl_on "$h" apply "$TOP/rules/$(site_policy "$h").json" \
			>/dev/null || not_ok "apply rules/$(site_policy "$h").json on $h"
	done
}

# site_probe OUT: every host -> every other server, every port, TCP, both
# families; lines "CLIENT SERVER FAMILY PORT VERDICT" into OUT.
site_probe() {
	: >"$1"
	for c in $SITE_HOSTS; do
		: >"$T_TMP/probes-$c"
		for s in $SITE_SERVERS; do
			[ "$c" = "$s" ] && continue
			for p in $SITE_PORTS; do
				echo "$(site_v4 "$c") $(site_v4 "$s") $p tcp" \
					>>"$T_TMP/probes-$c"
				echo "$(site_v6 "$c") $(site_v6 "$s") $p tcp" \
					>>"$T_TMP/probes-$c"
			done
		done
		nsx "$c" "$TOP/$BUILD/fwprobe" probe 1000 \
			<"$T_TMP/probes-$c" >"$T_TMP/got-$c" &
		pids="${pids:-} $!"
	done
	for p in $pids; do wait "$p"; done
	pids=
	for h in $SITE_HOSTS; do
		echo "$(site_v4 "$h") $h"
		echo "$(site_v6 "$h") $h"
	done >"$T_TMP/addrs"
	for c in $SITE_HOSTS; do
		awk -v c="$c" 'NR == FNR { host[$1] = $2; next }
			{ print c, host[$2], ($1 ~ /:/ ? 6 : 4), $3, $5 }' \
			"$T_TMP/addrs" "$T_TMP/got-$c" >>"$1"
	done
}
