/* The byte format kxend persists the store in: one record per committed
 * change (struct xs_change), with a CRC, batched by END records.  The same
 * records make up both the append-only journal and the snapshot (a dump of
 * the whole state), so loading is "apply the snapshot, then the journal".
 * Pure: encoding into memory and decoding from memory; the file handling is
 * src/kxend/persist.c.
 *
 * Record: u32 type, u32 payload length, payload, u32 CRC-32 of the three
 * before it; all little-endian.  Every record states the full new value of
 * what it names (a node's whole record, a deletion, a watch), so applying a
 * record twice, or a journal over a snapshot that already contains part of
 * it, gives the same state. */
#ifndef KXEN_XENSTORE_JOURNAL_H
#define KXEN_XENSTORE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "xenstore/store.h"

/* First bytes of each file. */
#define XS_JOURNAL_MAGIC "KXENDJ1\n"
#define XS_SNAPSHOT_MAGIC "KXENDS1\n"
#define XS_FILE_MAGIC_LEN 8

/* A growable output buffer (zeroed = empty). */
struct xs_jbuf {
	uint8_t *data;
	size_t len, cap;
};

/* Appends the record for c.  0 or -ENOMEM (buffer unchanged). */
int xs_journal_append(struct xs_jbuf *b, const struct xs_change *c);
void xs_jbuf_reset(struct xs_jbuf *b); /* len = 0, keeps the memory */
void xs_jbuf_free(struct xs_jbuf *b);

/* Scans buf: *good gets the length of the longest prefix made of whole,
 * valid records ending with an END record (0 when none).  Returns the
 * number of complete batches in that prefix. */
size_t xs_journal_scan(const void *buf, size_t len, size_t *good);

/* Applies the records of buf[0, len) to s (len from xs_journal_scan) with
 * the xs_store_restore_* calls.  0, -EBADMSG (a record that does not apply,
 * e.g. a watch of an unknown domain) or -ENOMEM. */
int xs_journal_apply(struct xs_store *s, const void *buf, size_t len);

/* CRC-32 (IEEE 802.3) of len bytes, continuing from crc (start with 0). */
uint32_t xs_crc32(uint32_t crc, const void *buf, size_t len);

#endif
