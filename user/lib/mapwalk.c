// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	mapwalk.c - walk a BPF map in slices, resuming where the last one ended
 * DESCRIPTION
 *	See mapwalk.h. A slice is read first and visited second, so that the
 *	callback may delete what it is given (directly, or through one of
 *	the agent's syscall programs) without disturbing the cursor. Every
 *	access goes through maps.h, so a walk runs on memory maps in tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "mapwalk.h"
#include "maps.h"

/* mx_walk_init - a walk over the map behind fd; its sizes come from the map */
int mx_walk_init(struct mx_walk *w, int fd, uint32_t key_size, uint32_t value_size)
{
	struct mx_map_info info;
	int err;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	err = mx_map_info(fd, &info);
	if (err)
		return err;
	if ((key_size && info.key_size != key_size) || (value_size && info.value_size != value_size) ||
	    info.key_size > sizeof(w->cursor))
		return -EINVAL;
	w->key_size = info.key_size;
	w->value_size = info.value_size;
	/* Hash maps have a bucket cursor that deletes cannot disturb. */
	w->batch = info.type == BPF_MAP_TYPE_HASH || info.type == BPF_MAP_TYPE_LRU_HASH;
	return 0;
}

void mx_walk_free(struct mx_walk *w)
{
	free(w->keys);
	free(w->vals);
	w->keys = w->vals = NULL;
	w->cap = 0;
}

void mx_walk_reset(struct mx_walk *w)
{
	w->in_pass = w->held = false;
}

/* room - slice buffers for n entries (and one key more, held back) */
static int room(struct mx_walk *w, uint32_t n)
{
	uint8_t *k, *v;

	if (n <= w->cap)
		return 0;
	k = realloc(w->keys, (size_t)(n + 1) * w->key_size);
	if (!k)
		return -ENOMEM;
	w->keys = k;
	v = realloc(w->vals, (size_t)n * w->value_size);
	if (!v)
		return -ENOMEM;
	w->vals = v;
	w->cap = n;
	return 0;
}

/* end_pass - the map has been gone through */
static int end_pass(struct mx_walk *w)
{
	w->in_pass = w->held = false;
	w->passes++;
	return 1;
}

/* step_batch - one slice of a hash map with BPF_MAP_LOOKUP_BATCH */
static int step_batch(struct mx_walk *w, uint32_t max, mx_walk_cb cb, void *arg)
{
	uint8_t out[sizeof(w->cursor)];
	uint32_t count;
	int r;

	for (;;) {
		if (room(w, max))
			return -ENOMEM;
		count = max;
		r = mx_map_lookup_batch(w->fd, w->in_pass ? w->cursor : NULL, out, w->keys,
					w->vals, &count);
		if (r == -ENOSPC && max < (1U << 20)) {
			max *= 2;	/* one bucket holds more than a slice */
			continue;
		}
		break;
	}
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0) {
		w->in_pass = true;
		memcpy(w->cursor, out, sizeof(w->cursor));
	}
	for (uint32_t i = 0; i < count; i++) {
		int e = cb(w->keys + (size_t)i * w->key_size, w->vals + (size_t)i * w->value_size, arg);

		if (e)
			return e;	/* the cursor is past this slice already */
	}
	return r == 0 ? 0 : end_pass(w);
}

/* step_keys - one slice with get_next_key, holding the next key back */
static int step_keys(struct mx_walk *w, uint32_t max, mx_walk_cb cb, void *arg)
{
	uint32_t n = 1;
	bool more = false;

	if (room(w, max))
		return -ENOMEM;
	if (w->held && mx_map_lookup(w->fd, w->cursor, w->vals)) {
		w->restarts++;	/* someone else deleted the held key */
		w->held = false;
	}
	if (!w->held) {
		if (mx_map_next_key(w->fd, NULL, w->keys))
			return end_pass(w);	/* empty */
		w->in_pass = true;
	} else {
		memcpy(w->keys, w->cursor, w->key_size);
	}
	/* Keys first: up to max to visit and one more to hold. */
	while (n <= max) {
		if (mx_map_next_key(w->fd, w->keys + (size_t)(n - 1) * w->key_size,
				    w->keys + (size_t)n * w->key_size))
			break;
		n++;
	}
	if (n > max) {
		more = true;
		n = max;
		memcpy(w->cursor, w->keys + (size_t)max * w->key_size, w->key_size);
		w->held = true;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *k = w->keys + (size_t)i * w->key_size;
		int e;

		if (mx_map_lookup(w->fd, k, w->vals))
			continue;	/* deleted meanwhile */
		e = cb(k, w->vals, arg);
		if (e)
			return e;
	}
	return more ? 0 : end_pass(w);
}

/* mx_walk_step - see mapwalk.h */
int mx_walk_step(struct mx_walk *w, uint32_t max, mx_walk_cb cb, void *arg)
{
	if (!max)
		max = 1;
	return w->batch ? step_batch(w, max, cb, arg) : step_keys(w, max, cb, arg);
}
