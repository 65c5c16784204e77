#!/usr/bin/env bash
# NAME
#	bench_crowdsec.sh - CrowdSec start-up sync: 100,000 LAPI decisions into the data plane
# SYNOPSIS
#	scripts/bench_crowdsec.sh      (or scripts/bench.sh crowdsec)
# DESCRIPTION
#	Part 6 of make bench; runs alone too. A private CrowdSec Local API
#	(scripts/crowdsec-ns.sh, Debian's crowdsec 1.4.6 with SQLite) in
#	the test bed's LAPI namespace holds CS_BENCH_N (100,000) ban
#	decisions of scope Ip, imported in one go with 'cscli decisions
#	import' (addresses in 240.0.0.0/4, reserved: map keys that no
#	packet uses). A fresh agent (empty state directory) starts against
#	it as a bouncer; the clock runs from its start until 'mxguard -j
#	crowdsec show' counts every decision in force, i.e. LAPI's
#	startup=true answer fetched, parsed, journalled and in the maps.
#	Printed: that time, as decisions per second and as a ratio to the
#	figure published for CrowdSec's own firewall bouncer in nftables
#	mode, about 40 decisions per second (crowdsecurity/
#	cs-firewall-bouncer issue #114; it batches since), and the agent's
#	longest event-loop turn meanwhile (loop_busy_max_us): the start-up
#	sync must not hold the loop. Run by scripts/bench.sh, it leaves its
#	figures as JSON in $BENCH_PARTS_DIR/crowdsec.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "bench: needs root (BPF)" >&2; exit 1; }
BUILD=$PWD/build
N=${CS_BENCH_N:-100000}
NFT_PUBLISHED=40	# decisions/s, cs-firewall-bouncer #114 (nftables mode)
TB_P=mxgcsb
TB_LAPI=1
source scripts/testbed.sh
source scripts/crowdsec-ns.sh
tb_names
CDIR=$(mktemp -d /tmp/mxguard-bench-cs.XXXXXX)
SOCK=$CDIR/sock
PIN=/sys/fs/bpf/mxgcsb
CS_DIR=$CDIR/crowdsec
CS_NETNS=$TB_CS
CS_LISTEN=$TB_CS4:8080
APID=

cs_bench_cleanup() {
	if [[ -n $APID ]]; then kill "$APID" 2>/dev/null || true; wait "$APID" 2>/dev/null || true; fi
	pkill -f -- "--socket $SOCK" 2>/dev/null || true
	sleep 0.3
	[[ -e /run/netns/$TB_GW ]] &&
		tb_gw "$BUILD/mxguardd" --detach --interface "$TB_GW_IF" --pin-dir "$PIN" >/dev/null 2>&1 || true
	cs_cleanup
	tb_down
	rm -rf "$CDIR" "$PIN"
}
trap cs_bench_cleanup EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
mx() { "$BUILD/mxguard" -s "$SOCK" "$@"; }
cs_in_force() { mx -j crowdsec show 2>/dev/null | sed -n 's/.*"decisions": *\([0-9]*\).*/\1/p' || true; }

echo
echo "== CrowdSec start-up sync: $N decisions from LAPI"
tb_up >/dev/null
cs_start
awk -v n="$N" 'BEGIN {
	print "duration,scope,value,reason,type"
	for (i = 0; i < n; i++)
		printf "24h,ip,%d.%d.%d.%d,bench/import,ban\n", 240 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' >"$CDIR/decisions.csv"
t0=$(ms)
out=$(cs_cscli decisions import -i "$CDIR/decisions.csv" 2>&1)
t1=$(ms)
grep -q "$N decisions successfully imported" <<<"$out" || { echo "bench: import failed: $out" >&2; exit 1; }
echo "LAPI import (cscli decisions import): $((t1 - t0)) ms"

(umask 077; cs_bouncer_key mxguard-bench >"$CDIR/key")
[[ -s $CDIR/key ]] || { echo "bench: no bouncer key" >&2; exit 1; }
printf 'ptr_class = none\nspf_class = none\ncrowdsec_url = %s\ncrowdsec_key_file = %s\ncrowdsec_poll = 10s\n' \
	"$CS_URL" "$CDIR/key" >"$CDIR/conf"
t0=$(ms)
nsenter --net=/run/netns/"$TB_GW" "$BUILD/mxguardd" -C "$CDIR/conf" --interface "$TB_GW_IF" \
	--socket "$SOCK" --pin-dir "$PIN" --state-dir "$CDIR/state" >"$CDIR/agent.log" 2>&1 &
APID=$!
ready=
n=0
while :; do
	[[ -z $ready ]] && grep -q ready "$CDIR/agent.log" && ready=$(($(ms) - t0))
	if [[ -n $ready ]]; then
		n=$(cs_in_force)
		[[ ${n:-0} -ge $N ]] && break
	fi
	kill -0 "$APID" 2>/dev/null || { cat "$CDIR/agent.log" >&2; echo "bench: the agent died" >&2; exit 1; }
	(($(ms) - t0 > 600000)) && { echo "bench: $n of $N decisions after 600 s" >&2; exit 1; }
	sleep 0.2
done
t1=$(ms)
in_force_ms=$((t1 - t0))
loop=$(mx -j stats | sed -n 's/.*"loop_busy_max_us": *\([0-9]*\).*/\1/p')
loop0=$loop
grep -h "crowdsec: synced\|a loop turn took" "$CDIR/agent.log" | sed 's/^/    /' || true
echo "agent ready after ${ready} ms; all $N decisions in force after $((t1 - t0)) ms; longest loop turn $((loop / 1000)) ms"
awk -v n="$N" -v ms="$((t1 - t0))" -v f="$NFT_PUBLISHED" 'BEGIN {
	r = n / (ms / 1000)
	printf "%.0f decisions/s; cs-firewall-bouncer nftables mode (published, #114): about %d/s; ratio %.0fx\n", r, f, r / f
}'

# A restart: the journal brings the set back, LAPI's startup answer replaces it
# (every prefix held by the old set and the new one at once until the commit).
kill "$APID"
wait "$APID" 2>/dev/null || true
: >"$CDIR/agent.log"
t0=$(ms)
nsenter --net=/run/netns/"$TB_GW" "$BUILD/mxguardd" -C "$CDIR/conf" --interface "$TB_GW_IF" \
	--socket "$SOCK" --pin-dir "$PIN" --state-dir "$CDIR/state" >"$CDIR/agent.log" 2>&1 &
APID=$!
while ! grep -q "crowdsec: synced" "$CDIR/agent.log"; do
	kill -0 "$APID" 2>/dev/null || { cat "$CDIR/agent.log" >&2; echo "bench: the agent died" >&2; exit 1; }
	(($(ms) - t0 > 600000)) && { echo "bench: no sync after a restart within 600 s" >&2; exit 1; }
	sleep 0.2
done
t1=$(ms)
loop=$(mx -j stats | sed -n 's/.*"loop_busy_max_us": *\([0-9]*\).*/\1/p')
grep -h "crowdsec: synced\|a loop turn took" "$CDIR/agent.log" | sed 's/^/    /' || true
echo "restart: the set restored and replaced by LAPI's startup answer after $((t1 - t0)) ms;" \
	"$(cs_in_force) in force; longest loop turn $((loop / 1000)) ms"
if [[ -n ${BENCH_PARTS_DIR:-} ]]; then
	printf '{"decisions":%s,"ready_ms":%s,"in_force_ms":%s,"per_s":%s,"published_per_s":%s,"loop_ms":%s,"restart_ms":%s,"restart_loop_ms":%s}\n' \
		"$N" "$ready" "$in_force_ms" "$(awk -v n="$N" -v ms="$in_force_ms" 'BEGIN { printf "%.0f", n / (ms / 1000) }')" \
		"$NFT_PUBLISHED" "$(awk -v u="$loop0" 'BEGIN { printf "%.1f", u / 1000 }')" "$((t1 - t0))" \
		"$(awk -v u="$loop" 'BEGIN { printf "%.1f", u / 1000 }')" >"$BENCH_PARTS_DIR/crowdsec.json"
fi
