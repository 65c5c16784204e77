#!/usr/bin/env bash
# NAME
#	cs_lib.sh - two gateways and a CrowdSec Local API for end-to-end tests
# DESCRIPTION
#	Sourced after lib.sh (and pf_lib.sh, when a test uses Postfix). Each
#	test's bed then has gateway A (lib.sh's namespace, agent, socket,
#	pin and state dirs), gateway B (scripts/testbed.sh with
#	TB_GATEWAYS=2: 198.18.2.1 and 2001:db8:3::1) with an agent of its own
#	(socket, pin dir, state dir and log of its own), and LAPI's namespace
#	(TB_LAPI=1), which both gateways reach at CS_URL. on_b CMD runs a
#	lib.sh or pf_lib.sh function (agent_start, agent_stop, mx, counter,
#	listen_smtp, pf_start...) against gateway B. lapi_start runs a
#	private LAPI there (scripts/crowdsec-ns.sh); cs_settings NAME
#	registers NAME's bouncer and machine and prints the agent's
#	crowdsec_* settings. cleanup stops B's agent and LAPI (no process
#	left), then does what lib.sh's does, which removes every namespace.

source "$TOP/scripts/crowdsec-ns.sh"
TB_GATEWAYS=2
TB_LAPI=1
tb_names

SOCK_B=$E2E_DIR/b.sock
PIN_DIR_B=/sys/fs/bpf/${TB_P}b
STATE_DIR_B=$E2E_DIR/state-b
AGENT_LOG_B=$E2E_DIR/agent-b.log
PF_DIR_B=$E2E_DIR/postfix-b
AGENT_PID_B=
CS_DIR=$E2E_DIR/crowdsec
CS_NETNS=$TB_CS
CS_LISTEN=$TB_CS4:8080
CS_URL=http://$CS_LISTEN
CS_POLL=${CS_POLL:-2}

# on_b CMD... - CMD with lib.sh's gateway variables pointing at gateway B
on_b() {
	local s_gw=$TB_GW s_if=$TB_GW_IF s_4=$TB_GW4 s_6=$TB_GW6 s_sock=$SOCK s_pin=$PIN_DIR \
		s_state=$STATE_DIR s_log=$AGENT_LOG s_pid=$AGENT_PID s_pf=${PF_DIR:-} s_inet=${PF_INET:-} rc=0
	TB_GW=$TB_GWB TB_GW_IF=$TB_GWB_IF TB_GW4=$TB_GWB4 TB_GW6=$TB_GWB6 SOCK=$SOCK_B
	PIN_DIR=$PIN_DIR_B STATE_DIR=$STATE_DIR_B AGENT_LOG=$AGENT_LOG_B AGENT_PID=$AGENT_PID_B
	PF_DIR=$PF_DIR_B PF_INET="$TB_GWB4, [$TB_GWB6]"
	"$@" || rc=$?
	AGENT_PID_B=$AGENT_PID
	TB_GW=$s_gw TB_GW_IF=$s_if TB_GW4=$s_4 TB_GW6=$s_6 SOCK=$s_sock PIN_DIR=$s_pin
	STATE_DIR=$s_state AGENT_LOG=$s_log AGENT_PID=$s_pid PF_DIR=$s_pf PF_INET=$s_inet
	return $rc
}

# lapi_start - LAPI in its namespace, answering at CS_URL (its data kept across restarts)
lapi_start() {
	local out
	out=$(cs_start 2>&1) || { fail "LAPI did not start: $out"; return 1; }
}

# lapi_stop - no LAPI process left; its database stays
lapi_stop() { cs_stop; }

# cs_settings NAME - register bouncer and machine mxguard-NAME; print its agent's settings
cs_settings() {
	local key pw
	key=$(cs_bouncer_key "mxguard-$1")
	[[ $key =~ ^[0-9a-zA-Z]{16,}$ ]] || { fail "no bouncer key for mxguard-$1: '$key'"; return 1; }
	pw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	cs_machine "mxguard-$1" "$pw" || { fail "cannot register machine mxguard-$1"; return 1; }
	(umask 077; echo "$key" >"$E2E_DIR/$1.key"; echo "$pw" >"$E2E_DIR/$1.password")
	printf 'crowdsec_url = %s\ncrowdsec_key_file = %s\ncrowdsec_poll = %ss\n' "$CS_URL" "$E2E_DIR/$1.key" "$CS_POLL"
	printf 'crowdsec_machine_id = mxguard-%s\ncrowdsec_password_file = %s\n' "$1" "$E2E_DIR/$1.password"
}

# lapi_get GW NAME PATH - GET CS_URL/PATH from gateway GW's namespace (a or b) with NAME's key
lapi_get() {
	local ns=$TB_GW
	[[ $1 == b ]] && ns=$TB_GWB
	nsenter --net=/run/netns/"$ns" curl -s -m 5 -H "X-Api-Key: $(cat "$E2E_DIR/$2.key")" "$CS_URL/$3"
}

# lapi_decisions - LAPI's decisions in force, whatever their origin (-a: plain "cscli decisions
# list" shows only origins crowdsec and cscli), a line each: SCOPE VALUE TYPE SCENARIO MACHINE DURATION
lapi_decisions() {
	cs_cscli decisions list -a -o json 2>/dev/null | python3 -c '
import json, sys
for a in json.load(sys.stdin) or []:
    for d in a.get("decisions") or []:
        print(d["scope"], d["value"], d["type"], d["scenario"], a.get("machine_id") or "-", d["duration"])'
}

# lapi_alerts ADDR - how many alerts LAPI holds for ADDR, and from which machines
lapi_alerts() {
	cs_cscli alerts list -a -o json --ip "$1" 2>/dev/null | python3 -c '
import json, sys
a = json.load(sys.stdin) or []
print(len(a), " ".join(sorted(x.get("machine_id") or "-" for x in a)))'
}

# cs_field FIELD - a field of this gateway's 'mxguard -j crowdsec show' (null, true, false, text)
cs_field() {
	mx -j crowdsec show | python3 -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1"
}

# wait_for SECONDS CMD... - until CMD succeeds (tried every 0.1 s); fails after SECONDS
wait_for() {
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while :; do
		"$@" && return 0
		(($(date +%s%N) > end)) && return 1
		sleep 0.1
	done
}

# synced_since T - this gateway's last successful sync is later than unix time T
synced_since() {
	local s
	s=$(cs_field last_sync)
	[[ $s =~ ^[0-9]+$ ]] && ((s > $1))
}

# not_banned ADDR - this gateway does not ban ADDR
not_banned() { mx ban show "$1" | grep -q "is not banned"; }

# cs_banned ADDR - this gateway bans ADDR, LAPI among the owners
cs_banned() { ! not_banned "$1" && mx ban show "$1" | grep -q crowdsec; }

# owner ADDR - the owner of the ban in force on ADDR
owner() {
	mx -j ban show "$1" | python3 -c 'import json, sys; b = json.load(sys.stdin); print(b["owner"] if b else "none")'
}

# times_out SRC DST - a TCP connect from SRC to DST:25 gets no answer (dropped)
times_out() { ! tb_cl timeout 4 nc -z -w 3 -s "$1" "$2" 25; }

eval "cs_base_$(declare -f cleanup)"
cleanup() {
	if [[ -n $FAIL_MSG ]]; then
		[[ -s $AGENT_LOG_B ]] && sed 's/^/    agent B: /' "$AGENT_LOG_B" | tail -n 20
		grep -v "curl/" "$CS_DIR"/log/crowdsec_api.log 2>/dev/null | tail -n 8 | sed 's/^/    lapi: /'
	fi
	on_b agent_stop
	pkill -f -- "--socket $SOCK_B" 2>/dev/null && sleep 0.2
	mountpoint -q "$STATE_DIR_B" && umount "$STATE_DIR_B"
	rm -rf "$STATE_DIR_B" "$AGENT_LOG_B"
	[[ -e /run/netns/$TB_GWB ]] &&
		tb_gwb "$BUILD/mxguardd" --detach --interface "$TB_GWB_IF" --pin-dir "$PIN_DIR_B" >/dev/null 2>&1
	rm -rf "$PIN_DIR_B" 2>/dev/null
	declare -F pf_ns_stop >/dev/null && [[ -e /run/netns/$TB_GWB ]] && pf_ns_stop "$TB_GWB" "$PF_DIR_B"
	rm -rf "$PF_DIR_B"
	cs_cleanup
	rm -f "$E2E_DIR"/a.key "$E2E_DIR"/b.key "$E2E_DIR"/a.password "$E2E_DIR"/b.password
	cs_base_cleanup
}
