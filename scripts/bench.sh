#!/usr/bin/env bash
# NAME
#	bench.sh - make bench: mxguard's costs as ratios measured in one run
# DESCRIPTION
#	1. The XDP program per packet against bare XDP_PASS and XDP_DROP
#	   programs: banned and passing SYNs, established segments, SYNs from
#	   new sources, with 1 to 1,000,000 exact and 65,536 prefix bans; and
#	   the SYN-cookie ACK judge per segment against a bare TC program
#	   (build/tests/bench_xdp). Every cell with its spread goes to
#	   build/bench/results.json; with a build/bench/before.json from an
#	   earlier build, scripts/bench_compare.py sets the two side by side.
#	2. TCP connection setup rate with and without mxguard.
#	3. A 1,000,000-entry blocklist: load time and memory, full ban list.
#	4. Banned SYNs at line rate: real frames from a generator core
#	   (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, build/tests/
#	   linerate) into the gateway's veth, judged by mxguard (1 and
#	   1,000,000 bans), by nftables dropping from a set in prerouting raw
#	   (1 and 1,000,000 elements) and by a bare XDP_DROP program, as
#	   ratios. veth runs the receiving side's NAPI on the sending CPU, so
#	   generator and judge share one core: each rate is one over the sum
#	   of generating and judging a frame, and the ratios understate how
#	   much cheaper the cheaper judge is.
#	5. The agent under full-size attacks (scripts/bench_attack.sh): the
#	   slowest answer to the control socket, metrics and policy service,
#	   and the longest event-loop turn, for each attack.
#	6. CrowdSec start-up sync (scripts/bench_crowdsec.sh): 100,000
#	   decisions in a private LAPI applied by a fresh agent, as
#	   decisions per second next to cs-firewall-bouncer's published
#	   nftables figure, and the longest loop turn meanwhile. Runs alone
#	   with 'scripts/bench.sh crowdsec'.
#	Fails if a part cannot run; timing goals are read from the ratios,
#	they do not fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "bench: needs root (BPF)" >&2; exit 1; }
[[ ${1:-} == crowdsec ]] && exec scripts/bench_crowdsec.sh
echo "== XDP per-packet cost"
mkdir -p build/bench
build/tests/bench_xdp build/bench/results.json "$(git rev-parse --short HEAD 2>/dev/null || echo build)"
# Beside an earlier run kept as build/bench/before.json (bench_xdp FILE LABEL on an older build):
if [[ -f build/bench/before.json ]]; then
	echo
	python3 scripts/bench_compare.py build/bench/before.json build/bench/results.json build/bench/results.csv
fi

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
	pkill -f -- "--socket $BDIR/sock" 2>/dev/null || true
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

# 4. Line rate: the generator sends SYNs from the banned 198.18.0.66 for
#    LINERATE_SECONDS; a judge's rate is what it dropped over that time.
GWMAC=$(tb_gw ip -o link show "$TB_GW_IF" | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
tb_client_addr 198.18.0.66/24
LR_SECONDS=${LINERATE_SECONDS:-2}
declare -A JUDGED OFFERED
# judge NAME COUNTER_CMD - median of 3 runs: dropped/s and offered/s
judge() {
	local name=$1 read=$2 runs=() i b a out
	for i in 1 2 3; do
		b=$($read)
		out=$(tb_cl build/tests/linerate gen "$TB_CL_IF" 198.18.0.66 $TB_GW4 "$GWMAC" "$LR_SECONDS")
		a=$($read)
		runs+=("$(awk -v d=$((a - b)) -v f="${out%% *}" -v s="$(awk '{print $4}' <<<"$out")" \
			'BEGIN { printf "%.0f %.0f", d / s, f / s }')")
	done
	local mid=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
	JUDGED[$name]=${mid% *}
	OFFERED[$name]=${mid#* }
	(( ${JUDGED[$name]} > 0 )) || { echo "bench: $name judged nothing" >&2; exit 1; }
}
mx_dropped() { build/mxguard -s "$BDIR/sock" -j stats | sed -n 's/.*"drop_banned":\([0-9]*\).*/\1/p'; }
xdp_dropped() { tb_gw ethtool -S "$TB_GW_IF" | awk '/rx_queue_[0-9]+_xdp_drops/ { n += $2 } END { print n + 0 }'; }
nft_dropped() { tb_gw nft list chain ip mxbench pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
build/mxguard -s "$BDIR/sock" ban add 198.18.0.66 reason bench >/dev/null
judge mx1 mx_dropped

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
judge mx1m mx_dropped
pkill -f -- "--socket $BDIR/sock"
for _ in $(seq 1 50); do pgrep -f -- "--socket $BDIR/sock" >/dev/null || break; sleep 0.1; done

# The same drops without XDP: veth needs NAPI (GRO on) to take XDP_TX frames.
tb_gw ethtool -K "$TB_GW_IF" gro on >/dev/null
nft_set() {
	{
		echo "table ip mxbench { set banned { type ipv4_addr; size 2000000; elements = { 198.18.0.66"
		awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf ",%d.%d.%d.%d\n", 240 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
		echo "}; }; chain pre { type filter hook prerouting priority raw; policy accept; ip saddr @banned counter drop; }; }"
	} >"$BDIR/set.nft"
	tb_gw nft delete table ip mxbench 2>/dev/null || true
	tb_gw nft -f "$BDIR/set.nft"
}
nft_set 0
judge nft1 nft_dropped
nft_set 1000000
judge nft1m nft_dropped
tb_gw nft delete table ip mxbench
tb_gw ethtool -K "$TB_GW_IF" gro off >/dev/null
tb_gw build/tests/linerate drop "$TB_GW_IF" $(( LR_SECONDS * 3 + 6 )) &
drop_pid=$!
sleep 1
judge bare xdp_dropped
wait "$drop_pid"

echo
echo "== banned SYNs at line rate (64 B frames, one generator core, median of 3 x ${LR_SECONDS} s)"
bare=${JUDGED[bare]}
nft1=${JUDGED[nft1]}
declare -A LABEL=([bare]="bare XDP_DROP" [mx1]="mxguard, 1 ban" [mx1m]="mxguard, 1,000,001 bans"
		  [nft1]="nftables, 1 element" [nft1m]="nftables, 1,000,001 elements")
printf '%-30s %10s %10s %12s %12s\n' judge "Mpps" "sent Mpps" "x XDP_DROP" "x nftables"
for name in bare mx1 mx1m nft1 nft1m; do
	awk -v n="${LABEL[$name]}" -v j="${JUDGED[$name]}" -v o="${OFFERED[$name]}" -v b="$bare" -v f="$nft1" \
		'BEGIN { printf "%-30s %10.2f %10.2f %12.2f %12.2f\n", n, j / 1e6, o / 1e6, j / b, j / f }'
done

# 5. The agent under full-size attacks: its worst stall for each.
scripts/bench_attack.sh

# 6. CrowdSec start-up sync: 100,000 decisions from LAPI.
scripts/bench_crowdsec.sh
