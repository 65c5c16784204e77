/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	policy.h - trap addresses and the Postfix policy delegation protocol
 * DESCRIPTION
 *	The trap file names the addresses that catch abuse, one a line:
 *
 *	    ADDRESS KIND	e.g. "never-used@example.org spam"
 *	    @DOMAIN KIND	every address of a domain
 *
 *	KIND is spam (any mail to it is a spam-trap hit) or backscatter
 *	(a bounce to it, a mail with the null sender, is a backscatter
 *	hit). "#" starts a comment. Addresses compare case-insensitively.
 *
 *	A policy request (Postfix's SMTPD_POLICY_README) is name=value lines
 *	ended by an empty line; the reply is "action=WHAT" and an empty line.
 */
#ifndef MX_POLICY_H
#define MX_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "verdict.h"

#define MX_TRAPS_MAX		1000000
#define MX_TRAP_ADDR_MAX	254	/* RFC 5321 4.5.3.1.3 path, less the <> */

struct mx_trap {
	char *addr;			/* lower case; "@domain" for a whole domain */
	enum mx_trap_kind kind;
};

struct mx_traps {
	struct mx_trap *v;		/* sorted by addr */
	size_t n;
};

/*
 * Parse a trap file over nothing: on success t holds the list (free it
 * with mx_traps_free), on error t is empty and err holds FILE:LINE
 * messages. Returns the number of errors.
 */
int mx_traps_parse(struct mx_traps *t, const char *name, const char *text, size_t len,
		   char *err, size_t errlen);
int mx_traps_load(struct mx_traps *t, const char *path, char *err, size_t errlen);
void mx_traps_free(struct mx_traps *t);
/* Is rcpt a trap? The address itself first, then its domain. */
bool mx_traps_match(const struct mx_traps *t, const char *rcpt, enum mx_trap_kind *kind);

/* A request holds at most this; a longer one is refused. */
#define MX_POLICY_REQUEST_MAX	16384

struct mx_policy_req {
	char request[32];
	char protocol_state[16];
	char client_address[64];
	char client_name[256];			/* "unknown" without forward-confirmed PTR */
	char reverse_client_name[256];		/* "unknown" without PTR */
	char helo_name[256];
	char sender[MX_TRAP_ADDR_MAX + 2];
	char recipient[MX_TRAP_ADDR_MAX + 2];
	char instance[64];			/* Postfix: "PID.SEC.USEC.SEQNO", hex, per transaction */
	char size[24];				/* MAIL FROM's SIZE=, the real size at END-OF-MESSAGE */
	bool too_long;			/* an attribute we read did not fit: no match */
};

/*
 * Read one request from buf. Returns 1 with *used set to its length when
 * a whole request is there, 0 when more is needed, -1 (and a reason in
 * err) when it is malformed or longer than MX_POLICY_REQUEST_MAX.
 */
int mx_policy_parse(const char *buf, size_t len, struct mx_policy_req *req, size_t *used,
		    char *err, size_t errlen);

/* Is the recipient's local part one RFC 5321 4.5.1 / RFC 2142 ask to accept? */
bool mx_policy_role_address(const char *rcpt);

#endif /* MX_POLICY_H */
