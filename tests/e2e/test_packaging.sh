#!/usr/bin/env bash
# NAME
#	test_packaging.sh - what ships beside the binaries works
# DESCRIPTION
#	make install into a scratch root puts every file where the unit and
#	the man pages say; the man pages render without warnings; bash
#	completion completes; the systemd unit passes systemd-analyze where
#	it exists; mxguard version and help need no agent.

source "$(dirname "$0")/lib.sh"

test_install_layout() {
	local root=$E2E_DIR/root
	make -C "$TOP" -s install DESTDIR="$root" OUT="$BUILD" >/dev/null || { fail "make install"; return 1; }
	for f in usr/sbin/mxguardd usr/sbin/mxguard usr/share/man/man8/mxguard.8 \
		 usr/share/man/man8/mxguardd.8 usr/share/bash-completion/completions/mxguard \
		 lib/systemd/system/mxguardd.service etc/mxguard/mxguard.conf \
		 usr/share/doc/mxguard/traps.example; do
		[[ -e $root/$f ]] || { fail "missing $f"; return 1; }
	done
	echo "# mine" >"$root/etc/mxguard/mxguard.conf"
	make -C "$TOP" -s install DESTDIR="$root" OUT="$BUILD" >/dev/null
	grep -q "# mine" "$root/etc/mxguard/mxguard.conf" || fail "make install replaced the settings file"
}

test_man_pages_render() {
	local page out
	for page in mxguard mxguardd; do
		out=$(MANWIDTH=80 man --warnings -l "$TOP/docs/$page.8" 2>&1 >/dev/null)
		[[ -z $out ]] || { fail "$page.8: $out"; return 1; }
		MANWIDTH=80 man -l "$TOP/docs/$page.8" 2>/dev/null | grep -q "SYNOPSIS" ||
			{ fail "$page.8 does not render"; return 1; }
	done
}

test_bash_completion() {
	local out
	out=$(bash -c "source '$TOP/docs/mxguard.bash-completion'
		COMP_WORDS=(mxguard bl); COMP_CWORD=1; _mxguard; echo \${COMPREPLY[*]}
		COMP_WORDS=(mxguard ban ''); COMP_CWORD=2; _mxguard; echo \${COMPREPLY[*]}
		COMP_WORDS=(mxguard limit set strict p); COMP_CWORD=4; _mxguard; echo \${COMPREPLY[*]}
		COMP_WORDS=(mxguard sender trap 198.51.100.7 ''); COMP_CWORD=4; _mxguard; echo \${COMPREPLY[*]}")
	[[ $(sed -n 1p <<<"$out") == "blocklist" ]] || { fail "mxguard bl<TAB>: $out"; return 1; }
	[[ $(sed -n 2p <<<"$out") == "add del list show help" ]] || { fail "mxguard ban <TAB>: $out"; return 1; }
	[[ $(sed -n 3p <<<"$out") == "prefix-rate prefix-burst parallel prefix-parallel" ]] ||
		{ fail "limit set strict p<TAB>: $out"; return 1; }
	[[ $(sed -n 4p <<<"$out") == "spam backscatter" ]] || fail "sender trap ADDR <TAB>: $out"
}

test_cli_without_agent() {
	local out
	out=$("$BUILD/mxguard" -s "$E2E_DIR/none.sock" version) && [[ $out == "mxguard v"* ]] ||
		{ fail "version: $out"; return 1; }
	"$BUILD/mxguard" -s "$E2E_DIR/none.sock" ban help | grep -q "ban add" || { fail "help needs the agent"; return 1; }
	out=$("$BUILD/mxguard" -s "$E2E_DIR/none.sock" ban list 2>&1)
	[[ $? == 2 && $out == *"is mxguardd running?"* ]] || fail "no agent: $out"
}

test_notifies_readiness() {
	# Stand in for systemd: a datagram socket in NOTIFY_SOCKET gets READY=1.
	local nsock=$E2E_DIR/notify
	timeout 20 socat -u UNIX-RECVFROM:"$nsock" - >"$E2E_DIR/notified" 2>/dev/null &
	local listener=$!
	for _ in $(seq 1 50); do [[ -S $nsock ]] && break; sleep 0.1; done
	NOTIFY_SOCKET=$nsock agent_start || return 1
	wait $listener
	[[ $(cat "$E2E_DIR/notified") == "READY=1" ]] || fail "systemd was told: '$(cat "$E2E_DIR/notified")'"
}

test_systemd_unit() {
	command -v systemd-analyze >/dev/null || { fail "systemd-analyze missing (make deps installs systemd)"; return 1; }
	local out
	# The unit names binaries and man pages that only make install puts in place.
	out=$(systemd-analyze verify "$TOP/docs/mxguardd.service" 2>&1 |
		grep -v "/usr/sbin/mxguardd\|man mxguard\|not accessible")
	[[ -z $out ]] || fail "systemd-analyze: $out"
}

run_tests
