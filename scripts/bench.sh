#!/usr/bin/env bash
# NAME
#	bench.sh - make bench: mxguard's costs as ratios measured in one run
# DESCRIPTION
#	1. The XDP program per packet against bare XDP_PASS and XDP_DROP
#	   programs, with 1 to 1,000,000 bans (build/tests/bench_xdp).
#	2. TCP connection setup rate with and without mxguard.
#	3. A 1,000,000-entry blocklist: load time and memory, full ban list.
#	Fails if a part cannot run; timing goals are read from the ratios,
#	they do not fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "bench: needs root (BPF)" >&2; exit 1; }
echo "== XDP per-packet cost"
build/tests/bench_xdp

# 2. Connection setup rate through the gateway with and without mxguard,
#    measured back to back on the same test bed. Limits are raised out of
#    the way: this measures the cost of judging and counting, not limits.
echo
echo "== TCP connection setup rate (connect + handshake + reset), 198.18.0.10 -> 198.18.0.1:25"
TB_P=mxgbench
source scripts/testbed.sh
tb_names
BDIR=$(mktemp -d /tmp/mxguard-bench.XXXXXX)
bench_cleanup() {
	pkill -f -- "--socket $BDIR/sock" 2>/dev/null
	sleep 0.3
	tb_down
	rm -rf "$BDIR" /sys/fs/bpf/mxgbench
}
trap bench_cleanup EXIT
tb_up >/dev/null
nsenter --net=/run/netns/$TB_GW build/tests/connrate serve 198.18.0.1 25 &
sleep 0.3
rate() { tb_cl build/tests/connrate run 198.18.0.10 198.18.0.1 25 "${BENCH_CONNS:-20000}" 64; }
# median3 - the run with the median rate of three
median3() { local a b c; a=$(rate); b=$(rate); c=$(rate); printf '%s\n' "$a" "$b" "$c" | sort -t' ' -k5 -n | sed -n 2p; }
rate >/dev/null	# warm up
without=$(median3)
nsenter --net=/run/netns/$TB_GW build/mxguardd --interface "$TB_GW_IF" --socket "$BDIR/sock" \
	--pin-dir /sys/fs/bpf/mxgbench --state-dir "$BDIR/state" >"$BDIR/agent.log" 2>&1 &
for _ in $(seq 1 100); do grep -q ready "$BDIR/agent.log" && break; sleep 0.1; done
grep -q ready "$BDIR/agent.log" || { cat "$BDIR/agent.log"; exit 1; }
for k in "burst 1000000" "rate 1000000/s" "prefix-burst 1000000" "prefix-rate 1000000/s" \
	 "parallel 1000000" "prefix-parallel 1000000"; do
	build/mxguard -s "$BDIR/sock" limit set default $k
done
with=$(median3)
echo "without mxguard: $without   (median of 3)"
echo "with mxguard:    $with   (median of 3)"
r0=$(awk '{print $5}' <<<"$without" | tr -d '/s')
r1=$(awk '{print $5}' <<<"$with" | tr -d '/s')
awk -v a="$r1" -v b="$r0" 'BEGIN { printf "ratio with/without: %.2f\n", a / b }'
build/mxguard -s "$BDIR/sock" stats | grep -E "conn_(admitted|corrections)|pass_within"

# 3. A blocklist of 1,000,000 entries: load time, the agent's memory, and a
#    full 'ban list' streamed back (its memory must not grow with the list).
#    The entries are map keys in 240.0.0.0/4 (reserved); no packet uses them.
echo
echo "== blocklist of 1,000,000 entries"
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "%d.%d.%d.%d\n", 240 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$BDIR/big.txt"
apid=$(pgrep -f -- "--socket $BDIR/sock" | head -1)
rss() { awk '/^VmRSS/ { print $2 }' /proc/"$apid"/status; }
hwm() { awk '/^VmHWM/ { print $2 }' /proc/"$apid"/status; }
before=$(rss)
t0=$(date +%s%N)
build/mxguard -s "$BDIR/sock" blocklist load big "$BDIR/big.txt"
t1=$(date +%s%N)
echo "load: $(( (t1 - t0) / 1000000 )) ms; agent RSS ${before} -> $(rss) kB (peak $(hwm) kB); journal $(du -k "$BDIR/state/journal" | cut -f1) kB"
peak=$(hwm)
t0=$(date +%s%N)
n=$(build/mxguard -s "$BDIR/sock" ban list | wc -l)
t1=$(date +%s%N)
echo "ban list: $((n - 1)) bans streamed in $(( (t1 - t0) / 1000000 )) ms; agent peak RSS $peak -> $(hwm) kB"
(( n - 1 >= 1000000 )) || { echo "bench: ban list gave $((n - 1)) bans" >&2; exit 1; }
