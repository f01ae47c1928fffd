/* A small open-addressing hash table from NUL-terminated string keys to
 * pointers, used by the store for its node table and by transactions for
 * their accessed-node sets.  Pure; memory from mem.h. */
#ifndef KXEN_XENSTORE_HASH_H
#define KXEN_XENSTORE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct xs_hash_slot {
	const char *key; /* NULL: empty slot */
	void *val;
	uint32_t hash;
};

struct xs_hash {
	struct xs_hash_slot *slots;
	size_t cap; /* power of two, or 0 before the first insert */
	size_t n;
};

/* A zeroed struct xs_hash is an empty table; xs_hash_clear() frees the
 * slot array (not the keys or values, which belong to the caller). */
void xs_hash_clear(struct xs_hash *h);

/* Value stored under key, or NULL. */
void *xs_hash_get(const struct xs_hash *h, const char *key);

/* Makes room for `extra` more entries so that the next `extra` inserts of
 * new keys cannot fail.  0 or -ENOMEM. */
int xs_hash_reserve(struct xs_hash *h, size_t extra);

/* Inserts or replaces key -> val.  key must stay valid (and unchanged)
 * while it is in the table; on replace the stored key pointer becomes
 * `key`.  0 or -ENOMEM (only when growing; see xs_hash_reserve). */
int xs_hash_put(struct xs_hash *h, const char *key, void *val);

/* Removes key; returns its value or NULL when absent. */
void *xs_hash_del(struct xs_hash *h, const char *key);

/* Iteration: *pos starts at 0; returns the next value (and its key in
 * *key when key is not NULL) or NULL at the end.  The table must not be
 * modified during an iteration. */
void *xs_hash_next(const struct xs_hash *h, size_t *pos, const char **key);

#endif
