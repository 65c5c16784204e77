/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	crowdsec.h - CrowdSec's Local API: its decisions, and alerts for it
 * DESCRIPTION
 *	mxguardd is a CrowdSec bouncer and a machine (crowdsecd.c does the
 *	talking). This is what it says and hears, without any I/O:
 *
 *	  - mx_cs_stream_parse(): the answer to GET /v1/decisions/stream,
 *	    {"new": [DECISION...] | null, "deleted": [DECISION...] | null},
 *	    each DECISION {"id", "origin", "type", "scope", "value",
 *	    "duration", "scenario", ...} (crowdsec 1.4, pkg/models/decision.go).
 *	    Decisions of scope Ip and Range, IPv4 and IPv6, are kept; other
 *	    scopes (Country, AS, Username...) are counted and left out. A
 *	    Range with host bits set is masked and counted.
 *	  - mx_cs_duration(): Go's time.Duration text ("3h59m58.52s", "-1.5s").
 *	  - mx_cs_login_json(), mx_cs_token_parse(): POST /v1/watchers/login.
 *	  - mx_cs_alerts_json(): POST /v1/alerts, one alert with its one ban
 *	    decision for each of mxguard's own bans.
 *	  - struct mx_cs_pushes: the bans waiting to be pushed (journalled by
 *	    the store; a push leaves it when LAPI acknowledged it).
 * SECURITY
 *	LAPI's answers are untrusted input: at most MX_CS_BODY_MAX bytes of
 *	valid UTF-8 JSON nested at most MX_CS_DEPTH deep, with nothing after
 *	it, at most MX_CS_DECISIONS_MAX decisions, MX_CS_TEXTS_MAX distinct
 *	scenario and type texts, every field of its type and length. Anything
 *	else is an error that changes nothing: the caller keeps what it had.
 */
#ifndef MX_CROWDSEC_H
#define MX_CROWDSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define MX_CS_BODY_MAX		(512U << 20)	/* about 2,000,000 decisions */
#define MX_CS_DEPTH		8
#define MX_CS_DECISIONS_MAX	2000000
#define MX_CS_TEXTS_MAX		4096		/* distinct scenarios and types in one answer */
#define MX_CS_TEXT_MAX		96		/* a scenario kept (longer: cut at a character) */
#define MX_CS_FIELD_MAX		4096		/* any string field; longer is malformed */
#define MX_CS_TYPES_MAX		8		/* crowdsec_decision_types */
#define MX_CS_TYPE_MAX		32
#define MX_CS_TOKEN_MAX		4096
#define MX_CS_SECRET_MAX	512		/* a bouncer key or a machine's password */
#define MX_CS_LIST		"crowdsec"	/* the owner of LAPI's bans: a reserved list name */

/* One decision as LAPI gave it. */
struct mx_cs_decision {
	uint64_t id;
	struct mx_prefix p;
	int64_t duration_ms;		/* what remains of it; 0 or less: over */
	uint16_t scenario, type;	/* texts of the stream (mx_cs_stream.text) */
};

struct mx_cs_stream {
	struct mx_cs_decision *d;	/* n_new new ones, then n_del deleted ones */
	size_t n_new, n_del;
	char (*text)[MX_CS_TEXT_MAX + 1];
	size_t ntext;
	uint64_t other_scope;		/* left out: neither Ip nor Range */
	uint64_t masked;		/* Ranges whose host bits were set, masked */
};

/* Parse an answer of len bytes; body[len] must be readable (a NUL). 0, or -1 with err. */
int mx_cs_stream_parse(const char *body, size_t len, struct mx_cs_stream *s, char *err,
		       size_t errlen);
void mx_cs_stream_free(struct mx_cs_stream *s);

/* A Go duration as milliseconds (rounded toward zero), at most ten years either way. */
int mx_cs_duration(const char *s, int64_t *ms);

/*
 * crowdsec_decision_types: "ban,captcha" into a list. 0, or -1 with why
 * (an empty list, a type that is not 1..MX_CS_TYPE_MAX of [a-z0-9_-]).
 */
struct mx_cs_types {
	unsigned int n;
	char t[MX_CS_TYPES_MAX][MX_CS_TYPE_MAX + 1];
};
int mx_cs_types_parse(const char *s, struct mx_cs_types *t, char *err, size_t errlen);
bool mx_cs_types_has(const struct mx_cs_types *t, const char *type);

/*
 * A bouncer key or a machine's password from a file: a regular file
 * owned by root (or the agent's user), mode 0600 or 0400, one line of
 * 1..MX_CS_SECRET_MAX printable characters. what names the setting in
 * errors; the secret never appears in them.
 */
int mx_cs_secret_load(const char *what, const char *path, char *out, size_t outlen,
		      char *err, size_t errlen);

/* Login: the request's body (malloc'd), and the token of its answer. */
char *mx_cs_login_json(const char *machine_id, const char *password);
int mx_cs_token_parse(const char *body, size_t len, char *token, size_t toklen, char *err,
		      size_t errlen);

/* One of mxguard's bans to push. */
struct mx_cs_push {
	uint32_t id;			/* names it in the journal */
	uint32_t hits;			/* the events that made it (0: an operator's) */
	struct mx_prefix p;
	int64_t at_wall_s;		/* when it was made */
	int64_t until_wall_s;		/* when it ends; 0: permanent */
	char scenario[48];		/* "mxguard/spam-trap" */
};

/*
 * POST /v1/alerts: an alert for each push with one ban decision for the
 * time it has left at now_wall_s (origin "mxguard"; permanent: ten
 * years). The body, malloc'd; NULL when out of memory.
 */
char *mx_cs_alerts_json(const struct mx_cs_push *p, size_t n, const char *hostname,
			int64_t now_wall_s);

/* The pushes waiting, oldest first, at most MX_CS_PUSHES_MAX. */
#define MX_CS_PUSHES_MAX	100000
struct mx_cs_pushes {
	struct mx_cs_push *v;
	size_t n, cap;
	uint32_t next_id;
};
/* Add one (p->id 0: a new id is given, and set in *p). 0, -ENOSPC or -ENOMEM. */
int mx_cs_pushes_add(struct mx_cs_pushes *q, struct mx_cs_push *p);
/* The push of that id is done (acknowledged, or over); 1 if it was there. */
int mx_cs_pushes_done(struct mx_cs_pushes *q, uint32_t id);
void mx_cs_pushes_free(struct mx_cs_pushes *q);

#endif /* MX_CROWDSEC_H */
