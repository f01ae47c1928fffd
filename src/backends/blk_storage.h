/* Host storage under the block backend's ring: the struct blk_storage_ops
 * that blk_ring.c calls, over a raw file or block device (io_uring, or a
 * small thread pool where io_uring cannot be set up) or over a qcow2 image
 * (a private qemu-nbd spoken to with libnbd).
 *
 * Threading: a storage object belongs to one thread, the domain's event
 * loop, which makes every call below and every submit through the ops.
 * The engines may run I/O on threads of their own (the kernel's, a worker
 * pool, a libnbd I/O thread), but every io->done() is called from
 * blk_storage_complete() on the owner's thread, never from inside a submit
 * call and never from another thread.
 *
 * Typical use (the owner's epoll loop):
 *	blk_storage_open(&p, &s, err, sizeof(err));
 *	ring config: .storage = blk_storage_get_ops(s), .storage_opaque = s;
 *	watch blk_storage_event_fd(s) for POLLIN; when readable:
 *		if (blk_storage_complete(s)) blk_ring_kick(...);
 *	at teardown: blk_storage_close(s) (drains), then blk_ring_destroy(). */
#ifndef KXEN_BACKENDS_BLK_STORAGE_H
#define KXEN_BACKENDS_BLK_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/blk_ring.h"

enum blk_format {
	BLK_FMT_RAW,   /* regular file or block device, bytes as they are */
	BLK_FMT_QCOW2, /* qcow2 image, served by qemu-nbd */
};

struct blk_storage_params {
	const char *path; /* file or block device; copied, need not outlive
			     the call */
	enum blk_format format;
	bool readonly; /* open read-only; WRITE, FLUSH and DISCARD are then
			  refused with -EROFS from the submit call */
};

struct blk_storage;

/* Opens the storage described by p.  Returns 0 and *out, or -errno with a
 * one-line message in err naming the path (-ENOENT for a missing file,
 * -EACCES, -EROFS, -EINVAL for something that is neither a regular file
 * nor a block device or an unknown KXEN_BLK_ENGINE, -EIO when qemu-nbd
 * refuses the image: its own message is quoted).
 *
 * Raw: the engine is io_uring unless the environment says
 * KXEN_BLK_ENGINE=threads; where io_uring cannot be set up (old kernel,
 * seccomp) it falls back to threads with one log line, unless
 * KXEN_BLK_ENGINE=uring asked for io_uring explicitly (then -errno).
 *
 * qcow2: starts `qemu-nbd` (or $KXEN_QEMU_NBD) as a child on a private
 * Unix socket, removed as soon as we are connected.  It exits when our
 * connection closes, so it does not outlive this process however that
 * ends; until then, PR_SET_PDEATHSIG ties it to the *thread* that called
 * blk_storage_open(): open from a thread that lives as long as the
 * storage (the domain's main or event-loop thread), not from a short-lived
 * helper thread.  The caller must not reap children it did not start
 * (waitpid(-1) or SIGCHLD set to SIG_IGN would take qemu-nbd's status). */
int blk_storage_open(const struct blk_storage_params *p,
		     struct blk_storage **out, char *err, size_t errlen);

/* The ops for blk_ring_config.storage; their opaque is s itself.  flush
 * and discard are NULL when the storage cannot do them (qemu-nbd without
 * flush or trim): do not advertise the feature then.  Valid until
 * blk_storage_close().
 *
 * Per-op behaviour: READ and WRITE move exactly nr_sectors * 512 bytes
 * (short transfers are continued, never reported); FLUSH completes when
 * every write completed before it was submitted is durable (fdatasync,
 * NBD_CMD_FLUSH); DISCARD punches a hole in a file (reads back zeros),
 * BLKDISCARD on a block device (contents afterwards unspecified, or
 * -EOPNOTSUPP where the device cannot), NBD_CMD_TRIM for qcow2 (zeros
 * unless the image has a backing file).  Secure discard is not offered
 * (info.discard_secure is false).  A submit returns 0 or -EROFS (read-only
 * storage) / -ENOMEM; an I/O error arrives as done(io, -errno).
 *
 * get_info re-reads the size of a raw file or device on each call, so a
 * resize shows; sector_size is 512 for files and qcow2, the device's
 * logical block size (BLKSSZGET) for block devices. */
const struct blk_storage_ops *blk_storage_get_ops(struct blk_storage *s);

/* A non-blocking eventfd, readable while completions wait for
 * blk_storage_complete().  Owned by s: do not close or read it. */
int blk_storage_event_fd(const struct blk_storage *s);

/* Calls io->done() for every request that has finished (on the caller's
 * thread; a done() may submit again) and returns how many; the caller
 * then kicks its rings (blk_ring_kick) if that is not 0.  Cheap when
 * nothing finished; call it whenever the event fd is readable. */
unsigned blk_storage_complete(struct blk_storage *s);

/* Requests accepted by a submit whose done() has not been called yet. */
unsigned blk_storage_inflight(const struct blk_storage *s);

/* The engine in use: "uring", "threads" or "qemu-nbd" (for log lines and
 * measurements). */
const char *blk_storage_engine_name(const struct blk_storage *s);

/* Waits for every request in flight and calls its done() (on the
 * caller's thread), then releases everything: the file, io_uring or the
 * worker threads, the libnbd connection and qemu-nbd (disconnected, so
 * that it flushes and closes the image, and reaped).  NULL is a no-op. */
void blk_storage_close(struct blk_storage *s);

#endif
