#!/usr/bin/env bash
# NAME
#	run.sh - run every test: unit, BPF program, end to end
# DESCRIPTION
#	Run by 'make test' after the build. Each suite's own output is
#	shown; the last line sums the individual tests of all suites as
#	"N passed, N failed". A suite that cannot run (no root, no BPF, no
#	namespaces) is a failure with its reason, never a skip.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# tally_cmocka - add a cmocka binary's counts
tally_cmocka() {
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# A binary that crashed or ran nothing counts as one failure.
	if [[ $1 != 0 && -z $f ]] || [[ -z $p && -z $f ]]; then
		echo "FAIL $2: exited $1 without a cmocka summary"
		failed=$((failed + 1))
	fi
}

# tally_e2e - add an end-to-end file's counts
tally_e2e() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)
	if [[ -z $line ]]; then
		echo "FAIL $2: exited $1 without a summary"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + ${line%% passed*}))
	line=${line#*, }
	failed=$((failed + ${line%% failed}))
}

if [[ $(id -u) != 0 ]]; then
	echo "FAIL: the tests need root (BPF, XDP, network namespaces); run 'sudo make test'"
	echo "0 passed, 1 failed"
	exit 1
fi

for t in "$BUILD"/tests/test_*; do
	[[ -x $t ]] || continue
	echo "== $(basename "$t")"
	"$t" 2>&1 | tee "$log"
	tally_cmocka "${PIPESTATUS[0]}" "$(basename "$t")"
done

# The unit tests again, under ASan and UBSan.
for t in "$BUILD"/san/test_*; do
	[[ -x $t ]] || continue
	echo "== $(basename "$t") (ASan, UBSan)"
	ASAN_OPTIONS=detect_leaks=1 "$t" 2>&1 | tee "$log"
	tally_cmocka "${PIPESTATUS[0]}" "$(basename "$t") (sanitizers)"
done

# The layering of user/ (scripts/check_layout.py): no include cycle, each
# part including only those below it, no agent code in the mxguard binary.
echo "== layout"
python3 scripts/check_layout.py "$BUILD" 2>&1 | tee "$log"
tally_e2e "${PIPESTATUS[0]}" "check_layout.py"

# The commands and the store need no root: their maps are made in memory from
# the program's own definitions (tests/unit/agent_maps.h). Shown here by
# running those tests again as nobody, from a copy nobody can read.
ROOTLESS="test_cli test_clock test_bans test_store"
rl_dir=$(mktemp -d)
chmod 755 "$rl_dir"
for name in $ROOTLESS; do
	echo "== $name (as nobody, no root)"
	if ! cp "$BUILD/tests/$name" "$rl_dir/"; then
		echo "FAIL $name (as nobody): not built"
		failed=$((failed + 1))
		continue
	fi
	(cd "$rl_dir" && setpriv --reuid=65534 --regid=65534 --clear-groups "./$name") 2>&1 | tee "$log"
	tally_cmocka "${PIPESTATUS[0]}" "$name (as nobody)"
done
rm -rf "$rl_dir"

# Every fuzz harness over its corpus: each input once, under the sanitizers.
for f in "$BUILD"/fuzz/fuzz_*; do
	[[ -x $f ]] || continue
	name=$(basename "$f")
	echo "== $name corpus"
	if "$f" -runs=0 tests/fuzz/corpus/"${name#fuzz_}" >"$log" 2>&1; then
		echo "PASS $name: $(grep -o 'INITED.*' "$log" | head -1)"
		passed=$((passed + 1))
	else
		tail -n 30 "$log"
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
done

for t in tests/e2e/test_*.sh; do
	echo "== $(basename "$t")"
	BUILD=$PWD/$BUILD bash "$t" 2>&1 | tee "$log"
	tally_e2e "${PIPESTATUS[0]}" "$(basename "$t")"
done

echo
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
