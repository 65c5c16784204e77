/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	responder.h - the agent's small SMTP responder (421 and 554)
 */
#ifndef MX_RESPONDER_H
#define MX_RESPONDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct responder_settings {
	const char *hostname;		/* in every reply */
	const char *policy_url;		/* in the 554 reply */
	const char *text_over_limit;	/* after "421 4.7.0 " (text.h); NULL: Postfix's */
	const char *text_banned;	/* after "554 5.7.1 "; NULL: "%h %r; see %u" */
	unsigned int max_clients;	/* sessions held at once; default 256 */
	unsigned int timeout_ms;	/* a whole 554 session, and any write; default 10000 */
	unsigned int max_line;		/* longest command line; default 512 (RFC 5321 4.5.3.1.4) */
};

enum responder_verdict {
	RESP_TOO_MANY,			/* 421 4.7.0 and close */
	RESP_BANNED,			/* 554 5.7.1, then wait for QUIT */
};

typedef enum responder_verdict (*responder_classify_fn)(void *arg, const struct sockaddr *peer,
							socklen_t len, char *reason,
							size_t reason_len);

struct responder_stats {
	uint64_t accepted, replied_421, replied_554, replied_221, replied_503;
	uint64_t refused_full, timeouts, line_too_long, write_errors, active;
};

struct responder;

struct responder *responder_new(const struct responder_settings *s,
				responder_classify_fn fn, void *arg);
int responder_add_listener(struct responder *r, int listen_fd);
int responder_fd(const struct responder *r);
void responder_run(struct responder *r);
int responder_next_timeout_ms(const struct responder *r);
void responder_stats(const struct responder *r, struct responder_stats *out);
void responder_free(struct responder *r);
/* New texts and session limit for sessions from now on (a reload). */
void responder_configure(struct responder *r, const struct responder_settings *s);

#endif /* MX_RESPONDER_H */
