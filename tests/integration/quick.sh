#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# quick: re-applying a policy whose only change is in the members of a big
# group takes fwd's quick way (only those set elements are sent), and the
# result is the one the whole way gives: the kernel holds what the file
# compiles to, probes get the new verdicts, the saved text is the file, a
# rollback goes back, and a restarted fwd adopts the table as it is (its
# plan digest is the digest of the saved text's whole plan). Changes that
# are more than members go the whole way, with the same checks.
. "$(dirname "$0")/../lib.sh"
need_root
FWCTL="$TOP/$BUILD/fwctl"

quick_lines() { grep -c 'quick apply:' "$T_TMP/fw/log"; }
# apply_way FILE WAY MESSAGE: applies FILE, which must go WAY (quick or
# whole), and checks what the kernel and the state directory then hold.
apply_way() {
	_q0=$(quick_lines)
	"$FWCTL" apply "$1" >"$T_TMP/out" 2>&1
	same "$?" 0 "$3: applied"
	_q1=$(quick_lines)
	if [ "$2" = quick ]; then
		same "$_q1" "$((_q0 + 1))" "$3: the quick way"
	else
		same "$_q1" "$_q0" "$3: the whole way"
	fi
	holds "$1" "$3: the kernel holds what the file compiles to"
	# The quick way saves an edit of the saved text (one small record)
	# and writes the whole text once fwctl has its answer.
	wait_for 5 test ! -s "$T_TMP/fw/state/active.edit"
	check "$3: the saved text is the file" \
		cmp -s "$1" "$T_TMP/fw/state/active.json"
	same "$("$FWCTL" --json status | jq -r .policy_sha256)" \
		"$(sha256sum <"$1" | cut -d' ' -f1)" \
		"$3: status names the file's sha256"
}

# refused FILE PATTERN MESSAGE: applying FILE exits 1 with PATTERN in what
# fwctl prints.
refused() {
	"$FWCTL" apply "$1" >"$T_TMP/out" 2>&1
	same "$?" 1 "$3: exit 1"
	if grep -q "$2" "$T_TMP/out"; then
		ok "$3: the message says why"
	else
		not_ok "$3: the message says why"
		sed 's/^/# /' "$T_TMP/out"
	fi
}

# A group of N addresses 10.20.x.y (never next to each other), then the
# probe addresses, and two IPv6 ones.
members() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
		printf "\"10.20.%d.%d\", ", int(i / 60), (i % 60) * 4 + 1 }'
	printf '%s' "$2"
	printf '"2001:db8:20::1", "2001:db8:20::5"'
}
policy() { # MEMBERS PORT INLINE-MEMBERS
	cat <<EOF
{"version": 1,
 "groups": {"allow": [$1],
  "inl": [$3]},
 "input": {"default": "drop", "rules": [
  {"name": "ssh", "proto": "tcp", "port": 22, "from": "192.0.2.2"},
  {"name": "web", "proto": "tcp", "port": ${2:-8080}, "from": "allow"},
  {"name": "mixed", "proto": "tcp", "port": 8081, "from": ["inl", "10.30.9.9"]}
 ]}}
EOF
}
INL=$(awk 'BEGIN { for (i = 0; i < 40; i++) printf "\"10.30.0.%d\", ", i * 2 + 1 }')
INL2=$(printf '%s"10.30.1.1"' "$INL")
INL=$(printf '%s"10.30.1.5"' "$INL")

lab_up
mkdir -p "$T_TMP/fw"
export FWD_SOCKET="$T_TMP/fw/sock"
start_fwd() {
	ns_bg srv "$TOP/$BUILD/fwd" -f -s "$FWD_SOCKET" -d "$T_TMP/fw/state" 2>>"$T_TMP/fw/log"
	FWD_PID=$BG_PID
	wait_for 10 test -S "$FWD_SOCKET"
}
start_fwd

policy "$(members 600 '"10.99.0.1", ')" 8080 "$INL" >"$T_TMP/a.json"
# b: 10.99.0.1 out, 10.99.0.9 in, in its place.
policy "$(members 600 '"10.99.0.9", ')" 8080 "$INL" >"$T_TMP/b.json"
# c: an IPv6 member in, a member moved within the list, one out.
policy "$(members 599 '"10.99.0.9", "2001:db8:20::9", ')" 8080 "$INL" >"$T_TMP/c.json"
sed -i 's|"10.20.0.5", ||; s|"10.20.1.1", |"10.20.1.1", "10.20.0.5", |' "$T_TMP/c.json"
# d: a member next to another: the set becomes an interval set.
policy "$(members 599 '"10.99.0.9", "10.99.0.10", "2001:db8:20::9", ')" 8080 "$INL" >"$T_TMP/d.json"
# e: back to members only, and a rule's port changed.
policy "$(members 600 '"10.99.0.9", ')" 8082 "$INL" >"$T_TMP/e.json"
# f: the inline group changed (its members are in a rule).
policy "$(members 600 '"10.99.0.9", ')" 8082 "$INL2" >"$T_TMP/f.json"

printf '%s\n' "10.99.0.1 192.0.2.1 8080 tcp open" \
	"10.99.0.9 192.0.2.1 8080 tcp dropped" \
	"2001:db8:20::9 2001:db8:ffff::1 8080 tcp dropped" >"$T_TMP/p"
lab_probes "$T_TMP/p"

apply_way "$T_TMP/a.json" whole "a (first apply)"
lab_run_probes "a"
c0=$("$FWCTL" --json status | jq '.chains[] | select(.name == "input") | .rules[] | select(.name == "web") | .packets')

apply_way "$T_TMP/b.json" quick "b (one member replaced)"
grep 'quick apply:' "$T_TMP/fw/log" | tail -1 | grep -q 'group allow, 1 members out, 1 in' &&
	ok "b: the log names the group and the members" ||
	not_ok "b: the log names the group and the members"
printf '%s\n' "10.99.0.1 192.0.2.1 8080 tcp dropped" \
	"10.99.0.9 192.0.2.1 8080 tcp open" \
	"2001:db8:20::9 2001:db8:ffff::1 8080 tcp dropped" >"$T_TMP/expect"
lab_run_probes "b"
c1=$("$FWCTL" --json status | jq '.chains[] | select(.name == "input") | .rules[] | select(.name == "web") | .packets')
check "b: the rule's counter kept its count ($c0 -> $c1)" [ "$c1" -ge "$c0" ] 2>/dev/null

apply_way "$T_TMP/c.json" quick "c (an IPv6 member in, one moved, one out)"
printf '%s\n' "10.99.0.9 192.0.2.1 8080 tcp open" \
	"2001:db8:20::9 2001:db8:ffff::1 8080 tcp open" >"$T_TMP/expect"
lab_run_probes "c"

"$FWCTL" apply "$T_TMP/c.json" >"$T_TMP/out" 2>&1
same "$(cat "$T_TMP/out")" "unchanged" "c again: unchanged"

apply_way "$T_TMP/d.json" whole "d (a member next to another)"
apply_way "$T_TMP/e.json" whole "e (a rule's port changed)"
apply_way "$T_TMP/f.json" whole "f (a group a rule holds inline)"
apply_way "$T_TMP/e.json" whole "e again (the inline group back)"
apply_way "$T_TMP/b.json" whole "b again (the port back)"
apply_way "$T_TMP/a.json" quick "a again (the member back)"

# A bad member: refused whole, nothing changes.
sed 's|"10.99.0.1"|"10.99.0.300"|' "$T_TMP/a.json" >"$T_TMP/bad.json"
refused "$T_TMP/bad.json" 'bad.json: groups.allow\[600\]: .*10.99.0.300' \
	"a bad member"
holds "$T_TMP/a.json" "a bad member: the kernel still holds a"

# Bytes that are not UTF-8 (sent as they are, after the request): refused
# whole, the file named.
printf '{"version": 1, "input": {"rules": [{"name": "caf\351", "proto": "tcp", "port": 1}]}}' >"$T_TMP/latin1.json"
refused "$T_TMP/latin1.json" 'latin1.json: line 1, column 49: not UTF-8 text (byte 0xe9)' \
	"a policy that is not UTF-8"
holds "$T_TMP/a.json" "a policy that is not UTF-8: the kernel still holds a"

# A NUL byte among the members, sent after the request by a client of its
# own (fwctl never sends one): not a quick change, and refused whole.
python3 - "$FWD_SOCKET" "$T_TMP/a.json" >"$T_TMP/out" <<'PY'
import json, socket, struct, sys
doc = open(sys.argv[2], "rb").read().replace(b'"10.99.0.1"', b'"10.99\0.0.1"')
body = json.dumps({"v": 1, "cmd": "apply", "policy_bytes": len(doc)}).encode()
body += b"\0" + doc
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", len(body)) + body)
n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
print(s.recv(n, socket.MSG_WAITALL).decode())
PY
grep -q 'line [0-9]*, column [0-9]*: a NUL byte' "$T_TMP/out" &&
	ok "a policy with a NUL byte: refused, and said why" ||
	{ not_ok "a policy with a NUL byte: refused, and said why"; sed 's/^/# /' "$T_TMP/out"; }
holds "$T_TMP/a.json" "a policy with a NUL byte: the kernel still holds a"

# Rollback after a quick apply goes back to the text before it.
apply_way "$T_TMP/b.json" quick "b (for the rollback)"
"$FWCTL" rollback >/dev/null 2>&1
same "$?" 0 "rollback after a quick apply"
holds "$T_TMP/a.json" "rollback: the kernel holds a again"
check "rollback: the saved text is a" cmp -s "$T_TMP/a.json" "$T_TMP/fw/state/active.json"

# Another process commits meanwhile (the kernel's generation moves): the
# quick way's transaction is refused, and fwd goes the whole way.
nsx srv nft add table inet other
nsx srv nft delete table inet other
apply_way "$T_TMP/c.json" whole "c after another process's commits"

# Inside an SSH session: the lockout guard's verdict for the session,
# given under the whole policy, holds for member changes that leave the
# session's ends alone -- those go the quick way; one that adds the
# client's own address goes the whole way, through the guard.
SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22"
export SSH_CONNECTION
apply_way "$T_TMP/a.json" whole "ssh: a (the guard runs)"
apply_way "$T_TMP/b.json" quick "ssh: b (the same session)"
policy "$(members 600 '"10.99.0.9", "192.0.2.2", ')" 8080 "$INL" >"$T_TMP/g.json"
apply_way "$T_TMP/g.json" whole "ssh: the client's own address added"
SSH_CONNECTION="192.0.2.7 50000 192.0.2.1 22"
refused "$T_TMP/b.json" 'refusing to apply: your SSH session from 192.0.2.7' \
	"ssh: another client, which the policy shuts out"
# The same client as an SSH server may report it, IPv4-mapped.
SSH_CONNECTION="::ffff:192.0.2.7 50000 ::ffff:192.0.2.1 22"
refused "$T_TMP/b.json" 'refusing to apply: your SSH session from 192.0.2.7' \
	"ssh: that client IPv4-mapped"
unset SSH_CONNECTION
apply_way "$T_TMP/a.json" whole "a (no session; it takes the client out again)"

# After a quick apply, a restarted fwd adopts the table as it is.
apply_way "$T_TMP/b.json" quick "b (before a restart)"
kill "$FWD_PID"
wait "$FWD_PID" 2>/dev/null
a0=$(grep -c 'adopted table' "$T_TMP/fw/log")
start_fwd
wait_for 5 grep -q 'adopted table' "$T_TMP/fw/log"
same "$(grep -c 'adopted table' "$T_TMP/fw/log")" "$((a0 + 1))" \
	"restart after a quick apply: the table is adopted as it is"
holds "$T_TMP/b.json" "restart: the kernel holds b"


# An edit saved but not yet written out when fwd stopped (a crash right
# after the answer): written by an independent writer here, from the
# record format editlog.h documents. The restarted fwd reads the edited
# text as the active one, writes it out, and applies it.
kill "$FWD_PID"
wait "$FWD_PID" 2>/dev/null
S=$T_TMP/fw/state
cat >"$T_TMP/edit.py" <<'PY'
import hashlib, json, sys
old = open(sys.argv[1], "rb").read()
new = open(sys.argv[2], "rb").read()
out = sys.argv[3]
p = 0
while p < min(len(old), len(new)) and old[p] == new[p]:
    p += 1
q = 0
while q < min(len(old), len(new)) - p and old[-1 - q] == new[-1 - q]:
    q += 1
head = json.dumps({"v": 1, "from": hashlib.sha256(old).hexdigest(),
                   "to": hashlib.sha256(new).hexdigest(), "at": p,
                   "cut": len(old) - p - q, "put": len(new) - p - q,
                   "applied_at": "2026-01-01T00:00:00Z",
                   "applied_by": "a test"}).encode() + b"\n"
rec = head + new[p:len(new) - q]
rec += hashlib.sha256(rec).hexdigest().encode() + b"\n"
open(out, "wb").write(rec[:int(sys.argv[4])] if len(sys.argv) > 4 else rec)
PY
python3 "$T_TMP/edit.py" "$S/active.json" "$T_TMP/a.json" "$S/active.edit"
start_fwd
wait_for 5 test ! -s "$S/active.edit"
check "a saved edit at start: written out" cmp -s "$T_TMP/a.json" "$S/active.json"
check "a saved edit at start: the text before it is the previous one" \
	cmp -s "$T_TMP/b.json" "$S/previous.json"
wait_for 5 sh -c "'$FWCTL' --json status | jq -e '.policy_sha256 == \"$(sha256sum <"$T_TMP/a.json" | cut -d' ' -f1)\"'"
holds "$T_TMP/a.json" "a saved edit at start: the kernel holds the edited text"
same "$("$FWCTL" --json status | jq -r .applied_by)" "a test" \
	"a saved edit at start: applied_by is the record's"

# A record cut short by the crash counts for nothing.
kill "$FWD_PID"
wait "$FWD_PID" 2>/dev/null
python3 "$T_TMP/edit.py" "$S/active.json" "$T_TMP/b.json" "$S/active.edit" 100
start_fwd
wait_for 5 test ! -s "$S/active.edit"
check "a record cut short: removed" test ! -s "$S/active.edit"
check "a record cut short: the text stays" cmp -s "$T_TMP/a.json" "$S/active.json"
holds "$T_TMP/a.json" "a record cut short: the kernel holds the text before it"
