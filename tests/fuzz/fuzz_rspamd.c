// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_rspamd - libFuzzer harness for rspamd's pushes: body, request head, actions
 * DESCRIPTION
 *	Any bytes three ways. As a body: mx_rspamd_parse() accepts a
 *	verdict within its bounds (a known action, at most 1000 recipients
 *	of 1..254 bytes of UTF-8 without control characters, printable log
 *	copies) or refuses it leaving nothing to free. As a request, at
 *	lengths the endpoint could have read so far (the first bytes,
 *	around the head's end and its limit, some between, the whole):
 *	mx_rspamd_head() answers 0 (more), 100 (go on: a head within
 *	MX_HTTP_HEAD_MAX, a body within MX_RSPAMD_BODY_MAX) or a refusal
 *	it documents, and an answer never changes as more bytes arrive;
 *	a body that is there whole is parsed too. As a setting:
 *	mx_rspamd_actions_parse() on the bytes as text.
 *	The harness's credentials are the seeds': rspamd:s3cret.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "parse.h"
#include "rspamd.h"

/* body - parse, check what came out, free */
static void body(const char *data, size_t size)
{
	struct mx_rspamd_verdict v;
	char err[256];

	if (mx_rspamd_parse(data, size, &v, err, sizeof(err))) {
		if (v.json || v.nrcpts || !err[0])
			abort();
		return;
	}
	if ((unsigned int)v.action >= MX_RSPAMD_ACTIONS || v.nrcpts > MX_RSPAMD_RCPTS_MAX || !v.json)
		abort();
	if (v.addr.family != 2 && v.addr.family != 10)	/* AF_INET, AF_INET6 */
		abort();
	for (size_t i = 0; i < v.nrcpts; i++) {
		size_t n = strlen(v.rcpts[i]);

		if (!n || n > MX_RSPAMD_ADDR_MAX || !mx_utf8_valid(v.rcpts[i]))
			abort();
		for (size_t j = 0; j < n; j++)
			if ((unsigned char)v.rcpts[i][j] < 0x20 || v.rcpts[i][j] == 0x7f)
				abort();
	}
	for (const char *p = v.qid; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	for (const char *p = v.from; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	mx_rspamd_verdict_free(&v);
}

/* known - a status mx_rspamd_head() may give */
static int known(int r)
{
	static const int ok[] = { 0, 100, 400, 401, 404, 405, 411, 413, 414, 431, 505 };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (r == ok[i])
			return 1;
	return 0;
}

/* cmp_size - for qsort */
static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mx_rspamd_auth auth = { .cred = "rspamd:s3cret", .len = 13 };
	const char *s = (const char *)data;
	size_t lens[128], nl = 0, hl = mx_http_head_len(s, size);
	struct mx_rspamd_request req;
	int first = 0;

	body(s, size);
	/*
	 * The lengths read so far that matter (every one would make each
	 * run quadratic): the first bytes, around the head's end and
	 * MX_HTTP_HEAD_MAX, the whole, and some in between.
	 */
	for (size_t n = 0; n <= 40 && n <= size; n++)
		lens[nl++] = n;
	for (size_t n = 41; n < size && nl < 100; n += 1 + size / 50)
		lens[nl++] = n;
	{
		size_t marks[] = { hl - 1, hl, hl + 1, MX_HTTP_HEAD_MAX - 1, MX_HTTP_HEAD_MAX,
				   MX_HTTP_HEAD_MAX + 1, size - 1, size };

		for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
			if (marks[i] <= size)
				lens[nl++] = marks[i];
	}
	qsort(lens, nl, sizeof(lens[0]), cmp_size);
	for (size_t i = 0; i < nl; i++) {
		size_t n = lens[i];
		int r = mx_rspamd_head(s, n, &auth, &req);

		if (!known(r) || (first && r != first))
			abort();	/* unknown, or an answer that changed */
		first = r;
		if (r != 100)
			continue;
		if (!req.head_len || req.head_len != hl || req.head_len > n ||
		    req.head_len > MX_HTTP_HEAD_MAX || req.body_len > MX_RSPAMD_BODY_MAX)
			abort();
		if (n == size && size - req.head_len >= req.body_len)
			body(s + req.head_len, req.body_len);
	}
	if (size < 512) {
		char text[512];
		uint32_t mask;
		char err[256];

		memcpy(text, data, size);
		text[size] = '\0';
		if (mx_rspamd_actions_parse(text, &mask, err, sizeof(err)) == 0 &&
		    mask >> MX_RSPAMD_ACTIONS)
			abort();
	}
	return 0;
}
