#!/bin/sh
# Run libFuzzer targets one after another, each for FUZZ_SECONDS, niced,
# and print one summary line per target: executions, coverage (cov: edges,
# ft: features, as libFuzzer counts them) and the corpus size.  Called by
# `make fuzz`, which builds $FUZZ_DIR/fuzz_NAME first.
#
#   FUZZ_DIR=build-fuzz FUZZ_SECONDS=60 sh tests/fuzz/run.sh NAME...
#
# New inputs go to $FUZZ_DIR/corpus/NAME (the seeds in tests/fuzz/corpus/
# NAME are read, never written); a crash, leak, timeout or broken property
# leaves $FUZZ_DIR/NAME-crash-* (or -leak-, -timeout-) and fails the run.
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
status=0
summary=""

for name in "$@"; do
	bin=$FUZZ_DIR/fuzz_$name
	seeds=tests/fuzz/corpus/$name
	out=$FUZZ_DIR/corpus/$name
	log=$FUZZ_DIR/$name.log
	mkdir -p "$out"
	echo "== fuzz $name for ${FUZZ_SECONDS}s (log: $log)"
	nice -n 10 "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/$name-" \
	    "$out" "$seeds" >"$log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	files=$(ls "$out" | wc -l)
	line="fuzz $name: ${execs:-?} executions in ${FUZZ_SECONDS}s, cov ${cov:-?}, ft ${ft:-?}, corpus $files new + $(ls "$seeds" | wc -l) seeds"
	if [ "$rc" != 0 ]; then
		line="$line: FAILED (exit $rc, see $log)"
		status=1
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5
	fi
	echo "$line"
	summary="$summary$line
"
done
printf '%s' "$summary"
exit $status
