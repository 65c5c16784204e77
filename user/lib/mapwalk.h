/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	mapwalk.h - walk a BPF map in slices, resuming where the last one ended
 * DESCRIPTION
 *	The agent's periodic walks (expired bans, half-open connections,
 *	reconciliation) must be linear in the map's size and bounded per
 *	turn of the event loop. bpf_map_get_next_key() from a key that was
 *	just deleted starts again from the first bucket, which makes a walk
 *	that deletes as it goes quadratic. A walk here never resumes from a
 *	key it handed to its caller:
 *
 *	  - hash maps are read with BPF_MAP_LOOKUP_BATCH, whose cursor is a
 *	    bucket index: deleting what was read does not move it;
 *	  - other maps (LPM tries) are read with get_next_key, one key
 *	    ahead: the walk holds the next key back and resumes from it,
 *	    so the caller may delete every key it was given. Only a delete
 *	    by someone else of that one held key restarts the pass (counted
 *	    in restarts).
 *
 *	Each call to mx_walk_step() visits at most max entries; a pass ends
 *	when the map has been gone through once, and the next step starts
 *	another.
 */
#ifndef MX_MAPWALK_H
#define MX_MAPWALK_H

#include <stdbool.h>
#include <stdint.h>

/* Called for each entry; a non-zero return stops the step with that value. */
typedef int (*mx_walk_cb)(const void *key, const void *val, void *arg);

struct mx_walk {
	int fd;
	uint32_t key_size, value_size;
	bool batch;		/* BPF_MAP_LOOKUP_BATCH works on this map */
	bool in_pass;		/* a pass has begun and not ended */
	bool held;		/* get_next_key: cursor holds the next key to visit */
	uint8_t cursor[64];	/* batch: the kernel's opaque cursor; else the held key */
	uint8_t *keys, *vals;	/* one slice */
	uint32_t cap;		/* entries the slice buffers hold */
	uint64_t passes;	/* completed */
	uint64_t restarts;	/* passes begun again because the held key went */
};

int mx_walk_init(struct mx_walk *w, int fd, uint32_t key_size, uint32_t value_size);
void mx_walk_free(struct mx_walk *w);
/* Forget the pass in progress: the next step starts a new one. */
void mx_walk_reset(struct mx_walk *w);
/*
 * Visit up to max entries. Returns 1 when this step ended a pass (the
 * map was gone through), 0 when more remain, or a negative errno (or
 * the callback's non-zero value).
 */
int mx_walk_step(struct mx_walk *w, uint32_t max, mx_walk_cb cb, void *arg);

#endif /* MX_MAPWALK_H */
