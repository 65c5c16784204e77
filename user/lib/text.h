/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	text.h - reply texts with placeholders, as operators write them
 * DESCRIPTION
 *	A reply text is what follows the reply code and enhanced status
 *	("421 4.7.0 ") in a line to a sender. It may name:
 *
 *	    %h  the host name (hostname)	%a  the client's address
 *	    %r  the reason (a ban's reason)	%u  the policy URL (policy_url)
 *	    %s  the samples address(es)	%%  a percent sign
 *
 *	Texts are printable ASCII; an expanded text is cut to fit one SMTP
 *	reply line (RFC 5321 4.5.3.1.5: 512 octets with code and CRLF), and
 *	what it takes from outside (reasons, addresses) is cut to printable
 *	ASCII first, so no sender can inject a line break.
 */
#ifndef MX_TEXT_H
#define MX_TEXT_H

#include <stddef.h>

#define MX_TEXT_MAX	256	/* a template, with its NUL */
#define MX_TEXT_OUT	480	/* an expanded text, with its NUL */

struct mx_text_vars {
	const char *host, *addr, *reason, *url, *samples;
};

/* 0, or -1 with the reason in err: a bad character or placeholder. */
int mx_text_check(const char *tmpl, char *err, size_t errlen);
/* The text with its placeholders filled in; returns its length. */
size_t mx_text_expand(char *out, size_t len, const char *tmpl, const struct mx_text_vars *v);

#endif /* MX_TEXT_H */
