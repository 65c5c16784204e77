// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_config - libFuzzer harness for the settings parser
 * DESCRIPTION
 *	Any bytes as a settings file: mx_config_parse() must accept or
 *	refuse, never crash, and on refusal leave the settings unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mx_config_file c, before;
	char err[1024];
	int n;

	mx_config_default(&c);
	before = c;
	n = mx_config_parse(&c, "fuzz", (const char *)data, size, err, sizeof(err));
	if (n && memcmp(&c, &before, sizeof(c)))
		abort();	/* a refused file changed the settings */
	if (n && !err[0])
		abort();	/* refused without a reason */
	return 0;
}
