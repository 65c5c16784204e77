// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	settings.c - the agent's settings: in force, and read again on reload
 * DESCRIPTION
 *	The settings come from the file and the command line
 *	(mx_config_source, kept by the agent); a reload (SIGHUP, 'mxguard
 *	reload') reads both again and applies them to the running data
 *	plane: bans, buckets and counts stay. An invalid file changes
 *	nothing; settings that need a restart are named and left as they are.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "agent.h"
#include "crowdsecd.h"
#include "responder.h"
#include "verdictd.h"

/* agent_settings - the settings in force, as each part of the agent sees them */
void agent_settings(struct agent *a, const struct mx_config_file *c)
{
	uint64_t cookie = a->settings.netns_cookie;

	a->cfg = *c;
	a->settings = c->dp;
	a->settings.netns_cookie = cookie;
	snprintf(a->dp.ifname, sizeof(a->dp.ifname), "%s", c->interface);
	a->dp.pin_dir = a->cfg.pin_dir;
	a->store.state.dir = a->cfg.state_dir;
}

/* agent_responder_settings - what the responder needs of the settings */
void agent_responder_settings(const struct agent *a, struct responder_settings *rs)
{
	*rs = (struct responder_settings){
		.hostname = a->cfg.hostname, .policy_url = a->cfg.policy_url,
		.text_over_limit = a->cfg.reply_over_limit, .text_banned = a->cfg.reply_banned,
		.max_clients = a->cfg.responder_sessions, .timeout_ms = a->cfg.responder_timeout_ms,
		.max_line = a->cfg.responder_max_line,
	};
}

/*
 * agent_apply_priority - high_priority: nice -10, so that while floods keep the
 * CPUs busy (the kernel's receive path, other processes) Postfix, the CLI
 * and Prometheus still get their answers at once. The threads the agent
 * starts later (SPF, a blocklist's reader) share it. Without the
 * capability to raise it, the agent says so and runs as it is.
 */
void agent_apply_priority(const struct agent *a)
{
	int want = a->cfg.high_priority ? -10 : 0;

	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) == want && !errno)
		return;
	if (setpriority(PRIO_PROCESS, 0, want))
		mx_log("cannot set the agent's priority to nice %d: %s", want, strerror(errno));
}

/*
 * agent_apply_settings - the settings in a->settings and the responder's
 * texts into the running data plane. Buckets, bans and counts stay.
 */
int agent_apply_settings(struct agent *a)
{
	struct responder_settings rs;

	agent_responder_settings(a, &rs);
	if (mx_dp_write_classes(a->dp.class_limits_fd, &a->settings) ||
	    mx_dp_write_config(a->dp.config_fd, &a->settings))
		return -1;
	responder_configure(a->conn.responder, &rs);
	agent_apply_priority(a);
	return 0;
}

/*
 * agent_reload - SIGHUP and 'mxguard reload': read the settings again and
 * apply them to the running data plane. An invalid file changes
 * nothing; settings that need a restart are named and left as they are.
 * The trap file, rspamd's password file and CrowdSec's key and password
 * files are read again too: one that is wrong refuses the reload as a
 * wrong setting does.
 */
int agent_reload(struct agent *a, char *msg, size_t len)
{
	static struct mx_config_file next;
	struct mx_traps traps = { 0 };
	struct mx_rspamd_auth auth = { 0 };
	char key[MX_CS_SECRET_MAX + 1] = "", password[MX_CS_SECRET_MAX + 1] = "";
	char err[2048];
	const char *restart;
	bool new_auth;

	if (mx_config_read(&next, &a->cfg_source, err, sizeof(err)) ||
	    (next.trap_file[0] && mx_traps_load(&traps, next.trap_file, err, sizeof(err))) ||
	    (next.verdict_listen[0] && mx_rspamd_auth_load(&auth, next.verdict_user,
							   next.verdict_password_file, err,
							   sizeof(err))) ||
	    (next.crowdsec_url[0] && mx_cs_secret_load("crowdsec_key_file", next.crowdsec_key_file,
						       key, sizeof(key), err, sizeof(err))) ||
	    (next.crowdsec_machine_id[0] &&
	     mx_cs_secret_load("crowdsec_password_file", next.crowdsec_password_file, password,
			       sizeof(password), err, sizeof(err)))) {
		mx_traps_free(&traps);
		mx_rspamd_auth_clear(&auth);
		explicit_bzero(key, sizeof(key));
		snprintf(msg, len, "settings not reloaded, the running ones stay:\n%s", err);
		return -1;
	}
	new_auth = next.verdict_listen[0];	/* before a restart-only verdict_listen is put back */
	restart = mx_config_restart_needed(&a->cfg, &next);
	if (restart)
		mx_config_keep_restart(&next, &a->cfg);	/* what cannot change while running */
	agent_settings(a, &next);
	if (new_auth)
		verdictd_configure(a, &auth);	/* verdict_user and the password, new */
	mx_rspamd_auth_clear(&auth);
	if (key[0])
		crowdsecd_configure(a, key, password);	/* the key, the password, a new URL */
	explicit_bzero(key, sizeof(key));
	explicit_bzero(password, sizeof(password));
	if (senders_configure(&a->senders, &traps))
		mx_log("reload: out of memory resizing the senders' trap hits");
	if (agent_apply_settings(a)) {
		snprintf(msg, len, "settings read, but writing them to the maps failed: %s",
			 strerror(errno));
		return -1;
	}
	if (restart)
		snprintf(msg, len, "settings reloaded; %s changed and needs a restart", restart);
	else
		snprintf(msg, len, "settings reloaded");
	return 0;
}
