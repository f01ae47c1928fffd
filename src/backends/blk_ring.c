/* Block backend ring protocol: blkif requests in, storage I/O out, blkif
 * responses back, with every field a frontend wrote checked first. */
#include "backends/blk_ring.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* io/ring.h leaves the barriers to its user when __XEN_TOOLS__ picks the
 * latest interface.  rmb: the requests are read only after req_prod; wmb:
 * the responses are written before rsp_prod; mb: rsp_prod (req_event) is
 * visible before rsp_event (req_prod) is read back. */
#ifndef xen_mb
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#define container_of(p, type, member)                                          \
	((type *)((char *)(p)-offsetof(type, member)))

/* Every request layout keeps the frontend's id at the same place, so an id
 * can be echoed whatever garbage the operation byte holds; the other
 * layouts are read from a copy of the ring entry. */
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif id");
_Static_assert(offsetof(struct blkif_request_indirect, id) == 8,
	       "blkif_request_indirect id");
_Static_assert(offsetof(struct blkif_request_discard, id) == 8,
	       "blkif_request_discard id");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");
_Static_assert(sizeof(struct blkif_request_indirect) <=
		   sizeof(struct blkif_request),
	       "blkif_request_indirect");
_Static_assert(sizeof(struct blkif_request_discard) <=
		   sizeof(struct blkif_request),
	       "blkif_request_discard");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response");
_Static_assert(BLK_SEGS_PER_INDIRECT_PAGE == 512, "indirect page");

/*
 * How a request travels
 * =====================
 * The frontend owns req_prod and rsp_event, we own req_cons, rsp_prod and
 * req_event; a request's ring entry is reused for its response.  A kick
 * reads req_prod once per request taken, copies the entry (RING_COPY_
 * REQUEST: the frontend may rewrite it under us, so nothing is ever read
 * from the ring entry twice) and decides on the copy alone.
 *
 * A request the checks refuse is answered at once.  One that passes takes
 * an in-flight slot (its grants mapped, its iovecs built) and goes to the
 * storage; its response is written when the storage calls done(), so
 * responses follow completion order, not ring order.  Slots are fewer than
 * or as many as ring entries, so a response always lands on an entry whose
 * request was already copied.
 *
 * Worked example, one-page ring (32 entries), max_inflight 4, batch 32,
 * asynchronous storage:
 *   frontend queues 6 reads, req_prod 0 -> 6, and notifies.
 *   kick: takes 0..3 (4 slots), stops on the in-flight limit without
 *         re-arming req_event, no MORE (slot 4 waits for a completion).
 *   storage completes #2 then #0: responses at entries 0 and 1 carry the
 *         ids of requests 2 and 0; the caller kicks.
 *   kick: pushes rsp_prod 0 -> 2 (NOTIFY if rsp_event asked for it), takes
 *         4 and 5, sees req_cons == req_prod, sets req_event = 7, re-reads
 *         req_prod: nothing new, returns.
 *
 * Indices the frontend corrupted: a producer more than a ring ahead of our
 * oldest unanswered request, or behind our consumer.  Either would make us
 * read responses as requests; the ring stops for good (one log line).
 *
 * Flush: FLUSH_DISKCACHE with no segments is a storage flush; with segments
 * it is a write followed by a flush, answered after the flush.
 * WRITE_BARRIER is the same, but waits until every earlier request has
 * been answered and holds back every later one until it is answered.
 *
 * Persistent grants: a cache ref -> host page, filled on first use (mapped
 * writable if the grant allows, so that one entry serves both directions)
 * and emptied only by blk_ring_destroy().  When it holds
 * max_persistent_grants entries, further refs are mapped per request.
 */

struct blk_map {
	void *page;
	grant_ref_t ref;
	bool writable;
	bool persistent; /* the cache's: not released at completion */
};

struct blk_req {
	struct blk_io io;
	struct blk_ring *ring;
	struct blk_req *next_free;
	uint64_t id;
	uint8_t rsp_op;	  /* operation echoed in the response */
	bool io_pending;  /* handed to the storage, done() not yet called */
	bool flush_after; /* write stage of a flush with data */
	bool barrier;	  /* WRITE_BARRIER: drains before it starts */
	unsigned nr_maps;
	struct blk_map *maps; /* max_segs entries */
	struct iovec *iov;    /* max_segs entries */
};

struct blk_pgnt {
	void *page;
	grant_ref_t ref;
	bool used;
	bool writable;
};

struct blk_ring {
	struct blk_ring_config cfg;
	blkif_back_ring_t back;
	RING_IDX rsp_pushed; /* rsp_prod as we last wrote it */
	unsigned size, max_segs, max_inflight, batch;
	struct blk_storage_info info;
	bool broken;

	struct blk_req *reqs; /* max_inflight slots */
	struct blk_req *free;
	unsigned inflight;
	struct blk_req *barrier; /* WRITE_BARRIER held or running */
	bool barrier_started;

	/* Segments of the request being checked (the ring entry's or the
	 * indirect pages'), copied out of guest memory once. */
	struct blkif_request_segment *segs;

	struct blk_pgnt *pg; /* open-addressed, pg_mask + 1 entries */
	unsigned pg_mask, pg_count;

	struct blk_ring_stats st;
};

static const char *const fault_names[BLK_FAULT_NR] = {
    [BLK_FAULT_OP] = "blk: unknown or unsupported operation",
    [BLK_FAULT_NSEG] = "blk: bad segment count",
    [BLK_FAULT_SECT] = "blk: bad first/last sector in segment",
    [BLK_FAULT_RANGE] = "blk: sectors beyond the end of the disk",
    [BLK_FAULT_READONLY] = "blk: write, flush or discard on a read-only disk",
    [BLK_FAULT_GRANT] = "blk: grant refused",
    [BLK_FAULT_ALIGN] = "blk: request not aligned to the block size",
    [BLK_FAULT_RING] = "blk: corrupted ring indices, ring stopped",
    [BLK_FAULT_IO] = "blk: storage error",
};

const char *blk_ring_fault_name(enum blk_ring_fault f)
{
	return (unsigned)f < BLK_FAULT_NR ? fault_names[f] : "blk: ?";
}

/* Counts a fault and logs the first one of its kind for this device. */
static void blk_fault(struct blk_ring *r, enum blk_ring_fault f, uint8_t op,
		      uint64_t id, uint64_t detail)
{
	r->st.faults[f]++;
	if (log_first_time(fault_names[f], r->cfg.domid, r->cfg.devid))
		log_warnx("%s (dom %u vbd %u: op %u id %#llx, %llu); "
			  "further ones not logged",
			  fault_names[f], r->cfg.domid, r->cfg.devid, op,
			  (unsigned long long)id, (unsigned long long)detail);
}

/* ---- responses ---- */

static void blk_respond(struct blk_ring *r, uint64_t id, uint8_t op,
			int16_t status)
{
	struct blkif_response rsp;

	/* Built whole, padding zeroed: no host bytes reach the guest. */
	memset(&rsp, 0, sizeof(rsp));
	rsp.id = id;
	rsp.operation = op;
	rsp.status = status;
	memcpy(RING_GET_RESPONSE(&r->back, r->back.rsp_prod_pvt), &rsp,
	       sizeof(rsp));
	r->back.rsp_prod_pvt++;
	if (status == BLKIF_RSP_OKAY)
		r->st.rsp_okay++;
	else if (status == BLKIF_RSP_EOPNOTSUPP)
		r->st.rsp_eopnotsupp++;
	else
		r->st.rsp_error++;
}

/* RING_PUSH_RESPONSES_AND_CHECK_NOTIFY, with the old producer taken from
 * our own record rather than from the page the frontend can write. */
static bool blk_push_responses(struct blk_ring *r)
{
	RING_IDX old = r->rsp_pushed, new = r->back.rsp_prod_pvt;

	if (old == new)
		return false;
	xen_wmb();
	r->back.sring->rsp_prod = new;
	r->rsp_pushed = new;
	xen_mb();
	return (RING_IDX)(new - r->back.sring->rsp_event) <
	       (RING_IDX)(new - old);
}

/* ---- grants ---- */

static struct blk_pgnt *blk_pg_slot(struct blk_ring *r, grant_ref_t ref)
{
	unsigned i = (ref * 0x9E3779B1u) & r->pg_mask;

	/* Never full: the table has at least twice max_persistent slots. */
	while (r->pg[i].used && r->pg[i].ref != ref)
		i = (i + 1) & r->pg_mask;
	return &r->pg[i];
}

/* Maps one grant into *m, through the persistent cache when it is on. */
static int blk_map_one(struct blk_ring *r, struct blk_map *m, grant_ref_t ref,
		       bool writable)
{
	const struct blk_grant_ops *g = r->cfg.grant;
	void *gopq = r->cfg.grant_opaque;
	uint16_t dom = r->cfg.domid;
	struct blk_pgnt *e;
	void *page = NULL;
	bool w;
	int rc;

	m->ref = ref;
	m->writable = writable;
	m->persistent = false;
	if (r->pg) {
		e = blk_pg_slot(r, ref);
		if (e->used && (e->writable || !writable)) {
			m->page = e->page;
			m->persistent = true;
			r->st.persistent_hits++;
			return 0;
		}
		/* A read-only entry asked for writing is mapped per
		 * request below (and fails if the grant is read-only). */
		if (!e->used && r->pg_count < r->cfg.max_persistent_grants) {
			w = true;
			r->st.grant_maps++;
			rc = g->map(gopq, dom, ref, true, &page);
			if (rc < 0 && !writable) {
				w = false;
				r->st.grant_maps++;
				rc = g->map(gopq, dom, ref, false, &page);
			}
			if (rc < 0)
				return rc;
			e->used = true;
			e->ref = ref;
			e->page = page;
			e->writable = w;
			r->pg_count++;
			m->page = page;
			m->persistent = true;
			return 0;
		}
	}
	r->st.grant_maps++;
	rc = g->map(gopq, dom, ref, writable, &page);
	if (rc < 0)
		return rc;
	m->page = page;
	return 0;
}

static void blk_unmap_one(struct blk_ring *r, struct blk_map *m)
{
	if (!m->persistent)
		r->cfg.grant->unmap(r->cfg.grant_opaque, r->cfg.domid, m->ref,
				    m->writable, m->page);
}

static void blk_unmap_req(struct blk_ring *r, struct blk_req *q)
{
	for (unsigned i = 0; i < q->nr_maps; i++)
		blk_unmap_one(r, &q->maps[i]);
	q->nr_maps = 0;
}

/* ---- slots ---- */

static struct blk_req *blk_slot_get(struct blk_ring *r)
{
	struct blk_req *q = r->free;

	r->free = q->next_free;
	q->next_free = NULL;
	q->nr_maps = 0;
	q->io_pending = false;
	q->flush_after = false;
	q->barrier = false;
	memset(&q->io, 0, sizeof(q->io));
	r->inflight++;
	if (r->inflight > r->st.inflight_max)
		r->st.inflight_max = r->inflight;
	return q;
}

static void blk_slot_put(struct blk_ring *r, struct blk_req *q)
{
	if (r->barrier == q) {
		r->barrier = NULL;
		r->barrier_started = false;
	}
	q->next_free = r->free;
	r->free = q;
	r->inflight--;
}

/* Releases the request's grants, answers it and frees its slot. */
static void blk_finish(struct blk_ring *r, struct blk_req *q, int16_t status)
{
	blk_unmap_req(r, q);
	blk_respond(r, q->id, q->rsp_op, status);
	blk_slot_put(r, q);
}

/* ---- storage ---- */

static void blk_io_done(struct blk_io *io, int err);

/* The response status for a storage result (0 or -errno). */
static int16_t blk_io_status(struct blk_ring *r, struct blk_req *q, int err)
{
	if (err == 0)
		return BLKIF_RSP_OKAY;
	if (err == -EOPNOTSUPP)
		return BLKIF_RSP_EOPNOTSUPP;
	blk_fault(r, BLK_FAULT_IO, q->rsp_op, q->id, (uint64_t)-err);
	return BLKIF_RSP_ERROR;
}

/* Hands q->io to the storage; a refusal answers the request at once. */
static void blk_submit(struct blk_ring *r, struct blk_req *q)
{
	const struct blk_storage_ops *s = r->cfg.storage;
	int (*fn)(void *, struct blk_io *);
	int rc;

	switch (q->io.op) {
	case BLK_IO_READ:
		fn = s->read;
		break;
	case BLK_IO_WRITE:
		fn = s->write;
		break;
	case BLK_IO_FLUSH:
		fn = s->flush;
		break;
	default:
		fn = s->discard;
		break;
	}
	q->io.done = blk_io_done;
	q->io_pending = true;
	rc = fn(r->cfg.storage_opaque, &q->io);
	/* A refusal means done() was not called; a storage that both
	 * completed and refused is only believed once. */
	if (rc < 0 && q->io_pending) {
		q->io_pending = false;
		blk_finish(r, q, blk_io_status(r, q, rc));
	}
}

/* The storage's completion (blk_io.done). */
static void blk_io_done(struct blk_io *io, int err)
{
	struct blk_req *q = container_of(io, struct blk_req, io);
	struct blk_ring *r = q->ring;

	if (!q->io_pending) {
		if (log_first_time("blk: storage completed twice", r->cfg.domid,
				   r->cfg.devid))
			log_warnx("blk: dom %u vbd %u: storage completed a "
				  "request twice, ignored",
				  r->cfg.domid, r->cfg.devid);
		return;
	}
	q->io_pending = false;
	if (err == 0 && q->io.op == BLK_IO_READ) {
		r->st.rd_req++;
		r->st.rd_sect += q->io.nr_sectors;
	} else if (err == 0 && q->io.op == BLK_IO_WRITE) {
		r->st.wr_req++;
		r->st.wr_sect += q->io.nr_sectors;
	}
	if (err == 0 && q->flush_after) {
		/* Write stage of a flush with data done: now the flush. */
		q->flush_after = false;
		q->io.op = BLK_IO_FLUSH;
		q->io.sector = 0;
		q->io.nr_sectors = 0;
		q->io.iov = NULL;
		q->io.iovcnt = 0;
		blk_submit(r, q);
		return;
	}
	blk_finish(r, q, blk_io_status(r, q, err));
}

/* ---- checks ---- */

/* [sector, sector + n) inside the disk, n > 0, and aligned to its logical
 * block size.  BLKIF_RSP_OKAY or the status to answer with. */
static int16_t blk_check_range(struct blk_ring *r, uint8_t op, uint64_t id,
			       uint64_t sector, uint64_t n)
{
	uint64_t cap = r->info.nr_sectors;
	uint64_t per_block = r->info.sector_size / BLK_SECTOR_SIZE;

	if (n == 0 || n > cap || sector > cap - n) {
		blk_fault(r, BLK_FAULT_RANGE, op, id, sector);
		return BLKIF_RSP_ERROR;
	}
	if (sector % per_block || n % per_block) {
		blk_fault(r, BLK_FAULT_ALIGN, op, id, sector);
		return BLKIF_RSP_ERROR;
	}
	return BLKIF_RSP_OKAY;
}

/* A read or write of the nseg segments in r->segs (a copy) starting at
 * sector: checks them, maps their grants and builds q->io.  `max` is the
 * segment limit for this kind of request. */
static int16_t blk_prep_rw(struct blk_ring *r, struct blk_req *q, bool write,
			   unsigned nseg, unsigned max, uint64_t sector)
{
	uint64_t total = 0;
	int16_t st;
	unsigned i;
	int rc;

	if (nseg == 0 || nseg > max) {
		blk_fault(r, BLK_FAULT_NSEG, q->rsp_op, q->id, nseg);
		return BLKIF_RSP_ERROR;
	}
	if (write && r->info.readonly) {
		blk_fault(r, BLK_FAULT_READONLY, q->rsp_op, q->id, sector);
		return BLKIF_RSP_ERROR;
	}
	for (i = 0; i < nseg; i++) {
		const struct blkif_request_segment *s = &r->segs[i];

		if (s->first_sect > s->last_sect ||
		    s->last_sect >= BLK_SECTORS_PER_PAGE) {
			blk_fault(r, BLK_FAULT_SECT, q->rsp_op, q->id,
				  (uint64_t)s->first_sect << 8 | s->last_sect);
			return BLKIF_RSP_ERROR;
		}
		total += (uint64_t)(s->last_sect - s->first_sect + 1);
	}
	st = blk_check_range(r, q->rsp_op, q->id, sector, total);
	if (st != BLKIF_RSP_OKAY)
		return st;

	/* A disk read writes into the guest's pages: they must be granted
	 * writable.  A disk write only reads them. */
	for (i = 0; i < nseg; i++) {
		const struct blkif_request_segment *s = &r->segs[i];
		struct blk_map *m = &q->maps[i];

		rc = blk_map_one(r, m, s->gref, !write);
		if (rc < 0) {
			blk_fault(r, BLK_FAULT_GRANT, q->rsp_op, q->id,
				  s->gref);
			return BLKIF_RSP_ERROR; /* caller unmaps maps[0..i) */
		}
		q->nr_maps = i + 1;
		q->iov[i].iov_base =
		    (uint8_t *)m->page + s->first_sect * BLK_SECTOR_SIZE;
		q->iov[i].iov_len = (size_t)(s->last_sect - s->first_sect + 1) *
				    BLK_SECTOR_SIZE;
	}
	q->io.op = write ? BLK_IO_WRITE : BLK_IO_READ;
	q->io.sector = sector;
	q->io.nr_sectors = total;
	q->io.iov = q->iov;
	q->io.iovcnt = nseg;
	return BLKIF_RSP_OKAY;
}

/* Segments in the ring entry itself (READ, WRITE, and the data of a
 * flush): at most BLKIF_MAX_SEGMENTS_PER_REQUEST. */
static int16_t blk_prep_direct(struct blk_ring *r, struct blk_req *q,
			       const struct blkif_request *req, bool write)
{
	unsigned nseg = req->nr_segments;

	if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		memcpy(r->segs, req->seg, nseg * sizeof(req->seg[0]));
	return blk_prep_rw(r, q, write, nseg, BLKIF_MAX_SEGMENTS_PER_REQUEST,
			   req->sector_number);
}

/* FLUSH_DISKCACHE and WRITE_BARRIER: a flush, or a write then a flush. */
static int16_t blk_prep_flush(struct blk_ring *r, struct blk_req *q,
			      const struct blkif_request *req)
{
	int16_t st;

	if (!r->cfg.storage->flush) {
		blk_fault(r, BLK_FAULT_OP, q->rsp_op, q->id, req->operation);
		return BLKIF_RSP_EOPNOTSUPP;
	}
	if (r->info.readonly) {
		blk_fault(r, BLK_FAULT_READONLY, q->rsp_op, q->id,
			  req->operation);
		return BLKIF_RSP_ERROR;
	}
	if (req->nr_segments == 0) {
		q->io.op = BLK_IO_FLUSH;
	} else {
		st = blk_prep_direct(r, q, req, true);
		if (st != BLKIF_RSP_OKAY)
			return st;
		q->flush_after = true;
	}
	q->barrier = req->operation == BLKIF_OP_WRITE_BARRIER;
	return BLKIF_RSP_OKAY;
}

static int16_t blk_prep_discard(struct blk_ring *r, struct blk_req *q,
				const struct blkif_request *req)
{
	struct blkif_request_discard d;
	int16_t st;

	memcpy(&d, req, sizeof(d));
	if (!r->cfg.storage->discard ||
	    ((d.flag & BLKIF_DISCARD_SECURE) && !r->info.discard_secure)) {
		blk_fault(r, BLK_FAULT_OP, q->rsp_op, q->id, d.flag);
		return BLKIF_RSP_EOPNOTSUPP;
	}
	if (r->info.readonly) {
		blk_fault(r, BLK_FAULT_READONLY, q->rsp_op, q->id,
			  d.sector_number);
		return BLKIF_RSP_ERROR;
	}
	st =
	    blk_check_range(r, q->rsp_op, q->id, d.sector_number, d.nr_sectors);
	if (st != BLKIF_RSP_OKAY)
		return st;
	q->io.op = BLK_IO_DISCARD;
	q->io.sector = d.sector_number;
	q->io.nr_sectors = d.nr_sectors;
	q->io.secure = (d.flag & BLKIF_DISCARD_SECURE) != 0;
	return BLKIF_RSP_OKAY;
}

/* INDIRECT: the segments are in up to BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST
 * granted pages, copied out here; each page is mapped read-only only for
 * the copy (or kept, as a persistent grant). */
static int16_t blk_prep_indirect(struct blk_ring *r, struct blk_req *q,
				 const struct blkif_request *req)
{
	struct blkif_request_indirect ind;
	unsigned nseg, npages, p, n;
	struct blk_map m;
	bool write;
	int rc;

	memcpy(&ind, req, sizeof(ind));
	/* Responses carry the inner operation: that is what blkfront
	 * matches them against. */
	q->rsp_op = ind.indirect_op;
	if (r->cfg.max_indirect_segments == 0) {
		blk_fault(r, BLK_FAULT_OP, q->rsp_op, q->id, req->operation);
		return BLKIF_RSP_EOPNOTSUPP;
	}
	if (ind.indirect_op != BLKIF_OP_READ &&
	    ind.indirect_op != BLKIF_OP_WRITE) {
		blk_fault(r, BLK_FAULT_OP, q->rsp_op, q->id, ind.indirect_op);
		return BLKIF_RSP_ERROR;
	}
	write = ind.indirect_op == BLKIF_OP_WRITE;
	nseg = ind.nr_segments;
	if (nseg == 0 || nseg > r->cfg.max_indirect_segments) {
		blk_fault(r, BLK_FAULT_NSEG, q->rsp_op, q->id, nseg);
		return BLKIF_RSP_ERROR;
	}
	if (write && r->info.readonly) {
		blk_fault(r, BLK_FAULT_READONLY, q->rsp_op, q->id,
			  ind.sector_number);
		return BLKIF_RSP_ERROR;
	}
	npages = (nseg + BLK_SEGS_PER_INDIRECT_PAGE - 1) /
		 BLK_SEGS_PER_INDIRECT_PAGE;
	for (p = 0; p < npages; p++) {
		rc = blk_map_one(r, &m, ind.indirect_grefs[p], false);
		if (rc < 0) {
			blk_fault(r, BLK_FAULT_GRANT, q->rsp_op, q->id,
				  ind.indirect_grefs[p]);
			return BLKIF_RSP_ERROR;
		}
		n = nseg - p * BLK_SEGS_PER_INDIRECT_PAGE;
		if (n > BLK_SEGS_PER_INDIRECT_PAGE)
			n = BLK_SEGS_PER_INDIRECT_PAGE;
		memcpy(&r->segs[p * BLK_SEGS_PER_INDIRECT_PAGE], m.page,
		       n * sizeof(r->segs[0]));
		blk_unmap_one(r, &m);
	}
	return blk_prep_rw(r, q, write, nseg, r->cfg.max_indirect_segments,
			   ind.sector_number);
}

/* Takes one copied request: answers it now if it is refused, else hands it
 * to the storage (or holds it, for a barrier that must drain first). */
static void blk_dispatch(struct blk_ring *r, const struct blkif_request *req)
{
	struct blk_req *q = blk_slot_get(r);
	int16_t st;

	q->id = req->id;
	q->rsp_op = req->operation;
	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		st = blk_prep_direct(r, q, req,
				     req->operation == BLKIF_OP_WRITE);
		break;
	case BLKIF_OP_WRITE_BARRIER:
	case BLKIF_OP_FLUSH_DISKCACHE:
		st = blk_prep_flush(r, q, req);
		break;
	case BLKIF_OP_DISCARD:
		st = blk_prep_discard(r, q, req);
		break;
	case BLKIF_OP_INDIRECT:
		st = blk_prep_indirect(r, q, req);
		break;
	default:
		/* As blkback: anything else is "not supported". */
		blk_fault(r, BLK_FAULT_OP, req->operation, req->id,
			  req->operation);
		st = BLKIF_RSP_EOPNOTSUPP;
		break;
	}
	if (st != BLKIF_RSP_OKAY) {
		blk_finish(r, q, st);
		return;
	}
	if (q->barrier) {
		r->barrier = q;
		r->barrier_started = false;
		return; /* started by blk_barrier_blocks() once drained */
	}
	blk_submit(r, q);
}

/* True while a WRITE_BARRIER holds the ring; starts it once it is the only
 * request left in flight. */
static bool blk_barrier_blocks(struct blk_ring *r)
{
	if (r->barrier && !r->barrier_started && r->inflight == 1) {
		r->barrier_started = true;
		blk_submit(r, r->barrier);
	}
	return r->barrier != NULL;
}

/* ---- kick ---- */

/* Whether a producer index the frontend wrote is impossible: more requests
 * than entries not yet answered, or a producer behind our consumer. */
static bool blk_prod_corrupt(const struct blk_ring *r, RING_IDX rp)
{
	return RING_REQUEST_PROD_OVERFLOW(&r->back, rp) ||
	       (RING_IDX)(rp - r->back.req_cons) > RING_SIZE(&r->back);
}

/* The frontend corrupted req_prod: no request is taken any more. */
static void blk_ring_stop(struct blk_ring *r, RING_IDX rp)
{
	const char *what = fault_names[BLK_FAULT_RING];

	r->broken = true;
	r->st.faults[BLK_FAULT_RING]++;
	if (log_first_time(what, r->cfg.domid, r->cfg.devid))
		log_warnx("%s (dom %u vbd %u: req_prod %u, req_cons %u, "
			  "rsp_prod %u, ring size %u)",
			  what, r->cfg.domid, r->cfg.devid, rp,
			  r->back.req_cons, r->back.rsp_prod_pvt, r->size);
}

static void blk_read_info(struct blk_ring *r)
{
	uint32_t ss;

	memset(&r->info, 0, sizeof(r->info));
	r->cfg.storage->get_info(r->cfg.storage_opaque, &r->info);
	ss = r->info.sector_size;
	if (ss < BLK_SECTOR_SIZE || ss > BLK_PAGE_SIZE || (ss & (ss - 1)))
		r->info.sector_size = BLK_SECTOR_SIZE;
}

int blk_ring_kick(struct blk_ring *r, unsigned *flags)
{
	struct blkif_request req;
	unsigned taken = 0, idle = 0;
	bool more = false;
	int work;
	RING_IDX rp;

	*flags = 0;
	if (!r->broken)
		blk_read_info(r);
	while (!r->broken) {
		if (blk_barrier_blocks(r))
			break;
		rp =
		    __atomic_load_n(&r->back.sring->req_prod, __ATOMIC_RELAXED);
		xen_rmb(); /* entries up to rp are read after rp */
		if (blk_prod_corrupt(r, rp)) {
			blk_ring_stop(r, rp);
			break;
		}
		if (r->back.req_cons == rp) {
			/* Caught up: re-arm req_event, then look again.  A
			 * frontend that moves req_prod back and forth gets
			 * a couple of looks, not a spin. */
			if (++idle > 2)
				break;
			RING_FINAL_CHECK_FOR_REQUESTS(&r->back, work);
			if (!work)
				break;
			continue;
		}
		if (!r->free) {
			r->st.oo_req++;
			break; /* the completion that frees a slot kicks */
		}
		if (taken == r->batch) {
			more = true;
			break;
		}
		RING_COPY_REQUEST(&r->back, r->back.req_cons, &req);
		r->back.req_cons++;
		r->st.requests++;
		taken++;
		idle = 0;
		blk_dispatch(r, &req);
	}
	if (blk_push_responses(r))
		*flags |= BLK_RING_NOTIFY;
	if (more && !r->broken)
		*flags |= BLK_RING_MORE;
	return r->broken ? -EIO : 0;
}

/* ---- set-up ---- */

int blk_ring_create(const struct blk_ring_config *cfg, struct blk_ring **out)
{
	const struct blk_grant_ops *g = cfg->grant;
	const struct blk_storage_ops *s = cfg->storage;
	struct blk_ring *r = NULL;
	unsigned n = cfg->nr_ring_pages, i, cap;
	int rc = -EINVAL;

	*out = NULL;
	if (!cfg->sring || n == 0 || n > BLK_RING_MAX_PAGES || (n & (n - 1)))
		goto out;
	if (!g || !g->map || !g->unmap || !s || !s->get_info || !s->read ||
	    !s->write)
		goto out;
	if (cfg->max_indirect_segments > BLK_MAX_INDIRECT_SEGMENTS ||
	    cfg->max_persistent_grants > (1u << 20))
		goto out;

	rc = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out;
	r->cfg = *cfg;
	BACK_RING_ATTACH(&r->back, cfg->sring, cfg->start_index,
			 (size_t)n * BLK_PAGE_SIZE);
	r->rsp_pushed = cfg->start_index;
	r->size = RING_SIZE(&r->back);
	rc = -EINVAL;
	if (cfg->max_inflight > r->size)
		goto out;
	r->max_inflight = cfg->max_inflight ? cfg->max_inflight : r->size;
	r->batch = cfg->batch ? cfg->batch : r->size;
	r->max_segs =
	    cfg->max_indirect_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST
		? cfg->max_indirect_segments
		: BLKIF_MAX_SEGMENTS_PER_REQUEST;

	/* Everything a request will need, allocated now: about 32 bytes per
	 * segment per slot. */
	rc = -ENOMEM;
	r->reqs = calloc(r->max_inflight, sizeof(*r->reqs));
	r->segs = calloc(r->max_segs, sizeof(*r->segs));
	if (!r->reqs || !r->segs)
		goto out;
	for (i = 0; i < r->max_inflight; i++) {
		struct blk_req *q = &r->reqs[i];

		q->ring = r;
		q->maps = calloc(r->max_segs, sizeof(*q->maps));
		q->iov = calloc(r->max_segs, sizeof(*q->iov));
		if (!q->maps || !q->iov)
			goto out;
		q->next_free = r->free;
		r->free = q;
	}
	if (cfg->max_persistent_grants) {
		for (cap = 16; cap < 2 * cfg->max_persistent_grants; cap <<= 1)
			;
		r->pg = calloc(cap, sizeof(*r->pg));
		if (!r->pg)
			goto out;
		r->pg_mask = cap - 1;
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	blk_ring_destroy(r);
	return rc;
}

void blk_ring_destroy(struct blk_ring *r)
{
	unsigned i;

	if (!r)
		return;
	if (r->inflight)
		log_warnx("blk: dom %u vbd %u: destroyed with %u requests in "
			  "flight",
			  r->cfg.domid, r->cfg.devid, r->inflight);
	if (r->pg) {
		for (i = 0; i <= r->pg_mask; i++)
			if (r->pg[i].used)
				r->cfg.grant->unmap(r->cfg.grant_opaque,
						    r->cfg.domid, r->pg[i].ref,
						    r->pg[i].writable,
						    r->pg[i].page);
		free(r->pg);
	}
	if (r->reqs) {
		for (i = 0; i < r->max_inflight; i++) {
			free(r->reqs[i].maps);
			free(r->reqs[i].iov);
		}
		free(r->reqs);
	}
	free(r->segs);
	free(r);
}

unsigned blk_ring_inflight(const struct blk_ring *r)
{
	return r->inflight;
}

unsigned blk_ring_size(const struct blk_ring *r)
{
	return r->size;
}

void blk_ring_get_stats(const struct blk_ring *r, struct blk_ring_stats *st)
{
	*st = r->st;
	st->persistent_grants = r->pg_count;
	st->inflight = r->inflight;
}
