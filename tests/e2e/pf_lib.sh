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

# ch_start SRC DST - connhold from SRC to DST:25
ch_start() {
	coproc CH { exec nsenter --net=/run/netns/"$TB_CL" "$BUILD/tests/connhold" -s "$1" -d "$2"; }
	CH_PID=$!
}

# ch_cmd LINE - one command, its answer on stdout (empty after 20 s)
ch_cmd() {
	local line=
	echo "$1" >&"${CH[1]}"
	read -r -t 20 line <&"${CH[0]}"
	echo "$line"
}

# ch_kill - SIGKILL the client: the kernel closes its sockets
ch_kill() {
	[[ -n ${CH_PID:-} ]] || return 0
	kill -9 "$CH_PID" 2>/dev/null
	wait "$CH_PID" 2>/dev/null
	CH_PID=
}

eval "base_$(declare -f cleanup)"
cleanup() {
	ch_kill
	pf_ns_stop "$TB_GW" "$PF_DIR"
	rm -rf "$PF_DIR"
	base_cleanup
}
