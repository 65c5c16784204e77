// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	crowdsecd.c - CrowdSec's Local API: a bouncer and a machine in the agent
 * SYNOPSIS
 *	mxguard.conf:
 *	    crowdsec_url = http://10.0.0.5:8080
 *	    crowdsec_key_file = /etc/mxguard/crowdsec.key       (cscli bouncers add mx1)
 *	    crowdsec_machine_id = mx1                           (cscli machines add mx1 ...)
 *	    crowdsec_password_file = /etc/mxguard/crowdsec.password
 * DESCRIPTION
 *	Bouncer: every crowdsec_poll, GET /v1/decisions/stream with the
 *	bouncer key (X-Api-Key); startup=true on the first call (and after a
 *	failure that may have lost the thread), then only what changed. The
 *	ban decisions (crowdsec_decision_types) of scope Ip and Range become
 *	bans of the owner "crowdsec", a list of its own (bans.h): a startup
 *	answer replaces that owner's whole set as a blocklist load does
 *	(store_load_*: all or nothing, a slice at a time); later answers
 *	claim and remove that owner's bans only (store_changes_*), never an
 *	operator's, the engine's or another list's ban of the same prefix.
 *
 *	LAPI (1.4) streams one decision per value, the longest, and names a
 *	value in "deleted" once no decision holds it any more (and again on
 *	later polls, at times): the prefixes it holds are kept here with the
 *	longest end seen, and a "deleted" removes the crowdsec owner's ban
 *	of that prefix. In each answer "deleted" is applied before "new", so
 *	a value whose decision was replaced by a new one (LAPI's blocklists
 *	are refreshed that way) never lapses in between.
 *
 *	Expiry follows LAPI: a ban is claimed until the decision's end plus
 *	a grace (three polls, at least a minute) and LAPI's "deleted" (which
 *	names expired decisions too) removes it. So a ban LAPI still holds
 *	never lapses here first (cs-firewall-bouncer #509), and while LAPI is
 *	unreachable the bans go on until their own end.
 *
 *	Machine: mxguard's own bans (the verdict engine's; operators' with
 *	crowdsec_push_operator_bans or 'ban add ... publish') are queued and
 *	journalled by the store (state_cs_push); here they are pushed as
 *	alerts with their decision (POST /v1/alerts) with a token from POST
 *	/v1/watchers/login (taken again on 401 and every 50 minutes), and
 *	journalled as pushed once LAPI acknowledged them. A ban that came
 *	from LAPI is never queued.
 *
 *	All network I/O is one worker thread's (libcurl's easy interface,
 *	with timeouts): the event loop hands it one request at a time and
 *	hears of the result on an eventfd. The worker also parses the
 *	stream's answer; applying it is a task of the loop, in slices.
 * SECURITY
 *	The key and the password come from files only root may read
 *	(mx_cs_secret_load) and are never logged; curl's verbose output,
 *	which would show the headers, is never on. LAPI's answers are
 *	untrusted input (crowdsec.h). Errors back off from 1 s to 5 min,
 *	with jitter, and are logged at most once every 10 s.
 * DIAGNOSTICS
 *	"crowdsec: synced N new, M deleted decisions (startup)";
 *	"crowdsec: LAPI URL unreachable: WHY; retrying in Ns". Counters:
 *	crowdsec_* in `mxguard stats`, mxguard_crowdsec_* in the metrics,
 *	`mxguard crowdsec show`.
 * CONFIGURATION PARAMETERS
 *	crowdsec_url (none; on or off takes a restart, another URL a
 *	reload), crowdsec_key_file, crowdsec_password_file (re-read on
 *	reload), crowdsec_poll (10s), crowdsec_machine_id (none),
 *	crowdsec_push_operator_bans (no), crowdsec_decision_types (ban).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"
#include "cmd.h"
#include "crowdsecd.h"

#define CS_BACKOFF_MIN_MS	1000
#define CS_BACKOFF_MAX_MS	(300 * 1000)
#define CS_TOKEN_MS		(50 * 60 * 1000)	/* LAPI's tokens last an hour */
#define CS_PUSH_BATCH		50
#define CS_CONNECT_TIMEOUT	5
#define CS_TIMEOUT		30
#define CS_STARTUP_TIMEOUT	300			/* a startup answer may be large */
#define CS_SLICE		256

enum cs_kind { CS_STREAM, CS_LOGIN, CS_ALERTS };

/* One request for the worker, and what came of it. */
struct cs_job {
	enum cs_kind kind;
	bool startup;
	char url[512];
	char auth[MX_CS_TOKEN_MAX + 64];	/* the header with the key or the token */
	char *body;				/* POST: malloc'd JSON */
	/* The result. */
	long status;				/* HTTP; 0: no answer */
	char err[320];
	struct mx_cs_stream stream;		/* CS_STREAM, parsed */
	char token[MX_CS_TOKEN_MAX + 1];	/* CS_LOGIN */
};

/* The prefixes LAPI holds, with the longest end of its decisions on each. */
struct cs_pfx {
	struct mx_prefix p;
	uint32_t count;				/* 0: free; 1: held; UINT32_MAX: deleted */
	uint16_t text;				/* of the answer being applied */
	uint64_t expires_ns;
};
struct cs_index {
	struct cs_pfx *pfx;
	size_t pfx_cap, pfx_used, pfx_n;
};

enum cs_phase { CP_NONE, CP_BUILD, CP_LOAD, CP_PLAN, CP_CHANGES };

struct crowdsecd {
	struct agent *a;
	/* The worker and the one request it holds. */
	pthread_t thread;
	bool thread_on;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, queued, done;		/* under mu */
	struct cs_job job;
	int efd;
	bool in_flight;
	/* Secrets and the machine's token. */
	char key[MX_CS_SECRET_MAX + 1];
	char password[MX_CS_SECRET_MAX + 1];
	char token[MX_CS_TOKEN_MAX + 1];
	uint64_t token_ms;
	char url[256];
	/* The bouncer. */
	bool synced;				/* a startup answer was applied */
	uint64_t next_poll_ms, poll_backoff_ms;
	uint64_t next_push_ms, push_backoff_ms;
	const char *state;
	int64_t last_sync;
	char last_error[320];
	struct crowdsec_stats stats;
	struct mx_log_rate poll_log, push_log;
	struct mx_timer timer;
	struct mx_task task;
	/* The answer being applied. */
	enum cs_phase phase;
	bool startup;
	size_t i;
	struct mx_cs_stream st;
	char (*texts)[MX_REASON_LEN];
	uint64_t now_ns, grace_ns;
	struct cs_index idx, next;		/* next: a startup answer's, until it is loaded */
	struct mx_prefix *lp;
	uint64_t *lexp;
	uint16_t *ltext;
	size_t ln;
	struct store_load load;
	struct store_change *ch;
	size_t nch, ch_cap;
	struct store_changes changes;
	uint64_t new_n, del_n;
	/* The pushes in the request in flight. */
	uint32_t push_ids[CS_PUSH_BATCH];
	size_t npush;
};

/* The index: open addressing, linear probing. */

/* pfx_hash - FNV-1a of a prefix */
static uint64_t pfx_hash(const struct mx_prefix *p)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)p->family ^ ((uint64_t)p->len << 8);

	for (int i = 0; i < 16; i++)
		h = (h ^ p->addr[i]) * 1099511628211ULL;
	return h;
}

/* same_pfx - are two prefixes the same? */
static bool same_pfx(const struct mx_prefix *a, const struct mx_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

/* index_free - forget every prefix */
static void index_free(struct cs_index *x)
{
	free(x->pfx);
	memset(x, 0, sizeof(*x));
}

/* pfx_find - the slot of p, or where it would go */
static struct cs_pfx *pfx_find(struct cs_index *x, const struct mx_prefix *p, bool *found)
{
	struct cs_pfx *tomb = NULL;

	*found = false;
	if (!x->pfx_cap)
		return NULL;
	for (size_t i = pfx_hash(p) & (x->pfx_cap - 1), n = 0; n < x->pfx_cap;
	     i = (i + 1) & (x->pfx_cap - 1), n++) {
		struct cs_pfx *e = &x->pfx[i];

		if (e->count && e->count != UINT32_MAX && same_pfx(&e->p, p)) {
			*found = true;
			return e;
		}
		if (e->count == UINT32_MAX && !tomb)
			tomb = e;
		if (!e->count)
			return tomb ? tomb : e;
	}
	return tomb;
}

/* index_grow - room for one more, at most half full (deleted slots count) */
static int index_grow(struct cs_index *x)
{
	if ((x->pfx_used + 1) * 2 > x->pfx_cap) {
		size_t cap = x->pfx_cap ? x->pfx_cap : 1024;
		struct cs_index n = *x;

		while ((x->pfx_n + 1) * 2 > cap / 2)
			cap *= 2;
		n.pfx = calloc(cap, sizeof(*n.pfx));
		if (!n.pfx)
			return -ENOMEM;
		n.pfx_cap = cap;
		n.pfx_used = 0;
		for (size_t i = 0; i < x->pfx_cap; i++) {
			bool f;

			if (x->pfx[i].count && x->pfx[i].count != UINT32_MAX) {
				*pfx_find(&n, &x->pfx[i].p, &f) = x->pfx[i];
				n.pfx_used++;
			}
		}
		free(x->pfx);
		x->pfx = n.pfx;
		x->pfx_cap = cap;
		x->pfx_used = n.pfx_used;
	}
	return 0;
}

/*
 * index_add - a decision on p until expires_ns: the prefix's entry, its
 * expiry the longest of its decisions' (NULL: out of memory)
 */
static struct cs_pfx *index_add(struct cs_index *x, const struct mx_prefix *p,
				uint64_t expires_ns)
{
	struct cs_pfx *pe;
	bool found;

	if (index_grow(x))
		return NULL;
	pe = pfx_find(x, p, &found);
	if (!found) {
		if (!pe->count)
			x->pfx_used++;
		memset(pe, 0, sizeof(*pe));
		pe->p = *p;
		pe->count = 1;
		x->pfx_n++;
	}
	if (pe->expires_ns < expires_ns)
		pe->expires_ns = expires_ns;
	return pe;
}

/* index_del - LAPI holds p no more; true if it was held */
static bool index_del(struct cs_index *x, const struct mx_prefix *p)
{
	struct cs_pfx *pe;
	bool found;

	pe = pfx_find(x, p, &found);
	if (!found)
		return false;
	pe->count = UINT32_MAX;
	x->pfx_n--;
	return true;
}

/* The worker. */

struct body {
	char *buf;
	size_t n, cap;
	bool too_large;
};

/* on_data - curl's write callback: the answer, at most MX_CS_BODY_MAX bytes */
static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->n + n + 1 > MX_CS_BODY_MAX) {
		b->too_large = true;
		return 0;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *nb;

		while (cap < b->n + n + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->n, data, n);
	b->n += n;
	b->buf[b->n] = '\0';
	return n;
}

/* perform - one request of the job; its answer parsed where there is one to parse */
static void perform(CURL *h, struct cs_job *j)
{
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct body b = { 0 };
	CURLcode rc;

	j->status = 0;
	j->err[0] = '\0';
	curl_easy_reset(h);
	if (j->auth[0])
		hdr = curl_slist_append(hdr, j->auth);
	hdr = curl_slist_append(hdr, "Accept: application/json");
	if (j->body)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, j->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);	/* it would print the key */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CS_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)(j->startup ? CS_STARTUP_TIMEOUT : CS_TIMEOUT));
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mxguard-bouncer/" MX_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (j->body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->body);
	rc = curl_easy_perform(h);
	/* The header held the secret: gone from memory with the list. */
	for (struct curl_slist *s = hdr; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hdr);
	explicit_bzero(j->auth, sizeof(j->auth));
	if (rc != CURLE_OK) {
		snprintf(j->err, sizeof(j->err), "%s", b.too_large ?
			 "the answer is larger than the limit" : errbuf[0] ? errbuf :
			 curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &j->status);
	if (!b.buf)
		b.buf = calloc(1, 1);
	if (!b.buf) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		goto out;
	}
	if (j->kind == CS_STREAM && j->status == 200)
		mx_cs_stream_parse(b.buf, b.n, &j->stream, j->err, sizeof(j->err));
	else if (j->kind == CS_LOGIN && j->status == 200)
		mx_cs_token_parse(b.buf, b.n, j->token, sizeof(j->token), j->err, sizeof(j->err));
	else if (j->status != 200 && j->status != 201)
		snprintf(j->err, sizeof(j->err), "HTTP %ld%s%s", j->status,
			 j->status == 403 || j->status == 401 ? " (the credentials were refused)" : "",
			 j->status == 404 ? " (no such path: is it LAPI?)" : "");
out:
	free(b.buf);
}

/* worker - performs each request the loop gives it, one at a time */
static void *worker(void *arg)
{
	struct crowdsecd *cs = arg;
	CURL *h = curl_easy_init();
	uint64_t one = 1;

	pthread_mutex_lock(&cs->mu);
	for (;;) {
		while (!cs->queued && !cs->stop)
			pthread_cond_wait(&cs->cv, &cs->mu);
		if (cs->stop)
			break;
		pthread_mutex_unlock(&cs->mu);
		if (h) {
			perform(h, &cs->job);
		} else {
			snprintf(cs->job.err, sizeof(cs->job.err), "libcurl could not start");
			cs->job.status = 0;
		}
		pthread_mutex_lock(&cs->mu);
		cs->queued = false;
		cs->done = true;
		/* A full counter fails the write: the loop reads it anyway. */
		(void)!write(cs->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&cs->mu);
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

/* submit - the job, as filled in, to the worker */
static void submit(struct crowdsecd *cs)
{
	pthread_mutex_lock(&cs->mu);
	cs->queued = true;
	cs->done = false;
	cs->in_flight = true;
	pthread_cond_signal(&cs->cv);
	pthread_mutex_unlock(&cs->mu);
}

/* backoff - the next wait after an error: doubled, at most 5 min, +-20% */
static uint64_t backoff(uint64_t *b)
{
	uint64_t w = *b ? *b : CS_BACKOFF_MIN_MS;

	*b = w * 2 > CS_BACKOFF_MAX_MS ? CS_BACKOFF_MAX_MS : w * 2;
	return w - w / 5 + (uint64_t)random() % (w * 2 / 5 + 1);
}

/* Applying an answer. */

/* apply_reset - forget the answer being applied */
static void apply_reset(struct crowdsecd *cs)
{
	store_load_free(&cs->load);
	store_changes_free(&cs->changes);
	memset(&cs->load, 0, sizeof(cs->load));
	memset(&cs->changes, 0, sizeof(cs->changes));
	mx_cs_stream_free(&cs->st);
	free(cs->texts);
	free(cs->lp);
	free(cs->lexp);
	free(cs->ltext);
	cs->texts = NULL;
	cs->lp = NULL;
	cs->lexp = NULL;
	cs->ltext = NULL;
	cs->ln = cs->nch = 0;
	index_free(&cs->next);
	cs->phase = CP_NONE;
}

/* synced_now - an answer applied: the next poll in crowdsec_poll */
static void synced_now(struct crowdsecd *cs)
{
	cs->last_sync = mx_wall_ns() / MX_NS_PER_S;
	cs->state = "ok";
	cs->poll_backoff_ms = 0;
	cs->next_poll_ms = mx_mono_ms() + (uint64_t)cs->a->cfg.crowdsec_poll * 1000;
}

/* apply_failed - an answer that could not be applied: said, and a full sync next */
static void apply_failed(struct crowdsecd *cs, const char *why)
{
	uint64_t w = backoff(&cs->poll_backoff_ms);

	cs->stats.errors++;
	cs->state = "error";
	snprintf(cs->last_error, sizeof(cs->last_error), "%s", why);
	mx_log("crowdsec: cannot apply LAPI's decisions: %s; a full sync in %llus", why,
	       (unsigned long long)(w / 1000));
	cs->synced = false;
	cs->next_poll_ms = mx_mono_ms() + w;
}

/* wanted - is a decision one that becomes a ban? */
static bool wanted(struct crowdsecd *cs, const struct mx_cs_decision *d)
{
	return mx_cs_types_has(&cs->a->cfg.crowdsec_types, cs->st.text[d->type]);
}

/* expiry - a decision's end on the boot clock, and the grace after it */
static uint64_t expiry(struct crowdsecd *cs, const struct mx_cs_decision *d)
{
	return cs->now_ns + (uint64_t)d->duration_ms * 1000000ULL + cs->grace_ns;
}

/* add_change - one change of the crowdsec owner's claims */
static int add_change(struct crowdsecd *cs, const struct mx_prefix *p, uint64_t expires_ns,
		      uint16_t text, bool del)
{
	if (cs->nch == cs->ch_cap) {
		size_t cap = cs->ch_cap ? cs->ch_cap * 2 : 256;
		struct store_change *n = realloc(cs->ch, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		cs->ch = n;
		cs->ch_cap = cap;
	}
	cs->ch[cs->nch++] = (struct store_change){ .p = *p, .expires_ns = expires_ns, .text = text,
						  .del = del };
	return 0;
}

/* build_step - a startup answer's decisions into a fresh index; then the load's arrays */
static int build_step(struct crowdsecd *cs, uint64_t deadline_us)
{
	for (; cs->i < cs->st.n_new; cs->i++) {
		const struct mx_cs_decision *d = &cs->st.d[cs->i];
		struct cs_pfx *pe;

		if (cs->i % CS_SLICE == 0 && mx_mono_us() >= deadline_us)
			return 1;
		if (!wanted(cs, d) || d->duration_ms <= 0) {
			cs->stats.ignored++;
			continue;
		}
		pe = index_add(&cs->next, &d->p, expiry(cs, d));
		if (!pe)
			return -ENOMEM;
		if (pe->expires_ns == expiry(cs, d))
			pe->text = d->scenario;
	}
	cs->lp = malloc((cs->next.pfx_n + 1) * sizeof(*cs->lp));
	cs->lexp = malloc((cs->next.pfx_n + 1) * sizeof(*cs->lexp));
	cs->ltext = malloc((cs->next.pfx_n + 1) * sizeof(*cs->ltext));
	if (!cs->lp || !cs->lexp || !cs->ltext)
		return -ENOMEM;
	for (size_t i = 0; i < cs->next.pfx_cap; i++) {
		const struct cs_pfx *pe = &cs->next.pfx[i];

		if (!pe->count || pe->count == UINT32_MAX)
			continue;
		cs->lp[cs->ln] = pe->p;
		cs->lexp[cs->ln] = pe->expires_ns;
		cs->ltext[cs->ln++] = pe->text;
	}
	return 0;
}

/*
 * central_lift - a decision that an mxguard host pushed (scenario
 * mxguard/...) was deleted in LAPI: an operator lifted that ban for the
 * fleet, so this host's own engine ban of the prefix goes too, as with
 * 'ban del' (its history stays). Only a ban that was there before this
 * answer came: one made since is not the one deleted. The operator's
 * and the lists' claims stay.
 */
static void central_lift(struct crowdsecd *cs, const struct mx_prefix *p)
{
	struct mx_store *s = &cs->a->store;
	struct mx_ban c[16];
	size_t n = mx_bans_claims(&s->claims, p, c, 16);
	char err[256], pfx[64];

	for (size_t i = 0; i < n; i++) {
		if (!(c[i].flags & MX_BAN_F_AUTOMATIC) || c[i].added_ns + MX_NS_PER_S > cs->now_ns)
			continue;
		mx_format_prefix(p, pfx, sizeof(pfx));
		if (store_ban_del(s, p, MX_BAN_F_AUTOMATIC, err, sizeof(err)) < 0) {
			mx_log_limited(&cs->poll_log, "crowdsec: cannot lift %s: %s", pfx, err);
			return;
		}
		cs->stats.lifted++;
		mx_log("crowdsec: lifted the engine's ban of %s: its decision was deleted in LAPI",
		       pfx);
		return;
	}
}

/* plan_step - a later answer: deleted, then new, as changes of the claims */
static int plan_step(struct crowdsecd *cs, uint64_t deadline_us)
{
	size_t n = cs->st.n_new + cs->st.n_del;

	for (; cs->i < n; cs->i++) {
		/* "deleted" (after the new ones in st.d) first, then "new". */
		size_t k = cs->i < cs->st.n_del ? cs->st.n_new + cs->i : cs->i - cs->st.n_del;
		const struct mx_cs_decision *d = &cs->st.d[k];
		struct cs_pfx *pe;
		uint64_t old;

		if (cs->i % CS_SLICE == 0 && mx_mono_us() >= deadline_us)
			return 1;
		if (k >= cs->st.n_new) {
			/* LAPI names a value deleted once none of its decisions holds it. */
			if (wanted(cs, d) && index_del(&cs->idx, &d->p) &&
			    add_change(cs, &d->p, 0, 0, true))
				return -ENOMEM;
			if (!strncmp(cs->st.text[d->scenario], "mxguard/", 8))
				central_lift(cs, &d->p);
			continue;
		}
		if (!wanted(cs, d) || d->duration_ms <= 0) {
			cs->stats.ignored++;
			continue;
		}
		{
			bool f;
			struct cs_pfx *was = pfx_find(&cs->idx, &d->p, &f);

			old = f ? was->expires_ns : 0;
		}
		pe = index_add(&cs->idx, &d->p, expiry(cs, d));
		if (!pe)
			return -ENOMEM;
		if (pe->expires_ns > old && add_change(cs, &d->p, pe->expires_ns, d->scenario, false))
			return -ENOMEM;
	}
	return 0;
}

/* texts_of - "crowdsec: SCENARIO" for each text of the answer */
static int texts_of(struct crowdsecd *cs)
{
	cs->texts = calloc(cs->st.ntext ? cs->st.ntext : 1, sizeof(*cs->texts));
	if (!cs->texts)
		return -ENOMEM;
	for (size_t i = 0; i < cs->st.ntext; i++) {
		char *t = cs->texts[i];
		size_t n;

		snprintf(t, MX_REASON_LEN, "%s: %s", MX_CS_LIST, cs->st.text[i]);
		/* Cut at a character, not inside one. */
		n = strlen(t);
		while (n && ((unsigned char)t[n - 1] & 0xc0) == 0x80 && n == MX_REASON_LEN - 1)
			t[--n] = '\0';
		if (n && (unsigned char)t[n - 1] >= 0xc0 && n == MX_REASON_LEN - 1)
			t[--n] = '\0';
	}
	return 0;
}

/* give_up - the answer cannot be applied: said and counted (before the reset frees why), let go */
static enum mx_task_state give_up(struct crowdsecd *cs, const char *why)
{
	apply_failed(cs, why);
	apply_reset(cs);
	return MX_TASK_DONE;
}

/* apply_step - the loop's task: the answer applied, a slice at a time */
static enum mx_task_state apply_step(void *arg, uint64_t deadline_us)
{
	struct crowdsecd *cs = arg;
	int r;

	switch (cs->phase) {
	case CP_BUILD:
		r = build_step(cs, deadline_us);
		if (r > 0)
			return MX_TASK_BUSY;
		if (r < 0) {
			return give_up(cs, "out of memory");
		}
		store_load_begin(&cs->a->store, &cs->load, MX_CS_LIST, MX_CS_LIST ": LAPI",
				 &(struct mx_ban){ .flags = MX_BAN_F_BLOCKLIST, .added_ns = mx_now_ns() },
				 cs->lp, cs->ln);
		if (store_load_entries(&cs->load, cs->lexp, cs->ltext,
				       (const char (*)[MX_REASON_LEN])cs->texts, cs->st.ntext)) {
			return give_up(cs, "out of memory");
		}
		cs->phase = CP_LOAD;
		return MX_TASK_BUSY;
	case CP_LOAD:
		r = store_load_step(&cs->load, deadline_us);
		if (r)
			return r == 1 ? MX_TASK_BUSY : MX_TASK_WAITING;
		if (cs->load.ret)
			return give_up(cs, cs->load.err);
		cs->stats.applied += cs->ln;
		cs->stats.removed += cs->load.removed;
		index_free(&cs->idx);
		cs->idx = cs->next;
		memset(&cs->next, 0, sizeof(cs->next));
		cs->synced = true;
		mx_log("crowdsec: synced %llu new, %llu deleted decisions (startup): %zu prefixes "
		       "banned, %llu no longer", (unsigned long long)cs->new_n,
		       (unsigned long long)cs->del_n, cs->ln, (unsigned long long)cs->load.removed);
		synced_now(cs);
		apply_reset(cs);
		return MX_TASK_DONE;
	case CP_PLAN:
		r = plan_step(cs, deadline_us);
		if (r > 0)
			return MX_TASK_BUSY;
		if (r < 0) {
			return give_up(cs, "out of memory");
		}
		store_changes_begin(&cs->a->store, &cs->changes, MX_CS_LIST, cs->ch, cs->nch,
				    (const char (*)[MX_REASON_LEN])cs->texts, cs->st.ntext);
		cs->phase = CP_CHANGES;
		return MX_TASK_BUSY;
	case CP_CHANGES:
		r = store_changes_step(&cs->changes, deadline_us);
		if (r)
			return r == 1 ? MX_TASK_BUSY : MX_TASK_WAITING;
		if (cs->changes.ret)
			return give_up(cs, cs->changes.err);
		cs->stats.applied += cs->changes.claimed;
		cs->stats.removed += cs->changes.removed;
		if (cs->changes.failed)
			mx_log("crowdsec: %llu of LAPI's bans did not fit in the ban tables",
			       (unsigned long long)cs->changes.failed);
		synced_now(cs);
		apply_reset(cs);
		return MX_TASK_DONE;
	case CP_NONE:
		return MX_TASK_DONE;
	}
	return MX_TASK_DONE;
}

/* took_stream - LAPI's answer (the worker parsed it): applied, or the error said */
static void took_stream(struct crowdsecd *cs, struct cs_job *j)
{
	uint64_t poll_ms = (uint64_t)cs->a->cfg.crowdsec_poll * 1000;

	if (j->err[0] || j->status != 200) {
		uint64_t w = backoff(&cs->poll_backoff_ms);

		cs->stats.errors++;
		cs->state = "error";
		snprintf(cs->last_error, sizeof(cs->last_error), "%s", j->err[0] ? j->err : "no answer");
		mx_log_limited(&cs->poll_log, "crowdsec: LAPI %s unreachable: %s; retrying in %llus",
			       cs->url, cs->last_error, (unsigned long long)((w + 999) / 1000));
		cs->next_poll_ms = mx_mono_ms() + w;
		mx_cs_stream_free(&j->stream);
		return;
	}
	cs->st = j->stream;
	memset(&j->stream, 0, sizeof(j->stream));
	if (cs->st.masked)
		mx_log_limited(&cs->poll_log, "crowdsec: %llu Range decisions had host bits set; "
			       "banned as the prefix they name", (unsigned long long)cs->st.masked);
	cs->stats.ignored += cs->st.other_scope;
	cs->startup = j->startup;
	cs->new_n = cs->st.n_new;
	cs->del_n = cs->st.n_del;
	cs->now_ns = mx_now_ns();
	cs->grace_ns = (3 * poll_ms > 60000 ? 3 * poll_ms : 60000) * 1000000ULL;
	cs->i = 0;
	if (texts_of(cs)) {
		apply_failed(cs, "out of memory");
		apply_reset(cs);
		return;
	}
	if (!cs->startup && !cs->st.n_new && !cs->st.n_del) {
		synced_now(cs);
		apply_reset(cs);
		return;
	}
	cs->phase = cs->startup ? CP_BUILD : CP_PLAN;
	mx_loop_task_start(&cs->a->loop, &cs->task);
}

/* push_failed - a login or a push that failed: said (limited), tried again later */
static void push_failed(struct crowdsecd *cs, const char *what, const char *why)
{
	uint64_t w = backoff(&cs->push_backoff_ms);

	cs->stats.push_errors++;
	mx_log_limited(&cs->push_log, "crowdsec: %s to LAPI %s failed: %s; %zu waiting, retrying "
		       "in %llus", what, cs->url, why, cs->a->store.pushes.n,
		       (unsigned long long)((w + 999) / 1000));
	cs->next_push_ms = mx_mono_ms() + w;
}

/* took_login - the machine's token, or why not */
static void took_login(struct crowdsecd *cs, struct cs_job *j)
{
	if (j->err[0] || j->status != 200) {
		push_failed(cs, "the machine's login", j->err[0] ? j->err : "no answer");
		return;
	}
	snprintf(cs->token, sizeof(cs->token), "%s", j->token);
	explicit_bzero(j->token, sizeof(j->token));
	cs->token_ms = mx_mono_ms();
	cs->next_push_ms = 0;
}

/* took_alerts - LAPI acknowledged the pushes (journalled as pushed), or not */
static void took_alerts(struct crowdsecd *cs, struct cs_job *j)
{
	if (j->status == 401) {
		/* The token expired: a new one, and the push again; twice in a row backs off. */
		bool fresh = cs->token_ms && mx_mono_ms() - cs->token_ms < 5000;

		cs->token[0] = '\0';
		cs->token_ms = 0;
		if (fresh)
			push_failed(cs, "a push", "the token was refused (401)");
		return;
	}
	if (j->err[0] || (j->status != 200 && j->status != 201)) {
		push_failed(cs, "a push", j->err[0] ? j->err : "no answer");
		return;
	}
	state_cs_pushed(&cs->a->store, cs->push_ids, cs->npush);
	cs->stats.pushed += cs->npush;
	cs->push_backoff_ms = 0;
	cs->next_push_ms = 0;
}

/* on_result - the worker is done with the job */
static void on_result(void *arg, int fd, short revents)
{
	struct crowdsecd *cs = arg;
	uint64_t n;
	bool done;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&cs->mu);
	done = cs->done;
	cs->done = false;
	pthread_mutex_unlock(&cs->mu);
	if (!done)
		return;
	cs->in_flight = false;
	if (cs->job.body && cs->job.kind == CS_LOGIN)
		explicit_bzero(cs->job.body, strlen(cs->job.body));	/* the password */
	free(cs->job.body);
	cs->job.body = NULL;
	switch (cs->job.kind) {
	case CS_STREAM:
		took_stream(cs, &cs->job);
		break;
	case CS_LOGIN:
		took_login(cs, &cs->job);
		break;
	case CS_ALERTS:
		took_alerts(cs, &cs->job);
		break;
	}
	cs->npush = 0;
}

/* start_push - the oldest pushes waiting as alerts (those already over are done) */
static void start_push(struct crowdsecd *cs)
{
	struct mx_cs_pushes *q = &cs->a->store.pushes;
	int64_t now = mx_wall_ns() / MX_NS_PER_S;
	struct mx_cs_push batch[CS_PUSH_BATCH];
	uint32_t over[CS_PUSH_BATCH];
	size_t n = 0, nover = 0;

	for (size_t i = 0; i < q->n && n < CS_PUSH_BATCH && nover < CS_PUSH_BATCH; i++) {
		if (q->v[i].until_wall_s && q->v[i].until_wall_s <= now + 1)
			over[nover++] = q->v[i].id;
		else
			batch[n++] = q->v[i];
	}
	if (nover)
		state_cs_pushed(&cs->a->store, over, nover);
	if (!n)
		return;
	cs->job = (struct cs_job){ .kind = CS_ALERTS };
	cs->job.body = mx_cs_alerts_json(batch, n, cs->a->cfg.hostname, now);
	if (!cs->job.body) {
		push_failed(cs, "a push", "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		cs->push_ids[i] = batch[i].id;
	cs->npush = n;
	snprintf(cs->job.url, sizeof(cs->job.url), "%s/v1/alerts", cs->url);
	snprintf(cs->job.auth, sizeof(cs->job.auth), "Authorization: Bearer %s", cs->token);
	submit(cs);
}

/* tick - the next request, when none is in flight: a poll when due, else a push */
static void tick(void *arg)
{
	struct crowdsecd *cs = arg;
	struct agent *a = cs->a;
	uint64_t now = mx_mono_ms();

	a->store.cs_push = a->cfg.crowdsec_machine_id[0] != '\0';
	if (cs->in_flight || cs->phase != CP_NONE)
		return;
	if (now >= cs->next_poll_ms) {
		cs->job = (struct cs_job){ .kind = CS_STREAM, .startup = !cs->synced };
		snprintf(cs->job.url, sizeof(cs->job.url), "%s/v1/decisions/stream%s", cs->url,
			 cs->synced ? "" : "?startup=true");
		snprintf(cs->job.auth, sizeof(cs->job.auth), "X-Api-Key: %s", cs->key);
		submit(cs);
		return;
	}
	if (!a->store.cs_push || !a->store.pushes.n || now < cs->next_push_ms)
		return;
	if (!cs->token[0] || now - cs->token_ms > CS_TOKEN_MS) {
		cs->job = (struct cs_job){ .kind = CS_LOGIN };
		cs->job.body = mx_cs_login_json(a->cfg.crowdsec_machine_id, cs->password);
		if (!cs->job.body) {
			push_failed(cs, "the machine's login", "out of memory");
			return;
		}
		snprintf(cs->job.url, sizeof(cs->job.url), "%s/v1/watchers/login", cs->url);
		submit(cs);
		return;
	}
	start_push(cs);
}

int crowdsecd_open(struct agent *a)
{
	struct crowdsecd *cs;
	char err[600];

	if (!a->cfg.crowdsec_url[0])
		return 0;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -1;
	cs->a = a;
	cs->efd = -1;
	if (mx_cs_secret_load("crowdsec_key_file", a->cfg.crowdsec_key_file, cs->key,
			      sizeof(cs->key), err, sizeof(err)) ||
	    (a->cfg.crowdsec_machine_id[0] &&
	     mx_cs_secret_load("crowdsec_password_file", a->cfg.crowdsec_password_file,
			       cs->password, sizeof(cs->password), err, sizeof(err)))) {
		mx_log("crowdsec: %s", err);
		explicit_bzero(cs, sizeof(*cs));
		free(cs);
		return -1;
	}
	snprintf(cs->url, sizeof(cs->url), "%s", a->cfg.crowdsec_url);
	cs->state = "connecting";
	pthread_mutex_init(&cs->mu, NULL);
	pthread_cond_init(&cs->cv, NULL);
	mx_task_init(&cs->task, "crowdsec", apply_step, cs);
	cs->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->store.cs_push = a->cfg.crowdsec_machine_id[0] != '\0';
	if (cs->efd < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) ||
	    pthread_create(&cs->thread, NULL, worker, cs) ||
	    (cs->thread_on = true, mx_loop_add(&a->loop, cs->efd, POLLIN, "crowdsec", on_result, cs)) ||
	    mx_loop_timer_add(&a->loop, &cs->timer, "crowdsec", 200, tick, cs)) {
		mx_log("crowdsec: cannot start: %s", strerror(errno));
		a->crowdsecd = cs;
		crowdsecd_close(a);
		return -1;
	}
	a->crowdsecd = cs;
	mx_log("crowdsec: bouncer of %s every %llds%s%s", cs->url, (long long)a->cfg.crowdsec_poll,
	       a->cfg.crowdsec_machine_id[0] ? "; pushes as machine " : "",
	       a->cfg.crowdsec_machine_id);
	return 0;
}

void crowdsecd_close(struct agent *a)
{
	struct crowdsecd *cs = a->crowdsecd;

	if (!cs)
		return;
	if (cs->thread_on) {
		pthread_mutex_lock(&cs->mu);
		cs->stop = true;
		pthread_cond_signal(&cs->cv);
		pthread_mutex_unlock(&cs->mu);
		/* At most one request's timeout: the agent is stopping. */
		pthread_join(cs->thread, NULL);
	}
	mx_loop_task_cancel(&a->loop, &cs->task);
	mx_loop_timer_del(&a->loop, &cs->timer);
	if (cs->efd >= 0) {
		mx_loop_del(&a->loop, cs->efd);
		close(cs->efd);
	}
	apply_reset(cs);
	index_free(&cs->idx);
	free(cs->ch);
	free(cs->job.body);
	mx_cs_stream_free(&cs->job.stream);
	pthread_mutex_destroy(&cs->mu);
	pthread_cond_destroy(&cs->cv);
	explicit_bzero(cs, sizeof(*cs));
	free(cs);
	a->crowdsecd = NULL;
}

void crowdsecd_configure(struct agent *a, const char *key, const char *password)
{
	struct crowdsecd *cs = a->crowdsecd;

	if (!cs)
		return;
	snprintf(cs->key, sizeof(cs->key), "%s", key);
	snprintf(cs->password, sizeof(cs->password), "%s", password);
	cs->token[0] = '\0';
	cs->token_ms = 0;
	cs->next_push_ms = 0;
	a->store.cs_push = a->cfg.crowdsec_machine_id[0] != '\0';
	if (strcmp(cs->url, a->cfg.crowdsec_url)) {
		/* Another LAPI: what it holds is learnt afresh. */
		snprintf(cs->url, sizeof(cs->url), "%s", a->cfg.crowdsec_url);
		cs->synced = false;
		cs->state = "connecting";
	}
	cs->poll_backoff_ms = cs->push_backoff_ms = 0;
	cs->next_poll_ms = 0;
}

void crowdsecd_info(const struct agent *a, struct crowdsec_info *out)
{
	const struct crowdsecd *cs = a->crowdsecd;

	memset(out, 0, sizeof(*out));
	out->url = a->cfg.crowdsec_url;
	out->machine = a->cfg.crowdsec_machine_id[0] != '\0';
	out->pushes_pending = a->store.pushes.n;
	out->state = "off";
	if (!cs)
		return;
	out->enabled = true;
	out->state = cs->state;
	out->last_sync = cs->last_sync;
	out->decisions = cs->idx.pfx_n;
	out->last_error = cs->last_error[0] ? cs->last_error : NULL;
	out->stats = cs->stats;
}
