#!/usr/bin/env bash
# NAME
#	test_attack.sh - the agent under attack: floods, full tables, mass expiry
# DESCRIPTION
#	Fast versions of the attacks that `make bench` runs at full size.
#	Spoofed SYNs with valid checksums come from the client namespace
#	through an AF_PACKET socket (tests/tools/synflood.c), from sources in
#	198.18.0.0/15 and 2001:db8::/32 that the gateway routes back into the
#	client namespace, where its SYN-ACKs die. While and after it happens,
#	the control socket, the Prometheus endpoint and the Postfix policy
#	service must answer, the agent's longest loop turn
#	(loop_busy_max_us) stays short, and legitimate clients get in. The
#	policy service takes a flood of one-message sessions from many
#	sources (the message rules' state, its journal and snapshots).
#
#	Bounds here are generous (a request answered within a second, a loop
#	turn under 500 ms, on a machine whose two cores the probe, the flood
#	and the agent share): they tell a frozen agent from a working one.
#	The measured figures are printed, and `make bench` reports them at
#	scale.

source "$(dirname "$0")/lib.sh"

C1=198.18.0.10
C6=2001:db8:1::10
POLICY=$E2E_DIR/policy.sock
CONF=$E2E_DIR/mxguard.conf
PROBE_LOG=$E2E_DIR/probe.log

ATTACK_SOCK=$SOCK
ATTACK_POLICY=$POLICY
ATTACK_LOG=$PROBE_LOG
source "$TOP/scripts/attack_lib.sh"

# start [SETTINGS] - a listener on port 25, the agent with a policy service
start() {
	printf "${1:-}policy_socket = %s\nptr_class = none\nspf_class = none\n" "$POLICY" >"$CONF"
	attack_routes
	listen_smtp && agent_start -C "$CONF"
}

# answered_quickly WHAT - the probe's verdict, and the loop's longest turn
answered_quickly() {
	local worst loop
	worst=$(cat "$PROBE_LOG")
	loop=$(counter loop_busy_max_us)
	echo "    $1: slowest answer ${worst} ms (99th percentile $(cat "$PROBE_LOG.p99" 2>/dev/null) ms)," \
		"longest loop turn $((loop / 1000)) ms"
	[[ $worst =~ ^[0-9]+$ ]] || fail "$1: $worst" || return 1
	((worst < 1000)) || fail "$1: a request waited ${worst} ms" || return 1
	((loop < 500000)) || fail "$1: the event loop was busy for $((loop / 1000)) ms in one turn"
}

# wait_counter NAME MIN SECONDS - until a counter reaches MIN
wait_counter() {
	for _ in $(seq 1 $(($3 * 10))); do
		(($(counter "$1") >= $2)) && return 0
		sleep 0.1
	done
	fail "$1 is $(counter "$1"), expected at least $2 within $3 s"
}

# open_prefixes - the test ranges hold few /24s: let every source's SYN
# through to sk_lookup, as 20,000 sources in 20,000 networks would get
open_prefixes() {
	mx limit set default prefix-burst 1000000 && mx limit set default prefix-rate 1000000/s &&
		mx limit set default prefix-parallel 1000000
}

# syn_flood_answers SRCBASE SRCBASE2 - 20,000 SYNs from 20,000 sources, 10,000
# from each base; the agent answers (and reloads its settings in the middle)
syn_flood_answers() {
	start && open_prefixes || return 1
	probe 8 &
	local probe_pid=$!
	sleep 0.5
	flood -s "$1" -n 10000 -c 10000 >/dev/null || fail "synflood failed" || return 1
	mx reload >/dev/null || fail "reload during the flood failed" || return 1
	open_prefixes || return 1	# the file's limits are back: open them again
	flood -s "$2" -n 10000 -c 10000 >/dev/null || fail "synflood failed" || return 1
	wait $probe_pid
	answered_quickly "20,000 spoofed SYNs" || return 1
	# Every half-open connection without a request socket was released
	# (the listener's backlog holds a few request sockets, which live on
	# through their SYN-ACK retransmissions).
	(($(counter conn_admitted) >= 19000)) || fail "only $(counter conn_admitted) SYNs counted" || return 1
	wait_counter conn_halfopen_released $(($(counter conn_admitted) - 10)) 10 || return 1
	(($(counter conn_corrections) == 0)) || fail "corrections: $(counter conn_corrections)" || return 1
	connects $C1 $TB_GW4 || fail "a legitimate client was refused after the flood"
}

test_syn_flood_ipv4_agent_answers() {
	syn_flood_answers 198.18.2.0 198.18.100.0
}

test_syn_flood_ipv6_agent_answers() {
	syn_flood_answers 2001:db8:5::1 2001:db8:6::1
}

test_restart_after_flood_is_quick() {
	start && open_prefixes || return 1
	flood -s 198.18.2.0 -n 20000 -c 20000 >/dev/null || fail "synflood failed" || return 1
	# A crash with 20,000 pending connections in the pinned maps.
	agent_stop KILL
	local t0=$(ms)
	agent_start -C "$CONF" || return 1
	local took=$(($(ms) - t0))
	echo "    restart on the flooded maps: ready in $took ms"
	((took < 5000)) || fail "restart took $took ms" || return 1
	probe 3 && answered_quickly "after the restart" || return 1
	wait_counter conn_halfopen_released 19000 10 || return 1
	connects $C1 $TB_GW4 || fail "a legitimate client was refused after the restart"
}

test_full_count_table_lets_senders_in() {
	# Tables far smaller than the flood: they fill.
	start 'count_entries = 1024\nflow_entries = 1024\n' && open_prefixes || return 1
	flood -s 198.18.2.0 -n 5000 -c 5000 >/dev/null || fail "synflood failed" || return 1
	# While the tables are full, a legitimate sender still gets in...
	connects $C1 $TB_GW4 || fail "a legitimate client was refused while the tables were full" || return 1
	# ...and the event is counted for the operator's alert.
	(($(counter conn_table_full) > 0)) || fail "conn_table_full not counted"
}

test_counts_vanish_with_their_last_connection() {
	# Without the agent (--keep, then stopped) nothing collects counts
	# but the kernel itself: connections still count, and go.
	start || return 1
	agent_stop
	agent_start -C "$CONF" --keep || return 1
	agent_stop
	connects $C1 $TB_GW4 && connects $C1 $TB_GW4 || fail "connects without the agent failed" || return 1
	sleep 0.5
	local left
	left=$(bpftool map dump pinned "$PIN_DIR/conn_count4" | grep -c '"key"')
	[[ $left == 0 ]] || fail "$left count entries left after every connection closed" || return 1
	(($(bpftool map dump pinned "$PIN_DIR/live_flows" | grep -c '"key"') == 0)) ||
		fail "live flows left"
}

test_mass_load_and_expiry_in_slices() {
	start 'ban_sweep_interval = 2s\n' || return 1
	# 300,000 bans, loaded while the agent answers, that then expire together.
	awk 'BEGIN { for (i = 0; i < 300000; i++) printf "2001:db8:9:%x::%x\n", int(i / 65536), i % 65536 }' \
		>"$E2E_DIR/list.txt"
	probe 12 &
	local probe_pid=$!
	sleep 0.3
	mx blocklist load mass "$E2E_DIR/list.txt" ttl 4s >/dev/null || fail "load failed" || return 1
	wait $probe_pid || { fail "$(cat "$PROBE_LOG")"; return 1; }
	answered_quickly "a 300,000-line load, its snapshot, and 300,000 bans expiring" || return 1
	[[ $(mx -j ban list | grep -o '"prefix"' | wc -l) == 0 ]] || fail "expired bans remain" || return 1
	grep -q "removed 300000 expired bans" "$AGENT_LOG" || fail "the sweep did not say what it removed"
}

test_trap_hit_flood_on_a_full_disk() {
	mkdir -p "$STATE_DIR"
	mount -t tmpfs -o size=256k tmpfs "$STATE_DIR" || { fail "cannot mount a tmpfs"; return 1; }
	printf 'trap@gw.test spam\n' >"$E2E_DIR/traps"
	start "trap_file = $E2E_DIR/traps\n" || return 1
	dd if=/dev/zero of="$STATE_DIR/filler" bs=4k 2>/dev/null
	# 3,000 trap hits from 300 senders on one policy connection, as fast as it takes them.
	local out
	out=$(python3 - "$POLICY" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
answers = 0
for i in range(3000):
    s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.18.%d.%d\n"
              b"sender=a@x.test\nrecipient=trap@gw.test\n\n" % (2 + i % 300 // 250, i % 250 + 1))
    buf = b""
    while not buf.endswith(b"\n\n"):
        buf += s.recv(4096)
    answers += buf.startswith(b"action=")
print(answers)
PY
)
	[[ $out == 3000 ]] || fail "policy answers on a full disk: $out" || return 1
	probe 2 && answered_quickly "3,000 trap hits on a full disk" || return 1
	# Said, not said 3,000 times.
	local lines
	lines=$(grep -c "cannot journal a trap hit" "$AGENT_LOG")
	((lines >= 1 && lines <= 3)) || fail "$lines log lines for the journal errors" || return 1
	rm "$STATE_DIR/filler"
	mx ban add 198.18.7.7 >/dev/null || fail "the disk has room again, a ban was refused"
}

test_message_flood_from_many_sources() {
	start || return 1
	probe 12 &
	local probe_pid=$! out
	sleep 0.5
	# 8 policy connections (8 smtpd processes), 10,000 one-message sessions
	# each (RCPT, END-OF-MESSAGE), from 40,000 sources: sessions end, rings
	# fill, one-message records are journalled; every request is answered.
	out=$(python3 - "$POLICY" <<'PY'
import socket, sys
conns = []
for c in range(8):
    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1]); conns.append(s)
answers = 0
for i in range(10000):
    for c, s in enumerate(conns):
        n = (i * 8 + c) % 40000
        src = b"198.18.%d.%d" % (n // 250, n % 250 + 1)
        inst = b"%x.1.%x.0" % (1000 + c, i)
        q = b"request=smtpd_access_policy\nclient_address=%s\ninstance=%s\n" % (src, inst)
        s.sendall(q + b"protocol_state=RCPT\nrecipient=u@gw.test\n\n" +
                  q + b"protocol_state=END-OF-MESSAGE\nsize=1000\n\n")
    for s in conns:
        buf = b""
        while buf.count(b"\n\n") < 2:
            buf += s.recv(4096)
        answers += buf.count(b"action=DUNNO")
print(answers)
PY
)
	wait $probe_pid
	[[ $out == 160000 ]] || fail "answers: $out of 160000" || return 1
	answered_quickly "80,000 one-message sessions from 40,000 sources" || return 1
	[[ $(counter messages) == 80000 ]] || fail "messages counted: $(counter messages)" || return 1
	(($(counter smtp_sessions) >= 79990)) || fail "sessions ended: $(counter smtp_sessions)"
}

test_slow_clients_on_the_responder() {
	# A banned sender answered 554 in reply mode, 300 connections that say nothing.
	start 'ban_action = reply\nresponder_sessions = 64\nresponder_timeout = 3s\n' || return 1
	mx ban add $C1 reason "slow test" >/dev/null || return 1
	tb_cl python3 -c '
import socket, sys, time
held = []
for i in range(300):
    s = socket.socket(); s.setblocking(False)
    s.bind(("198.18.0.10", 0))
    try: s.connect(("198.18.0.1", 25))
    except BlockingIOError: pass
    held.append(s)
time.sleep(6)' &
	local slow=$!
	probe 5 || { fail "$(cat "$PROBE_LOG")"; return 1; }
	answered_quickly "300 silent clients on the responder" || return 1
	wait $slow
	# The session limit held, and the timeout gave every session back.
	local s
	s=$(tb_gw curl -sf http://127.0.0.1:9489/metrics | awk '$1 == "mxguard_responder_sessions" { print $2 }')
	[[ $s == 0 ]] || fail "$s responder sessions left" || return 1
	out=$(tb_cl timeout 5 nc -w 3 -s $C1 $TB_GW4 25 </dev/null 2>/dev/null)
	[[ $out == "554 5.7.1 "* ]] || fail "after the slow clients, a banned client read '$out'"
}

preflight_attack() {
	[[ -x $BUILD/tests/synflood ]] || { echo "FAIL preflight: $BUILD/tests/synflood missing (make test builds it)"; exit 1; }
	command -v bpftool >/dev/null && command -v curl >/dev/null ||
		{ echo "FAIL preflight: bpftool and curl are needed (make deps)"; exit 1; }
}

preflight_attack
run_tests
