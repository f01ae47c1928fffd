/* Block backend ring protocol (the vbd half of what Linux's blkback does):
 * takes requests off a blkif shared ring, checks each one against what a
 * frontend may ask, maps its grants through a grant interface, hands the I/O
 * to a storage interface and puts the responses back.  No I/O, no KVM, no
 * xenstore: the caller's event loop drives it, and unit tests drive it with
 * a fake grant table and an in-memory disk.  It knows nothing of raw versus
 * qcow2: that is the storage interface's business.
 *
 * Threading: a ring and everything it calls belong to one thread (the
 * backend's event loop).  Storage that runs I/O on other threads hands its
 * completions back to that thread before calling blk_io->done. */
#ifndef KXEN_BACKENDS_BLK_RING_H
#define KXEN_BACKENDS_BLK_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h> /* io/ring.h's FLEX macros use memcpy */
#include <sys/uio.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>

/* The ring protocol's units: sector numbers and first_sect/last_sect count
 * 512-byte sectors (feature-large-sector-size is not offered), a granted
 * frame is a 4096-byte page. */
#define BLK_SECTOR_SIZE 512u
#define BLK_PAGE_SIZE 4096u
#define BLK_SECTORS_PER_PAGE (BLK_PAGE_SIZE / BLK_SECTOR_SIZE)
/* Segment descriptors per indirect page, and the most an indirect request
 * can name (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST full pages). */
#define BLK_SEGS_PER_INDIRECT_PAGE                                             \
	(BLK_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define BLK_MAX_INDIRECT_SEGMENTS                                              \
	(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLK_SEGS_PER_INDIRECT_PAGE)
/* Ring pages: ring-page-order 0..4 (Linux blkback's maximum). */
#define BLK_RING_MAX_PAGES 16u

/* ---- grant interface (shaped like libxengnttab's map/unmap) ----
 *
 * map: makes grant `ref` of domain `domid` (the frontend) reachable and
 * returns in *page the host address of the whole granted 4096-byte frame.
 * `writable` is true when the backend will write into the frame (a disk
 * read, device to memory); false when it only reads it (a disk write, an
 * indirect segment page).  Returns 0 or -errno, and must fail, without
 * touching *page, for:
 *   -EINVAL  ref beyond the frontend's grant table;
 *   -EPERM   entry not GTF_permit_access, not granted to our domain, or
 *            GTF_readonly while `writable` is asked;
 *   -EBUSY   entry being changed by the guest (v1 flags racing, v2
 *            status), or mapped more often than the implementation allows;
 *   -EFAULT  frame not guest RAM.
 * A successful map marks the entry in use (GTF_reading, and GTF_writing
 * when writable) as Xen does, so the guest cannot revoke it under our feet.
 * The same ref may be mapped several times at once (a frontend may name a
 * page twice); each map is released by one unmap.
 *
 * unmap: releases one map of `ref` made with the same `writable`; `page` is
 * what map returned.  Cannot fail.
 *
 * The real implementation checks the guest's v1/v2 entries in place (see
 * domain/gnttab.h); tests use a fake over a few pages. */
struct blk_grant_ops {
	int (*map)(void *opaque, uint16_t domid, grant_ref_t ref, bool writable,
		   void **page);
	void (*unmap)(void *opaque, uint16_t domid, grant_ref_t ref,
		      bool writable, void *page);
};

/* ---- storage interface (shaped like kvmtool's disk_image_operations) ---- */

enum blk_io_op {
	BLK_IO_READ,	/* disk -> iov */
	BLK_IO_WRITE,	/* iov -> disk */
	BLK_IO_FLUSH,	/* make every write completed so far durable */
	BLK_IO_DISCARD, /* [sector, sector + nr_sectors) need not be kept */
};

/* One storage request.  The ring owns it (inside its in-flight slot) and
 * fills every field but `storage`; the storage reads them and may use
 * `storage` as its own per-request word.  Valid until done() is called. */
struct blk_io {
	enum blk_io_op op;
	uint64_t sector;	 /* 512-byte units (READ/WRITE/DISCARD) */
	uint64_t nr_sectors;	 /* 512-byte units; the iovs' total for R/W */
	const struct iovec *iov; /* READ/WRITE: into granted pages, */
	unsigned iovcnt;	 /* 1..BLK_MAX_INDIRECT_SEGMENTS entries */
	bool secure;		 /* DISCARD: BLKIF_DISCARD_SECURE */
	/* Called by the storage exactly once per accepted request, with 0 or
	 * -errno (-EOPNOTSUPP becomes BLKIF_RSP_EOPNOTSUPP, anything else
	 * BLKIF_RSP_ERROR); from inside the submit call (synchronous storage)
	 * or later on the ring's thread.  After it returns, io is gone.  Then
	 * call blk_ring_kick() to push the responses (once for a batch of
	 * completions is enough). */
	void (*done)(struct blk_io *io, int err);
	void *storage;
};

/* What the storage is, read at each blk_ring_kick() (so a resize shows). */
struct blk_storage_info {
	uint64_t nr_sectors;  /* capacity in 512-byte sectors ("sectors") */
	uint32_t sector_size; /* logical block size, 512..4096, power of two:
				 requests must start and end aligned to it */
	bool readonly;	      /* refuse WRITE, FLUSH, DISCARD ("mode" r) */
	bool discard_secure;  /* BLKIF_DISCARD_SECURE honoured */
};

/* Submit functions: 0 when accepted (done() will be called, maybe before
 * the return), -errno when refused (done() will not be called).  flush and
 * discard may be NULL: the operation is then answered with
 * BLKIF_RSP_EOPNOTSUPP, and the caller should not advertise
 * feature-flush-cache / feature-barrier / feature-discard. */
struct blk_storage_ops {
	void (*get_info)(void *opaque, struct blk_storage_info *info);
	int (*read)(void *opaque, struct blk_io *io);
	int (*write)(void *opaque, struct blk_io *io);
	int (*flush)(void *opaque, struct blk_io *io);
	int (*discard)(void *opaque, struct blk_io *io);
};

/* ---- the ring ---- */

struct blk_ring_config {
	/* The shared ring: nr_ring_pages (1, 2, 4, 8 or 16) pages at
	 * contiguous host addresses, already mapped by the caller (for a
	 * multi-page ring, ring-ref0..N-1 placed side by side).  The frontend
	 * initialised it. */
	struct blkif_sring *sring;
	unsigned nr_ring_pages;
	/* Where our req_cons and rsp_prod start: 0 for a fresh connection
	 * (what the frontend's SHARED_RING_INIT left), the saved rsp_prod
	 * when taking over a ring with nothing in flight. */
	RING_IDX start_index;
	uint16_t domid; /* frontend domain: for grant maps and log lines */
	uint32_t devid; /* virtual device number: for log lines */
	/* feature-max-indirect-segments as advertised: 0 refuses
	 * BLKIF_OP_INDIRECT, else 1..BLK_MAX_INDIRECT_SEGMENTS (Linux
	 * blkback offers 256).  Costs about 32 bytes per segment per
	 * in-flight slot, allocated up front. */
	unsigned max_indirect_segments;
	/* Requests handed to the storage at once; 0 means the ring size, more
	 * than the ring size is refused. */
	unsigned max_inflight;
	/* Requests taken off the ring per blk_ring_kick() before it yields
	 * (reporting BLK_RING_MORE); 0 means the ring size. */
	unsigned batch;
	/* feature-persistent: grants kept mapped until blk_ring_destroy(), at
	 * most this many (0: persistent grants off, everything is unmapped on
	 * completion).  Beyond the bound, grants are mapped per request. */
	unsigned max_persistent_grants;
	const struct blk_grant_ops *grant;
	void *grant_opaque;
	const struct blk_storage_ops *storage;
	void *storage_opaque;
};

/* Kinds of frontend misbehaviour (and storage failure), each counted and
 * logged once per (kind, domid, devid). */
enum blk_ring_fault {
	BLK_FAULT_OP,	    /* unknown or unsupported operation */
	BLK_FAULT_NSEG,	    /* no segments, or more than allowed */
	BLK_FAULT_SECT,	    /* first_sect > last_sect, or past the page */
	BLK_FAULT_RANGE,    /* sectors beyond the end of the disk, or none */
	BLK_FAULT_READONLY, /* write, flush or discard on a read-only disk */
	BLK_FAULT_GRANT,    /* a grant the grant interface refused */
	BLK_FAULT_ALIGN,    /* not aligned to the logical block size */
	BLK_FAULT_RING,	    /* corrupted indices: the ring is stopped */
	BLK_FAULT_IO,	    /* the storage failed a request */
	BLK_FAULT_NR
};

struct blk_ring_stats {
	uint64_t requests; /* taken off the ring */
	uint64_t rsp_okay, rsp_error, rsp_eopnotsupp;
	uint64_t faults[BLK_FAULT_NR];
	/* What xentop shows per vbd (Linux blkback's statistics): reads
	 * and writes the storage completed, their 512-byte sectors, and
	 * kicks that found requests waiting on the ring with every in-flight
	 * slot taken ("out of requests", blkback's oo_req). */
	uint64_t rd_req, wr_req, rd_sect, wr_sect, oo_req;
	uint64_t grant_maps;	    /* calls to grant->map */
	uint64_t persistent_hits;   /* segments served from the cache */
	unsigned persistent_grants; /* cache entries now */
	unsigned inflight;	    /* requests held now */
	unsigned inflight_max;	    /* high-water mark */
};

struct blk_ring;

/* Checks cfg (-EINVAL for a bad page count, limits or missing ops; the
 * storage's read and write are required) and allocates everything the ring
 * will ever need, so that no request allocates.  0 and *out, or -errno. */
int blk_ring_create(const struct blk_ring_config *cfg, struct blk_ring **out);

/* Releases the persistent grants and the ring.  The storage must have
 * completed every request first (blk_ring_inflight() == 0): grants still
 * held by storage I/O would be released under it.  NULL is a no-op. */
void blk_ring_destroy(struct blk_ring *r);

/* blk_ring_kick() flags. */
#define BLK_RING_NOTIFY 0x1u /* send the frontend an event */
#define BLK_RING_MORE                                                          \
	0x2u /* requests are waiting that could be taken                       \
		now: call blk_ring_kick() again soon */

/* The one entry point: call it when the frontend's event channel fires and
 * after storage completions.  Pushes finished responses, takes up to
 * `batch` requests off the ring (fewer when max_inflight requests are held,
 * or while a WRITE_BARRIER drains), submits them, pushes responses again
 * and, when it has caught up with the frontend, re-arms req_event
 * (RING_FINAL_CHECK_FOR_REQUESTS).  *flags gets BLK_RING_NOTIFY when the
 * frontend's rsp_event asks for an event (RING_PUSH_RESPONSES_AND_CHECK_
 * NOTIFY), BLK_RING_MORE as described above.  Requests held back by the
 * in-flight limit report no MORE: the completion that frees a slot is the
 * caller's cue to kick again.
 * Returns 0, or -EIO once the frontend corrupted the ring indices: nothing
 * more is taken off it (responses of requests still in flight are still
 * pushed, and NOTIFY still reported); the caller should close the device. */
int blk_ring_kick(struct blk_ring *r, unsigned *flags);

/* Requests handed to the storage and not yet completed. */
unsigned blk_ring_inflight(const struct blk_ring *r);

/* The ring's size in requests (32 for one page). */
unsigned blk_ring_size(const struct blk_ring *r);

void blk_ring_get_stats(const struct blk_ring *r, struct blk_ring_stats *st);

/* Name of a fault kind, as used in log lines. */
const char *blk_ring_fault_name(enum blk_ring_fault f);

#endif
