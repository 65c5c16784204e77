#!/usr/bin/env bash
# NAME
#	bench_attack.sh - the agent under full-size attacks: its worst stall
# DESCRIPTION
#	Part 5 of make bench. Each attack runs against a fresh agent on the
#	namespace test bed while a probe asks the control socket, the
#	metrics endpoint and the Postfix policy service in turn (every 20
#	ms); each row gives the slowest answer the probe saw and the agent's
#	own longest event-loop turn (loop_busy_max_us, since that agent
#	started):
#
#	  - 1,000,000 spoofed SYNs with valid checksums from 300,000 sources
#	    (130,000 IPv4 addresses, 170,000 IPv6 /64s), prefix limits opened
#	    so that every SYN reaches sk_lookup and takes a slot;
#	  - a restart (after kill -9) on the maps that flood left;
#	  - a 1,000,000-line blocklist load, and the snapshot it brings;
#	  - a restart with 1,000,000 bans, then sweeps over them (steady state);
#	  - 1,000,000 bans expiring together.
#	Run by scripts/bench.sh, it leaves the rows and the agent's memory with
#	1,000,000 bans as JSON in $BENCH_PARTS_DIR/attack.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$PWD/build
TB_P=mxgatk
source scripts/testbed.sh
tb_names
ADIR=$(mktemp -d /tmp/mxguard-attack.XXXXXX)
ATTACK_SOCK=$ADIR/sock
ATTACK_POLICY=$ADIR/policy.sock
ATTACK_LOG=$ADIR/probe
source scripts/attack_lib.sh
PIN=/sys/fs/bpf/mxgatk
LISTENER=

attack_cleanup() {
	pkill -f -- "--socket $ATTACK_SOCK" 2>/dev/null || true
	[[ -n $LISTENER ]] && kill "$LISTENER" 2>/dev/null
	sleep 0.3
	tb_gw "$BUILD/mxguardd" --detach --interface "$TB_GW_IF" --pin-dir "$PIN" >/dev/null 2>&1 || true
	tb_down
	rm -rf "$ADIR" "$PIN"
}
trap attack_cleanup EXIT

mx() { "$BUILD/mxguard" -s "$ATTACK_SOCK" "$@"; }
counter() { mx -j stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# agent [SETTINGS] - start a fresh agent process on the state dir; READY_MS: how long it took
agent() {
	printf "${1:-}policy_socket = %s\nptr_class = none\nspf_class = none\n" "$ATTACK_POLICY" >"$ADIR/conf"
	local t0=$(ms)
	: >"$ADIR/agent.log"
	nsenter --net=/run/netns/"$TB_GW" "$BUILD/mxguardd" -C "$ADIR/conf" --interface "$TB_GW_IF" \
		--socket "$ATTACK_SOCK" --pin-dir "$PIN" --state-dir "$ADIR/state" >>"$ADIR/agent.log" 2>&1 &
	APID=$!
	for _ in $(seq 1 600); do
		grep -q ready "$ADIR/agent.log" && { READY_MS=$(($(ms) - t0)); return 0; }
		kill -0 $APID 2>/dev/null || break
		sleep 0.1
	done
	cat "$ADIR/agent.log" >&2
	echo "bench: the agent did not start" >&2
	exit 1
}

stop() { kill -"${1:-TERM}" "$APID"; wait "$APID" 2>/dev/null || true; }

ROWS=()
JROWS=()
# row WHAT - the probe's verdict and the loop's longest turn, as a table row
row() {
	local worst loop p99
	worst=$(cat "$ATTACK_LOG")
	[[ $worst =~ ^[0-9]+$ ]] || { echo "bench: $1: $worst" >&2; exit 1; }
	p99=$(cat "$ATTACK_LOG.p99")
	loop=$(counter loop_busy_max_us)
	ROWS+=("$(printf '%-58s %10s %12s' "$1" "$worst" "$((loop / 1000))")")
	JROWS+=("$(printf '{"attack":"%s","worst_ms":%s,"p99_ms":%s,"loop_ms":%s}' "$1" "$worst" "${p99:-null}" \
		"$(awk -v u="$loop" 'BEGIN { printf "%.1f", u / 1000 }')")")
	# What made a slow turn slow, in the agent's words.
	grep -h "a loop turn took" "$ADIR/agent.log" | sed 's/^/    /' || true
}

open_prefixes() {
	for k in "prefix-burst 1000000" "prefix-rate 1000000/s" "prefix-parallel 1000000"; do
		mx limit set default $k
	done
}

tb_up >/dev/null
attack_routes
nsenter --net=/run/netns/"$TB_GW" socat TCP4-LISTEN:25,fork,reuseaddr SYSTEM:'echo 220 gw.test' \
	>/dev/null 2>&1 &
LISTENER=$!

echo
echo "== the agent under attack (full size)"
agent
open_prefixes
probe 25 &
ppid=$!
sleep 0.5
flood -s 198.18.2.0 -n 130000 -c 500000
flood -s 2001:db8:100::1 -n 170000 -c 500000
wait $ppid
echo "released half-open: $(counter conn_halfopen_released), counted: $(counter conn_admitted)," \
     "table full: $(counter conn_table_full), corrections: $(counter conn_corrections)"
row "1,000,000 spoofed SYNs from 300,000 sources"

flood -s 198.18.2.0 -n 130000 -c 500000 >/dev/null
stop KILL
agent
probe 10
row "restart on the flooded maps (ready in $READY_MS ms)"
stop

rm -rf "$ADIR/state"
tb_gw "$BUILD/mxguardd" --detach --interface "$TB_GW_IF" --pin-dir "$PIN" >/dev/null 2>&1 || true
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "2001:db8:%x:%x::1\n", 16 + int(i / 65536), i % 65536 }' \
	>"$ADIR/big.txt"
agent 'ban_sweep_interval = 5s\n'
probe 30 &
ppid=$!
sleep 0.5
t0=$(ms)
mx blocklist load big "$ADIR/big.txt" ttl 150s
loaded=$(($(ms) - t0))
wait $ppid
row "1,000,000-line blocklist load (${loaded} ms) and its snapshot"
stop

agent 'ban_sweep_interval = 5s\n'
probe 12
row "restart with 1,000,000 bans (ready in $READY_MS ms), sweeps over them"
rss1m=$(awk '/^VmRSS/ { print $2 }' /proc/$APID/status)
hwm1m=$(awk '/^VmHWM/ { print $2 }' /proc/$APID/status)
echo "agent RSS with 1,000,000 bans: $rss1m kB (peak $hwm1m kB)"
stop

agent 'ban_sweep_interval = 5s\n'
left=$(( t0 / 1000 + 150 - $(date +%s) ))
(( left > 0 )) && sleep "$left"
probe 12
[[ $(mx -j ban list | grep -o '"prefix"' | wc -l) == 0 ]] || echo "bench: bans left after expiry" >&2
row "1,000,000 bans expiring together"
stop

printf '%-58s %10s %12s\n' attack "worst answer ms" "loop turn ms"
printf '%s\n' "${ROWS[@]}"
if [[ -n ${BENCH_PARTS_DIR:-} ]]; then
	{
		printf '{"rss_1m_bans_kb":%s,"hwm_1m_bans_kb":%s,"rows":[' "$rss1m" "$hwm1m"
		(IFS=,; printf '\n%s' "${JROWS[*]}")
		printf '\n]}\n'
	} >"$BENCH_PARTS_DIR/attack.json"
fi
