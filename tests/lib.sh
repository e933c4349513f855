# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh: shared helpers of the shell tests. Every namespace a test makes is
# named after the test's PID and deleted on exit, even on failure; nothing
# here touches the machine's own network namespace.
set -u

BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")" && while [ ! -f Makefile ] && [ "$PWD" != / ]; do cd ..; done && pwd)
T_PFX="fwt$$"
T_NS=""
T_PIDS=""
T_TMP=$(mktemp -d /tmp/fwd-test.XXXXXX)
T_FAILS=0

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; T_FAILS=$((T_FAILS + 1)); }
# check DESCRIPTION COMMAND...: one ok/not ok line from a command's status.
check() {
	_chk=$1
	shift
	if "$@"; then ok "$_chk"; else not_ok "$_chk"; fi
}
# same STRING1 STRING2 DESCRIPTION
same() {
	if [ "$1" = "$2" ]; then ok "$3"; else
		not_ok "$3"
		printf '%s\n' "# got: $1" "# want: $2"
	fi
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "ok - # SKIP $(basename "$0") needs root for namespaces"
		exit 0
	fi
}

nsname() { echo "$T_PFX-$1"; }
ns_add() {
	ip netns add "$(nsname "$1")" || exit 1
	T_NS="$T_NS $(nsname "$1")"
	ip -n "$(nsname "$1")" link set lo up
}
nsx() {
	_nsx=$1
	shift
	ip netns exec "$(nsname "$_nsx")" "$@"
}
# ns_bg NS COMMAND...: a background process in NS; killed at exit. Sets BG_PID.
ns_bg() {
	_nsbg=$1
	shift
	ip netns exec "$(nsname "$_nsbg")" "$@" &
	BG_PID=$!
	T_PIDS="$T_PIDS $BG_PID"
}
# ns_link NS1 IF1 NS2 IF2: a veth pair between two namespaces.
ns_link() {
	ip link add "$2" netns "$(nsname "$1")" type veth peer name "$4" \
		netns "$(nsname "$3")" || exit 1
	ip -n "$(nsname "$1")" link set "$2" up
	ip -n "$(nsname "$3")" link set "$4" up
}
ns_addr() { # NS IF ADDR/LEN
	case $3 in
	*:*) ip -n "$(nsname "$1")" addr add "$3" dev "$2" nodad ;;
	*) ip -n "$(nsname "$1")" addr add "$3" dev "$2" ;;
	esac
}

t_cleanup() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null; done
	for p in $T_PIDS; do wait "$p" 2>/dev/null; done
	# Sanitizer builds report at exit, into the daemons' logs.
	for f in $(find "$T_TMP" -name log -type f 2>/dev/null); do
		if grep -q "Sanitizer\|runtime error\|are definitely lost\|Invalid read\|Invalid write" "$f"; then
			echo "not ok - sanitizer report in $f"
			grep -A12 "Sanitizer\|runtime error\|definitely lost\|Invalid read\|Invalid write" "$f" | head -40 |
				sed 's/^/# /'
		fi
	done
	for n in $T_NS; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
	_wf=$(($1 * 20))
	shift
	while [ $_wf -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_wf=$((_wf - 1))
	done
	return 1
}

# fwd_list NS [nft list options]: fwd's table as nft lists it, without
# what only says who holds it (the owner lock, nft's "# progname" note), so
# that it compares with fwctl compile and loads into another namespace.
fwd_list() {
	_fl=$1
	shift
	nsx "$_fl" nft "$@" list table inet fwd_filter |
		sed -e 's/ # progname [^ ]*$//' |
		awk 'skip && $0 == "" { skip = 0; next } { skip = 0 }
			/^\tflags[ a-z,]*$/ { skip = 1; next } { print }'
}

# ruleset_norm FILE: a listing as sorted lines, a set element each, counts
# zeroed: after a delta the kernel lists elements in the order they came.
ruleset_norm() {
	sed -e 's/elements = { //' -e 's/^[[:space:]]*//' -e 's/,$//' \
		-e 's/ }$//' -e 's/packets [0-9]* bytes [0-9]*/packets 0 bytes 0/g' "$1" |
		tr ',' '\n' | sed 's/^ *//' | sort
}
# holds FILE MESSAGE: fwd's table in namespace srv is what FILE compiles to.
holds() {
	fwd_list srv >"$T_TMP/list"
	"$TOP/$BUILD/fwctl" compile "$1" >"$T_TMP/want"
	ruleset_norm "$T_TMP/list" >"$T_TMP/list.n"
	ruleset_norm "$T_TMP/want" >"$T_TMP/want.n"
	check "$2" cmp -s "$T_TMP/list.n" "$T_TMP/want.n"
	diff "$T_TMP/list.n" "$T_TMP/want.n" | head -5 | sed 's/^/# /'
}

# A two-host lab: "srv" (eth0: 192.0.2.1, 2001:db8:ffff::1) and "cli"
# (eth0: 192.0.2.2, 2001:db8:ffff::2), on-link default routes both ways so
# that any extra address on either side is reachable.
lab_up() {
	ns_add srv
	ns_add cli
	ns_link srv eth0 cli eth0
	ns_addr srv eth0 192.0.2.1/24
	ns_addr srv eth0 2001:db8:ffff::1/64
	ns_addr cli eth0 192.0.2.2/24
	ns_addr cli eth0 2001:db8:ffff::2/64
	for n in srv cli; do
		ip -n "$(nsname $n)" route add default dev eth0
		ip -n "$(nsname $n)" -6 route add default dev eth0
	done
}

# lab_probes FILE: adds the sources/destinations a probe file needs, starts
# listeners on its ports, and leaves "SRC DST PORT PROTO" lines in
# $T_TMP/probes and the expectations in $T_TMP/expect.
lab_probes() {
	grep -v '^#' "$1" | awk 'NF == 5' >"$T_TMP/spec"
	awk '{print $1, $2, $3, $4}' "$T_TMP/spec" >"$T_TMP/probes"
	awk '{print $1, $2, $3, $4, $5}' "$T_TMP/spec" >"$T_TMP/expect"
	for a in $(awk '{print $1}' "$T_TMP/spec" | sort -u); do
		case $a in 192.0.2.2 | 2001:db8:ffff::2) continue ;; esac
		case $a in *:*) p=128 ;; *) p=32 ;; esac
		ns_addr cli eth0 "$a/$p" 2>/dev/null
	done
	for a in $(awk '{print $2}' "$T_TMP/spec" | sort -u); do
		case $a in 192.0.2.1 | 2001:db8:ffff::1) continue ;; esac
		case $a in *:*) p=128 ;; *) p=32 ;; esac
		ns_addr srv eth0 "$a/$p" 2>/dev/null
	done
	ports=$(awk '{print $3}' "$T_TMP/spec" | sort -un | tr '\n' ' ')
	ns_bg srv "$TOP/$BUILD/fwprobe" listen $ports >"$T_TMP/listen"
	wait_for 5 grep -q ready "$T_TMP/listen"
}

# lab_run_probes DESCRIPTION: runs the probes and compares each verdict.
lab_run_probes() {
	nsx cli "$TOP/$BUILD/fwprobe" probe 600 <"$T_TMP/probes" >"$T_TMP/got"
	while read -r s d p pr want; do
		got=$(awk -v s="$s" -v d="$d" -v p="$p" -v pr="$pr" \
			'$1 == s && $2 == d && $3 == p && $4 == pr {print $5}' \
			"$T_TMP/got" | head -n 1)
		same "$got" "$want" "$1: $s -> $d $pr/$p is $want"
	done <"$T_TMP/expect"
}
