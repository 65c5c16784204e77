#!/usr/bin/env bash
# NAME
#	pf_lib.sh - Postfix and connhold for end-to-end tests (after lib.sh)
# DESCRIPTION
#	pf_start runs a private Postfix in the test bed's gateway namespace
#	(scripts/postfix-ns.sh); cleanup stops it. ch_start runs connhold
#	(tests/tools/connhold.c) in the client namespace as a coprocess;
#	ch_cmd sends it one command and prints its one-line answer.

source "$TOP/scripts/postfix-ns.sh"
PF_DIR=$E2E_DIR/postfix

# pf_start - Postfix on 198.18.0.1:25 and [2001:db8:1::1]:25
pf_start() {
	pf_ns_start "$TB_GW" "$PF_DIR" || fail "Postfix did not start: $(tail -n 3 "$PF_DIR/maillog" 2>/dev/null)"
}

# ch_start ID SRC DST [TIMEOUT_MS] - client ID: connhold from SRC to DST:25, driven through fifos
ch_start() {
	local id=$1 w r
	rm -f "$E2E_DIR/ch$id.in" "$E2E_DIR/ch$id.out"
	mkfifo "$E2E_DIR/ch$id.in" "$E2E_DIR/ch$id.out"
	nsenter --net=/run/netns/"$TB_CL" "$BUILD/tests/connhold" -s "$2" -d "$3" -t "${4:-5000}" \
		<"$E2E_DIR/ch$id.in" >"$E2E_DIR/ch$id.out" &
	CH_PID[$id]=$!
	exec {w}>"$E2E_DIR/ch$id.in"
	exec {r}<"$E2E_DIR/ch$id.out"
	CH_W[$id]=$w
	CH_R[$id]=$r
}

# ch_cmd ID LINE - one command to client ID; its answer on stdout (empty after 20 s)
ch_cmd() {
	local line=
	echo "$2" >&"${CH_W[$1]}"
	read -r -t 20 line <&"${CH_R[$1]}"
	echo "$line"
}

# ch_kill ID - SIGKILL client ID: the kernel closes its sockets
ch_kill() {
	local id=$1
	[[ -n ${CH_PID[$id]:-} ]] || return 0
	kill -9 "${CH_PID[$id]}" 2>/dev/null
	wait "${CH_PID[$id]}" 2>/dev/null
	exec {CH_W[$id]}>&- {CH_R[$id]}<&-
	unset "CH_PID[$id]"
}

declare -A CH_PID CH_W CH_R

# live SRC - the live count of a source as conn show reports it
live() {
	mx -j conn show "$1" | tr '{' '\n' | grep "\"prefix\":\"$1\"" |
		sed -n 's/.*"live":\([0-9]*\).*/\1/p'
}

# wait_live SRC N [SECONDS] - until the source's live count is N
wait_live() {
	local got
	for _ in $(seq 1 $((${3:-10} * 10))); do
		got=$(live "$1"); got=${got:-0}
		[[ $got == "$2" ]] && return 0
		sleep 0.1
	done
	fail "live count of $1 is $got, expected $2"
}

# no_corrections - reconciliation never had to fix a count
no_corrections() {
	local n
	n=$(mx -j stats | sed -n 's/.*"conn_corrections":\([0-9]*\).*/\1/p')
	[[ $n == 0 ]] || fail "reconciliation corrected $n counts"
}

# counter_of NAME - a counter from mxguard stats
counter_of() {
	mx -j stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

eval "base_$(declare -f cleanup)"
cleanup() {
	local id
	for id in "${!CH_PID[@]}"; do ch_kill "$id"; done
	pf_ns_stop "$TB_GW" "$PF_DIR"
	rm -rf "$PF_DIR"
	base_cleanup
}
