// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_crowdsec - libFuzzer harness for LAPI's answers and Go durations
 * DESCRIPTION
 *	Any bytes as an answer to GET /v1/decisions/stream: either refused
 *	with a reason and nothing left to free, or decisions within the
 *	bounds (crowdsec.h): IPv4 or IPv6 prefixes of a valid length, texts
 *	that index the answer's table. The same bytes as a login answer and,
 *	as text, as a Go duration and as crowdsec_decision_types.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crowdsec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mx_cs_stream st;
	struct mx_cs_types t;
	char err[256], token[256], *buf = malloc(size + 1);
	int64_t ms;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (mx_cs_stream_parse(buf, size, &st, err, sizeof(err))) {
		if (st.d || st.text || !err[0])
			abort();
	} else {
		if (st.n_new + st.n_del > MX_CS_DECISIONS_MAX)
			abort();
		for (size_t i = 0; i < st.n_new + st.n_del; i++) {
			const struct mx_cs_decision *d = &st.d[i];

			if (!d->id || d->scenario >= st.ntext || d->type >= st.ntext)
				abort();
			if (!((d->p.family == 2 && d->p.len <= 32) || (d->p.family == 10 && d->p.len <= 128)))
				abort();
			if (strlen(st.text[d->scenario]) > MX_CS_TEXT_MAX)
				abort();
		}
		mx_cs_stream_free(&st);
	}
	if (mx_cs_token_parse(buf, size, token, sizeof(token), err, sizeof(err)) == 0 && !token[0])
		abort();
	if (strlen(buf) == size) {
		if (mx_cs_duration(buf, &ms) == 0 && (ms > 10LL * 366 * 86400 * 1000 ||
						      ms < -10LL * 366 * 86400 * 1000))
			abort();
		if (mx_cs_types_parse(buf, &t, err, sizeof(err)) == 0 &&
		    (!t.n || t.n > MX_CS_TYPES_MAX))
			abort();
	}
	free(buf);
	return 0;
}
