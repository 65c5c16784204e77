/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	sockdiag.h - the kernel's TCP sockets, through NETLINK_SOCK_DIAG
 */
#ifndef MX_SOCKDIAG_H
#define MX_SOCKDIAG_H

#include <stdbool.h>
#include <stdint.h>

struct mx_sock {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t state;			/* TCP_* as inet_diag reports it */
	uint8_t local[16], remote[16];	/* network order; IPv4 in the first 4 bytes */
	uint16_t lport, rport;		/* host order */
	uint64_t cookie;		/* as bpf_get_socket_cookie() */
	uint32_t inode;
};

typedef int (*mx_sock_cb)(const struct mx_sock *s, void *arg);

int mx_sockdiag_walk(int family, uint32_t states, uint16_t lport, mx_sock_cb cb, void *arg);
int mx_sockdiag_destroy(const struct mx_sock *s);
bool mx_sock_is_v4mapped(const struct mx_sock *s);

#endif /* MX_SOCKDIAG_H */
