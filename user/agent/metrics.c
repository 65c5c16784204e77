// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	metrics.c - Prometheus metrics over HTTP (GET /metrics)
 * SYNOPSIS
 *	mxguard.conf:  metrics_listen = 127.0.0.1:9489
 *	prometheus.yml: scrape_configs: [{job_name: mxguard,
 *	                 static_configs: [{targets: ['127.0.0.1:9489']}]}]
 * DESCRIPTION
 *	Every counter of `mxguard stats`, in the text exposition format
 *	0.0.4, named as Prometheus asks (mxguard_ prefix, _total for
 *	counters, one metric per meaning with labels for its kinds). The
 *	data plane's per-CPU counters are summed at each scrape; nothing is
 *	cached, so a scrape always sees the counters of that moment.
 *
 *	A small HTTP/1.x server in the agent's event loop, its connections
 *	in a client pool (pool.h): GET or HEAD of
 *	/metrics (200) or / (a pointer to /metrics); 404 for other paths,
 *	405 for other methods, 400 for what is not HTTP. One request per
 *	connection (Connection: close).
 * SECURITY
 *	Untrusted peers when listening beyond loopback: at most
 *	MX_METRICS_CLIENTS connections (a new one replaces the oldest), a
 *	request head of at most MX_HTTP_HEAD_MAX bytes, MX_METRICS_TIMEOUT_MS
 *	to send it, and the answer written with a send timeout. The metrics
 *	name no address of any sender.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "counters.h"
#include "http.h"
#include "metrics.h"
#include "pool.h"
#include "responder.h"

#define MX_METRICS_CLIENTS	16
#define MX_METRICS_TIMEOUT_MS	5000

/* head - HELP and TYPE of a metric family */
static void head(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* one - a metric family of one sample without labels */
static void one(FILE *o, const char *name, const char *type, const char *help, uint64_t v)
{
	head(o, name, type, help);
	fprintf(o, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value and its sample. */
struct lv {
	const char *value;
	uint64_t v;
};

/* labelled - a metric family with one label; lvs ends with a NULL value */
static void labelled(FILE *o, const char *name, const char *type, const char *help,
		     const char *lname, const struct lv *lvs)
{
	head(o, name, type, help);
	for (; lvs->value; lvs++)
		fprintf(o, "%s{%s=\"%s\"} %llu\n", name, lname, lvs->value,
			(unsigned long long)lvs->v);
}

/* label - a label value with \, " and newlines escaped */
static void label(FILE *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(o, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", o);
		else
			fputc(*v, o);
	}
}

/* stats_family - the data plane's counters whose names start with prefix */
static void stats_family(FILE *o, const uint64_t *sums, const char *prefix, bool strip,
			 const char *name, const char *lname, const char *help)
{
	size_t n = strlen(prefix);

	head(o, name, "counter", help);
	for (int i = 0; i < MX_STAT__MAX; i++) {
		const char *stat = mx_stat_name(i);

		if (strncmp(stat, prefix, n))
			continue;
		fprintf(o, "%s{%s=\"%s\"} %llu\n", name, lname, stat + (strip ? n : 0),
			(unsigned long long)sums[i]);
	}
}

/*
 * loop_turns - the event loop's turns by length, as a histogram: how
 * long requests waited behind whatever the loop was doing, and how often
 */
static void loop_turns(FILE *o, const struct mx_loop_stats *ls)
{
	const char *name = "mxguard_event_loop_turn_seconds";
	uint64_t n = 0;

	head(o, name, "histogram",
	     "Turns of the agent's event loop by how long their work took (a request that came "
	     "during a turn waited at most that long).");
	for (int b = 0; b < MX_LOOP_BUCKETS; b++) {
		n += ls->bucket[b];
		fprintf(o, "%s_bucket{le=\"%g\"} %llu\n", name, (double)mx_loop_bucket_us[b] / 1e6,
			(unsigned long long)n);
	}
	n += ls->bucket[MX_LOOP_BUCKETS];
	fprintf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)n);
	fprintf(o, "%s_sum %.6f\n", name, (double)ls->sum_us / 1e6);
	fprintf(o, "%s_count %llu\n", name, (unsigned long long)n);
}

/* The family being written by sample(): a new one starts with its HELP and TYPE. */
struct family {
	FILE *o;
	const char *metric;
};

/* sample - one of the agent's own counters as a sample of its family */
static void sample(const struct agent_counter *k, uint64_t v, void *arg)
{
	struct family *f = arg;

	if (!k->metric)
		return;
	if (!f->metric || strcmp(f->metric, k->metric))
		head(f->o, k->metric, k->type, k->help);
	f->metric = k->metric;
	fprintf(f->o, "%s", k->metric);
	if (k->label)
		fprintf(f->o, "{%s}", k->label);
	if (k->per_unit > 1)
		fprintf(f->o, " %.6f\n", (double)v / (double)k->per_unit);
	else
		fprintf(f->o, " %llu\n", (unsigned long long)v);
}

int mx_metrics_write(struct agent *a, FILE *o)
{
	uint64_t sums[MX_STAT__MAX];
	struct responder_stats rs;
	struct family fam = { .o = o };
	int r = mx_stats_read(a->dp.stats_fd, sums);

	if (r)
		return r;
	responder_stats(a->conn.responder, &rs);

	head(o, "mxguard_build_info", "gauge", "mxguard's version.");
	fprintf(o, "mxguard_build_info{version=\"%s\"} 1\n", MX_VERSION);
	head(o, "mxguard_attached_info", "gauge", "The interface and XDP mode mxguard judges on.");
	fputs("mxguard_attached_info{interface=\"", o);
	label(o, a->dp.ifname);
	fputs("\",mode=\"", o);
	label(o, a->dp.mode_name ? a->dp.mode_name : "");
	fputs("\"} 1\n", o);
	one(o, "mxguard_attached_time_seconds", "gauge",
	    "When the program was attached or adopted, Unix time.", (uint64_t)a->dp.attached_at);

	/* The data plane. */
	head(o, "mxguard_xdp_packets_total", "counter",
	     "Frames on the guarded interface by the XDP program's verdict; each frame counts once.");
	for (int i = 0; i < MX_STAT__MAX; i++)
		if (mx_stat_action(i) != MX_ACTION_NONE)
			fprintf(o, "mxguard_xdp_packets_total{verdict=\"%s\"} %llu\n", mx_stat_name(i),
				(unsigned long long)sums[i]);
	stats_family(o, sums, "bucket_new_", true, "mxguard_buckets_created_total", "kind",
		     "Token buckets created (creations minus live buckets are LRU evictions).");
	one(o, "mxguard_bucket_unavailable_total", "counter",
	    "SYNs passed because their bucket could not be created.",
	    sums[MX_STAT_BUCKET_UNAVAILABLE]);
	stats_family(o, sums, "conn_", true, "mxguard_connections_total", "event",
		     "New connections to guarded ports by what became of them at SYN time, and closes.");

	/* The agent's own counters (counters.c), the loop's turns, the responder's. */
	agent_counters(a, sample, &fam);
	loop_turns(o, &a->loop.stats);

	/* The responder. */
	labelled(o, "mxguard_responder_replies_total", "counter",
		 "Replies of the SMTP responder by code: 421 over the limit, 554 banned, 221 and 503 after.",
		 "code", (const struct lv[]){ { "421", rs.replied_421 }, { "554", rs.replied_554 },
					      { "221", rs.replied_221 }, { "503", rs.replied_503 },
					      { NULL, 0 } });
	one(o, "mxguard_responder_sessions_total", "counter", "Responder sessions accepted.",
	    rs.accepted);
	one(o, "mxguard_responder_sessions", "gauge", "Responder sessions open now.", rs.active);
	labelled(o, "mxguard_responder_errors_total", "counter",
		 "Responder sessions refused (all in use), timed out, with overlong lines, or whose writes failed.",
		 "kind", (const struct lv[]){ { "refused_full", rs.refused_full },
					      { "timeout", rs.timeouts },
					      { "line_too_long", rs.line_too_long },
					      { "write_error", rs.write_errors }, { NULL, 0 } });

	/* Persistence. */
	one(o, "mxguard_journal_records", "gauge", "Journal records since the last snapshot.",
	    a->store.state.persist.journal_records);
	one(o, "mxguard_restore_torn_bytes", "gauge",
	    "Bytes of torn or corrupt journal tail cut at start-up.", a->store.state.restore_torn_bytes);
	one(o, "mxguard_restore_failed", "gauge",
	    "Restored entries that did not fit in the maps at start-up.", a->store.state.restore_failed);
	return ferror(o) ? -EIO : 0;
}

/* The server. */
#define MX_METRICS_LINGERING	1	/* mx_client.state: answered, reading what is left */

struct metrics_server {
	struct agent *a;
	struct mx_pool pool;
	uint64_t scrapes;		/* answered 200 on /metrics */
};

static void metrics_input(struct mx_pool *p, struct mx_client *c);

/* metrics_open - listen on metrics_listen, in the event loop (nothing if it is empty) */
int metrics_open(struct agent *a)
{
	struct mx_pool_conf conf = {
		.name = "metrics", .max_clients = MX_METRICS_CLIENTS, .buf_size = MX_HTTP_HEAD_MAX,
		.timeout_ms = MX_METRICS_TIMEOUT_MS, .full = MX_POOL_REPLACE,
		.input = metrics_input,
	};
	struct sockaddr_storage ss;
	struct metrics_server *m;
	socklen_t len;
	char err[128];
	int one = 1, lfd;

	if (!a->cfg.metrics_listen[0])
		return 0;
	if (mx_parse_listen(a->cfg.metrics_listen, &ss, &len, err, sizeof(err))) {
		mx_log("metrics_listen %s: %s", a->cfg.metrics_listen, err);
		return -1;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->a = a;
	conf.arg = m;
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 16) ||
	    mx_pool_open(&m->pool, &a->loop, lfd, &conf)) {
		mx_log("cannot serve metrics on %s: %s (set metrics_listen, or leave it empty "
			  "for none)", a->cfg.metrics_listen, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		free(m);
		return -1;
	}
	a->metrics = m;
	mx_log("metrics on http://%s/metrics", a->cfg.metrics_listen);
	return 0;
}

/* metrics_close - every connection and the listener */
void metrics_close(struct agent *a)
{
	struct metrics_server *m = a->metrics;

	if (!m)
		return;
	mx_pool_close(&m->pool);
	free(m);
	a->metrics = NULL;
}

/* respond - the whole answer, blocking with a send timeout, then close */
static void respond(struct metrics_server *m, struct mx_client *c, int status,
		    enum mx_http_method method, const char *path)
{
	static const struct {
		int code;
		const char *text;
	} reasons[] = {
		{ 200, "OK" }, { 400, "Bad Request" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 414, "URI Too Long" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 505, "HTTP Version Not Supported" },
	};
	struct timeval tv = { .tv_sec = 2 };
	const char *type = "text/plain; charset=utf-8", *reason = "Error";
	char *body = NULL, hdr[256];
	size_t blen = 0;
	int n;

	if (status == 1 && method != MX_HTTP_GET && method != MX_HTTP_HEAD) {
		status = 405;
	} else if (status == 1 && !strcmp(path, "/metrics")) {
		FILE *f = open_memstream(&body, &blen);

		status = f && mx_metrics_write(m->a, f) == 0 ? 200 : 500;
		if (f)
			fclose(f);
		type = "text/plain; version=0.0.4; charset=utf-8";
		if (status == 200)
			m->scrapes++;
	} else if (status == 1 && !strcmp(path, "/")) {
		status = 200;
	} else if (status == 1) {
		status = 404;
	}
	if (status != 200 || !body) {
		free(body);
		body = NULL;
		blen = (size_t)asprintf(&body, status == 200 ? "mxguardd: metrics are at /metrics\n" :
					"%d\n", status);
		if (!body)
			blen = 0;
	}
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			reason = reasons[i].text;
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n", status, reason, type, blen,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "");
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(c->fd, hdr, (size_t)n, MSG_NOSIGNAL) == n && body && method != MX_HTTP_HEAD) {
		size_t done = 0;

		while (done < blen) {
			ssize_t w = send(c->fd, body + done, blen - done, MSG_NOSIGNAL);

			if (w <= 0)
				break;
			done += (size_t)w;
		}
	}
	free(body);
	/*
	 * A lingering close: closing with unread input would send a reset,
	 * and the client could lose the answer (a 431 to a request still
	 * arriving). Say we are done, then read until the client is too.
	 */
	shutdown(c->fd, SHUT_WR);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->state = MX_METRICS_LINGERING;
	mx_pool_deadline(&m->pool, c, mx_mono_ms() + 2000);
}

/* metrics_input - a request head as it comes, answered once whole; or what is left, discarded */
static void metrics_input(struct mx_pool *p, struct mx_client *c)
{
	struct metrics_server *m = p->conf.arg;
	enum mx_http_method method = MX_HTTP_OTHER;
	char path[256];
	ssize_t got;
	int r;

	if (c->state == MX_METRICS_LINGERING) {
		char sink[4096];

		got = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			mx_pool_drop(p, c);
		return;
	}
	got = mx_pool_read(p, c, MX_HTTP_HEAD_MAX);
	if (got == 0)
		return;
	if (got < 0) {
		mx_pool_drop(p, c);
		return;
	}
	r = mx_http_parse(c->buf, c->got, &method, path, sizeof(path));
	if (r)
		respond(m, c, r, method, path);
}
