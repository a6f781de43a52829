#!/usr/bin/env bash
# `make fuzz`: every fuzz target of the repository (each func Fuzz… in a
# _test.go file) for FUZZTIME each. go test -fuzz takes one target of one
# package per call, so this loops. A target that finds a failing input
# writes it to its package's testdata/fuzz/<target>/: commit that file with
# the fix, as a regression seed that every go test runs. All targets run
# even when one fails; the failures are listed at the end, and the exit
# status is 1 if there was any.
#
# Go 1.26's fuzzing coordinator can end a target that found nothing with
# "context deadline exceeded" when -fuzztime runs out while a worker is
# busy (golang/go#75804, fixed in Go 1.27). Such a run wrote no input, so
# the target is run again, up to twice; a run that wrote an input, or that
# failed in any other way, is a failure at once.
set -uo pipefail

cd "$(dirname "$0")/.."
GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-8s}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

failed=()
for file in $(grep -rl --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git '^func Fuzz' . | sort); do
	dir="$(dirname "$file")"
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		corpus="$dir/testdata/fuzz/$name"
		for attempt in 1 2 3; do
			before="$(ls "$corpus" 2>/dev/null)"
			echo "+ $GO test -run '^\$' -fuzz '^$name\$' -fuzztime $FUZZTIME $dir"
			if "$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "$dir" 2>&1 | tee "$log"; then
				break
			fi
			if [ "$attempt" -lt 3 ] && [ "$(ls "$corpus" 2>/dev/null)" = "$before" ] &&
				grep -qx '    context deadline exceeded' "$log"; then
				echo "fuzz: $name ended with \"context deadline exceeded\" and wrote no input (golang/go#75804, not a finding): running it again"
				continue
			fi
			failed+=("$name")
			break
		done
	done
done

if ((${#failed[@]})); then
	echo "fuzz targets that failed: ${failed[*]}"
	exit 1
fi
echo "fuzz: every target passed ($FUZZTIME each)"
