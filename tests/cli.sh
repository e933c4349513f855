#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# cli: fwctl's offline commands as scripts and Ansible see them -- exit
# status, stdout/stderr, --json -- with no daemon and no root.
. "$(dirname "$0")/lib.sh"
FWCTL="$TOP/$BUILD/fwctl"
G="$TOP/tests/cases/good"
cd "$T_TMP" || exit 1

"$FWCTL" check "$G/spec-db.json" "$G/mixed.json" >out 2>err
same "$?" 0 "check of valid policies exits 0"
same "$(cat out)" "$G/spec-db.json: ok
$G/mixed.json: ok" "check prints one ok line per file"

printf '{"version": 1, "input": {"rules": [{"name": "a", "proto": "tcp", "port": 70000}]}}' >bad.json
"$FWCTL" check bad.json >out 2>err
same "$?" 1 "check of an invalid policy exits 1"
same "$(cat err)" "bad.json: input.rules[0].port: 70000 is out of range 1-65535" \
	"check names file, path, value and constraint"

"$FWCTL" --json check bad.json "$G/minimal.json" >out 2>err
same "$?" 1 "check --json of a bad file exits 1"
same "$(tr -d ' \n\t' <out)" '{"ok":false,"errors":[{"file":"bad.json","path":"input.rules[0].port","message":"70000isoutofrange1-65535"}]}' \
	"check --json gives the SPEC's shape"
"$FWCTL" check --json "$G/minimal.json" >out 2>err
same "$(tr -d ' \n\t' <out)" '{"ok":true,"errors":[]}' "check FILE --json works after the command too"

"$FWCTL" check missing.json >out 2>err
same "$?" 1 "check of a missing file exits 1"
same "$(cat err)" "missing.json: cannot read: No such file or directory" \
	"a missing file is named"

# Included files checked on their own, as the Ansible role's validate step
# does: --included, or a file of groups alone (it can be nothing else).
printf '{"groups": {"lb": ["10.0.0.10"]}}' >inc-groups.json
printf '{"input": {"rules": [{"name": "web", "proto": "tcp", "port": 80, "from": "lb"}]}}' >inc-rules.json
printf '{"version": 1, "include": ["inc-groups.json", "inc-rules.json"]}' >inc-main.json
"$FWCTL" check inc-groups.json inc-main.json >out 2>err
same "$?" 0 "a file of groups alone checks as an included file"
same "$(cat out)" 'inc-groups.json: ok (checked as an included file: no "version")
inc-main.json: ok' "and says it was checked as one"
"$FWCTL" check inc-rules.json >out 2>err
same "$?" 1 "a file with rules and no version is a main policy without version"
same "$(cat err)" 'inc-rules.json: version: missing (expected 1)
inc-rules.json: input.rules[0].from: unknown group "lb"' "and says version is missing"
"$FWCTL" check --included inc-rules.json inc-groups.json >out 2>err
same "$?" 0 "check --included takes it as an included file"
same "$(cat out)" 'inc-rules.json: ok (checked as an included file: no "version")
inc-groups.json: ok (checked as an included file: no "version")' \
	"its groups left to the including policy"
# With includes of its own: the main file is the one checked as included.
printf '{"include": "inc-groups.json", "input": {"rules": [{"name": "w", "from": ["lb", "app"]}]}}' >inc-nested.json
"$FWCTL" check --included inc-nested.json >out 2>err
same "$?" 0 "check --included of a file that includes another"
printf '{"include": "inc-groups.json", "groups": {"x": ["10.0.0.1"]}}' >inc-both.json
"$FWCTL" check inc-both.json >out 2>err
same "$(cat err)" "inc-both.json: version: missing (expected 1)" \
	"a file with includes and no version is a main policy that forgot it"
printf '{"version": 1, "include": "inc-groups.json", "input": {"rules": [{"name": "w", "from": "nosuch"}]}}' >main-unknown.json
"$FWCTL" check main-unknown.json >out 2>err
same "$(cat err)" 'main-unknown.json: input.rules[0].from: unknown group "nosuch"' \
	"a main policy with includes still names its unknown groups"
"$FWCTL" compile main-unknown.json >out 2>err
same "$?" 1 "and compile refuses it"
printf '{"host": "h", "groups": {"x": ["10.0.0.300"]}, "input": {"default": "drop", "rules": [{"name": "w", "from": "Bad!"}]}}' >inc-bad.json
"$FWCTL" check --included inc-bad.json >out 2>err
same "$?" 1 "an included file's own errors are still errors"
same "$(cat err)" 'inc-bad.json: host: only the main policy may set "host"
inc-bad.json: groups.x[0]: "10.0.0.300" is not a valid IPv4 or IPv6 address
inc-bad.json: input.default: only the main policy may set a chain'"'"'s default
inc-bad.json: input.rules[0].from: "Bad!" is neither an address, a prefix, a range nor a group name (DNS names are not supported)' \
	"with their places"
printf '{"input": {"default": "drop", "rules": []}}' >nover.json
"$FWCTL" check nover.json >out 2>err
same "$?" 1 "a policy without version fails"
same "$(cat err)" 'nover.json: version: missing (expected 1)' "and says version is missing"
"$FWCTL" check inc-groups.json --bogus >out 2>err
same "$?" 2 "an unknown option of check is a usage error"
same "$(head -1 err)" "fwctl check: unknown option '--bogus'" "and is named"
"$FWCTL" check -- inc-main.json >out 2>err
same "$?" 0 "check -- FILE checks FILE"

# Not UTF-8 text: refused where fwd would refuse it, with the place.
printf '{"version": 1,\n "host": "caf\351"}' >latin1.json
"$FWCTL" check latin1.json >out 2>err
same "$?" 1 "a policy that is not UTF-8 fails check (as fwd refuses it)"
same "$(cat err)" "latin1.json: line 2, column 14: not UTF-8 text (byte 0xe9)" \
	"naming the line, column and byte"
printf '{"version": 1, "include": "latin1.json"}' >inc-latin1.json
"$FWCTL" check inc-latin1.json >out 2>err
same "$(cat err)" "latin1.json: line 2, column 14: not UTF-8 text (byte 0xe9)" \
	"an included file too"

"$FWCTL" check >out 2>err
same "$?" 2 "check without files is a usage error"
"$FWCTL" frobnicate >out 2>err
same "$?" 2 "an unknown command is a usage error"
"$FWCTL" --bogus check x >out 2>err
same "$?" 2 "an unknown option is a usage error"

"$FWCTL" compile "$G/spec-db.json" >out 2>err
same "$?" 0 "compile exits 0"
check "compile prints the golden ruleset" cmp -s out "$G/spec-db.nft"
"$FWCTL" compile --table other "$G/minimal.json" >out 2>err
same "$(head -n 1 out)" "table inet other {" "compile --table names the table"
"$FWCTL" compile bad.json >out 2>err
same "$?" 1 "compile of an invalid policy exits 1"
same "$(wc -c <out | tr -d ' ')" 0 "compile of an invalid policy prints no ruleset"

FWD_SOCKET="$T_TMP/nothing-here.sock" "$FWCTL" status >out 2>err
same "$?" 3 "status without a daemon exits 3"
check "and says it cannot reach fwd" grep -q "cannot reach fwd at $T_TMP/nothing-here.sock" err
FWD_SOCKET="$T_TMP/nothing-here.sock" "$FWCTL" apply "$G/spec-db.json" >out 2>err
same "$?" 3 "apply without a daemon exits 3"
"$FWCTL" -s "$T_TMP/nothing-here.sock" version >out 2>err
same "$?" 3 "version without a daemon exits 3"
same "$(head -n 1 out)" "fwctl 0.1.0" "but still prints fwctl's version"
FWD_SOCKET="$T_TMP/nothing-here.sock" "$FWCTL" apply bad.json >out 2>err
same "$?" 1 "apply of an invalid policy fails before contacting fwd"
# With --json, what fails on fwctl's side is a JSON document on stdout too,
# in the shape of fwd's failed replies.
FWD_SOCKET="$T_TMP/nothing-here.sock" "$FWCTL" --json status >out 2>err
same "$?" 3 "status --json without a daemon exits 3"
same "$(jq -c '[.ok, .code, (.error | startswith("cannot reach fwd at")), .errors]' out)" \
	'[false,3,true,[]]' "and says so in JSON on stdout"
FWD_SOCKET="$T_TMP/nothing-here.sock" "$FWCTL" --json status --watch 1 >out 2>err
same "$?:$(wc -l <out | tr -d ' '):$(jq -c .ok out)" "3:1:false" \
	"status --json --watch without a daemon: one JSON line, exit 3"
printf '{"version": 1, "include": "bad.json"}' >badinc.json
FWD_SOCKET="$T_TMP/nothing-here.sock" "$FWCTL" --json apply badinc.json >out 2>err
same "$?" 1 "apply --json of an invalid policy with includes exits 1"
same "$(jq -c '[.ok, .error, .errors]' out)" \
	'[false,"invalid policy",[{"file":"bad.json","path":"input.rules[0].port","message":"70000 is out of range 1-65535"}]]' \
	"and gives its errors in JSON on stdout"
"$FWCTL" -s >out 2>err
same "$?" 2 "-s without a path is a usage error"
same "$(head -1 err)" "fwctl: -s needs an argument (the socket's path)" "and says what is missing"
"$FWCTL" -s "$T_TMP/nothing-here.sock" --version >out 2>err
same "$?:$(cat out)" "0:fwctl 0.1.0" "fwctl --version prints fwctl's version, asking no fwd"
"$FWCTL" version extra >out 2>err
same "$?" 2 "version takes no arguments"
same "$(cat err)" "usage: fwctl version" "and says so"
"$FWCTL" apply >out 2>err
same "$?" 2 "apply without a file is a usage error"
"$FWCTL" status --watch x >out 2>err
same "$?" 2 "status --watch needs a number"
FWD="$TOP/$BUILD/fwd"
"$FWD" --max-clients x >out 2>err
same "$?" 2 "fwd refuses a bad --max-clients"
"$FWD" --idle-timeout 0 >out 2>err
same "$?" 2 "fwd refuses a zero --idle-timeout"
"$FWD" extra >out 2>err
same "$?" 2 "fwd refuses stray arguments"
"$FWD" -t fwd >out 2>err
same "$?" 2 "fwd refuses a table name that nft cannot parse"
same "$(cat err)" "fwd: --table fwd: that is a word of nft's language: nft could not name the table (fwd_filter is the default)" \
	"and says why"
"$FWCTL" compile --table bad/name "$G/minimal.json" >out 2>err
same "$?" 2 "compile refuses a table name nft would not take"
same "$(cat err)" "fwctl: --table bad/name: a table name is a letter or '_' followed by letters, digits and '_'" \
	"and says what a name is"
"$FWCTL" compile --table nat "$G/minimal.json" >out 2>err
same "$(head -1 out)" "table inet nat {" "a table may be named nat (not a word nft refuses)"
"$FWD" --version >out 2>err
same "$(cat out)" "fwd 0.1.0" "fwd --version"

# An fwd older than fwctl refuses a policy passed as a file ("policy" must
# be a string) or sent after the request ("not valid JSON"): fwctl sends
# it again as a JSON string. The stand-in answers like those old fwds and
# writes down the policy it got.
if command -v python3 >/dev/null 2>&1; then
	cat >old-fwd.py <<'PY'
import json, os, socket, struct, sys
path, got = sys.argv[1], sys.argv[2]
# "waits": a current fwd that cannot read the file passed without waiting.
waits = len(sys.argv) > 3 and sys.argv[3] == "waits"
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
open(path + ".ready", "w").close()
def frame(c):
    h = b""
    while len(h) < 4:
        k = c.recv(4 - len(h))
        if not k:
            return None
        h += k
    n, b = struct.unpack(">I", h)[0], b""
    while len(b) < n:
        b += c.recv(n - len(b))
    return b
def reply(c, o):
    b = json.dumps(o).encode()
    c.sendall(struct.pack(">I", len(b)) + b)
for _ in range(3):
    c, _ = s.accept()
    b = frame(c)
    if b is None:
        c.close()
        continue
    ways = open(got + ".ways", "a")
    ways.write("after " if b"\0" in b else
               "file " if "policy_file" in json.loads(b) else "string ")
    ways.close()
    if waits and b"\0" in b:
        open(got, "wb").write(b[b.index(b"\0") + 1:])
        reply(c, {"ok": True, "changed": True, "dry_run": False,
                  "policy_sha256": "x", "confirm_deadline": None})
        c.close()
        break
    if waits and "policy_file" in json.loads(b):
        reply(c, {"ok": False, "code": 1, "error": "the policy file passed "
                  "cannot be read without waiting; send its bytes"})
    elif b"\0" in b:
        reply(c, {"ok": False, "code": 1, "error":
                  "request is not valid JSON: trailing data at line 1 column 60"})
    elif "policy" not in json.loads(b):
        reply(c, {"ok": False, "code": 2, "error":
                  "\"policy\" must be the policy document as a string"})
    else:
        open(got, "w").write(json.loads(b)["policy"])
        reply(c, {"ok": True, "changed": True, "dry_run": False,
                  "policy_sha256": "x", "confirm_deadline": None})
        c.close()
        break
    c.close()
PY
	# older WHAT WAYS CMD...: CMD applies the policy to a fresh stand-in,
	# which must have seen the ways of sending it in WAYS.
	older() {
		_what=$1 _ways=$2
		shift 2
		rm -f "$T_TMP/old.sock" "$T_TMP/old.sock.ready" "$T_TMP/old.got"*
		python3 old-fwd.py "$T_TMP/old.sock" "$T_TMP/old.got" ${WAITS:-} &
		OLD=$!
		wait_for 5 test -e "$T_TMP/old.sock.ready"
		FWD_SOCKET="$T_TMP/old.sock" "$@" >out 2>err
		same "$?" 0 "$_what: sent again"
		check "$_what: it got the text as written" \
			cmp -s "$T_TMP/old.got" "$G/spec-db.json"
		same "$(cat "$T_TMP/old.got.ways")" "$_ways" \
			"$_what: sent as $_ways"
		kill "$OLD" 2>/dev/null
		wait "$OLD" 2>/dev/null || : # a killed stand-in is no failure
	}
	# A file is passed first; a pipe's bytes come after the request.
	older "apply to an older fwd" "file string " \
		"$FWCTL" apply "$G/spec-db.json"
	older "apply from a pipe to an older fwd" "after string " \
		sh -c "cat '$G/spec-db.json' | '$FWCTL' apply /dev/stdin"
	# An fwd that cannot read the file without waiting gets its bytes.
	WAITS=waits older "apply to an fwd that would wait for the file" \
		"file after " "$FWCTL" apply "$G/spec-db.json"
fi
