/* What the block storage engines (blk_storage_raw.c, blk_storage_nbd.c)
 * share: the object every engine embeds first, the per-request record,
 * and the one completion path to the owner's thread.  Private to
 * src/backends/blk_storage*.c; users include blk_storage.h.
 *
 * Completion path: an engine finishes a request either from its own reap
 * hook (io_uring's completion queue, read on the owner's thread) or by
 * blk_storage_post() from any thread (worker pool, libnbd callbacks),
 * which queues the request under a lock and signals the event fd.  Either
 * way done() runs only inside blk_storage_complete(), via
 * blk_storage_finish(). */
#ifndef KXEN_BACKENDS_BLK_STORAGE_ENGINE_H
#define KXEN_BACKENDS_BLK_STORAGE_ENGINE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/blk_storage.h"

struct blk_storage;

/* One accepted request.  Recycled through a free list of the storage
 * (owner's thread only), so that a steady load allocates nothing. */
struct blk_storage_req {
	struct blk_io *io;
	struct blk_storage *s;
	struct blk_storage_req *next; /* free list, worker queue, posted */
	int err;		      /* result, set before posting */
	/* Raw engines: how far a READ/WRITE got (continued transfers). */
	uint64_t done;	       /* bytes moved */
	unsigned seg;	       /* io->iov entry where the rest starts */
	size_t seg_off;	       /* bytes of io->iov[seg] already moved */
	struct iovec *scratch; /* rest of the iovecs when seg_off != 0 */
	/* qemu-nbd engine. */
	void *bounce;	  /* linear copy of scattered iovecs */
	unsigned pending; /* NBD commands unanswered, +1 while issuing */
};

struct blk_storage_engine {
	const char *name;
	/* Finishes what completed in the engine's own queue (not posted);
	 * NULL when the engine only posts.  Returns how many done() calls
	 * it made.  Called from blk_storage_complete() after the event fd
	 * was cleared. */
	unsigned (*reap)(struct blk_storage *s);
	/* Releases the engine and s itself; nothing is in flight. */
	void (*destroy)(struct blk_storage *s);
};

/* Embedded first in each engine's object. */
struct blk_storage {
	const struct blk_storage_engine *engine;
	struct blk_storage_ops ops;
	int event_fd;
	unsigned inflight;
	struct blk_storage_req *free_reqs;
	pthread_mutex_t lock; /* guards posted, posted_tail */
	struct blk_storage_req *posted, *posted_tail;
};

/* Sets up the common part (event fd, lock); the engine fills engine and
 * ops.  0 or -errno.  blk_storage_fini() undoes it, also after a failed
 * init, provided s was zeroed first. */
int blk_storage_init(struct blk_storage *s);
void blk_storage_fini(struct blk_storage *s);

/* Takes a request record for io (counted in flight), or NULL when out of
 * memory.  Owner's thread. */
struct blk_storage_req *blk_storage_req_get(struct blk_storage *s,
					    struct blk_io *io);
/* Gives back a record whose request was refused after all (no done()). */
void blk_storage_req_cancel(struct blk_storage_req *q);

/* From any thread: q finished with err (0 or -errno); its done() will run
 * at the next blk_storage_complete(). */
void blk_storage_post(struct blk_storage_req *q, int err);

/* Owner's thread: copies a bounce buffer back for a READ that succeeded,
 * recycles q and calls done(io, err). */
void blk_storage_finish(struct blk_storage_req *q, int err);

/* Wakes the owner's loop (the event fd), e.g. to retry a submission. */
void blk_storage_signal(struct blk_storage *s);

/* READ/WRITE data as one linear buffer of *len bytes: the iovecs' own
 * memory when they lie back to back (one segment, or guest pages that are
 * adjacent in the host mapping), else q->bounce, gathered here for a
 * WRITE and scattered back by blk_storage_finish() for a READ.  0 or
 * -ENOMEM. */
int blk_storage_linear(struct blk_storage_req *q, void **buf, size_t *len);

/* The engines, chosen by blk_storage_open() from the format. */
int blk_storage_raw_open(const struct blk_storage_params *p,
			 struct blk_storage **out, char *err, size_t errlen);
int blk_storage_nbd_open(const struct blk_storage_params *p,
			 struct blk_storage **out, char *err, size_t errlen);

#endif
