// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	spf.c - DNS verdicts off the event loop: SPF (libspf2) and DNSBLs
 * DESCRIPTION
 *	The policy service hands each RCPT's client address, envelope
 *	sender and HELO name to spf_submit(), which never blocks: the check
 *	runs in one worker thread (SPF needs DNS, and DNS can take seconds)
 *	and its result comes back through a pipe that the event loop reads
 *	(spf_results). The policy answer never waits for SPF: SPF only puts a
 *	sender into a limit class, for its next connections.
 *
 *	A sender (address and envelope sender's domain) is checked at most
 *	once per MX_SPF_RECHECK_S; the null sender is checked by its HELO
 *	name, as RFC 7208 2.4 asks. dnsbl_submit() looks the client address
 *	up in the dnsbl_zones the same way (RFC 5782: reversed octets, or
 *	nibbles for IPv6, under the zone; an A record in 127.0.0.0/8 is a
 *	listing, except 127.255.255.0/24, which DNSBLs use for errors).
 * SECURITY
 *	The queue holds MX_SPF_QUEUE jobs; when full, a job is dropped and
 *	counted (the sender is checked at a later mail). libspf2 bounds its
 *	own DNS lookups (RFC 7208 4.6.4: 10 mechanisms).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <resolv.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include <spf2/spf.h>

#include "agent.h"
#include "spf.h"

#define MX_SPF_QUEUE		256
#define MX_SPF_SEEN		4096	/* direct-mapped: recently checked senders */
#define MX_SPF_RECHECK_S	600

struct spf_job {
	struct mx_prefix addr;
	bool dnsbl;
	char sender[MX_TRAP_ADDR_MAX + 2];
	char helo[256];
};

struct spf_worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct spf_job q[MX_SPF_QUEUE];
	unsigned int head, n;
	bool stop;
	int pipe[2];			/* results: worker writes, event loop reads */
	struct {
		uint64_t key;
		int64_t at;
	} seen[MX_SPF_SEEN];
	SPF_server_t *server;
	char zones[MX_DNSBL_ZONES][256];	/* a copy: the worker never reads a->cfg */
	unsigned int nzones;
	struct __res_state res;			/* the worker's own resolver state */
	struct agent *a;
	struct spf_stats stats;			/* the event loop's: the worker never counts */
};

static void spf_results(void *arg, int fd, short revents);

int mx_dnsbl_name(const struct mx_prefix *addr, const char *zone, char *name, size_t len)
{
	size_t off = 0;
	int n;

	if (addr->family == AF_INET) {
		n = snprintf(name, len, "%u.%u.%u.%u.%s", addr->addr[3], addr->addr[2],
			     addr->addr[1], addr->addr[0], zone);
		return n < 0 || (size_t)n >= len ? -1 : 0;
	}
	for (int i = 15; i >= 0; i--) {
		n = snprintf(name + off, len - off, "%x.%x.", addr->addr[i] & 0xf, addr->addr[i] >> 4);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	n = snprintf(name + off, len - off, "%s", zone);
	return n < 0 || (size_t)n >= len - off ? -1 : 0;
}

/* listed_in - 1 listed, 0 not (NXDOMAIN or no A record), -1 no answer */
static int listed_in(struct __res_state *rs, const struct mx_prefix *addr, const char *zone)
{
	unsigned char ans[1024];
	char name[NS_MAXDNAME];
	ns_msg msg;
	ns_rr rr;
	int n;

	if (mx_dnsbl_name(addr, zone, name, sizeof(name)))
		return -1;
	n = res_nquery(rs, name, ns_c_in, ns_t_a, ans, sizeof(ans));
	if (n < 0)
		return rs->res_h_errno == HOST_NOT_FOUND || rs->res_h_errno == NO_DATA ? 0 : -1;
	if (ns_initparse(ans, n, &msg))
		return -1;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		const unsigned char *a;

		if (ns_parserr(&msg, ns_s_an, i, &rr) || ns_rr_type(rr) != ns_t_a || ns_rr_rdlen(rr) != 4)
			continue;
		a = ns_rr_rdata(rr);
		if (a[0] == 127 && !(a[1] == 255 && a[2] == 255))
			return 1;
	}
	return 0;
}

/* dnsbl - the address in every zone */
static enum mx_dnsbl_result dnsbl(struct spf_worker *w, const struct mx_prefix *addr)
{
	enum mx_dnsbl_result r = MX_DNSBL_CLEAN;

	for (unsigned int i = 0; i < w->nzones; i++) {
		int l = listed_in(&w->res, addr, w->zones[i]);

		if (l > 0)
			return MX_DNSBL_LISTED;
		if (l < 0)
			r = MX_DNSBL_ERROR;
	}
	return r;
}

/* one - the SPF result for a job */
static enum mx_spf_result one(SPF_server_t *server, const struct spf_job *j)
{
	SPF_request_t *req = SPF_request_new(server);
	SPF_response_t *resp = NULL;
	enum mx_spf_result r = MX_SPF_NONE;
	char ip[64];

	if (!req)
		return MX_SPF_NONE;
	mx_format_prefix(&j->addr, ip, sizeof(ip));
	if ((j->addr.family == AF_INET ? SPF_request_set_ipv4_str(req, ip)
				       : SPF_request_set_ipv6_str(req, ip)) ||
	    (j->helo[0] && SPF_request_set_helo_dom(req, j->helo)) ||
	    (j->sender[0] && SPF_request_set_env_from(req, j->sender))) {
		SPF_request_free(req);
		return MX_SPF_NONE;
	}
	SPF_request_query_mailfrom(req, &resp);
	if (resp) {
		switch (SPF_response_result(resp)) {
		case SPF_RESULT_PASS: r = MX_SPF_PASS; break;
		case SPF_RESULT_FAIL: r = MX_SPF_FAIL; break;
		case SPF_RESULT_SOFTFAIL: r = MX_SPF_SOFTFAIL; break;
		case SPF_RESULT_TEMPERROR: r = MX_SPF_TEMPERROR; break;
		default: r = MX_SPF_NONE; break;	/* neutral, none, permerror */
		}
		SPF_response_free(resp);
	}
	SPF_request_free(req);
	return r;
}

static void *work(void *arg)
{
	struct spf_worker *w = arg;

	for (;;) {
		struct spf_job j;
		struct mx_spf_answer ans;

		pthread_mutex_lock(&w->mu);
		while (!w->n && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			return NULL;
		}
		j = w->q[w->head];
		w->head = (w->head + 1) % MX_SPF_QUEUE;
		w->n--;
		pthread_mutex_unlock(&w->mu);

		ans = (struct mx_spf_answer){ .addr = j.addr, .dnsbl = j.dnsbl,
					      .result = j.dnsbl ? dnsbl(w, &j.addr) : one(w->server, &j) };
		/* Smaller than PIPE_BUF: written whole or not at all. */
		if (write(w->pipe[1], &ans, sizeof(ans)) != (ssize_t)sizeof(ans))
			continue;	/* the event loop is gone or far behind */
	}
}

/* spf_open - the worker thread, and its results' pipe in the event loop */
int spf_open(struct agent *a)
{
	struct spf_worker *w;

	if (!a->cfg.spf_class && !a->cfg.dnsbl_zones[0])
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	{
		char zones[sizeof(a->cfg.dnsbl_zones)], *tok, *save = NULL;

		strcpy(zones, a->cfg.dnsbl_zones);
		for (tok = strtok_r(zones, ",", &save); tok && w->nzones < MX_DNSBL_ZONES;
		     tok = strtok_r(NULL, ",", &save))
			snprintf(w->zones[w->nzones++], sizeof(w->zones[0]), "%s", tok);
	}
	if (w->nzones && res_ninit(&w->res)) {
		mx_log("cannot start DNSBL lookups: no resolver");
		free(w);
		return -1;
	}
	w->server = SPF_server_new(SPF_DNS_CACHE, 0);
	if (!w->server || pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK)) {
		mx_log("cannot start SPF checks: %s", strerror(errno));
		if (w->server)
			SPF_server_free(w->server);
		free(w);
		return -1;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->thread, NULL, work, w)) {
		mx_log("cannot start the SPF thread");
		close(w->pipe[0]);
		close(w->pipe[1]);
		SPF_server_free(w->server);
		free(w);
		return -1;
	}
	w->a = a;
	if (mx_loop_add(&a->loop, w->pipe[0], POLLIN, "spf", spf_results, w)) {
		mx_log("cannot start SPF checks: out of memory");
		a->spf = w;
		spf_close(a);
		return -1;
	}
	a->spf = w;
	return 0;
}

/* spf_close - stop the worker, wait for it, close the pipe */
void spf_close(struct agent *a)
{
	struct spf_worker *w = a->spf;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	mx_loop_del(&a->loop, w->pipe[0]);
	close(w->pipe[0]);
	close(w->pipe[1]);
	SPF_server_free(w->server);
	if (w->nzones)
		res_nclose(&w->res);
	free(w);
	a->spf = NULL;
}

/* seen_key - address and sender domain, hashed */
static uint64_t seen_key(const struct mx_prefix *p, const char *domain)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ p->addr[i]) * 1099511628211ULL;
	for (; *domain; domain++)
		h = (h ^ (uint8_t)(*domain | 0x20)) * 1099511628211ULL;
	return h | 1;
}

/* queue - a job, unless this one was queued lately; never blocks */
static void queue(struct agent *a, const struct mx_prefix *addr, bool is_dnsbl, const char *domain,
		  const char *sender, const char *helo)
{
	struct spf_worker *w = a->spf;
	uint64_t key;
	int64_t now_s = mx_now_s();	/* boot clock: a wall-clock jump neither stops nor floods checks */
	unsigned int slot;

	key = seen_key(addr, domain);
	slot = (unsigned int)(key % MX_SPF_SEEN);
	if (w->seen[slot].key == key && now_s - w->seen[slot].at < MX_SPF_RECHECK_S)
		return;
	w->seen[slot].key = key;
	w->seen[slot].at = now_s;
	pthread_mutex_lock(&w->mu);
	if (w->n == MX_SPF_QUEUE) {
		pthread_mutex_unlock(&w->mu);
		w->stats.dropped++;
		w->seen[slot].key = 0;	/* not checked: may be queued again */
		return;
	}
	{
		struct spf_job *j = &w->q[(w->head + w->n) % MX_SPF_QUEUE];

		j->addr = *addr;
		j->dnsbl = is_dnsbl;
		strcpy(j->sender, sender);
		strcpy(j->helo, helo);
	}
	w->n++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->stats.queued++;
}

void spf_submit(struct agent *a, const struct mx_prefix *addr, const char *sender,
		const char *helo)
{
	const char *at = strrchr(sender, '@');
	const char *domain = at ? at + 1 : helo;

	if (!a->spf || !a->cfg.spf_class || !*domain || strlen(sender) > MX_TRAP_ADDR_MAX ||
	    strlen(helo) > 255)
		return;
	queue(a, addr, false, domain, sender, helo);
}

void dnsbl_submit(struct agent *a, const struct mx_prefix *addr)
{
	if (a->spf && a->spf->nzones)
		queue(a, addr, true, "\001dnsbl", "", "");
}

/* spf_stats - the counters, or zeros when the service is off */
void spf_stats(const struct agent *a, struct spf_stats *out)
{
	*out = a->spf ? a->spf->stats : (struct spf_stats){ 0 };
}

/* spf_results - the worker's answers, at most 64 a turn: senders' classes from them */
static void spf_results(void *arg, int fd, short revents)
{
	struct spf_worker *w = arg;
	struct agent *a = w->a;
	struct mx_spf_answer ans;

	for (int i = 0; i < 64 && read(fd, &ans, sizeof(ans)) == (ssize_t)sizeof(ans); i++) {
		if (ans.dnsbl) {
			w->stats.dnsbl[ans.result < MX_DNSBL__MAX ? ans.result : MX_DNSBL_ERROR]++;
			if (ans.result != MX_DNSBL_ERROR)
				senders_auto(&a->senders, &ans.addr, MX_AUTO_DNSBL,
					     ans.result == MX_DNSBL_CLEAN);
			continue;
		}
		w->stats.results[ans.result < MX_SPF__MAX ? ans.result : MX_SPF_NONE]++;
		if (ans.result == MX_SPF_FAIL ||
		    (ans.result == MX_SPF_SOFTFAIL && a->cfg.spf_softfail))
			senders_auto(&a->senders, &ans.addr, MX_AUTO_SPF, false);
		else if (ans.result == MX_SPF_PASS)
			senders_auto(&a->senders, &ans.addr, MX_AUTO_SPF, true);
	}
}
