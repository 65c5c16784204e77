// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	ctl.c - the control socket: the CLI's requests, run as commands or jobs
 * DESCRIPTION
 *	mxguard connects to the control socket, sends one request (the
 *	protocol is control.h's) and reads the reply. A request is read
 *	without blocking, as it comes, by the event loop, from a client
 *	pool (pool.h): at most MX_CTL_MAX_CLIENTS at a time and each within
 *	MX_CTL_TIMEOUT_MS from accept. A client that connects and says
 *	nothing, or says it slowly, holds nothing but its slot; one more
 *	than the pool holds is refused with an error, and the clients in
 *	keep their slots (an operator's command is never cut off for a
 *	newcomer's). Once complete, the request runs (a->run_command, which
 *	main wires to the commands: the agent never sees them) and its
 *	reply is written with a send timeout.
 *
 *	A command whose work is long (a blocklist load, a listing of a
 *	million bans) goes on as a job (cmd.h): a task of the event loop,
 *	stepped a slice at a time between other requests until it is done;
 *	then its reply ends. At most MX_CTL_MAX_JOBS at once; with every
 *	job slot taken a command's job runs at once instead.
 * SECURITY
 *	The socket is mode 0600 in a 0700 directory, and every peer's
 *	credentials are checked (SO_PEERCRED: uid 0 only) before it is given
 *	a slot. Requests are bounded in size (MX_CTL_MAX_REQUEST) and time.
 * DIAGNOSTICS
 *	A refused client is told why in the reply's error stream, with exit
 *	status 1: "mxguardd accepts only root", "too many control clients
 *	at once; try again", "request timed out", "request truncated", a
 *	length out of range, or what the request parser found.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "control.h"
#include "ctl.h"
#include "pool.h"

#define MX_CTL_MAX_CLIENTS	8
#define MX_CTL_MAX_JOBS		4

struct ctl_job {
	struct mx_cmd_ctx c;
	int fd;				/* -1: a free slot */
	struct mx_task task;
};

struct ctl_server {
	struct agent *a;
	struct mx_pool pool;
	struct ctl_job jobs[MX_CTL_MAX_JOBS];
};

/* open_socket - the root-only control socket */
static int open_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		mx_log("socket path %s is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			mx_log("cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* A socket file left by a crashed agent: only if no one answers on it. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		mx_log("another mxguardd answers on %s", path);
		close(fd);
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
		mx_log("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* refuse - a one-line error and a failing exit status, then close */
static void refuse(int fd, const char *msg)
{
	char m[256];
	unsigned char status = 1;
	int n = snprintf(m, sizeof(m), "Error: %s\n", msg);

	mx_ctl_write_frame(fd, MX_FRAME_ERR, m, (uint32_t)n);
	mx_ctl_write_frame(fd, MX_FRAME_EXIT, &status, 1);
	close(fd);
}

/* finish - the reply's end: the exit status, then close */
static void finish(struct mx_cmd_ctx *c, int fd, int r)
{
	unsigned char status = r ? 1 : 0;

	if (c->jw)
		jsonw_destroy(&c->jw);
	fflush(c->out);
	fflush(c->err);
	mx_ctl_write_frame(fd, MX_FRAME_EXIT, &status, 1);
	fclose(c->out);
	fclose(c->err);
	close(fd);
}

/* job_step - a job's work until deadline (its task); its reply ends when it is done */
static enum mx_task_state job_step(void *arg, uint64_t deadline_us)
{
	struct ctl_job *j = arg;
	int r = j->c.job->step(j->c.job, &j->c, deadline_us), ret;

	if (r == 1)
		return MX_TASK_BUSY;
	if (r == 2)
		return MX_TASK_WAITING;
	ret = j->c.job->ret;
	j->c.job->free(j->c.job);
	j->c.job = NULL;
	finish(&j->c, j->fd, ret);
	j->fd = -1;
	return MX_TASK_DONE;
}

/* run_request - run a complete request and send the reply (or start its job) */
static void run_request(struct ctl_server *s, int fd, struct mx_request *req)
{
	struct agent *a = s->a;
	struct mx_cmd_ctx c = { .agent = a, .fd = fd };
	struct ctl_job *slot = NULL;
	int r;

	for (int i = 0; i < MX_CTL_MAX_JOBS && !slot; i++)
		if (s->jobs[i].fd < 0)
			slot = &s->jobs[i];
	c.async = slot != NULL;
	c.out = mx_ctl_stream(fd, MX_FRAME_OUT);
	c.err = mx_ctl_stream(fd, MX_FRAME_ERR);
	if (!c.out || !c.err)
		goto fail;
	c.json = strcmp(req->mode, "plain") != 0;
	c.pretty = strcmp(req->mode, "pretty") == 0;
	if (c.json) {
		c.jw = jsonw_new(c.out);
		if (!c.jw)
			goto fail;
		jsonw_pretty(c.jw, c.pretty);
	}
	r = a->run_command(&c, req->argc, req->argv);
	if (c.job && !r) {
		slot->c = c;
		slot->fd = fd;
		if (mx_loop_task_start(&a->loop, &slot->task) == 0)
			return;
		/* No room to run it as a task: run it now, as in tests. */
		while (job_step(slot, UINT64_MAX) != MX_TASK_DONE)
			usleep(1000);
		return;
	}
	finish(&c, fd, r);
	return;
fail:
	if (c.out)
		fclose(c.out);
	if (c.err)
		fclose(c.err);
	close(fd);
}

/* ctl_admit - root only: anyone else is told so before taking a slot */
static bool ctl_admit(struct mx_pool *p, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		refuse(fd, "mxguardd accepts only root");
		return false;
	}
	return true;
}

/* ctl_full - every slot is taken: the newcomer is told to try again */
static void ctl_full(struct mx_pool *p, int fd)
{
	refuse(fd, "too many control clients at once; try again");
}

/* ctl_expire - a request that did not arrive whole in time */
static void ctl_expire(struct mx_pool *p, struct mx_client *cl)
{
	refuse(mx_pool_release(p, cl), "request timed out");
}

/*
 * ctl_input - read what a client sent: the length first, then exactly
 * that much (nothing past the request is read); run it once complete
 */
static void ctl_input(struct mx_pool *p, struct mx_client *cl)
{
	static struct mx_request req;
	struct timeval tv = { .tv_sec = MX_CTL_TIMEOUT_MS / 1000 };
	uint32_t want = 4;
	char err[160];
	ssize_t n;
	int fd;

	if (cl->got >= 4) {
		memcpy(&want, cl->buf, 4);
		if (want == 0 || want > MX_CTL_MAX_REQUEST) {
			snprintf(err, sizeof(err), "request length %u out of range 1..%d",
				 want, MX_CTL_MAX_REQUEST);
			goto refused;
		}
		want += 4;
	}
	n = mx_pool_read(p, cl, want - cl->got);
	if (n == 0)
		return;
	if (n < 0) {
		snprintf(err, sizeof(err), "request truncated");
		goto refused;
	}
	if (cl->got < 4 || cl->got < want || want == 4)
		return;	/* more to come (or the length just arrived) */
	memcpy(req.buf, cl->buf + 4, cl->got - 4);
	req.buf[cl->got - 4] = '\0';
	n = (ssize_t)cl->got - 4;
	fd = mx_pool_release(p, cl);
	/* Blocking from here, each write bounded by the send timeout. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (mx_ctl_parse_request(&req, (size_t)n, err, sizeof(err))) {
		refuse(fd, err);
		return;
	}
	run_request(p->conf.arg, fd, &req);	/* closes fd, now or when its job is done */
	return;
refused:
	refuse(mx_pool_release(p, cl), err);
}

/* ctl_open - the socket and its pool in the event loop */
int ctl_open(struct agent *a)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	struct mx_pool_conf conf = {
		.name = "control", .max_clients = MX_CTL_MAX_CLIENTS,
		.buf_size = 4 + MX_CTL_MAX_REQUEST, .timeout_ms = MX_CTL_TIMEOUT_MS,
		.full = MX_POOL_REFUSE, .input = ctl_input, .admit = ctl_admit,
		.refuse = ctl_full, .expire = ctl_expire, .arg = s,
	};
	int lfd;

	if (!s)
		return -1;
	s->a = a;
	for (int i = 0; i < MX_CTL_MAX_JOBS; i++) {
		s->jobs[i].fd = -1;
		mx_task_init(&s->jobs[i].task, "jobs", job_step, &s->jobs[i]);
	}
	lfd = open_socket(a->cfg.socket);
	if (lfd < 0) {
		free(s);
		return -1;
	}
	if (mx_pool_open(&s->pool, &a->loop, lfd, &conf)) {
		mx_log("cannot serve %s: out of memory", a->cfg.socket);
		close(lfd);
		unlink(a->cfg.socket);
		free(s);
		return -1;
	}
	a->ctl = s;
	return 0;
}

/* ctl_close - a job left unfinished is told so; then every connection and the socket */
void ctl_close(struct agent *a)
{
	struct ctl_server *s = a->ctl;

	if (!s)
		return;
	for (int i = 0; i < MX_CTL_MAX_JOBS; i++) {
		struct ctl_job *j = &s->jobs[i];

		if (j->fd < 0)
			continue;
		mx_loop_task_cancel(&a->loop, &j->task);
		p_err(&j->c, "mxguardd is stopping; the command was not finished");
		j->c.job->free(j->c.job);
		j->c.job = NULL;
		finish(&j->c, j->fd, -1);
		j->fd = -1;
	}
	mx_pool_close(&s->pool);
	unlink(a->cfg.socket);
	free(s);
	a->ctl = NULL;
}
