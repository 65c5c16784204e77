// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_blocklist - libFuzzer harness for the blocklist parser
 * DESCRIPTION
 *	Any bytes as a list, strict and lenient: every prefix handed out is
 *	valid (no host bits under its length), a strict failure names a
 *	line, and the lenient count of entries and skipped lines adds up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blocklist.h"

/* check - every prefix must be what mx_parse_prefix would accept */
static int check(const struct mx_prefix *p, void *arg)
{
	uint8_t mask[16];
	unsigned long *n = arg;

	if (p->family == 2 ? p->len > 32 : p->len > 128)
		abort();
	mx_prefix_mask(p->family, p->len, mask);
	for (int i = 0; i < 16; i++)
		if (p->addr[i] & ~mask[i])
			abort();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mx_bl_report rep;
	unsigned long n = 0;
	char err[256];

	if (mx_blocklist_parse("fuzz", (const char *)data, size, false, check, &n, &rep,
			       err, sizeof(err)) && strncmp(err, "fuzz:", 5))
		abort();	/* a refusal must name its line */
	n = 0;
	if (mx_blocklist_parse("fuzz", (const char *)data, size, true, check, &n, &rep,
			       err, sizeof(err)) || n != rep.entries)
		abort();
	return 0;
}
