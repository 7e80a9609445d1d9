#!/usr/bin/env bash
# Runs every native Go fuzz target of nix2gpu for a bounded time, one after
# another, and fails if any of them finds a crash. The targets are found by
# name (func FuzzX in any _test.go file), so a new target needs no edit
# here.
#
#   scripts/fuzz.sh            # FUZZTIME per target (default 6s)
#   FUZZTIME=2s scripts/fuzz.sh
#   scripts/fuzz.sh ./config   # only the targets of these packages
#
# The total stays under two minutes with the default time and up to ten
# targets. Minimizing is capped, or slow targets would spend their whole
# budget shrinking "interesting" inputs. A crash leaves its input under the
# package's testdata/fuzz/, where plain `go test` replays it from then on.
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-6s}
if [ $# -gt 0 ]; then
	pkgs=("$@")
else
	mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^\./editor/' | xargs -r -n1 dirname | sort -u)
fi

failed=()
total=0
for pkg in "${pkgs[@]}"; do
	pkg=./${pkg#./}
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$pkg"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "== $pkg $target ($FUZZTIME)"
		log=$(mktemp)
		if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=100x "$pkg" >"$log" 2>&1; then
			# The last progress line holds the execution count.
			execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
			echo "   ok, ${execs:-0} execs"
			total=$((total + ${execs:-0}))
		elif ! grep -q 'Failing input written' "$log" && grep -q 'context deadline exceeded' "$log"; then
			# The fuzzing engine sometimes misses its own deadline on a
			# loaded machine; that is no finding about our code.
			echo "   ok (the fuzzing engine overran its time budget; no failing input)"
		else
			cat "$log"
			failed+=("$pkg $target")
		fi
		rm -f "$log"
	done
done

echo "fuzz: $total execs in all"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: FAILED %s\n' "${failed[@]}"
	exit 1
fi
