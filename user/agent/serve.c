// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	serve.c - mxguardd's services on one event loop, until a signal
 * DESCRIPTION
 *	What composes the agent's services: each is opened here, registers
 *	its descriptors, timers and tasks with the event loop (loop.h), and
 *	is closed here. The services know the agent's state (agent.h); the
 *	agent's state does not know them: this file, above both, wires them.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent.h"
#include "crowdsecd.h"
#include "ctl.h"
#include "metrics.h"
#include "notify.h"
#include "policyd.h"
#include "serve.h"
#include "snapshot.h"
#include "spf.h"
#include "sweep.h"
#include "zone.h"
#include "verdictd.h"

/* on_signal - SIGHUP reloads the settings; SIGTERM and SIGINT end the loop */
static void on_signal(void *arg, int fd, short revents)
{
	struct agent *a = arg;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		char msg[2400];

		agent_reload(a, msg, sizeof(msg));
		mx_log("SIGHUP: %s", msg);
		return;
	}
	mx_log("signal %d: stopping", si.ssi_signo);
	mx_loop_stop(&a->loop);
}

/* close_services - what agent_serve opened, whatever of it was */
static void close_services(struct agent *a)
{
	crowdsecd_close(a);
	zone_close(a);
	snapshot_close(a);
	ban_sweep_close(a);
	ctl_close(a);
	verdictd_close(a);
	policyd_close(a);
	metrics_close(a);
	spf_close(a);
}

/*
 * agent_serve - every service registers with one event loop (loop.h),
 * which runs until SIGTERM or SIGINT: signals, the control socket and
 * its jobs (ctl.c), the Postfix policy service (policyd.c), metrics
 * (metrics.c), rspamd's content verdicts (verdictd.c), SPF and DNSBL
 * results (spf.c), the responder, the connection sweep and
 * reconciliation (conn.c), the verdict engine's tick (senders.c), the
 * ban sweep (sweep.c), snapshots (snapshot.c), the DNSBL zone's
 * files (zone.c) and CrowdSec's Local API (crowdsecd.c).
 * No service knows another's descriptors or limits; long work runs as
 * tasks, a slice at a time, so that no turn keeps Postfix waiting long.
 */
int agent_serve(struct agent *a)
{
	sigset_t mask;
	int sfd, ret = 0;

	agent_apply_priority(a);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	mx_loop_init(&a->loop);
	if (sfd < 0 || mx_loop_add(&a->loop, sfd, POLLIN, "signals", on_signal, a) ||
	    ctl_open(a) || policyd_open(a) || metrics_open(a) || verdictd_open(a) || spf_open(a) ||
	    conn_serve(&a->conn) || senders_serve(&a->senders, &a->loop) || ban_sweep_open(a) ||
	    snapshot_open(a) || zone_open(a) || crowdsecd_open(a)) {
		ret = -1;
		goto out;
	}
	mx_log("ready; control socket %s", a->cfg.socket);
	mx_notify_ready();
	if (mx_loop_run(&a->loop))
		mx_log("the event loop failed: %s; stopping", strerror(errno));
out:
	close_services(a);
	mx_loop_free(&a->loop);
	if (sfd >= 0)
		close(sfd);
	return ret;
}
