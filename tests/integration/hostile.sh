#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# hostile: 200 idle connections, half-sent frames, garbage, a header that
# announces 4 GiB, deeply nested JSON and clients that never read -- all
# at once -- while fwctl status keeps being served, fwd's memory stays
# bounded, and the ruleset never moves.
. "$(dirname "$0")/../lib.sh"
need_root

ns_add srv
SOCK="$T_TMP/srv/sock"
mkdir -p "$T_TMP/srv"
ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -s "$SOCK" -d "$T_TMP/srv/state" \
	2>"$T_TMP/srv/log"
FWD=$BG_PID
wait_for 10 test -S "$SOCK"
export FWD_SOCKET="$SOCK"
"$TOP/$BUILD/fwctl" apply "$TOP/rules/db.json" >/dev/null
nsx srv nft -s list ruleset >"$T_TMP/before"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$FWD/status"; }
rss0=$(rss)

"$TOP/$BUILD/fwprobe" hostile "$SOCK" 8 >"$T_TMP/hostile" &
HOSTILE=$!
T_PIDS="$T_PIDS $HOSTILE"
wait_for 5 grep -q connected "$T_TMP/hostile"
same "$(awk '{print $1}' "$T_TMP/hostile")" 222 "222 hostile connections are open"
fails=0
i=0
while [ $i -lt 50 ]; do
	"$TOP/$BUILD/fwctl" status >/dev/null 2>&1 || fails=$((fails + 1))
	i=$((i + 1))
done
same "$fails" 0 "50 fwctl status calls under that load all succeed"
rss1=$(rss)
check "fwd's memory stays bounded under abuse (${rss0} kB -> ${rss1} kB)" \
	test "$rss1" -lt $((rss0 + 65536))
check "the 4 GiB header was refused and closed" \
	grep -q "frame of 4294967295 bytes exceeds the limit" "$T_TMP/srv/log"
"$TOP/$BUILD/fwctl" apply "$TOP/rules/db.json" >/dev/null
same "$?" 0 "a privileged client can still apply under that load"
wait "$HOSTILE" 2>/dev/null
"$TOP/$BUILD/fwctl" status >/dev/null
same "$?" 0 "fwd serves normally once the hostile clients are gone"
nsx srv nft -s list ruleset >"$T_TMP/after"
check "the ruleset never moved" cmp -s "$T_TMP/before" "$T_TMP/after"

# Files passed with requests (proto.h, "policy_file"): what is not the
# policy file it claims to be is refused and closed, a file passed with
# any other request is closed unread, and fwd keeps no descriptor of them.
if command -v python3 >/dev/null 2>&1; then
	cat >"$T_TMP/own.json" <<'JSON'
{"version": 1, "input": {"default": "drop", "rules": [
 {"name": "ssh", "proto": "tcp", "port": 22, "from": "192.0.2.2"}]}}
JSON
	nfd() { ls "/proc/$FWD/fd" | wc -l; }
	fd0=$(nfd)
	pf() { python3 "$TOP/tests/tools/passfd.py" "$SOCK" "$1" "$T_TMP/own.json"; }
	same "$(pf good)" ok "a policy file passed: applied"
	nsx srv nft list ruleset >"$T_TMP/own.nft"
	check "... and the kernel holds it" grep -q 'tcp dport 22' "$T_TMP/own.nft"
	same "$(pf extra)" ok "a policy file and one more passed: applied"
	# tmpfs reads without waiting but refuses the flag that says so.
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		shm=$(mktemp /dev/shm/fwd-test.XXXXXX)
		cp "$T_TMP/own.json" "$shm"
		same "$(python3 "$TOP/tests/tools/passfd.py" "$SOCK" good "$shm")" ok \
			"a policy file on tmpfs passed: applied"
		rm -f "$shm"
	fi
	nsx srv nft -s list ruleset >"$T_TMP/before"
	same "$(pf none)" "\"policy_file\" says a file comes with the request, but none did" \
		"no file passed: refused, saying so"
	same "$(pf pipe)" "the policy passed is not a regular file" \
		"a pipe passed as the policy file: refused"
	same "$(pf size)" "the policy file passed is $(wc -c <"$T_TMP/own.json") bytes; the request says $(($(wc -c <"$T_TMP/own.json") + 1))" \
		"a file of another size: refused"
	same "$(pf wronly)" "cannot read the policy file passed: Bad file descriptor" \
		"a file open for writing only: refused, cannot read it"
	# A megabyte of blanks, its pages dropped: fwd does not wait for the
	# disk. It refuses the file, or, when the read the kernel starts
	# without waiting is done already, reads it (not a policy).
	head -c 1048576 /dev/zero | tr '\0' ' ' >"$T_TMP/cold.json"
	python3 "$TOP/tests/tools/passfd.py" "$SOCK" cold "$T_TMP/cold.json" \
		>"$T_TMP/cold.out" 2>&1
	check "a file not in memory: refused at once, or read as it came" \
		grep -qx "the policy file passed cannot be read without waiting; send its bytes\|invalid policy; nothing was changed" \
		"$T_TMP/cold.out"
	# A file over the server's frame limit is refused before it is read:
	# a second fwd, in a namespace of its own, with a 4 KiB limit.
	ns_add lim
	mkdir -p "$T_TMP/lim"
	ns_bg lim "$TOP/$BUILD/fwd" -f --max-frame 4096 -s "$T_TMP/lim/sock" \
		-d "$T_TMP/lim/state" 2>"$T_TMP/lim/log"
	wait_for 10 test -S "$T_TMP/lim/sock"
	same "$(python3 "$TOP/tests/tools/passfd.py" "$T_TMP/lim/sock" good "$T_TMP/cold.json")" \
		"the policy file is 1048576 bytes, over the limit of 4096" \
		"a file over the frame limit: refused before it is read"
	same "$(pf twice)" "request has \"policy_file\" and another policy" \
		"a file and a policy string: refused"
	same "$(pf status)" ok "files passed with status: answered, files closed"
	same "$(nfd)" "$fd0" "fwd holds no descriptor of the files passed ($fd0)"
	nsx srv nft -s list ruleset >"$T_TMP/after2"
	check "the refused requests changed nothing" \
		cmp -s "$T_TMP/before" "$T_TMP/after2"
fi
