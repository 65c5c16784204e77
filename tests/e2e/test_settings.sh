#!/usr/bin/env bash
# NAME
#	test_settings.sh - the settings file, --check-config and reload
# DESCRIPTION
#	The shipped example checks OK with every setting uncommented; bad
#	files are refused with FILE:LINE errors; a reload (SIGHUP or mxguard
#	reload) changes the running limits without detaching and without
#	losing a ban or a connection count; an invalid file on reload keeps
#	the running settings and says why.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10
CONF=$E2E_DIR/mxguard.conf

test_shipped_example_checks() {
	"$BUILD/mxguardd" -C "$TOP/docs/mxguard.conf" --check-config >/dev/null ||
		{ fail "the shipped example does not check"; return 1; }
	# Every setting uncommented, as documented: the defaults are valid values,
	# and the examples of CrowdSec's secret files are files of root's, 0600.
	(umask 077; echo key >"$E2E_DIR/cs.key"; echo password >"$E2E_DIR/cs.password")
	sed -e 's/^#\([a-z]\)/\1/' -e "s#^trap_file = .*#trap_file = $TOP/docs/traps.example#" \
		-e "s#^crowdsec_key_file = .*#crowdsec_key_file = $E2E_DIR/cs.key#" \
		-e "s#^crowdsec_password_file = .*#crowdsec_password_file = $E2E_DIR/cs.password#" \
		"$TOP/docs/mxguard.conf" >"$CONF"
	local out
	out=$("$BUILD/mxguardd" -C "$CONF" --check-config 2>&1) || { fail "uncommented example: $out"; return 1; }
	# Each documented key is one the parser knows, and the other way round.
	local keys
	keys=$(grep -Eo '^#?[a-z_.0-9]+ =' "$TOP/docs/mxguard.conf" | tr -d '# =' | sort -u | wc -l)
	(( keys >= 40 )) || { fail "only $keys settings documented"; return 1; }
	local k
	for k in $(sed -n 's/^\t{ "\([a-z_0-9]*\)",.*/\1/p' "$TOP/user/lib/config.c"); do
		grep -Eq "^#?$k = " "$TOP/docs/mxguard.conf" || { fail "setting $k is not documented"; return 1; }
	done
	[[ $out == *"traps.example: OK, 3 trap addresses"* ]] || fail "the example trap file: $out"
}

test_bad_files_are_refused_with_lines() {
	printf 'ports = 25\n# comment\nbogus = 1\nclass.9.burst = 0\nover_limit = sometimes\nports = 587\nhostname\nclass.x.rate = 5/min\nresponder_timeout = 2h\nstate_dir = relative/path\nreply_banned = 50%%%% off %%x\nspamtrap_window = 0\nlisted_ttl = 1500ms\n' >"$CONF"
	local out
	out=$("$BUILD/mxguardd" -C "$CONF" --check-config 2>&1) && { fail "bad file accepted"; return 1; }
	for want in "$CONF:3: unknown setting 'bogus'" "$CONF:4: class.9.burst" "$CONF:5: over_limit" \
		    "$CONF:6: 'ports' set again (first at line 1)" "$CONF:7: expected 'key = value'" \
		    "$CONF:8: class.x.rate" "$CONF:9: responder_timeout" "$CONF:10: state_dir" \
		    "$CONF:11: reply_banned: unknown placeholder '%x'" "$CONF:12: spamtrap_window" \
		    "$CONF:13: listed_ttl: '1500ms': use whole seconds" "11 errors"; do
		grep -qF "$want" <<<"$out" || { fail "missing '$want' in: $out"; return 1; }
	done
	"$BUILD/mxguardd" -C "$E2E_DIR/nonexistent.conf" --check-config >/dev/null 2>&1 &&
		{ fail "a missing --config file accepted"; return 1; }
	head -c 3000 /dev/urandom >"$CONF"
	"$BUILD/mxguardd" -C "$CONF" --check-config >/dev/null 2>&1 && { fail "garbage accepted"; return 1; }
	return 0
}

test_reload_applies_without_losing_state() {
	printf 'class.default.parallel = 10\nhostname = before.test\n' >"$CONF"
	pf_start && agent_start -C "$CONF" --ban-action reply || return 1
	mx ban add 198.18.0.99 reason keep || return 1
	local prog=$(mx -j prog show | sed -n 's/.*"prog_id":\([0-9]*\).*/\1/p') out
	ch_start 1 $C1 $TB_GW4 || return 1
	out=$(ch_cmd 1 "open 12")
	[[ $out == *"220=10 421=2 "* ]] || { fail "limit 10 from the file: $out"; return 1; }
	out=$(ch_cmd 1 "close 10")
	wait_live $C1 0 || return 1
	printf 'class.default.parallel = 4\nhostname = after.test\nreply_banned = %%h refuses %%a: %%r\n' >"$CONF"
	kill -HUP "$AGENT_PID"
	for _ in $(seq 1 30); do grep -q "SIGHUP: settings reloaded" "$AGENT_LOG" && break; sleep 0.1; done
	grep -q "SIGHUP: settings reloaded" "$AGENT_LOG" || { fail "no reload logged"; return 1; }
	out=$(ch_cmd 1 "open 6")
	[[ $out == *"220=4 421=2 "* ]] || { fail "limit 4 after SIGHUP: $out"; return 1; }
	mx conn show $C1 | grep -q "^$C1 .* 4$" || { fail "count lost: $(mx conn show)"; return 1; }
	[[ $(mx -j prog show | sed -n 's/.*"prog_id":\([0-9]*\).*/\1/p') == "$prog" ]] ||
		{ fail "the program was reattached"; return 1; }
	mx ban show 198.18.0.99 | grep -q keep || { fail "ban lost on reload"; return 1; }
	tb_client_addr 198.18.0.99/24
	out=$(tb_cl timeout 10 nc -s 198.18.0.99 $TB_GW4 25 </dev/null | head -1)
	[[ $out == "554 5.7.1 after.test refuses 198.18.0.99: keep"* ]] ||
		{ fail "new hostname and text not in replies: $out"; return 1; }
	# An invalid file: refused, the running settings stay.
	printf 'class.default.parallel = 0\n' >"$CONF"
	out=$(mx reload 2>&1) && { fail "invalid reload accepted"; return 1; }
	[[ $out == *"$CONF:1: class.default.parallel"* ]] || { fail "reload error: $out"; return 1; }
	mx -j limit show default | grep -q '"parallel":4' || { fail "settings changed by a refused reload"; return 1; }
	printf 'class.default.parallel = 6\n' >"$CONF"
	out=$(mx reload) || { fail "mxguard reload: $out"; return 1; }
	mx -j limit show default | grep -q '"parallel":6' || fail "mxguard reload did not apply"
}

run_tests
