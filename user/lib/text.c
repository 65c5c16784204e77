// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	text.c - reply texts with placeholders (see text.h)
 */
#include <stdio.h>
#include <string.h>

#include "text.h"

int mx_text_check(const char *tmpl, char *err, size_t errlen)
{
	if (strlen(tmpl) >= MX_TEXT_MAX) {
		snprintf(err, errlen, "longer than %d characters", MX_TEXT_MAX - 1);
		return -1;
	}
	for (const char *p = tmpl; *p; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen, "only printable ASCII may go to a sender");
			return -1;
		}
		if (*p != '%')
			continue;
		p++;
		if (!*p || !strchr("hrasu%", *p)) {
			snprintf(err, errlen, "unknown placeholder '%%%.1s' (use %%h %%a %%r %%u %%s %%%%)",
				 p);
			return -1;
		}
	}
	return 0;
}

/* put - append printable ASCII of s, as much as fits */
static void put(char *out, size_t len, size_t *n, const char *s)
{
	for (; s && *s && *n + 1 < len; s++)
		if (*s >= 0x20 && *s < 0x7f)
			out[(*n)++] = *s;
}

size_t mx_text_expand(char *out, size_t len, const char *tmpl, const struct mx_text_vars *v)
{
	size_t n = 0;

	if (!len)
		return 0;
	for (const char *p = tmpl; *p && n + 1 < len; p++) {
		char one[2] = { *p, '\0' };

		if (*p != '%' || !p[1]) {
			put(out, len, &n, one);
			continue;
		}
		switch (*++p) {
		case 'h': put(out, len, &n, v->host); break;
		case 'a': put(out, len, &n, v->addr); break;
		case 'r': put(out, len, &n, v->reason); break;
		case 'u': put(out, len, &n, v->url); break;
		case 's': put(out, len, &n, v->samples); break;
		default: one[0] = *p; put(out, len, &n, one); break;
		}
	}
	out[n] = '\0';
	return n;
}
