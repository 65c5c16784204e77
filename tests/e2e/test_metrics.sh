#!/usr/bin/env bash
# NAME
#	test_metrics.sh - Prometheus metrics: promtool, a real Prometheus, bad HTTP
# DESCRIPTION
#	GET /metrics passes promtool's checks and agrees with mxguard stats;
#	a real Prometheus scrapes the agent and its query API returns the
#	drops of a banned sender; slow, garbage and oversized HTTP requests
#	get their error or lose their slot, and scrapes go on. The event
#	loop's turn histogram is whole, cumulative, counts every turn and
#	agrees with the longest turn.

source "$(dirname "$0")/lib.sh"

C1=198.18.0.10
METRICS=http://127.0.0.1:9489

# scrape [PATH] - the body, from inside the gateway's namespace
scrape() { tb_gw curl -sf --max-time 5 "$METRICS${1:-/metrics}"; }

# sample NAME LABELS - one sample's value from a scrape
sample() { scrape | awk -v k="$1{$2}" '$1 == k { print $2 }'; }

test_promtool_and_stats_agree() {
	listen_smtp
	agent_start || return 1
	mx ban add $C1 reason test >/dev/null || return 1
	connects $C1 $TB_GW4 && { fail "a banned sender connected"; return 1; }
	connects $C1 $TB_GW4
	local out
	out=$(scrape) || { fail "no answer on $METRICS/metrics"; return 1; }
	# promtool checks format and naming; it prints nothing when all is well.
	local lint
	lint=$(promtool check metrics <<<"$out" 2>&1) || { fail "promtool: $lint"; return 1; }
	[[ -z $lint ]] || { fail "promtool: $lint"; return 1; }
	local m s
	m=$(awk '$1 == "mxguard_xdp_packets_total{verdict=\"drop_banned\"}" { print $2 }' <<<"$out")
	s=$(counter drop_banned)
	(( m >= 2 )) && [[ $m == "$s" ]] || { fail "drop_banned: metrics $m, stats $s"; return 1; }
	grep -q '^mxguard_attached_info{interface="'"$TB_GW_IF"'",mode="native"} 1$' <<<"$out" ||
		{ fail "attached_info: $(grep attached_info <<<"$out")"; return 1; }
	for name in mxguard_connections_total mxguard_responder_replies_total mxguard_trap_hits_total \
		    mxguard_policy_requests_total mxguard_journal_records; do
		grep -q "^# TYPE $name " <<<"$out" || { fail "no $name"; return 1; }
	done
	# HEAD and the landing page.
	tb_gw curl -sfI --max-time 5 "$METRICS/metrics" | grep -q "text/plain; version=0.0.4" ||
		{ fail "HEAD /metrics"; return 1; }
	scrape / | grep -q "/metrics" || fail "no landing page"
}

test_prometheus_scrapes_the_agent() {
	command -v prometheus >/dev/null || { fail "prometheus is not installed (make deps)"; return 1; }
	listen_smtp
	agent_start || return 1
	cat >"$E2E_DIR/prometheus.yml" <<-EOF
	global: { scrape_interval: 1s, evaluation_interval: 1s }
	scrape_configs:
	  - job_name: mxguard
	    static_configs: [ { targets: ['127.0.0.1:9489'] } ]
	EOF
	promtool check config "$E2E_DIR/prometheus.yml" >/dev/null || { fail "promtool check config"; return 1; }
	tb_gw prometheus --config.file="$E2E_DIR/prometheus.yml" --storage.tsdb.path="$E2E_DIR/tsdb" \
		--web.listen-address=127.0.0.1:9090 >"$E2E_DIR/prometheus.log" 2>&1 &
	LISTENERS+=" $!"
	local q out
	for _ in $(seq 1 100); do tb_gw curl -sf --max-time 2 http://127.0.0.1:9090/-/ready >/dev/null && break; sleep 0.2; done
	mx ban add $C1 reason test >/dev/null || return 1
	connects $C1 $TB_GW4
	connects $C1 $TB_GW4
	q='mxguard_xdp_packets_total{verdict="drop_banned"}'
	for _ in $(seq 1 60); do
		out=$(tb_gw curl -sf --max-time 2 -G http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$q")
		[[ $out =~ \"value\":\[[0-9.]+,\"([0-9]+)\"\] ]] && (( BASH_REMATCH[1] >= 2 )) && break
		sleep 0.5
	done
	[[ $out =~ \"value\":\[[0-9.]+,\"([0-9]+)\"\] ]] && (( BASH_REMATCH[1] >= 2 )) ||
		{ fail "Prometheus did not see the drops: $out $(tail -3 "$E2E_DIR/prometheus.log")"; return 1; }
	out=$(tb_gw curl -sf --max-time 2 -G http://127.0.0.1:9090/api/v1/query --data-urlencode 'query=up{job="mxguard"}')
	[[ $out == *'"value":['*',"1"]'* ]] || fail "up is not 1: $out"
}

test_bad_http_keeps_scrapes_going() {
	agent_start || return 1
	local out
	out=$(printf 'GARBAGE\r\n\r\n' | tb_gw timeout 5 nc -q 2 127.0.0.1 9489 | head -1)
	[[ $out == "HTTP/1.1 400 Bad Request"* ]] || { fail "garbage: $out"; return 1; }
	out=$(printf 'GET /metrics HTTP/2.0\r\n\r\n' | tb_gw timeout 5 nc -q 2 127.0.0.1 9489 | head -1)
	[[ $out == "HTTP/1.1 505"* ]] || { fail "HTTP/2.0: $out"; return 1; }
	out=$( { printf 'GET /metrics HTTP/1.1\r\n'; head -c 10000 /dev/zero | tr '\0' 'x'; } |
		tb_gw timeout 5 nc -q 2 127.0.0.1 9489 | head -1)
	[[ $out == "HTTP/1.1 431"* ]] || { fail "huge head: $out"; return 1; }
	out=$(printf 'POST /metrics HTTP/1.1\r\n\r\n' | tb_gw timeout 5 nc -q 2 127.0.0.1 9489 | head -1)
	[[ $out == "HTTP/1.1 405"* ]] || { fail "POST: $out"; return 1; }
	# Twenty idle connections (more than the server holds) and one scrape.
	local pids=() i
	for i in $(seq 1 20); do
		tb_gw sleep 30 | tb_gw nc 127.0.0.1 9489 >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 1
	scrape | grep -q "^mxguard_build_info" || { fail "no scrape beside idle clients"; kill "${pids[@]}" 2>/dev/null; return 1; }
	kill "${pids[@]}" 2>/dev/null
	mx stats >/dev/null || fail "the agent stopped answering"
}

test_loop_turn_histogram() {
	agent_start || return 1
	local out lint h=mxguard_event_loop_turn_seconds
	out=$(scrape) || { fail "no answer on $METRICS/metrics"; return 1; }
	lint=$(promtool check metrics <<<"$out" 2>&1) || { fail "promtool: $lint"; return 1; }
	[[ -z $lint ]] || { fail "promtool: $lint"; return 1; }
	grep -q "^# TYPE $h histogram$" <<<"$out" || { fail "no histogram $h"; return 1; }
	# Buckets from 0.5 ms to 10 s and +Inf, cumulative; +Inf is the count.
	local les counts
	les=$(awk -v h="${h}_bucket" 'index($1, h "{le=\"") == 1 { sub(/.*le="/, "", $1); sub(/".*/, "", $1); printf "%s ", $1 }' <<<"$out")
	[[ $les == "0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf " ]] ||
		{ fail "buckets: $les"; return 1; }
	counts=$(awk -v h="${h}_bucket" 'index($1, h "{") == 1 { printf "%s ", $2 }' <<<"$out")
	local prev=0 c
	for c in $counts; do
		((c >= prev)) || { fail "not cumulative: $counts"; return 1; }
		prev=$c
	done
	local count sum max
	count=$(awk -v k="${h}_count" '$1 == k { print $2 }' <<<"$out")
	sum=$(awk -v k="${h}_sum" '$1 == k { print $2 }' <<<"$out")
	max=$(awk '$1 == "mxguard_event_loop_busy_max_seconds" { print $2 }' <<<"$out")
	((count > 0 && count == prev)) || { fail "count $count, +Inf $prev"; return 1; }
	# The longest turn lies in the first bucket that holds every turn.
	local first
	first=$(awk -v h="${h}_bucket" -v n="$count" 'index($1, h "{le=\"") == 1 && $2 == n { sub(/.*le="/, "", $1); sub(/".*/, "", $1); print $1; exit }' <<<"$out")
	awk -v m="$max" -v f="$first" -v s="$sum" 'BEGIN { exit !(f == "+Inf" || m <= f + 0) || !(m <= s) }' ||
		{ fail "longest turn $max s, every turn within le=$first, sum $sum"; return 1; }
	# Every turn is counted: scrapes are turns too.
	mx stats >/dev/null && mx stats >/dev/null
	local later
	later=$(scrape | awk -v k="${h}_count" '$1 == k { print $2 }')
	((later > count)) || fail "turns counted: $count, then $later"
}

test_metrics_listen_setting() {
	printf 'metrics_listen = 127.0.0.1:9555\n' >"$E2E_DIR/m.conf"
	agent_start -C "$E2E_DIR/m.conf" || return 1
	tb_gw curl -sf --max-time 5 http://127.0.0.1:9555/metrics | grep -q "^mxguard_build_info" ||
		{ fail "not on 9555"; return 1; }
	tb_gw curl -sf --max-time 2 "$METRICS/metrics" >/dev/null && { fail "still on 9489"; return 1; }
	agent_stop
	printf 'metrics_listen = none\n' >"$E2E_DIR/m.conf"
	agent_start -C "$E2E_DIR/m.conf" || return 1
	tb_gw curl -sf --max-time 2 http://127.0.0.1:9555/metrics >/dev/null && { fail "metrics_listen = none serves"; return 1; }
	local out
	printf 'metrics_listen = localhost:http\n' >"$E2E_DIR/m.conf"
	out=$("$BUILD/mxguardd" -C "$E2E_DIR/m.conf" --check-config 2>&1) && { fail "bad metrics_listen accepted"; return 1; }
	[[ $out == *"m.conf:1: metrics_listen"* ]] || fail "check-config: $out"
}

run_tests
