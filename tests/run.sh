#!/bin/sh
# Run every test: the cmocka unit tests in $BUILD/tests/, every fuzz
# target's corpus (tests/fuzz/corpus/NAME) through its replay driver, and the
# black-box suite in tests/blackbox/ against $BUILD/wartad.  Ends with the line
# "N passed, N failed" and exits non-zero when anything failed.
#
#   BUILD=build sh tests/run.sh [unit|fuzz|blackbox] [NAME...]
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
what=${1:-all}
[ $# -gt 0 ] && shift
pass=0
fail=0

# Add the counts of one cmocka binary's output.
count_cmocka() {
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$1" | head -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$1" | head -n1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$2" != 0 ] && [ "${f:-0}" = 0 ]; then
		echo "unit: $3 exited $2 without a cmocka summary" >&2
		fail=$((fail + 1))
	fi
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

if [ "$what" = all ] || [ "$what" = unit ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		if [ $# -gt 0 ] && [ "$what" = unit ]; then
			case " $* " in *" $name "*) ;; *) continue ;; esac
		fi
		echo "== $name"
		"$t" >"$tmp" 2>&1
		rc=$?
		cat "$tmp"
		count_cmocka "$tmp" "$rc" "$name"
	done
fi

# Every fuzz target's corpus through its plain-C replay driver: one pass
# per target (tests/fuzz/replay.c fails on a missing or empty corpus).
if [ "$what" = all ] || [ "$what" = fuzz ]; then
	for t in "$BUILD"/tests/fuzz_*; do
		[ -x "$t" ] || continue
		name=${t##*/fuzz_}
		if [ $# -gt 0 ] && [ "$what" = fuzz ]; then
			case " $* " in *" $name "*) ;; *) continue ;; esac
		fi
		echo "== fuzz_$name corpus"
		if "$t" "tests/fuzz/corpus/$name" >"$tmp" 2>&1; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "fuzz: fuzz_$name failed on its corpus" >&2
		fi
		cat "$tmp"
	done
fi

if [ "$what" = all ] || [ "$what" = blackbox ]; then
	echo "== blackbox"
	"$PYTHON" tests/blackbox/run.py --build "$BUILD" "$@" >"$tmp" 2>&1
	rc=$?
	cat "$tmp"
	line=$(grep -E '^blackbox: [0-9]+ passed, [0-9]+ failed' "$tmp" | tail -n1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed 's/^blackbox: \([0-9]*\) passed.*/\1/')
		f=$(echo "$line" | sed 's/.* \([0-9]*\) failed.*/\1/')
		pass=$((pass + p))
		fail=$((fail + f))
	fi
	if [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then
		echo "blackbox: runner exited $rc" >&2
		fail=$((fail + 1))
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
