#!/usr/bin/env bash
# NAME
#	lib.sh - what every end-to-end test file shares
# DESCRIPTION
#	A test file sources this, defines test_* functions and ends with
#	run_tests. Each test runs in a fresh test bed (scripts/testbed.sh)
#	with its own agent, and prints "PASS name" or "FAIL name: why".
#	Nothing is skipped: a missing tool or capability is a failure that
#	says what is missing.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
TB_P=${TB_P:-mxgt$$}
source "$TOP/scripts/testbed.sh"
tb_names

E2E_DIR=$(mktemp -d /tmp/mxguard-e2e.XXXXXX)
SOCK=$E2E_DIR/mxguardd.sock
PIN_DIR=/sys/fs/bpf/$TB_P
AGENT_LOG=$E2E_DIR/agent.log
STATE_DIR=$E2E_DIR/state
AGENT_PID=
FAIL_MSG=

# mx - the CLI against this test's agent
mx() { "$BUILD/mxguard" -s "$SOCK" "$@"; }

# fail - record why the current test fails; returns 1
fail() {
	FAIL_MSG="$*"
	return 1
}

# agent_start [ARGS] - start mxguardd on the gateway's interface, wait until ready
agent_start() {
	local ready_before
	ready_before=$(grep -c "ready" "$AGENT_LOG" 2>/dev/null)
	ready_before=${ready_before:-0}
	# nsenter execs the agent, so $! is the agent's pid. With AGENT_RESOLV the
	# agent alone sees that file as /etc/resolv.conf (a private mount
	# namespace; unshare and sh exec too, so the pid stays the agent's).
	if [[ -n ${AGENT_RESOLV:-} ]]; then
		nsenter --net=/run/netns/"$TB_GW" unshare --mount --propagation private sh -c \
			'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$AGENT_RESOLV" \
			"$BUILD/mxguardd" --interface "$TB_GW_IF" --socket "$SOCK" --pin-dir "$PIN_DIR" \
			--state-dir "$STATE_DIR" "$@" >>"$AGENT_LOG" 2>&1 &
	else
		nsenter --net=/run/netns/"$TB_GW" "$BUILD/mxguardd" --interface "$TB_GW_IF" \
			--socket "$SOCK" --pin-dir "$PIN_DIR" --state-dir "$STATE_DIR" "$@" >>"$AGENT_LOG" 2>&1 &
	fi
	AGENT_PID=$!
	for _ in $(seq 1 200); do
		[[ $(grep -c "ready" "$AGENT_LOG" 2>/dev/null) -gt $ready_before ]] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "mxguardd did not start: $(tr '\n' ' ' <"$AGENT_LOG")"
}

# agent_stop [SIGNAL] - stop the agent and wait for it
agent_stop() {
	[[ -n $AGENT_PID ]] || return 0
	kill -"${1:-TERM}" "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

# listen_smtp - a TCP listener on port 25 (v4 and v6) that greets with 220
listen_smtp() {
	nsenter --net=/run/netns/"$TB_GW" socat TCP4-LISTEN:25,fork,reuseaddr \
		SYSTEM:'echo 220 gw.test ESMTP' >/dev/null 2>&1 &
	LISTENERS+=" $!"
	nsenter --net=/run/netns/"$TB_GW" socat TCP6-LISTEN:25,fork,reuseaddr,ipv6only=1 \
		SYSTEM:'echo 220 gw.test ESMTP' >/dev/null 2>&1 &
	LISTENERS+=" $!"
	for _ in $(seq 1 50); do
		tb_gw ss -Hltn 'sport = :25' | grep -q . && return 0
		sleep 0.1
	done
	fail "no listener on port 25"
}

# connects SRC DST - does a TCP connect from SRC to DST:25 read the banner within 2 s?
connects() {
	local out
	out=$(tb_cl timeout 5 nc -w 2 -s "$1" "$2" 25 </dev/null 2>/dev/null)
	[[ $out == 220* ]]
}

# counter NAME - a verdict counter of the running agent
counter() {
	mx -j stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# cleanup - whatever a test left behind
cleanup() {
	agent_stop
	for p in $LISTENERS; do kill "$p" 2>/dev/null; done
	LISTENERS=
	pkill -f -- "--socket $SOCK" 2>/dev/null && sleep 0.2
	mountpoint -q "$STATE_DIR" && umount "$STATE_DIR"
	rm -rf "$STATE_DIR" "$AGENT_LOG"
	[[ -e /run/netns/$TB_GW ]] &&
		tb_gw "$BUILD/mxguardd" --detach --interface "$TB_GW_IF" --pin-dir "$PIN_DIR" >/dev/null 2>&1
	rm -rf "$PIN_DIR" 2>/dev/null
	tb_down
}

# preflight - fail loudly when the machine cannot run these tests
preflight() {
	local missing=
	[[ $(id -u) == 0 ]] || { echo "FAIL preflight: end-to-end tests need root (CAP_BPF, CAP_NET_ADMIN)"; return 1; }
	for cmd in ip nsenter socat nc ss timeout; do
		command -v $cmd >/dev/null || missing+=" $cmd"
	done
	[[ -x $BUILD/mxguardd && -x $BUILD/mxguard ]] || missing+=" build/mxguardd build/mxguard (run make)"
	if [[ -n $missing ]]; then
		echo "FAIL preflight: missing:$missing (make deps installs them)"
		return 1
	fi
}

# run_tests - run every test_* function (or those named in $TESTS)
run_tests() {
	local t passed=0 failed=0
	preflight || exit 1
	trap 'cleanup; rm -rf "$E2E_DIR"' EXIT
	for t in ${TESTS:-$(declare -F | awk '$3 ~ /^test_/ {print $3}')}; do
		FAIL_MSG=
		if ! tb_up >"$E2E_DIR/tb.log" 2>&1; then
			echo "FAIL $t: cannot create the namespace test bed: $(tr '\n' ' ' <"$E2E_DIR/tb.log")"
			failed=$((failed + 1))
			continue
		fi
		# A test fails if it says so, whatever its last command returned.
		if $t && [[ -z $FAIL_MSG ]]; then
			echo "PASS $t"
			passed=$((passed + 1))
		else
			echo "FAIL $t: ${FAIL_MSG:-returned non-zero}"
			[[ -s $AGENT_LOG ]] && sed 's/^/    agent: /' "$AGENT_LOG" | tail -n 20
			failed=$((failed + 1))
		fi
		cleanup
	done
	echo "$passed passed, $failed failed"
	[[ $failed == 0 ]]
}
