/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	blocklist.h - address lists to ban: plain, Spamhaus DROP, gzip
 */
#ifndef MX_BLOCKLIST_H
#define MX_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "parse.h"

enum mx_bl_format {
	MX_BL_EMPTY,		/* nothing but comments */
	MX_BL_PLAIN,		/* one address or prefix a line */
	MX_BL_DROP_TXT,		/* "prefix ; SBLnnn" (drop.txt) */
	MX_BL_DROP_JSON,	/* one JSON object a line (drop_v4.json, drop_v6.json) */
};

struct mx_bl_report {
	enum mx_bl_format format;
	unsigned long entries;		/* prefixes handed to the callback */
	unsigned long skipped;		/* bad lines skipped (lenient mode) */
	unsigned long first_bad_line;
};

typedef int (*mx_bl_cb)(const struct mx_prefix *p, void *arg);

/*
 * Parse a whole list. Each line is judged alone; a bad line fails the
 * parse with "NAME:LINE: message" in err, unless lenient, when it is
 * skipped and counted. cb returning non-zero stops the parse with that
 * value. Returns 0 or -1 (bad input) or cb's value.
 */
int mx_blocklist_parse(const char *name, const char *text, size_t len, bool lenient,
		       mx_bl_cb cb, void *arg, struct mx_bl_report *rep, char *err, size_t errlen);

/* Read a file, gunzipping it when it is gzip; *len gets the size. Bounded. */
char *mx_blocklist_read(const char *path, size_t *len, char *err, size_t errlen);

const char *mx_bl_format_name(enum mx_bl_format f);

#endif /* MX_BLOCKLIST_H */
