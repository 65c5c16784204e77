/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	zonefile.h - the lines of the rbldnsd data files mxguardd publishes
 * DESCRIPTION
 *	mxguardd publishes its listing (and, if asked, its bans) as DNSBL
 *	zones (RFC 5782) in files that rbldnsd(8) serves: IPv4 as an
 *	ip4set, IPv6 as an ip6trie. A file is a comment header, a default
 *	line ":A:TXT" that gives every entry after it its A answer and TXT
 *	template, and one entry a line: an address, or a prefix in CIDR
 *	notation. (The agent writes the files whole and renames them into
 *	place: zone.c.)
 *
 *	The TXT template is an operator's text (text.h placeholders) made
 *	into what rbldnsd reads:
 *
 *	  - %a becomes "$", which rbldnsd replaces with the address asked
 *	    about: one default line serves every entry;
 *	  - everything else is printable ASCII; a "$" becomes "$$", so that
 *	    rbldnsd never takes "$1".."$9" or "$=" for its variables;
 *	  - blanks at both ends are dropped (rbldnsd drops them) and a
 *	    leading "=" is doubled (rbldnsd drops one);
 *	  - the text is cut, between characters, to what rbldnsd answers
 *	    whole: at most 255 bytes as written, and at most 254 once each
 *	    "$" stands for the longest address (39 characters).
 * SECURITY
 *	What a template takes from outside (ban reasons) is cut to
 *	printable ASCII first, as in replies to senders: no line break, no
 *	NUL, no rbldnsd variable gets into a data file.
 */
#ifndef MX_ZONEFILE_H
#define MX_ZONEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "text.h"

#define MX_ZONE_TXT_MAX		256	/* a TXT template as written, with its NUL */
#define MX_ZONE_LINE_MAX	(MX_ZONE_TXT_MAX + 24)	/* a default line, with its NUL */
#define MX_ZONE_ENTRY_MAX	48	/* an entry line, with its NUL */
#define MX_ZONE_A_DEFAULT	"127.0.0.2"

/*
 * Is s an A answer for a DNSBL: an IPv4 address in 127.0.0.0/8, but not
 * 127.0.0.0, 127.0.0.1 (RFC 5782 2.1: localhost) or 127.255.255.0/24
 * (DNSBLs answer errors there)? 0, or -1 with why in err.
 */
int mx_zone_a_check(const char *s, char *err, size_t errlen);

/* The TXT template for rbldnsd from tmpl (see above); returns its length. */
size_t mx_zone_txt(char *out, size_t len, const char *tmpl, const struct mx_text_vars *v);

/*
 * The opening comment of a data file: its name, what it holds, its
 * dataset type, who wrote it and when (wall_s, UTC). Returns its length
 * (as snprintf).
 */
int mx_zone_header(char *out, size_t len, const char *file, const char *what,
		   const char *dataset, const char *host, int64_t wall_s);

/* The default line ":A:TXT\n" (as snprintf). */
int mx_zone_default(char *out, size_t len, const char *a, const char *txt);

/*
 * One entry: "ADDR\n", or "ADDR/LEN\n" for a prefix; IPv6 in hexadecimal
 * groups (RFC 5952, never dotted), as rbldnsd reads them. 0 when p is not
 * listed at all (a /0: no DNSBL lists every address), else the length.
 */
int mx_zone_entry(char *out, size_t len, const struct mx_prefix *p);

#endif /* MX_ZONEFILE_H */
