/* Open-addressing string hash table with linear probing and backward-shift
 * deletion (no tombstones), see hash.h. */
#include "hash.h"

#include <errno.h>
#include <string.h>

#include "mem.h"

static uint32_t xs_hash_str(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

void xs_hash_clear(struct xs_hash *h)
{
	xs_free(h->slots);
	h->slots = NULL;
	h->cap = 0;
	h->n = 0;
}

static size_t xs_hash_find(const struct xs_hash *h, const char *key,
			   uint32_t hv)
{
	size_t mask = h->cap - 1, i = hv & mask;

	while (h->slots[i].key) {
		if (h->slots[i].hash == hv && !strcmp(h->slots[i].key, key))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

void *xs_hash_get(const struct xs_hash *h, const char *key)
{
	size_t i;

	if (!h->cap)
		return NULL;
	i = xs_hash_find(h, key, xs_hash_str(key));
	return h->slots[i].key ? h->slots[i].val : NULL;
}

static int xs_hash_resize(struct xs_hash *h, size_t cap)
{
	struct xs_hash_slot *old = h->slots;
	size_t oldcap = h->cap, i, j;

	h->slots = xs_calloc(cap, sizeof(*h->slots));
	if (!h->slots) {
		h->slots = old;
		return -ENOMEM;
	}
	h->cap = cap;
	for (i = 0; i < oldcap; i++) {
		if (!old[i].key)
			continue;
		j = old[i].hash & (cap - 1);
		while (h->slots[j].key)
			j = (j + 1) & (cap - 1);
		h->slots[j] = old[i];
	}
	xs_free(old);
	return 0;
}

int xs_hash_reserve(struct xs_hash *h, size_t extra)
{
	size_t want = h->n + extra, cap = h->cap ? h->cap : 16;

	/* Keep the load factor at or below 1/2. */
	while (want * 2 > cap)
		cap *= 2;
	if (cap == h->cap)
		return 0;
	return xs_hash_resize(h, cap);
}

int xs_hash_put(struct xs_hash *h, const char *key, void *val)
{
	uint32_t hv = xs_hash_str(key);
	size_t i;
	int rc;

	if (h->cap) {
		i = xs_hash_find(h, key, hv);
		if (h->slots[i].key) {
			h->slots[i].key = key;
			h->slots[i].val = val;
			return 0;
		}
	}
	rc = xs_hash_reserve(h, 1);
	if (rc)
		return rc;
	i = xs_hash_find(h, key, hv);
	h->slots[i].key = key;
	h->slots[i].val = val;
	h->slots[i].hash = hv;
	h->n++;
	return 0;
}

void *xs_hash_del(struct xs_hash *h, const char *key)
{
	size_t mask, i, j, k;
	void *val;

	if (!h->cap)
		return NULL;
	mask = h->cap - 1;
	i = xs_hash_find(h, key, xs_hash_str(key));
	if (!h->slots[i].key)
		return NULL;
	val = h->slots[i].val;
	h->slots[i].key = NULL;
	h->n--;
	/* Backward shift: move later entries of the probe run into the hole
	 * when their home slot does not lie cyclically in (hole, j]. */
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!h->slots[j].key)
			break;
		k = h->slots[j].hash & mask;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			h->slots[i] = h->slots[j];
			h->slots[j].key = NULL;
			i = j;
		}
	}
	return val;
}

void *xs_hash_next(const struct xs_hash *h, size_t *pos, const char **key)
{
	while (*pos < h->cap) {
		const struct xs_hash_slot *s = &h->slots[(*pos)++];

		if (s->key) {
			if (key)
				*key = s->key;
			return s->val;
		}
	}
	return NULL;
}
