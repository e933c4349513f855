#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ansible: the role in packaging/ansible, run for real by ansible-playbook
# (local connection) through the example site.yml against the real fwd in
# a namespace this test makes (fwctl reaches it through fwd_socket; the
# rules only ever live in that namespace). The first run reports changed,
# the second changed=0 and leaves the kernel alone; a broken policy or
# include fails at validation and changes neither the installed files nor
# the ruleset; a changed policy is applied (and confirmed, where fwd
# supports --confirm).
. "$(dirname "$0")/../lib.sh"
need_root
FWCTL="$TOP/$BUILD/fwctl"
ANS="$TOP/packaging/ansible"
if ! command -v ansible-playbook >/dev/null; then
	echo "ok - # SKIP ansible-playbook is missing (tests/deps.sh installs ansible-core)"
	exit 0
fi
# The lockout guard would judge this shell's own SSH session, if any.
unset SSH_CONNECTION SSH_CLIENT
export ANSIBLE_HOME="$T_TMP/ansible" ANSIBLE_LOCAL_TEMP="$T_TMP/ansible/tmp" \
	ANSIBLE_REMOTE_TEMP="$T_TMP/ansible/rtmp" ANSIBLE_NOCOLOR=1 \
	ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_CONFIG="$T_TMP/ansible.cfg" \
	ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
printf '[defaults]\nstdout_callback = default\n' >"$T_TMP/ansible.cfg"

ns_add srv
mkdir -p "$T_TMP/srv"
SOCK="$T_TMP/srv/sock"
ns_bg srv ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -s "$SOCK" -d "$T_TMP/srv/state" \
	2>>"$T_TMP/srv/log"
wait_for 10 test -S "$SOCK" || not_ok "fwd started in the namespace"
ruleset() { nsx srv nft -s list ruleset; }
has_counter() { nsx srv nft list counter inet fwd_filter "$1" >/dev/null 2>&1; }
root_table() { nft list table inet fwd_filter >/dev/null 2>&1 && echo yes || echo no; }
ROOT_TABLE=$(root_table)

# The example inventory's group_vars, with this host as the db tier.
cp -r "$ANS/inventory" "$T_TMP/inv"
printf '[db]\nlocalhost ansible_connection=local\n\n[site:children]\ndb\n' \
	>"$T_TMP/inv/hosts.ini"
DEST="$T_TMP/etc-fwd"

play() { # NAME [ansible-playbook ARGS...]: output in $T_TMP/NAME.out
	n=$1
	shift
	ansible-playbook -i "$T_TMP/inv/hosts.ini" "$ANS/site.yml" \
		-e ansible_become=false -e "fwd_socket=$SOCK" \
		-e "fwd_policy_dir=$DEST" -e "fwd_fwctl=$FWCTL" \
		-e "fwd_confirm=$CONFIRM" "$@" >"$T_TMP/$n.out" 2>&1
}
recap() { # NAME KEY: the recap's KEY=N for localhost
	sed -n "s/^localhost *:.* $2=\([0-9]*\).*/\1/p" "$T_TMP/$1.out"
}
show_tail() { tail -n 25 "$T_TMP/$1.out" | sed 's/^/# /'; }

# --- first run: installs and applies ---
# With --confirm where this fwd supports it (the role confirms), else not.
CONFIRM=4
play first
rc=$?
if grep -q -- '--confirm is not supported' "$T_TMP/first.out"; then
	echo "ok - # SKIP this fwd does not support --confirm: the role runs with fwd_confirm=0"
	CONFIRM=0
	play first
	rc=$?
fi
same "$rc" 0 "first run succeeds"
[ "$rc" -eq 0 ] || show_tail first
check "first run reports changed" test "$(recap first changed)" -gt 0
same "$(recap first failed)" 0 "first run has no failed task"
check "the policy is installed in fwd_policy_dir" \
	cmp -s "$TOP/rules/db.json" "$DEST/policy.json"
check "its include is installed next to it" \
	cmp -s "$TOP/rules/groups.json" "$DEST/groups.json"
check "the namespace now holds the db policy's rules" has_counter input_mysql
same "$("$FWCTL" -s "$SOCK" --json status | jq -r .host)" db1 \
	"fwd runs the db policy (host db1)"
same "$(root_table)" "$ROOT_TABLE" "the test's own namespace is left alone"

# --- second run: nothing to do, kernel untouched ---
ruleset >"$T_TMP/before"
play second
same "$?" 0 "second run succeeds"
same "$(recap second changed)" 0 "second run reports changed=0"
# Past any confirmation deadline: nothing was left pending to roll back.
[ "$CONFIRM" -gt 0 ] && sleep $((CONFIRM + 1))
ruleset >"$T_TMP/after"
check "second run leaves the ruleset identical" \
	cmp -s "$T_TMP/before" "$T_TMP/after"
diff "$T_TMP/before" "$T_TMP/after" | head -n 5 | sed 's/^/# /'

# --- a broken policy fails at validation, touching nothing ---
mkdir -p "$T_TMP/bad"
cp "$TOP/rules/groups.json" "$T_TMP/bad/"
sed 's/"port": 3306, "from": "app"/"port": 70000, "from": "app"/' \
	"$TOP/rules/db.json" >"$T_TMP/bad/db.json"
grep -q 70000 "$T_TMP/bad/db.json" || not_ok "the broken policy was made"
ruleset >"$T_TMP/before"
play broken -e "fwd_policy=$T_TMP/bad/db.json"
rc=$?
check "a broken policy fails the run" test "$rc" -ne 0
check "it fails at validation" grep -q \
	'TASK \[fwd : Check the staged policy with its includes\]' "$T_TMP/broken.out"
check "naming the error" grep -q '70000 is out of range 1-65535' \
	"$T_TMP/broken.out"
check "no apply was attempted" sh -c \
	"! grep -q 'TASK \[fwd : Apply the policy\]' '$T_TMP/broken.out'"
ruleset >"$T_TMP/after"
check "a broken policy leaves the ruleset identical" \
	cmp -s "$T_TMP/before" "$T_TMP/after"
check "and the installed policy as it was" \
	cmp -s "$TOP/rules/db.json" "$DEST/policy.json"

# --- a broken include fails at its own validation ---
sed 's/"10.10.0.5", /"bastion.example.com", /' "$TOP/rules/groups.json" \
	>"$T_TMP/bad/groups.json"
ruleset >"$T_TMP/before"
play badinc -e "fwd_includes=['$T_TMP/bad/groups.json']"
check "a broken include fails the run" test $? -ne 0
check "at the include's validation" grep -q \
	'TASK \[fwd : Stage the included files (each checked on its own)\]' \
	"$T_TMP/badinc.out"
check "the validation names the DNS name" grep -q 'DNS names are not supported' \
	"$T_TMP/badinc.out"
ruleset >"$T_TMP/after"
check "a broken include leaves the ruleset identical" \
	cmp -s "$T_TMP/before" "$T_TMP/after"
check "and the installed include as it was" \
	cmp -s "$TOP/rules/groups.json" "$DEST/groups.json"

# --- a changed policy is applied (and confirmed) ---
mkdir -p "$T_TMP/new"
cp "$TOP/rules/groups.json" "$T_TMP/new/"
sed 's|"rules": \[|"rules": [\n      {"name": "extra", "proto": "tcp", "port": 7777, "from": "bastion"},|' \
	"$TOP/rules/db.json" >"$T_TMP/new/db.json"
play changed -e "fwd_policy=$T_TMP/new/db.json"
same "$?" 0 "a changed policy applies"
check "and reports changed" test "$(recap changed changed)" -gt 0
check "its new rule is in the namespace's ruleset" has_counter input_extra
sha=$("$FWCTL" -s "$SOCK" --json status | jq -r .policy_sha256)
if [ "$CONFIRM" -gt 0 ]; then
	check "the role confirmed it from a new connection" grep -q \
		'TASK \[fwd : Confirm the policy from the new connection\]' \
		"$T_TMP/changed.out"
	check "confirm ran (not skipped)" sh -c "sed -n '/Confirm the policy/,/^\$/p' '$T_TMP/changed.out' | grep -q '^ok: \[localhost\]'"
	sleep $((CONFIRM + 1))
	same "$("$FWCTL" -s "$SOCK" --json status | jq -r .policy_sha256)" \
		"$sha" "past the deadline the confirmed policy stays"
	check "still with its new rule" has_counter input_extra
fi
play again -e "fwd_policy=$T_TMP/new/db.json"
same "$(recap again changed)" 0 "re-running the changed policy reports changed=0"

# --- a reformatted policy: files installed, ruleset the same: changed=0 ---
mkdir -p "$T_TMP/fmt"
cp "$TOP/rules/groups.json" "$T_TMP/fmt/"
jq . "$T_TMP/new/db.json" >"$T_TMP/fmt/db.json"
ruleset >"$T_TMP/before"
play fmt -e "fwd_policy=$T_TMP/fmt/db.json"
same "$?" 0 "a reformatted policy applies"
same "$(recap fmt changed)" 0 "and reports changed=0: the ruleset is the same"
check "though the reformatted file is installed" \
	cmp -s "$T_TMP/fmt/db.json" "$DEST/policy.json"

# --- an include in a subdirectory, given as {src, dest} ---
mkdir -p "$T_TMP/sub"
sed 's|"groups.json"|"common/site-groups.json"|' "$T_TMP/fmt/db.json" \
	>"$T_TMP/sub/db.json"
printf '{"fwd_includes": [{"src": "%s", "dest": "common/site-groups.json"}]}' \
	"$TOP/rules/groups.json" >"$T_TMP/sub/vars.json"
play sub -e "fwd_policy=$T_TMP/sub/db.json" -e "@$T_TMP/sub/vars.json"
same "$?" 0 "an include in a subdirectory is shipped"
check "under the name the policy includes" \
	cmp -s "$TOP/rules/groups.json" "$DEST/common/site-groups.json"

# --- includes as SPEC has them: groups, no "version" ---
mkdir -p "$T_TMP/spec"
jq 'del(.version)' "$TOP/rules/groups.json" >"$T_TMP/spec/groups.json"
cp "$T_TMP/fmt/db.json" "$T_TMP/spec/db.json"
play spec -e "fwd_policy=$T_TMP/spec/db.json" \
	-e "fwd_includes=['$T_TMP/spec/groups.json']"
same "$?" 0 "an include without version ships (validated as an included file)"
check "and is installed" cmp -s "$T_TMP/spec/groups.json" "$DEST/groups.json"
ruleset >"$T_TMP/after"
check "and compiles to the same ruleset" cmp -s "$T_TMP/before" "$T_TMP/after"

# --- the example site itself ---
ansible-playbook -i "$ANS/inventory/hosts.ini" "$ANS/site.yml" \
	--syntax-check >"$T_TMP/syntax.out" 2>&1
check "the example site.yml passes --syntax-check with its inventory" \
	test $? -eq 0
for t in lb web app db bastion monitoring; do
	check "tier $t has a policy that passes fwctl check" sh -c \
		"grep -q 'rules_dir }}/$t.json' '$ANS/inventory/group_vars/$t.yml' && '$FWCTL' check '$TOP/rules/$t.json' >/dev/null"
done
