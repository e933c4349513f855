#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# schema: rules/schema.json is a valid draft 2020-12 schema; every policy in
# rules/ and tests/cases/good validates against it (Debian's
# python3-jsonschema); and schema and parser agree on tests/cases/schema/:
# each bad document is rejected by both `fwctl check` and the schema, each
# good one accepted by both. No daemon, no root.
. "$(dirname "$0")/lib.sh"
FWCTL="$TOP/$BUILD/fwctl"
SCHEMA="$TOP/rules/schema.json"
PY=/usr/bin/python3
CASES="$TOP/tests/cases/schema"

if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	echo "ok - # SKIP python3-jsonschema is missing (tests/deps.sh installs it)"
	exit 0
fi

# validate FILE...: "ok FILE" or "invalid FILE: PATH: MESSAGE" per file.
validate() {
	"$PY" - "$SCHEMA" "$@" <<'PYEOF'
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
v = cls(schema)
for f in sys.argv[2:]:
    try:
        doc = json.load(open(f))
    except ValueError as e:
        print("invalid %s: not JSON: %s" % (f, e))
        continue
    err = jsonschema.exceptions.best_match(v.iter_errors(doc))
    if err is None:
        print("ok %s" % f)
    else:
        path = ".".join(str(p) for p in err.absolute_path)
        print("invalid %s: %s: %s" % (f, path, err.message[:200]))
PYEOF
}

# split CASEFILE DIR: one DIR/NNN.json per "=== description", with the
# description in DIR/NNN.desc.
split() {
	mkdir -p "$2"
	awk -v dir="$2" '
		/^#/ { next }
		/^=== / { n++; f = sprintf("%s/%03d", dir, n)
			print substr($0, 5) > (f ".desc"); close(f ".desc"); next }
		n { print > (f ".json") }' "$1"
}

"$PY" - "$SCHEMA" <<'PYEOF' && ok "rules/schema.json is a valid draft 2020-12 schema" || not_ok "rules/schema.json is a valid draft 2020-12 schema"
import json, sys
import jsonschema
s = json.load(open(sys.argv[1]))
assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
jsonschema.Draft202012Validator.check_schema(s)
PYEOF

# --- the example site and the golden cases ---
policies=$(ls "$TOP"/rules/*.json "$TOP"/tests/cases/good/*.json |
	grep -v '/schema\.json$')
validate $policies >"$T_TMP/site" 2>&1
for f in $policies; do
	name=${f#"$TOP"/}
	if grep -qx "ok $f" "$T_TMP/site"; then
		ok "$name validates against the schema"
	else
		not_ok "$name validates against the schema"
		grep -F " $f" "$T_TMP/site" | sed 's/^/# /'
	fi
	case $f in */_include-*) continue ;; esac # included, not standalone
	check "$name passes fwctl check" "$FWCTL" check "$f" >/dev/null
done

# --- agreement on crafted documents ---
agree() { # KIND(bad|good) DIR
	files=$(ls "$2"/*.json)
	validate $files >"$T_TMP/$1.out" 2>&1
	for f in $files; do
		d=$(cat "${f%.json}.desc")
		"$FWCTL" check "$f" >"$T_TMP/check.out" 2>&1
		rc=$?
		if grep -qx "ok $f" "$T_TMP/$1.out"; then s=accepts; else s=rejects; fi
		if [ "$1" = bad ]; then
			want_rc=1 want_s=rejects want_v=reject
		else
			want_rc=0 want_s=accepts want_v=accept
		fi
		if [ $rc -eq $want_rc ] && [ $s = $want_s ]; then
			ok "$1: $d: fwctl check and the schema both $want_v it"
		else
			not_ok "$1: $d: fwctl check and the schema both $want_v it"
			echo "# fwctl check exit $rc (want $want_rc), schema $s"
			sed 's/^/# /' "$T_TMP/check.out"
			grep -F " $f" "$T_TMP/$1.out" | sed 's/^/# /'
		fi
	done
}
split "$CASES/bad.txt" "$T_TMP/bad"
split "$CASES/good.txt" "$T_TMP/good"
agree bad "$T_TMP/bad"
agree good "$T_TMP/good"

# The parser's answers are not vacuous: the rejections are about the case.
"$FWCTL" check "$T_TMP/bad/004.json" >/dev/null 2>"$T_TMP/err"
check "a port named \"http\" is refused as a service name" \
	grep -q 'service names are not supported' "$T_TMP/err"
exit 0
