/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	rspamd.h - what rspamd pushes: a message's verdict, and who may push it
 * DESCRIPTION
 *	rspamd's metadata_exporter, with an http rule and formatter =
 *	"json", POSTs one JSON object per message. Its fields (rspamd 3.4,
 *	get_general_metadata() in plugins/lua/metadata_exporter.lua):
 *
 *	  ip		the client's address, or "unknown"
 *	  action	the action rspamd chose ("reject", "add header", ...)
 *	  rcpt		the SMTP recipients, an array of strings ("unknown"
 *			without any)
 *	  from		the SMTP sender ("" for a bounce, "unknown" without)
 *	  qid		the MTA's queue id, "unknown" without
 *	  score, subject, user, symbols, fuzzy, scan_time, rspamd_server,
 *	  message_id, header_from, header_to, header_subject, header_date
 *			not read (they must still be valid JSON)
 *
 *	mx_rspamd_parse() takes what mxguard needs and refuses anything
 *	else than such an object; mx_rspamd_head() judges the request head
 *	that carries it: one POST to a path with Basic credentials and a
 *	Content-Length.
 * SECURITY
 *	Untrusted input: a body of at most MX_RSPAMD_BODY_MAX bytes, valid
 *	UTF-8 with no NUL byte, one JSON object nested at most
 *	MX_RSPAMD_DEPTH deep and nothing after it; at most
 *	MX_RSPAMD_RCPTS_MAX recipients of at most MX_RSPAMD_ADDR_MAX bytes
 *	each, without control characters. A body refused changes nothing.
 *	Credentials are compared in time independent of their content.
 */
#ifndef MX_RSPAMD_H
#define MX_RSPAMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

#define MX_RSPAMD_BODY_MAX	(64 * 1024)
#define MX_RSPAMD_DEPTH		16
#define MX_RSPAMD_RCPTS_MAX	1000
#define MX_RSPAMD_ADDR_MAX	254	/* RFC 5321 4.5.3.1.3 path, less the <> */
#define MX_RSPAMD_PATH		"/rspamd"
#define MX_RSPAMD_PASSWORD_MAX	256
#define MX_RSPAMD_USER_MAX	64

/* rspamd's actions (rspamd_action_to_str() in rspamd 3.4) */
enum mx_rspamd_action {
	MX_RSPAMD_NO_ACTION,
	MX_RSPAMD_GREYLIST,
	MX_RSPAMD_ADD_HEADER,
	MX_RSPAMD_REWRITE_SUBJECT,
	MX_RSPAMD_SOFT_REJECT,
	MX_RSPAMD_REJECT,
	MX_RSPAMD_DISCARD,
	MX_RSPAMD_QUARANTINE,
	MX_RSPAMD_ACTIONS
};

/* spam_actions' default: rspamd's reject only. */
#define MX_RSPAMD_SPAM_DEFAULT	(1U << MX_RSPAMD_REJECT)

struct mx_rspamd_verdict {
	struct mx_prefix addr;		/* the client */
	enum mx_rspamd_action action;
	size_t nrcpts;
	const char *rcpts[MX_RSPAMD_RCPTS_MAX];	/* into json; valid until mx_rspamd_verdict_free */
	char qid[64];			/* for logs: printable ASCII, cut to fit */
	char from[MX_RSPAMD_ADDR_MAX + 1];	/* for logs: likewise */
	void *json;			/* the parsed document, which holds rcpts */
};

/*
 * Parse one pushed body. 0 with v filled in (free it with
 * mx_rspamd_verdict_free); -1 with a one-line reason in err and v
 * holding nothing to free.
 */
int mx_rspamd_parse(const char *body, size_t len, struct mx_rspamd_verdict *v,
		    char *err, size_t errlen);
void mx_rspamd_verdict_free(struct mx_rspamd_verdict *v);

/* An action's name as rspamd writes it ("add header"). */
const char *mx_rspamd_action_name(enum mx_rspamd_action a);
/*
 * A comma list of action names (rspamd's, or with _ for the space:
 * add_header) as a mask of 1 << action; "none" for no action. 0, or -1
 * with err naming the word it does not know.
 */
int mx_rspamd_actions_parse(const char *list, uint32_t *mask, char *err, size_t errlen);
/* The mask as a comma list, rspamd's names in enum order ("none" for 0). */
void mx_rspamd_actions_format(uint32_t mask, char *buf, size_t len);

/* Who may push: "user:password", as Basic credentials carry it. */
struct mx_rspamd_auth {
	char cred[MX_RSPAMD_USER_MAX + 1 + MX_RSPAMD_PASSWORD_MAX + 1];
	size_t len;
};

/*
 * Read the password (one line, a final newline allowed) from path, a
 * regular file (not a symbolic link) owned by root or by this process's
 * user, with no permission for group or others (0600, 0400). 0, or -1
 * with a reason in err that never holds the password.
 */
int mx_rspamd_auth_load(struct mx_rspamd_auth *a, const char *user, const char *path,
			char *err, size_t errlen);
/* Forget the credentials (the memory is cleared). */
void mx_rspamd_auth_clear(struct mx_rspamd_auth *a);

/* What mx_rspamd_head() found in a request head it accepts. */
struct mx_rspamd_request {
	size_t head_len;		/* the head, its empty line included */
	size_t body_len;		/* Content-Length */
	bool expect_continue;		/* "Expect: 100-continue" */
};

/*
 * Judge a request head (buf holds the len bytes read so far, perhaps
 * some of the body too). 0: the head is not whole yet; 100: it is, and
 * acceptable (req filled in: read body_len bytes after head_len); or the
 * status of the refusal:
 *
 *	400  not HTTP, a malformed header, Content-Length or Transfer-Encoding twice
 *	401  no Authorization, not Basic, or not auth's credentials
 *	404  a path other than MX_RSPAMD_PATH (the query aside)
 *	405  a method other than POST
 *	411  no Content-Length (a Transfer-Encoding is not served)
 *	413  a Content-Length over MX_RSPAMD_BODY_MAX
 *	414, 431, 505  a path or head too long, not HTTP/1.x (mx_http_parse)
 */
int mx_rspamd_head(const char *buf, size_t len, const struct mx_rspamd_auth *auth,
		   struct mx_rspamd_request *req);

#endif /* MX_RSPAMD_H */
