#!/usr/bin/env bash
# NAME
#	demo.sh - mxguard live: on a namespace test bed, or on IFACE
# SYNOPSIS
#	scripts/demo.sh [IFACE]        (make demo [IFACE=eth0])
# DESCRIPTION
#	Without IFACE: builds a test bed (scripts/testbed.sh) with a gateway
#	running a TCP listener on port 25 and a client network, attaches
#	mxguardd to the gateway's interface, bans one client (198.18.0.10),
#	floods connections from another (198.18.0.20), lets a third
#	(198.18.0.30) connect now and then, and prints each second what was
#	dropped and passed. Runs DEMO_SECONDS (default 20) and removes
#	everything it made.
#
#	With IFACE: runs mxguardd on that interface in the foreground, with
#	the default settings, until Ctrl-C.
set -u
cd "$(dirname "$0")/.."
BUILD=$PWD/build

if [[ $# -ge 1 && -n $1 ]]; then
	echo "mxguard: guarding $1; control with '$BUILD/mxguard', stop with Ctrl-C"
	exec "$BUILD/mxguardd" --interface "$1"
fi

TB_P=mxgdemo
source scripts/testbed.sh
tb_names
DIR=$(mktemp -d /tmp/mxguard-demo.XXXXXX)
SOCK=$DIR/mxguardd.sock
PIN=/sys/fs/bpf/mxgdemo
PIDS=()
BANNED=198.18.0.10 FLOOD=198.18.0.20 GOOD=198.18.0.30

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait "${PIDS[@]}" 2>/dev/null
	tb_down
	rm -rf "$DIR" "$PIN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mx() { "$BUILD/mxguard" -s "$SOCK" "$@"; }
counter() { mx -j stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

tb_up || exit 1
tb_client_addr $FLOOD/24
tb_client_addr $GOOD/24
nsenter --net=/run/netns/$TB_GW socat TCP4-LISTEN:25,fork,reuseaddr \
	SYSTEM:'echo 220 gw.demo ESMTP' >/dev/null 2>&1 &
PIDS+=($!)
nsenter --net=/run/netns/$TB_GW "$BUILD/mxguardd" --interface "$TB_GW_IF" \
	--socket "$SOCK" --pin-dir "$PIN" --state-dir "$DIR/state" >"$DIR/agent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q ready "$DIR/agent.log" && break; sleep 0.1; done
sed 's/^/  | /' "$DIR/agent.log"
grep -q ready "$DIR/agent.log" || { echo "demo: mxguardd did not start"; exit 1; }

echo
echo "== mxguard prog show"; mx prog show
echo "== mxguard limit show default"; mx limit show default
echo "== mxguard ban add $BANNED ttl 1h reason 'spam trap hits'"
mx ban add $BANNED ttl 1h reason "spam trap hits"
mx ban list
echo
echo "$BANNED (banned) connects once a second; $FLOOD floods connects; $GOOD connects every 2 s."
echo

# The clients: real TCP connects with nc.
( while :; do nsenter --net=/run/netns/$TB_CL nc -z -w 1 -s $BANNED $TB_GW4 25; sleep 1; done ) >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 16); do
	( while :; do nsenter --net=/run/netns/$TB_CL nc -z -w 1 -s $FLOOD $TB_GW4 25; done ) >/dev/null 2>&1 &
	PIDS+=($!)
done
( while :; do
	if nsenter --net=/run/netns/$TB_CL nc -z -w 2 -s $GOOD $TB_GW4 25; then echo ok; else echo timeout; fi >"$DIR/good"
	sleep 2
  done ) >/dev/null 2>&1 &
PIDS+=($!)

printf '%4s  %12s  %14s  %16s  %16s  %s\n' "t/s" "SYN passed" "drop: banned" "drop: src rate" "drop: pfx rate" "$GOOD"
prev_p=$(counter pass_within_limits) prev_b=$(counter drop_banned)
prev_s=$(counter drop_source_rate) prev_x=$(counter drop_prefix_rate)
for t in $(seq 1 "${DEMO_SECONDS:-20}"); do
	sleep 1
	p=$(counter pass_within_limits) b=$(counter drop_banned)
	s=$(counter drop_source_rate) x=$(counter drop_prefix_rate)
	printf '%4d  %12d  %14d  %16d  %16d  %s\n' "$t" $((p - prev_p)) $((b - prev_b)) \
		$((s - prev_s)) $((x - prev_x)) "$(cat "$DIR/good" 2>/dev/null || echo -)"
	prev_p=$p prev_b=$b prev_s=$s prev_x=$x
done
echo
echo "== mxguard stats"; mx stats
