/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	tables.h - the data plane's maps as the agent and tests see them
 * DESCRIPTION
 *	An address table (bans, allowlist, classes) is four maps: a hash
 *	for single IPv4 addresses, one for single IPv6 addresses, and an
 *	LPM trie for shorter prefixes of each family. mx_table_*() pick
 *	the right map from the prefix, so callers never do.
 *
 *	mx_settings holds what the data plane needs from the settings;
 *	mx_dp_write() puts it into the config and class_limits maps.
 */
#ifndef MX_TABLES_H
#define MX_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "mxguard.h"
#include "parse.h"

enum mx_table_map {
	MX_EXACT4,
	MX_EXACT6,
	MX_PREFIX4,
	MX_PREFIX6,
	MX_TABLE_MAPS,
};

struct mx_table {
	const char *name;		/* "ban", "allow", "class" */
	int fd[MX_TABLE_MAPS];
	uint32_t value_size;
};

/*
 * Which maps hold entries, for the XDP program to skip the empty ones
 * (an LPM lookup costs tens of ns even when empty, a hash lookup some):
 * the MX_CFG_F_EXACT_* and _PFX_* bits and MX_CFG_F_TABLES_KNOWN in
 * config.flags. mx_presence_start() reads the maps of the three tables
 * as they are, writes the bits, and makes pr the process's one word:
 * from then on mx_table_put() on any of those maps sets its bit before
 * it adds to the map, and mx_table_del() clears a trie's bit when a
 * removal leaves the trie empty (an exact map's bit stays until the
 * next start: finding a hash map empty walks all its buckets), until
 * mx_presence_stop(). mx_dp_write_config() keeps the bits. One writer:
 * the agent's loop (the store) makes every change. The maps are known
 * by their fds, so a table struct needs nothing more.
 *
 * The IPv4 ban summary (ban4_summary, MX_CFG_F_SUMMARY_BAN4): after
 * mx_presence_start(), mx_presence_summary() rebuilds it from the ban
 * trie (the first fd of bans) and then sets its flag; from then on
 * mx_table_put() sets the bits of the /24s a ban prefix touches before
 * the prefix enters the trie, and mx_table_del() clears a /24's bit
 * after the last prefix touching it has left (counts per /24, tables.c).
 * While a prefix shorter than MX_BAN4_SUMMARY_MIN_LEN is in the trie
 * the flag is clear (the trie is always looked up). Until
 * mx_presence_summary() succeeds the flag stays clear.
 */
struct mx_presence {
	int config_fd;
	int fd[3 * MX_TABLE_MAPS];	/* the tables' maps */
	uint32_t bit[3 * MX_TABLE_MAPS];	/* and their bits */
	uint32_t flags;			/* the bits as written */
	bool on;
	/* The IPv4 ban summary, while kept (summary != NULL): */
	uint64_t *summary;		/* ban4_summary, mapped */
	uint16_t *touch;		/* per /24: trie prefixes touching it */
	uint32_t wide;			/* trie prefixes shorter than MX_BAN4_SUMMARY_MIN_LEN */
	int summary_trie;		/* the IPv4 ban trie's fd */
};

int mx_presence_start(struct mx_presence *pr, int config_fd, const struct mx_table *bans,
		      const struct mx_table *allows, const struct mx_table *classes);
/* Rebuild ban4_summary (summary_fd) from the ban trie, then keep it; 0 or -errno. */
int mx_presence_summary(struct mx_presence *pr, int summary_fd);
/*
 * The tables' changes no longer kept in pr (the bits stay in config as
 * they are, the summary's flag too: nothing may change the tables then
 * until the next start).
 */
void mx_presence_stop(struct mx_presence *pr);

int mx_table_put(const struct mx_table *t, const struct mx_prefix *p,
		 const void *val, uint64_t flags);
int mx_table_get(const struct mx_table *t, const struct mx_prefix *p, void *val);
int mx_table_del(const struct mx_table *t, const struct mx_prefix *p);
const char *mx_table_strerror(const struct mx_table *t, const struct mx_prefix *p,
			      int err, char *buf, size_t len);

/*
 * Walk every entry; cb returns non-zero to stop the walk with that
 * value. Entries are read one at a time: memory does not grow with the
 * table.
 */
typedef int (*mx_table_cb)(const struct mx_prefix *p, const void *val, void *arg);
int mx_table_foreach(const struct mx_table *t, mx_table_cb cb, void *arg);
/* The prefix a key of one of the table's maps stands for. */
void mx_table_key_prefix(enum mx_table_map m, const void *key, struct mx_prefix *p);

int mx_stats_read(int stats_fd, uint64_t sums[MX_STAT__MAX]);

/* Look an address up as the XDP program does: exact, then longest prefix. */
int mx_table_match(const struct mx_table *t, const struct mx_prefix *addr,
		   struct mx_prefix *found, void *val);

/* Data-plane settings, with the documented defaults from mx_settings_default(). */
#define MX_MAX_PORTS 16
struct mx_settings {
	uint16_t ports[MX_MAX_PORTS];
	unsigned int nports;
	uint8_t src_len4, pfx_len4;	/* bucket granularity: /32, /24 */
	uint8_t src_len6, pfx_len6;	/* /64, /48 */
	struct mx_class_limits classes[MX_MAX_CLASSES];
	uint32_t bucket_entries4, bucket_entries6;
	uint32_t exact_entries;		/* per exact-address map */
	uint32_t prefix_entries;	/* per prefix map */
	uint32_t count_entries;		/* per family: sources and prefixes with live connections */
	uint32_t flow_entries;		/* pending and live connections, each */
	bool over_limit_drop;		/* over the parallel limit: drop at XDP, not 421 */
	bool ban_reply;			/* banned: 554 from the responder, not a drop */
	uint64_t netns_cookie;		/* the guarded namespace (runtime, not a setting) */
};

void mx_settings_default(struct mx_settings *s);
int mx_dp_write_config(int config_fd, const struct mx_settings *s);
/*
 * mx_boot_offset_ms - CLOCK_BOOTTIME - CLOCK_MONOTONIC in ms, rounded
 * down (the time the host spent suspended), as config.boot_offset_ms
 * holds it. mx_dp_clock_refresh() writes it into the settings when it
 * has moved (after a resume); 1 if it did, 0 if not, -errno.
 */
uint32_t mx_boot_offset_ms(void);
int mx_dp_clock_refresh(int config_fd);
int mx_dp_write_classes(int class_limits_fd, const struct mx_settings *s);

/* The text of a reason id in the reasons map (bans.h adds and frees them). */
int mx_reason_text(int reasons_fd, uint32_t id, char *buf, size_t len);

#endif /* MX_TABLES_H */
