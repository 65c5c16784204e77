/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	rawpkt.h - what the raw-packet test tools share
 * DESCRIPTION
 *	The Internet checksum (RFC 1071) and the test ranges: synflood and
 *	lateack build their own IPv4, IPv6 and TCP headers, and send only
 *	from and to 198.18.0.0/15 and 2001:db8::/32.
 */
#ifndef MX_RAWPKT_H
#define MX_RAWPKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* in_test_range - 198.18.0.0/15 or 2001:db8::/32 */
static inline int in_test_range(int family, const uint8_t *a)
{
	if (family == AF_INET)
		return a[0] == 198 && (a[1] & 0xfe) == 18;
	return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8;
}

/* csum_add - add len bytes to a ones' complement sum */
static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint16_t w;

	for (; len > 1; len -= 2, p += 2) {
		memcpy(&w, p, 2);
		sum += w;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, 1);
		sum += w;
	}
	return sum;
}

/* csum_fold - the checksum of a sum */
static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif /* MX_RAWPKT_H */
