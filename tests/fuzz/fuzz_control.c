// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_control - libFuzzer harness for the control request parser
 * DESCRIPTION
 *	Any bytes as a request body: mx_ctl_parse_request() must refuse or
 *	give at most MX_CTL_MAX_ARGS NUL-terminated arguments inside the
 *	buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mx_request req;
	char err[160];

	if (size > MX_CTL_MAX_REQUEST)
		return 0;
	memcpy(req.buf, data, size);
	req.buf[size] = '\0';
	if (mx_ctl_parse_request(&req, size, err, sizeof(err)))
		return 0;
	if (req.argc > MX_CTL_MAX_ARGS)
		abort();
	for (int i = 0; i < req.argc; i++)
		if (req.argv[i] < req.buf || req.argv[i] + strlen(req.argv[i]) >= req.buf + size + 1)
			abort();
	return 0;
}
