/* Unit tests for the block backend's ring protocol (backends/blk_ring.c),
 * driven by a fake frontend, a fake grant table over a few separately
 * allocated guest pages (some refs invalid, read-only, not granted or busy)
 * and an in-memory disk that checks every iovec lies in a page mapped
 * with the right access.  Tables of named cases: configurations, hostile
 * and borderline requests (each also with persistent grants), corrupted
 * ring indices; then the scenarios (data paths, flush and barrier order,
 * wrap-around, batching, completion order, in-flight limit, persistent
 * grants). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/blk_ring.h"

#ifndef xen_mb
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE BLK_PAGE_SIZE
#define SECT BLK_SECTOR_SIZE

/* ---- fake grant table ----
 * refs 1..40 read-write data pages, 41..47 read-only, 48 not granted to
 * us, 49 busy (entry being changed), 50..63 read-write (indirect pages in
 * the tests); 0 never granted; 64 and up beyond the table. */
#define NPAGES 64
#define REF_DATA(i) ((grant_ref_t)(1 + (i) % 40))
#define REF_RO 41
#define REF_DENIED 48
#define REF_BUSY 49
#define REF_IND(i) ((grant_ref_t)(50 + (i)))
#define FAKE_DOMID 7

struct fake_gnt {
	uint8_t *page[NPAGES];
	int maps[NPAGES];  /* outstanding maps */
	int wmaps[NPAGES]; /* of which writable */
	unsigned map_calls, unmap_calls;
};

static bool ref_readonly(grant_ref_t ref)
{
	return ref >= 41 && ref <= 47;
}

static int fake_map(void *opaque, uint16_t domid, grant_ref_t ref,
		    bool writable, void **page)
{
	struct fake_gnt *g = opaque;

	g->map_calls++;
	assert_int_equal(domid, FAKE_DOMID);
	if (ref >= NPAGES)
		return -EINVAL;
	if (ref == 0 || ref == REF_DENIED)
		return -EPERM;
	if (ref == REF_BUSY)
		return -EBUSY;
	if (writable && ref_readonly(ref))
		return -EPERM;
	g->maps[ref]++;
	if (writable)
		g->wmaps[ref]++;
	*page = g->page[ref];
	return 0;
}

static void fake_unmap(void *opaque, uint16_t domid, grant_ref_t ref,
		       bool writable, void *page)
{
	struct fake_gnt *g = opaque;

	g->unmap_calls++;
	assert_int_equal(domid, FAKE_DOMID);
	assert_true(ref < NPAGES);
	assert_ptr_equal(page, g->page[ref]);
	assert_true(g->maps[ref] > 0);
	g->maps[ref]--;
	if (writable) {
		assert_true(g->wmaps[ref] > 0);
		g->wmaps[ref]--;
	}
}

static const struct blk_grant_ops fake_grant_ops = {
    .map = fake_map,
    .unmap = fake_unmap,
};

/* ---- fake storage ---- */

struct fake_disk {
	struct fake_gnt *gnt;
	uint8_t *data;
	uint64_t nr_sectors;
	uint32_t sector_size;
	bool readonly, secure, async;
	uint64_t fail_sector; /* an I/O covering it fails with -EIO */
	int refuse;	      /* submit returns this (0: accept) */
	struct blk_io *pending[1024];
	unsigned npending;
	unsigned reads, writes, flushes, discards, secure_discards;
	char trace[4096]; /* R W F D per executed op, in order */
	unsigned ntrace;
};

/* Every iovec inside one page that is mapped, writable if written. */
static void disk_check_iov(struct fake_disk *d, const struct blk_io *io)
{
	uint64_t bytes = 0;

	assert_true(io->iovcnt >= 1);
	for (unsigned i = 0; i < io->iovcnt; i++) {
		uint8_t *b = io->iov[i].iov_base;
		size_t len = io->iov[i].iov_len;
		int p;

		for (p = 0; p < NPAGES; p++)
			if (d->gnt->page[p] && b >= d->gnt->page[p] &&
			    b + len <= d->gnt->page[p] + PAGE)
				break;
		assert_true(p < NPAGES);
		assert_true(d->gnt->maps[p] > 0);
		if (io->op == BLK_IO_READ)
			assert_true(d->gnt->wmaps[p] > 0);
		assert_int_equal(len % SECT, 0);
		bytes += len;
	}
	assert_int_equal(bytes, io->nr_sectors * SECT);
}

static int disk_exec(struct fake_disk *d, struct blk_io *io)
{
	uint8_t *at = d->data + io->sector * SECT;
	bool fail;

	if (io->op != BLK_IO_FLUSH) {
		assert_true(io->nr_sectors > 0);
		assert_true(io->sector + io->nr_sectors <= d->nr_sectors);
	}
	fail = io->op != BLK_IO_FLUSH && d->fail_sector >= io->sector &&
	       d->fail_sector < io->sector + io->nr_sectors;
	if (d->ntrace < sizeof(d->trace) - 1)
		d->trace[d->ntrace++] = "RWFD"[io->op];
	switch (io->op) {
	case BLK_IO_READ:
		assert_false(io->secure);
		disk_check_iov(d, io);
		d->reads++;
		for (unsigned i = 0; i < io->iovcnt; i++) {
			memcpy(io->iov[i].iov_base, at, io->iov[i].iov_len);
			at += io->iov[i].iov_len;
		}
		break;
	case BLK_IO_WRITE:
		assert_false(d->readonly);
		disk_check_iov(d, io);
		d->writes++;
		for (unsigned i = 0; i < io->iovcnt; i++) {
			memcpy(at, io->iov[i].iov_base, io->iov[i].iov_len);
			at += io->iov[i].iov_len;
		}
		break;
	case BLK_IO_FLUSH:
		assert_false(d->readonly);
		assert_int_equal(io->iovcnt, 0);
		d->flushes++;
		break;
	case BLK_IO_DISCARD:
		assert_false(d->readonly);
		assert_int_equal(io->iovcnt, 0);
		d->discards++;
		if (io->secure)
			d->secure_discards++;
		memset(at, 0, io->nr_sectors * SECT);
		break;
	}
	return fail ? -EIO : 0;
}

static int disk_submit(void *opaque, struct blk_io *io)
{
	struct fake_disk *d = opaque;

	assert_non_null(io->done);
	if (d->refuse)
		return d->refuse;
	if (d->async) {
		assert_true(d->npending < ARRAY_SIZE(d->pending));
		d->pending[d->npending++] = io;
		return 0;
	}
	io->done(io, disk_exec(d, io));
	return 0;
}

/* Completes pending request number i (0 = oldest). */
static void disk_complete(struct fake_disk *d, unsigned i)
{
	struct blk_io *io;

	assert_true(i < d->npending);
	io = d->pending[i];
	memmove(&d->pending[i], &d->pending[i + 1],
		(d->npending - i - 1) * sizeof(d->pending[0]));
	d->npending--;
	io->done(io, disk_exec(d, io));
}

static void disk_get_info(void *opaque, struct blk_storage_info *info)
{
	struct fake_disk *d = opaque;

	info->nr_sectors = d->nr_sectors;
	info->sector_size = d->sector_size;
	info->readonly = d->readonly;
	info->discard_secure = d->secure;
}

static const struct blk_storage_ops disk_ops = {
    .get_info = disk_get_info,
    .read = disk_submit,
    .write = disk_submit,
    .flush = disk_submit,
    .discard = disk_submit,
};

static const struct blk_storage_ops disk_ops_noflush_nodiscard = {
    .get_info = disk_get_info,
    .read = disk_submit,
    .write = disk_submit,
};

/* ---- test context: frontend + ring ---- */

struct opts {
	unsigned ring_pages;   /* 0: 1 */
	unsigned max_indirect; /* 0: 256; NO_INDIRECT: none */
	unsigned max_inflight, batch, max_persistent;
	uint64_t nr_sectors;  /* 0: 4096 */
	uint32_t sector_size; /* 0: 512 */
	bool async, readonly, secure, noflush;
};
#define NO_INDIRECT 0xFFFFFFFFu

struct t {
	struct fake_gnt gnt;
	struct fake_disk disk;
	struct blkif_sring *sring;
	blkif_front_ring_t front;
	struct blk_ring *r;
	RING_IDX size;
	uint32_t devid;
};

static uint32_t next_devid = 100;

static uint8_t disk_pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) * 13 + 1);
}

static void t_open(struct t *t, const struct opts *o)
{
	struct blk_ring_config cfg;
	unsigned pages = o->ring_pages ? o->ring_pages : 1;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < NPAGES; i++) {
		t->gnt.page[i] = aligned_alloc(PAGE, PAGE);
		assert_non_null(t->gnt.page[i]);
		memset(t->gnt.page[i], 0xEE, PAGE);
	}
	t->disk.gnt = &t->gnt;
	t->disk.nr_sectors = o->nr_sectors ? o->nr_sectors : 4096;
	t->disk.sector_size = o->sector_size ? o->sector_size : 512;
	t->disk.readonly = o->readonly;
	t->disk.secure = o->secure;
	t->disk.async = o->async;
	t->disk.fail_sector = UINT64_MAX;
	t->disk.data = malloc(t->disk.nr_sectors * SECT);
	assert_non_null(t->disk.data);
	for (uint64_t i = 0; i < t->disk.nr_sectors * SECT; i++)
		t->disk.data[i] = disk_pattern(i);

	t->sring = aligned_alloc(PAGE, pages * PAGE);
	assert_non_null(t->sring);
	memset(t->sring, 0xCC, pages * PAGE);
	SHARED_RING_INIT(t->sring);
	FRONT_RING_INIT(&t->front, t->sring, pages * PAGE);
	t->size = RING_SIZE(&t->front);
	t->devid = next_devid++;

	memset(&cfg, 0, sizeof(cfg));
	cfg.sring = t->sring;
	cfg.nr_ring_pages = pages;
	cfg.domid = FAKE_DOMID;
	cfg.devid = t->devid;
	cfg.max_indirect_segments = o->max_indirect == NO_INDIRECT ? 0
				    : o->max_indirect ? o->max_indirect
						      : 256;
	cfg.max_inflight = o->max_inflight;
	cfg.batch = o->batch;
	cfg.max_persistent_grants = o->max_persistent;
	cfg.grant = &fake_grant_ops;
	cfg.grant_opaque = &t->gnt;
	cfg.storage = o->noflush ? &disk_ops_noflush_nodiscard : &disk_ops;
	cfg.storage_opaque = &t->disk;
	assert_int_equal(blk_ring_create(&cfg, &t->r), 0);
	assert_int_equal(blk_ring_size(t->r), t->size);
}

/* Destroys the ring and checks that every grant map was released. */
static void t_close(struct t *t)
{
	assert_int_equal(blk_ring_inflight(t->r), 0);
	blk_ring_destroy(t->r);
	for (int i = 0; i < NPAGES; i++) {
		assert_int_equal(t->gnt.maps[i], 0);
		assert_int_equal(t->gnt.wmaps[i], 0);
		free(t->gnt.page[i]);
	}
	assert_int_equal(t->gnt.map_calls >= t->gnt.unmap_calls, 1);
	free(t->disk.data);
	free(t->sring);
}

/* Queues a request (any layout, up to a ring entry) without publishing. */
static void front_queue(struct t *t, const void *req, size_t len)
{
	struct blkif_request *slot =
	    RING_GET_REQUEST(&t->front, t->front.req_prod_pvt);

	memset(slot, 0, sizeof(*slot));
	memcpy(slot, req, len);
	t->front.req_prod_pvt++;
}

static void front_push(struct t *t, const void *req, size_t len)
{
	front_queue(t, req, len);
	RING_PUSH_REQUESTS(&t->front);
}

static bool front_pop(struct t *t, struct blkif_response *rsp)
{
	if (t->front.rsp_cons == t->sring->rsp_prod)
		return false;
	xen_rmb();
	*rsp = *RING_GET_RESPONSE(&t->front, t->front.rsp_cons);
	t->front.rsp_cons++;
	return true;
}

static void front_expect(struct t *t, uint64_t id, uint8_t op, int16_t st)
{
	struct blkif_response rsp;

	assert_true(front_pop(t, &rsp));
	assert_int_equal(rsp.id, id);
	assert_int_equal(rsp.operation, op);
	assert_int_equal(rsp.status, st);
}

static void front_expect_none(struct t *t)
{
	struct blkif_response rsp;

	assert_false(front_pop(t, &rsp));
}

/* What a frontend does once it has drained the responses
 * (RING_FINAL_CHECK_FOR_RESPONSES): ask for an event at the next one. */
static void front_rearm(struct t *t)
{
	int more;

	RING_FINAL_CHECK_FOR_RESPONSES(&t->front, more);
	assert_false(more);
}

/* Kicks the ring with stderr captured; returns blk_ring_kick's value and
 * the number of log lines it printed. */
static int kick_logged(struct t *t, unsigned *flags, unsigned *lines)
{
	FILE *tmp = tmpfile();
	int saved, rc, c;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	rc = blk_ring_kick(t->r, flags);
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(tmp);
	*lines = 0;
	while ((c = fgetc(tmp)) != EOF)
		if (c == '\n')
			(*lines)++;
	fclose(tmp);
	return rc;
}

static unsigned kick(struct t *t)
{
	unsigned flags, lines;

	assert_int_equal(kick_logged(t, &flags, &lines), 0);
	assert_int_equal(lines, 0);
	return flags;
}

static void rw_req(struct blkif_request *rq, uint8_t op, uint64_t id,
		   uint64_t sector, unsigned nseg, const grant_ref_t *refs,
		   uint8_t first, uint8_t last)
{
	memset(rq, 0, sizeof(*rq));
	rq->operation = op;
	rq->nr_segments = (uint8_t)nseg;
	rq->handle = 0x51;
	rq->id = id;
	rq->sector_number = sector;
	for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST;
	     i++) {
		rq->seg[i].gref = refs ? refs[i] : REF_DATA(i);
		rq->seg[i].first_sect = first;
		rq->seg[i].last_sect = last;
	}
}

/* Fills indirect pages with nseg segments and builds the ring entry. */
static void indirect_req(struct t *t, struct blkif_request_indirect *rq,
			 uint8_t inner, uint64_t id, uint64_t sector,
			 unsigned nseg, unsigned seg_count_written,
			 grant_ref_t data_ref, uint8_t first, uint8_t last)
{
	memset(rq, 0, sizeof(*rq));
	rq->operation = BLKIF_OP_INDIRECT;
	rq->indirect_op = inner;
	rq->nr_segments = (uint16_t)nseg;
	rq->id = id;
	rq->sector_number = sector;
	rq->handle = 0x51;
	for (unsigned p = 0; p < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; p++)
		rq->indirect_grefs[p] = REF_IND(p);
	for (unsigned i = 0; i < seg_count_written; i++) {
		unsigned p = i / BLK_SEGS_PER_INDIRECT_PAGE;
		struct blkif_request_segment s = {
		    .gref = data_ref ? data_ref : REF_DATA(i),
		    .first_sect = first,
		    .last_sect = last,
		};

		assert_true(p < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
		memcpy(t->gnt.page[REF_IND(p)] +
			   (i % BLK_SEGS_PER_INDIRECT_PAGE) * sizeof(s),
		       &s, sizeof(s));
	}
}

static void stats(struct t *t, struct blk_ring_stats *st)
{
	blk_ring_get_stats(t->r, st);
}

/* ==== configurations ==== */

struct create_case {
	const char *name;
	unsigned pages, max_indirect, max_inflight, max_persistent;
	bool null_sring, no_read, no_unmap;
	int ret;
	unsigned size;
};

static const struct create_case create_cases[] = {
    {"create_1_page_32_entries", .pages = 1, .max_indirect = 256, .size = 32},
    {"create_2_pages_64_entries", .pages = 2, .size = 64},
    {"create_16_pages_512_entries", .pages = 16, .max_indirect = 4096,
     .max_persistent = 1056, .size = 512},
    {"create_inflight_equal_ring", .pages = 1, .max_inflight = 32, .size = 32},
    {"create_0_pages_einval", .pages = 0, .ret = -EINVAL},
    {"create_3_pages_einval", .pages = 3, .ret = -EINVAL},
    {"create_32_pages_einval", .pages = 32, .ret = -EINVAL},
    {"create_indirect_4097_einval", .pages = 1, .max_indirect = 4097,
     .ret = -EINVAL},
    {"create_inflight_above_ring_einval", .pages = 1, .max_inflight = 33,
     .ret = -EINVAL},
    {"create_persistent_huge_einval", .pages = 1, .max_persistent = 1u << 21,
     .ret = -EINVAL},
    {"create_null_sring_einval", .pages = 1, .null_sring = true,
     .ret = -EINVAL},
    {"create_no_read_op_einval", .pages = 1, .no_read = true, .ret = -EINVAL},
    {"create_no_unmap_op_einval", .pages = 1, .no_unmap = true, .ret = -EINVAL},
};

static void test_create(void **state)
{
	const struct create_case *c = *state;
	struct blk_storage_ops sops = disk_ops;
	struct blk_grant_ops gops = fake_grant_ops;
	struct blk_ring_config cfg;
	struct fake_disk disk = {0};
	struct fake_gnt gnt = {0};
	struct blk_ring *r = (void *)1;
	unsigned pages = c->pages ? c->pages : 1;
	void *ring = aligned_alloc(PAGE, pages * PAGE);
	int rc;

	assert_non_null(ring);
	SHARED_RING_INIT((struct blkif_sring *)ring);
	if (c->no_read)
		sops.read = NULL;
	if (c->no_unmap)
		gops.unmap = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.sring = c->null_sring ? NULL : ring;
	cfg.nr_ring_pages = c->pages;
	cfg.domid = FAKE_DOMID;
	cfg.max_indirect_segments = c->max_indirect;
	cfg.max_inflight = c->max_inflight;
	cfg.max_persistent_grants = c->max_persistent;
	cfg.grant = &gops;
	cfg.grant_opaque = &gnt;
	cfg.storage = &sops;
	cfg.storage_opaque = &disk;
	rc = blk_ring_create(&cfg, &r);
	assert_int_equal(rc, c->ret);
	if (rc == 0) {
		assert_int_equal(blk_ring_size(r), c->size);
		assert_int_equal(blk_ring_inflight(r), 0);
	} else {
		assert_null(r);
	}
	blk_ring_destroy(r);
	free(ring);
}

/* ==== hostile and borderline requests ==== */

enum { DISK_RO = 1, DISK_NOFLUSH = 2, DISK_4K = 4, DISK_SECURE = 8 };
#define CAP 4096ULL /* disk sectors */
#define NONE (-1)

struct req_case {
	const char *name;
	uint8_t op;
	uint8_t inner; /* indirect_op */
	uint16_t nseg; /* as written in the request */
	uint64_t sector;
	uint64_t nr_sectors; /* discard */
	uint8_t flag;	     /* discard */
	uint8_t first, last;
	grant_ref_t ref;       /* every data segment's (0: valid ones) */
	grant_ref_t iref;      /* first indirect page's (0: valid) */
	unsigned disk;	       /* DISK_* */
	unsigned max_indirect; /* 0: 256; NO_INDIRECT */
	int16_t status;
	int fault; /* enum blk_ring_fault or NONE */
	uint8_t rsp_op;
};

#define R BLKIF_OP_READ
#define W BLKIF_OP_WRITE
#define FL BLKIF_OP_FLUSH_DISKCACHE
#define BAR BLKIF_OP_WRITE_BARRIER
#define DIS BLKIF_OP_DISCARD
#define IND BLKIF_OP_INDIRECT
#define OK BLKIF_RSP_OKAY
#define ERR BLKIF_RSP_ERROR
#define NOTSUP BLKIF_RSP_EOPNOTSUPP

/* clang-format off */
static const struct req_case req_cases[] = {
	/* operations */
	{"op_garbage_200", .op = 200, .nseg = 1, .last = 7, .status = NOTSUP,
	 .fault = BLK_FAULT_OP, .rsp_op = 200},
	{"op_255", .op = 255, .nseg = 1, .last = 7, .status = NOTSUP,
	 .fault = BLK_FAULT_OP, .rsp_op = 255},
	{"op_reserved_1", .op = BLKIF_OP_RESERVED_1, .nseg = 1, .last = 7,
	 .status = NOTSUP, .fault = BLK_FAULT_OP, .rsp_op = 4},
	{"indirect_not_negotiated", .op = IND, .inner = R, .nseg = 1, .last = 7,
	 .max_indirect = NO_INDIRECT, .status = NOTSUP, .fault = BLK_FAULT_OP,
	 .rsp_op = R},
	{"indirect_inner_op_flush", .op = IND, .inner = FL, .nseg = 1,
	 .last = 7, .status = ERR, .fault = BLK_FAULT_OP, .rsp_op = FL},
	{"indirect_inner_op_indirect", .op = IND, .inner = IND, .nseg = 1,
	 .last = 7, .status = ERR, .fault = BLK_FAULT_OP, .rsp_op = IND},
	{"indirect_inner_op_garbage", .op = IND, .inner = 99, .nseg = 1,
	 .last = 7, .status = ERR, .fault = BLK_FAULT_OP, .rsp_op = 99},
	/* segment counts */
	{"read_0_segments", .op = R, .last = 7, .status = ERR,
	 .fault = BLK_FAULT_NSEG, .rsp_op = R},
	{"write_0_segments", .op = W, .last = 7, .status = ERR,
	 .fault = BLK_FAULT_NSEG, .rsp_op = W},
	{"read_12_segments", .op = R, .nseg = 12, .last = 7, .status = ERR,
	 .fault = BLK_FAULT_NSEG, .rsp_op = R},
	{"write_255_segments", .op = W, .nseg = 255, .last = 7, .status = ERR,
	 .fault = BLK_FAULT_NSEG, .rsp_op = W},
	{"flush_12_segments", .op = FL, .nseg = 12, .last = 7, .status = ERR,
	 .fault = BLK_FAULT_NSEG, .rsp_op = FL},
	{"indirect_0_segments", .op = IND, .inner = R, .last = 7, .status = ERR,
	 .fault = BLK_FAULT_NSEG, .rsp_op = R},
	{"indirect_257_of_256_segments", .op = IND, .inner = R, .nseg = 257,
	 .status = ERR, .fault = BLK_FAULT_NSEG, .rsp_op = R},
	{"indirect_65535_segments", .op = IND, .inner = W, .nseg = 65535,
	 .status = ERR, .fault = BLK_FAULT_NSEG, .rsp_op = W},
	{"indirect_4097_of_4096_segments", .op = IND, .inner = R, .nseg = 4097,
	 .max_indirect = 4096, .status = ERR, .fault = BLK_FAULT_NSEG,
	 .rsp_op = R},
	/* sectors within a page */
	{"seg_first_after_last", .op = R, .nseg = 1, .first = 5, .last = 2,
	 .status = ERR, .fault = BLK_FAULT_SECT, .rsp_op = R},
	{"seg_last_sect_8", .op = R, .nseg = 1, .last = 8, .status = ERR,
	 .fault = BLK_FAULT_SECT, .rsp_op = R},
	{"seg_first_last_255", .op = W, .nseg = 3, .first = 255, .last = 255,
	 .status = ERR, .fault = BLK_FAULT_SECT, .rsp_op = W},
	{"indirect_seg_last_sect_9", .op = IND, .inner = W, .nseg = 20,
	 .last = 9, .status = ERR, .fault = BLK_FAULT_SECT, .rsp_op = W},
	/* sectors on the disk */
	{"read_at_capacity", .op = R, .nseg = 1, .sector = CAP, .last = 7,
	 .status = ERR, .fault = BLK_FAULT_RANGE, .rsp_op = R},
	{"read_straddles_end", .op = R, .nseg = 1, .sector = CAP - 4, .last = 7,
	 .status = ERR, .fault = BLK_FAULT_RANGE, .rsp_op = R},
	{"write_sector_wraps_u64", .op = W, .nseg = 2, .sector = UINT64_MAX - 3,
	 .last = 7, .status = ERR, .fault = BLK_FAULT_RANGE, .rsp_op = W},
	{"write_sector_2_pow_63", .op = W, .nseg = 1, .sector = 1ULL << 63,
	 .last = 7, .status = ERR, .fault = BLK_FAULT_RANGE, .rsp_op = W},
	{"indirect_beyond_end", .op = IND, .inner = R, .nseg = 64,
	 .sector = CAP - 64 * 8 + 1, .last = 7, .status = ERR,
	 .fault = BLK_FAULT_RANGE, .rsp_op = R},
	{"flush_data_beyond_end", .op = FL, .nseg = 1, .sector = CAP, .last = 7,
	 .status = ERR, .fault = BLK_FAULT_RANGE, .rsp_op = FL},
	{"discard_beyond_end", .op = DIS, .sector = CAP - 1, .nr_sectors = 2,
	 .status = ERR, .fault = BLK_FAULT_RANGE, .rsp_op = DIS},
	{"discard_wraps_u64", .op = DIS, .sector = 8,
	 .nr_sectors = UINT64_MAX - 4, .status = ERR, .fault = BLK_FAULT_RANGE,
	 .rsp_op = DIS},
	{"discard_0_sectors", .op = DIS, .sector = 8, .status = ERR,
	 .fault = BLK_FAULT_RANGE, .rsp_op = DIS},
	/* grants */
	{"grant_ref_64_beyond_table", .op = R, .nseg = 1, .last = 7, .ref = 64,
	 .status = ERR, .fault = BLK_FAULT_GRANT, .rsp_op = R},
	{"grant_ref_0xffffffff", .op = W, .nseg = 2, .last = 7,
	 .ref = 0xFFFFFFFFu, .status = ERR, .fault = BLK_FAULT_GRANT,
	 .rsp_op = W},
	{"grant_not_granted_to_us", .op = W, .nseg = 1, .last = 7,
	 .ref = REF_DENIED, .status = ERR, .fault = BLK_FAULT_GRANT,
	 .rsp_op = W},
	{"grant_busy", .op = R, .nseg = 1, .last = 7, .ref = REF_BUSY,
	 .status = ERR, .fault = BLK_FAULT_GRANT, .rsp_op = R},
	{"read_into_readonly_grant", .op = R, .nseg = 1, .last = 7,
	 .ref = REF_RO, .status = ERR, .fault = BLK_FAULT_GRANT, .rsp_op = R},
	{"indirect_read_into_readonly_grant", .op = IND, .inner = R, .nseg = 30,
	 .last = 7, .ref = REF_RO, .status = ERR, .fault = BLK_FAULT_GRANT,
	 .rsp_op = R},
	{"indirect_page_ref_beyond_table", .op = IND, .inner = R, .nseg = 16,
	 .last = 7, .iref = 1000, .status = ERR, .fault = BLK_FAULT_GRANT,
	 .rsp_op = R},
	{"indirect_page_not_granted", .op = IND, .inner = W, .nseg = 16,
	 .last = 7, .iref = REF_DENIED, .status = ERR, .fault = BLK_FAULT_GRANT,
	 .rsp_op = W},
	{"indirect_segment_ref_5000", .op = IND, .inner = W, .nseg = 16,
	 .last = 7, .ref = 5000, .status = ERR, .fault = BLK_FAULT_GRANT,
	 .rsp_op = W},
	/* read-only disk */
	{"write_readonly_disk", .op = W, .nseg = 1, .last = 7, .disk = DISK_RO,
	 .status = ERR, .fault = BLK_FAULT_READONLY, .rsp_op = W},
	{"indirect_write_readonly_disk", .op = IND, .inner = W, .nseg = 16,
	 .last = 7, .disk = DISK_RO, .status = ERR, .fault = BLK_FAULT_READONLY,
	 .rsp_op = W},
	{"flush_readonly_disk", .op = FL, .disk = DISK_RO, .status = ERR,
	 .fault = BLK_FAULT_READONLY, .rsp_op = FL},
	{"barrier_readonly_disk", .op = BAR, .disk = DISK_RO, .status = ERR,
	 .fault = BLK_FAULT_READONLY, .rsp_op = BAR},
	{"discard_readonly_disk", .op = DIS, .nr_sectors = 8, .disk = DISK_RO,
	 .status = ERR, .fault = BLK_FAULT_READONLY, .rsp_op = DIS},
	/* unsupported by the storage */
	{"flush_not_supported", .op = FL, .disk = DISK_NOFLUSH,
	 .status = NOTSUP, .fault = BLK_FAULT_OP, .rsp_op = FL},
	{"barrier_not_supported", .op = BAR, .disk = DISK_NOFLUSH,
	 .status = NOTSUP, .fault = BLK_FAULT_OP, .rsp_op = BAR},
	{"discard_not_supported", .op = DIS, .nr_sectors = 8,
	 .disk = DISK_NOFLUSH, .status = NOTSUP, .fault = BLK_FAULT_OP,
	 .rsp_op = DIS},
	{"discard_secure_not_supported", .op = DIS, .nr_sectors = 8,
	 .flag = BLKIF_DISCARD_SECURE, .status = NOTSUP, .fault = BLK_FAULT_OP,
	 .rsp_op = DIS},
	/* 4096-byte logical blocks */
	{"disk_4k_misaligned_start", .op = R, .nseg = 1, .sector = 1, .last = 7,
	 .disk = DISK_4K, .status = ERR, .fault = BLK_FAULT_ALIGN, .rsp_op = R},
	{"disk_4k_misaligned_length", .op = W, .nseg = 1, .last = 3,
	 .disk = DISK_4K, .status = ERR, .fault = BLK_FAULT_ALIGN, .rsp_op = W},
	{"disk_4k_discard_misaligned", .op = DIS, .sector = 8, .nr_sectors = 4,
	 .disk = DISK_4K, .status = ERR, .fault = BLK_FAULT_ALIGN,
	 .rsp_op = DIS},
	/* borderline but valid: served */
	{"write_from_readonly_grant_ok", .op = W, .nseg = 3, .last = 7,
	 .ref = REF_RO, .status = OK, .fault = NONE, .rsp_op = W},
	{"read_readonly_disk_ok", .op = R, .nseg = 2, .last = 7,
	 .disk = DISK_RO, .status = OK, .fault = NONE, .rsp_op = R},
	{"read_last_sectors_ok", .op = R, .nseg = 1, .sector = CAP - 8,
	 .last = 7, .status = OK, .fault = NONE, .rsp_op = R},
	{"read_11_segments_ok", .op = R, .nseg = 11, .last = 7, .status = OK,
	 .fault = NONE, .rsp_op = R},
	{"seg_single_sector_7_ok", .op = W, .nseg = 1, .first = 7, .last = 7,
	 .status = OK, .fault = NONE, .rsp_op = W},
	{"indirect_256_segments_ok", .op = IND, .inner = R, .nseg = 256,
	 .last = 7, .status = OK, .fault = NONE, .rsp_op = R},
	{"indirect_1_segment_ok", .op = IND, .inner = W, .nseg = 1, .last = 7,
	 .status = OK, .fault = NONE, .rsp_op = W},
	{"disk_4k_aligned_ok", .op = R, .nseg = 2, .sector = 8, .last = 7,
	 .disk = DISK_4K, .status = OK, .fault = NONE, .rsp_op = R},
	{"discard_secure_supported_ok", .op = DIS, .nr_sectors = 8,
	 .flag = BLKIF_DISCARD_SECURE, .disk = DISK_SECURE, .status = OK,
	 .fault = NONE, .rsp_op = DIS},
	{"discard_to_end_ok", .op = DIS, .sector = CAP - 16, .nr_sectors = 16,
	 .status = OK, .fault = NONE, .rsp_op = DIS},
	{"flush_ok", .op = FL, .status = OK, .fault = NONE, .rsp_op = FL},
	{"barrier_with_data_ok", .op = BAR, .nseg = 2, .last = 7, .status = OK,
	 .fault = NONE, .rsp_op = BAR},
};
/* clang-format on */

struct req_run {
	const struct req_case *c;
	bool persistent;
	char name[96];
};

static struct req_run req_runs[2 * ARRAY_SIZE(req_cases)];

static void build_case_req(struct t *t, const struct req_case *c, uint64_t id,
			   struct blkif_request *out)
{
	grant_ref_t refs[BLKIF_MAX_SEGMENTS_PER_REQUEST];

	memset(out, 0, sizeof(*out));
	if (c->op == IND) {
		struct blkif_request_indirect ind;
		unsigned max = c->max_indirect && c->max_indirect != NO_INDIRECT
				   ? c->max_indirect
				   : 256;
		unsigned written = c->nseg < max ? c->nseg : max;

		indirect_req(t, &ind, c->inner, id, c->sector, c->nseg, written,
			     c->ref, c->first, c->last);
		if (c->iref)
			ind.indirect_grefs[0] = c->iref;
		memcpy(out, &ind, sizeof(ind));
	} else if (c->op == DIS) {
		struct blkif_request_discard d = {
		    .operation = DIS,
		    .flag = c->flag,
		    .id = id,
		    .sector_number = c->sector,
		    .nr_sectors = c->nr_sectors,
		};

		memcpy(out, &d, sizeof(d));
	} else {
		for (unsigned i = 0; i < ARRAY_SIZE(refs); i++)
			refs[i] = c->ref ? c->ref : REF_DATA(i);
		rw_req(out, c->op, id, c->sector, c->nseg, refs, c->first,
		       c->last);
	}
}

/* The request three times: three answers with the right status, the fault
 * counted three times but logged once, the storage never reached unless
 * the request is valid, every grant released. */
static void test_request(void **state)
{
	const struct req_run *run = *state;
	const struct req_case *c = run->c;
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {0};
	unsigned flags, lines, k, io;
	struct t t;

	o.max_indirect = c->max_indirect;
	o.readonly = c->disk & DISK_RO;
	o.noflush = c->disk & DISK_NOFLUSH;
	o.secure = c->disk & DISK_SECURE;
	o.sector_size = c->disk & DISK_4K ? 4096 : 512;
	o.nr_sectors = CAP;
	o.max_persistent = run->persistent ? 64 : 0;
	t_open(&t, &o);

	for (k = 0; k < 3; k++) {
		build_case_req(&t, c, 0xABC000 + k, &rq);
		front_push(&t, &rq, sizeof(rq));
	}
	assert_int_equal(kick_logged(&t, &flags, &lines), 0);
	assert_int_equal(lines, c->fault == NONE ? 0 : 1);
	assert_true(flags & BLK_RING_NOTIFY);
	for (k = 0; k < 3; k++)
		front_expect(&t, 0xABC000 + k, c->rsp_op, c->status);
	front_expect_none(&t);

	stats(&t, &st);
	assert_int_equal(st.requests, 3);
	for (int f = 0; f < BLK_FAULT_NR; f++)
		assert_int_equal(st.faults[f], f == c->fault ? 3 : 0);
	io = t.disk.reads + t.disk.writes + t.disk.flushes + t.disk.discards;
	if (c->status == OK)
		assert_true(io >= 3);
	else
		assert_int_equal(io, 0);
	assert_int_equal(st.inflight, 0);

	/* The ring still works after the bad requests. */
	rw_req(&rq, R, 0x77, 0, 1, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 0x77, R, OK);
	t_close(&t);
}

/* ==== corrupted ring indices ==== */

struct ring_case {
	const char *name;
	unsigned inflight; /* valid requests held by async storage first */
	unsigned answered; /* valid requests answered first */
	int32_t prod;	   /* req_prod written, relative to the valid ones */
	bool absolute;	   /* prod is an absolute value */
	bool broken;
};

/* clang-format off */
static const struct ring_case ring_cases[] = {
	{"prod_one_past_ring",              0, 0, 33, false, true},
	{"prod_far_ahead",                  0, 0, 1000, false, true},
	{"prod_2_pow_31",                   0, 0, (int32_t)0x80000000u, true, true},
	{"prod_behind_consumer",            0, 5, -2, false, true},
	{"prod_behind_consumer_inflight",   5, 0, -2, false, true},
	{"prod_beyond_unanswered_inflight", 10, 0, 23, false, true},
	{"prod_full_ring_inflight_ok",      10, 0, 22, false, false},
	{"prod_exactly_ring_ok",            0, 0, 32, false, false},
};
/* clang-format on */

static void test_ring_indices(void **state)
{
	const struct ring_case *c = *state;
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {.async = true};
	unsigned flags, lines, i, valid = c->inflight + c->answered;
	RING_IDX prod;
	struct t t;

	t_open(&t, &o);
	for (i = 0; i < valid; i++) {
		rw_req(&rq, R, i, i * 8, 1, NULL, 0, 7);
		front_push(&t, &rq, sizeof(rq));
	}
	if (valid) {
		kick(&t);
		for (i = 0; i < c->answered; i++)
			disk_complete(&t.disk, 0);
		kick(&t);
		for (i = 0; i < c->answered; i++)
			front_expect(&t, i, R, OK);
	}
	assert_int_equal(t.disk.npending, c->inflight);

	/* Entries past the valid ones hold valid reads too, so that only
	 * the index can be at fault. */
	for (i = 0; i < t.size; i++) {
		rw_req(&rq, R, 0x100 + i, 0, 1, NULL, 0, 7);
		memcpy(RING_GET_REQUEST(&t.front, valid + i), &rq, sizeof(rq));
	}
	prod = c->absolute ? (RING_IDX)c->prod : (RING_IDX)(valid + c->prod);
	t.sring->req_prod = prod;

	if (!c->broken) {
		kick(&t);
		stats(&t, &st);
		assert_int_equal(st.faults[BLK_FAULT_RING], 0);
		while (t.disk.npending)
			disk_complete(&t.disk, 0);
		kick(&t);
		assert_int_equal(t.sring->rsp_prod, prod);
		t_close(&t);
		return;
	}
	assert_int_equal(kick_logged(&t, &flags, &lines), -EIO);
	assert_int_equal(lines, 1);
	assert_int_equal(t.disk.npending, c->inflight);
	assert_int_equal(kick_logged(&t, &flags, &lines), -EIO);
	assert_int_equal(lines, 0);
	stats(&t, &st);
	assert_int_equal(st.faults[BLK_FAULT_RING], 1);
	assert_int_equal(st.requests, valid);

	/* Requests in flight still complete, release their grants and are
	 * answered. */
	while (t.disk.npending)
		disk_complete(&t.disk, 0);
	assert_int_equal(kick_logged(&t, &flags, &lines), -EIO);
	assert_int_equal(lines, 0);
	if (c->inflight)
		assert_true(flags & BLK_RING_NOTIFY);
	for (i = 0; i < c->inflight; i++)
		front_expect(&t, c->answered + i, R, OK);
	front_expect_none(&t);
	t_close(&t);
}

/* ==== scenarios ==== */

static void test_single_read(void **state)
{
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {0};
	grant_ref_t ref = 3;
	struct t t;

	t_open(&t, &o);
	rw_req(&rq, R, 42, 16, 1, &ref, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	assert_int_equal(kick(&t), BLK_RING_NOTIFY);
	front_expect(&t, 42, R, OK);
	for (unsigned i = 0; i < PAGE; i++)
		assert_int_equal(t.gnt.page[ref][i],
				 disk_pattern(16 * SECT + i));
	assert_int_equal(t.disk.reads, 1);
	stats(&t, &st);
	assert_int_equal(st.rd_req, 1);
	assert_int_equal(st.rd_sect, 8);
	t_close(&t);
}

static void test_single_write(void **state)
{
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {0};
	grant_ref_t ref = 9;
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < PAGE; i++)
		t.gnt.page[ref][i] = (uint8_t)(i * 31 + 5);
	rw_req(&rq, W, 43, 100, 1, &ref, 2, 5);
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 43, W, OK);
	/* Sectors 2..5 of the page went to disk sectors 100..103. */
	for (unsigned i = 0; i < 4 * SECT; i++)
		assert_int_equal(t.disk.data[100 * SECT + i],
				 (uint8_t)((2 * SECT + i) * 31 + 5));
	assert_int_equal(t.disk.data[99 * SECT + 511],
			 disk_pattern(99 * SECT + 511));
	assert_int_equal(t.disk.data[104 * SECT], disk_pattern(104 * SECT));
	stats(&t, &st);
	assert_int_equal(st.wr_req, 1);
	assert_int_equal(st.wr_sect, 4);
	assert_int_equal(st.rd_req, 0);
	assert_int_equal(st.oo_req, 0);
	t_close(&t);
}

/* 11 segments with assorted sector windows, read: each window gets the
 * next stretch of the disk and nothing around it is touched; then written
 * back elsewhere and compared. */
static void test_scatter_gather(void **state)
{
	static const uint8_t win[11][2] = {{0, 7}, {3, 3}, {1, 6}, {7, 7},
					   {0, 0}, {2, 4}, {0, 7}, {5, 7},
					   {4, 4}, {0, 3}, {6, 7}};
	grant_ref_t refs[11];
	struct blkif_request rq;
	struct opts o = {0};
	uint64_t off = 200 * SECT, total = 0;
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 11; i++)
		refs[i] = REF_DATA(i + 10);
	rw_req(&rq, R, 1, 200, 11, refs, 0, 0);
	for (unsigned i = 0; i < 11; i++) {
		rq.seg[i].first_sect = win[i][0];
		rq.seg[i].last_sect = win[i][1];
		total += win[i][1] - win[i][0] + 1;
	}
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 1, R, OK);
	for (unsigned i = 0; i < 11; i++) {
		uint8_t *p = t.gnt.page[refs[i]];

		for (unsigned b = 0; b < PAGE; b++) {
			unsigned s = b / SECT;

			if (s >= win[i][0] && s <= win[i][1])
				assert_int_equal(p[b], disk_pattern(off++));
			else
				assert_int_equal(p[b], 0xEE);
		}
	}
	assert_int_equal(off, 200 * SECT + total * SECT);

	/* Write the same windows to sector 1000 and compare with 200. */
	rq.operation = W;
	rq.id = 2;
	rq.sector_number = 1000;
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 2, W, OK);
	assert_memory_equal(t.disk.data + 1000 * SECT, t.disk.data + 200 * SECT,
			    total * SECT);
	t_close(&t);
}

/* An indirect write of 64 segments (8 refs reused) then an indirect read
 * of it back into other pages. */
static void test_indirect_64(void **state)
{
	struct blkif_request_indirect ind;
	struct opts o = {.max_indirect = 64};
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 64; i++)
		memset(t.gnt.page[REF_DATA(i)], 0x40 + (int)(i % 40), PAGE);
	indirect_req(&t, &ind, W, 5, 512, 64, 64, 0, 0, 7);
	front_push(&t, &ind, sizeof(ind));
	kick(&t);
	front_expect(&t, 5, W, OK);
	assert_int_equal(t.disk.writes, 1);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(t.disk.data[(512 + i * 8) * SECT + 100],
				 0x40 + (int)(i % 40));

	/* Read sectors 512 + 8 * 39 .. back into one page, 1 segment. */
	indirect_req(&t, &ind, R, 6, 512 + 8 * 39, 1, 1, 30, 0, 7);
	front_push(&t, &ind, sizeof(ind));
	kick(&t);
	front_expect(&t, 6, R, OK);
	for (unsigned b = 0; b < PAGE; b++)
		assert_int_equal(t.gnt.page[30][b], 0x40 + 39);
	t_close(&t);
}

/* 600 segments: descriptors in two indirect pages. */
static void test_indirect_two_pages(void **state)
{
	struct blkif_request_indirect ind;
	struct opts o = {.max_indirect = 1024, .nr_sectors = 8192};
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 40; i++)
		memset(t.gnt.page[REF_DATA(i)], i + 1, PAGE);
	indirect_req(&t, &ind, W, 9, 100, 600, 600, 0, 0, 7);
	front_push(&t, &ind, sizeof(ind));
	kick(&t);
	front_expect(&t, 9, W, OK);
	for (unsigned i = 0; i < 600; i++)
		assert_int_equal(t.disk.data[(100 + i * 8) * SECT + 7],
				 (i % 40) + 1);
	t_close(&t);
}

/* A flush is answered only once the storage's flush completes. */
static void test_flush(void **state)
{
	struct blkif_request rq;
	struct opts o = {.async = true};
	struct t t;

	t_open(&t, &o);
	rw_req(&rq, FL, 77, 0, 0, NULL, 0, 0);
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect_none(&t);
	assert_int_equal(t.disk.npending, 1);
	assert_int_equal(t.disk.pending[0]->op, BLK_IO_FLUSH);
	disk_complete(&t.disk, 0);
	assert_int_equal(kick(&t), BLK_RING_NOTIFY);
	front_expect(&t, 77, FL, OK);
	assert_int_equal(t.disk.flushes, 1);
	t_close(&t);
}

/* A flush carrying data: write, then flush, then the answer. */
static void test_flush_with_data(void **state)
{
	struct blkif_request rq;
	struct opts o = {.async = true};
	struct t t;

	t_open(&t, &o);
	memset(t.gnt.page[4], 0x5A, PAGE);
	rw_req(&rq, FL, 78, 40, 2, NULL, 0, 7);
	rq.seg[0].gref = 4;
	rq.seg[1].gref = 4;
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	assert_int_equal(t.disk.pending[0]->op, BLK_IO_WRITE);
	disk_complete(&t.disk, 0);
	kick(&t);
	front_expect_none(&t);
	assert_int_equal(t.disk.npending, 1);
	assert_int_equal(t.disk.pending[0]->op, BLK_IO_FLUSH);
	disk_complete(&t.disk, 0);
	kick(&t);
	front_expect(&t, 78, FL, OK);
	assert_string_equal(t.disk.trace, "WF");
	assert_int_equal(t.disk.data[40 * SECT], 0x5A);
	assert_int_equal(t.disk.data[56 * SECT - 1], 0x5A);
	t_close(&t);
}

/* A barrier waits for the writes before it and holds back those after. */
static void test_barrier_order(void **state)
{
	struct blkif_request rq;
	struct opts o = {.async = true};
	struct t t;

	t_open(&t, &o);
	rw_req(&rq, W, 1, 0, 1, NULL, 0, 7);
	front_queue(&t, &rq, sizeof(rq));
	rw_req(&rq, W, 2, 8, 1, NULL, 0, 7);
	front_queue(&t, &rq, sizeof(rq));
	rw_req(&rq, BAR, 3, 0, 0, NULL, 0, 0);
	front_queue(&t, &rq, sizeof(rq));
	rw_req(&rq, W, 4, 16, 1, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));

	assert_int_equal(kick(&t), 0);
	assert_int_equal(t.disk.npending, 2); /* the barrier waits */
	assert_int_equal(blk_ring_inflight(t.r), 3);
	disk_complete(&t.disk, 1);
	assert_int_equal(kick(&t), BLK_RING_NOTIFY);
	assert_int_equal(t.disk.npending, 1);
	front_expect(&t, 2, W, OK);
	disk_complete(&t.disk, 0);
	kick(&t);
	front_expect(&t, 1, W, OK);
	/* Now the barrier alone: the write after it still waits. */
	assert_int_equal(t.disk.npending, 1);
	assert_int_equal(t.disk.pending[0]->op, BLK_IO_FLUSH);
	disk_complete(&t.disk, 0);
	kick(&t);
	front_expect(&t, 3, BAR, OK);
	assert_int_equal(t.disk.npending, 1);
	assert_int_equal(t.disk.pending[0]->op, BLK_IO_WRITE);
	assert_int_equal(t.disk.pending[0]->sector, 16);
	disk_complete(&t.disk, 0);
	kick(&t);
	front_expect(&t, 4, W, OK);
	assert_string_equal(t.disk.trace, "WWFW");
	t_close(&t);
}

static void test_discard(void **state)
{
	struct blkif_request_discard d = {
	    .operation = DIS,
	    .id = 90,
	    .sector_number = 64,
	    .nr_sectors = 24,
	};
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	front_push(&t, &d, sizeof(d));
	kick(&t);
	front_expect(&t, 90, DIS, OK);
	assert_int_equal(t.disk.discards, 1);
	assert_int_equal(t.disk.secure_discards, 0);
	for (unsigned i = 0; i < 24 * SECT; i++)
		assert_int_equal(t.disk.data[64 * SECT + i], 0);
	assert_int_equal(t.disk.data[64 * SECT - 1],
			 disk_pattern(64 * SECT - 1));
	assert_int_equal(t.disk.data[88 * SECT], disk_pattern(88 * SECT));
	t_close(&t);
}

/* Many more requests than ring entries, in rounds of assorted sizes, so
 * that indices wrap the ring many times; every answer checked. */
static void run_wraparound(unsigned ring_pages)
{
	struct blkif_request rq;
	struct opts o = {.ring_pages = ring_pages};
	unsigned next = 0, done = 0, round = 0;
	struct t t;

	t_open(&t, &o);
	while (done < 3000) {
		unsigned n = 1 + (round * 7) % t.size;

		for (unsigned i = 0; i < n; i++, next++) {
			grant_ref_t ref = REF_DATA(next);

			rw_req(&rq, next % 3 ? R : W, next, (next * 8) % 4000,
			       1, &ref, 0, 7);
			front_queue(&t, &rq, sizeof(rq));
		}
		RING_PUSH_REQUESTS(&t.front);
		kick(&t);
		for (unsigned i = 0; i < n; i++, done++)
			front_expect(&t, done, done % 3 ? R : W, OK);
		front_expect_none(&t);
		round++;
	}
	assert_true(t.sring->rsp_prod > 2 * t.size);
	assert_int_equal(t.sring->req_event, t.sring->req_prod + 1);
	t_close(&t);
}

static void test_wraparound_1_page(void **state)
{
	run_wraparound(1);
}

static void test_wraparound_4_pages(void **state)
{
	run_wraparound(4);
}

/* Indices near 2^32: the free-running indices wrap the integer. */
static void test_index_wraps_u32(void **state)
{
	const RING_IDX start = 0xFFFFFFF0u;
	struct blkif_request rq;
	struct opts o = {.ring_pages = 1};
	struct blk_ring_config cfg;
	struct t t;

	t_open(&t, &o);
	/* Both ends re-attached at the same start index. */
	blk_ring_destroy(t.r);
	t.sring->req_prod = t.sring->rsp_prod = start;
	t.sring->req_event = t.sring->rsp_event = start + 1;
	FRONT_RING_ATTACH(&t.front, t.sring, start, PAGE);
	memset(&cfg, 0, sizeof(cfg));
	cfg.sring = t.sring;
	cfg.nr_ring_pages = 1;
	cfg.start_index = start;
	cfg.domid = FAKE_DOMID;
	cfg.devid = t.devid;
	cfg.grant = &fake_grant_ops;
	cfg.grant_opaque = &t.gnt;
	cfg.storage = &disk_ops;
	cfg.storage_opaque = &t.disk;
	assert_int_equal(blk_ring_create(&cfg, &t.r), 0);
	for (unsigned round = 0; round < 4; round++) {
		for (unsigned i = 0; i < 20; i++) {
			rw_req(&rq, R, round * 100 + i, i * 8, 1, NULL, 0, 7);
			front_queue(&t, &rq, sizeof(rq));
		}
		RING_PUSH_REQUESTS(&t.front);
		assert_int_equal(kick(&t), BLK_RING_NOTIFY);
		for (unsigned i = 0; i < 20; i++)
			front_expect(&t, round * 100 + i, R, OK);
		front_rearm(&t);
	}
	assert_int_equal(t.sring->rsp_prod, start + 80);
	assert_true(t.sring->rsp_prod < 100);
	t_close(&t);
}

/* Ten requests published at once: one kick takes them all, pushes once,
 * asks for one notification. */
static void test_batching(void **state)
{
	struct blkif_request rq;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 10; i++) {
		rw_req(&rq, i % 2 ? W : R, i, i * 8, 1, NULL, 0, 7);
		front_queue(&t, &rq, sizeof(rq));
	}
	RING_PUSH_REQUESTS(&t.front);
	assert_int_equal(kick(&t), BLK_RING_NOTIFY);
	assert_int_equal(t.sring->rsp_prod, 10);
	for (unsigned i = 0; i < 10; i++)
		front_expect(&t, i, i % 2 ? W : R, OK);
	/* Nothing new: no notification, req_event armed for the next. */
	assert_int_equal(kick(&t), 0);
	assert_int_equal(t.sring->req_event, 11);
	t_close(&t);
}

/* batch 4: a kick takes four requests and reports MORE. */
static void test_batch_limit(void **state)
{
	struct blkif_request rq;
	struct opts o = {.batch = 4};
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 10; i++) {
		rw_req(&rq, R, i, i * 8, 1, NULL, 0, 7);
		front_queue(&t, &rq, sizeof(rq));
	}
	RING_PUSH_REQUESTS(&t.front);
	assert_int_equal(kick(&t), BLK_RING_NOTIFY | BLK_RING_MORE);
	assert_int_equal(t.sring->rsp_prod, 4);
	/* The frontend has not drained: no new event is due. */
	assert_int_equal(kick(&t), BLK_RING_MORE);
	assert_int_equal(t.sring->rsp_prod, 8);
	for (unsigned i = 0; i < 8; i++)
		front_expect(&t, i, R, OK);
	front_rearm(&t);
	assert_int_equal(kick(&t), BLK_RING_NOTIFY);
	front_expect(&t, 8, R, OK);
	front_expect(&t, 9, R, OK);
	assert_int_equal(kick(&t), 0);
	t_close(&t);
}

/* Responses follow completion order, each with its own id. */
static void test_completion_out_of_order(void **state)
{
	static const unsigned order[5] = {3, 0, 2, 0, 0}; /* pending index */
	static const uint64_t want[5] = {13, 10, 14, 11, 12};
	struct blkif_request rq;
	struct opts o = {.async = true};
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 5; i++) {
		grant_ref_t ref = REF_DATA(i);

		rw_req(&rq, R, 10 + i, i * 8, 1, &ref, 0, 7);
		front_queue(&t, &rq, sizeof(rq));
	}
	RING_PUSH_REQUESTS(&t.front);
	assert_int_equal(kick(&t), 0);
	assert_int_equal(t.disk.npending, 5);
	for (unsigned k = 0; k < 5; k++) {
		disk_complete(&t.disk, order[k]);
		assert_int_equal(kick(&t), BLK_RING_NOTIFY);
		front_expect(&t, want[k], R, OK);
		front_expect_none(&t);
		front_rearm(&t);
	}
	/* Data landed in each request's own page. */
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(t.gnt.page[REF_DATA(i)][0],
				 disk_pattern(i * 8 * SECT));
	t_close(&t);
}

/* max_inflight 4: requests beyond it wait on the ring; completions make
 * room; requests that arrive meanwhile are taken in order. */
static void test_inflight_limit(void **state)
{
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {.async = true, .max_inflight = 4};
	unsigned answered = 0;
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 10; i++) {
		rw_req(&rq, R, i, i * 8, 1, NULL, 0, 7);
		front_queue(&t, &rq, sizeof(rq));
	}
	RING_PUSH_REQUESTS(&t.front);
	assert_int_equal(kick(&t), 0); /* held back: no MORE */
	assert_int_equal(t.disk.npending, 4);
	assert_int_equal(t.front.sring->req_event, 1); /* not re-armed */

	disk_complete(&t.disk, 2);
	disk_complete(&t.disk, 0);
	assert_int_equal(kick(&t), BLK_RING_NOTIFY);
	assert_int_equal(t.disk.npending, 4);
	front_expect(&t, 2, R, OK);
	front_expect(&t, 0, R, OK);
	answered = 2;

	/* More arrive while four are in flight. */
	for (unsigned i = 10; i < 14; i++) {
		rw_req(&rq, R, i, i * 8, 1, NULL, 0, 7);
		front_push(&t, &rq, sizeof(rq));
	}
	while (answered < 14) {
		struct blkif_response rsp;

		assert_true(t.disk.npending > 0);
		assert_true(t.disk.npending <= 4);
		disk_complete(&t.disk, t.disk.npending - 1);
		kick(&t);
		while (front_pop(&t, &rsp)) {
			assert_int_equal(rsp.status, OK);
			answered++;
		}
	}
	assert_int_equal(t.disk.npending, 0);
	stats(&t, &st);
	assert_int_equal(st.inflight_max, 4);
	assert_int_equal(st.rsp_okay, 14);
	/* xentop's figures: 14 reads of 8 sectors; the first kick and the
	 * ones while four were in flight found requests waiting. */
	assert_int_equal(st.rd_req, 14);
	assert_int_equal(st.rd_sect, 14 * 8);
	assert_int_equal(st.wr_req, 0);
	assert_true(st.oo_req >= 1);
	assert_int_equal(t.sring->req_event, 15);
	t_close(&t);
}

/* rsp_event decides the notification, as RING_PUSH_RESPONSES_AND_CHECK_
 * NOTIFY does. */
static void test_notify_hold_off(void **state)
{
	struct blkif_request rq;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	t.sring->rsp_event = 3; /* frontend wants an event at response 3 */
	rw_req(&rq, R, 1, 0, 1, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	assert_int_equal(kick(&t), 0); /* rsp_prod 1 */
	front_push(&t, &rq, sizeof(rq));
	assert_int_equal(kick(&t), 0); /* rsp_prod 2 */
	front_push(&t, &rq, sizeof(rq));
	assert_int_equal(kick(&t), BLK_RING_NOTIFY); /* rsp_prod 3 */
	front_push(&t, &rq, sizeof(rq));
	assert_int_equal(kick(&t), 0); /* rsp_event stale */
	for (unsigned i = 0; i < 4; i++)
		front_expect(&t, 1, R, OK);
	t_close(&t);
}

/* Responses carry zeroed padding: no host bytes reach the guest. */
static void test_response_padding(void **state)
{
	struct blkif_request rq;
	struct opts o = {0};
	uint8_t raw[sizeof(struct blkif_response)];
	struct t t;

	t_open(&t, &o);
	rw_req(&rq, 200, 0x1122334455667788ULL, 0, 1, NULL, 0, 7);
	memset(&rq.seg, 0xFF, sizeof(rq.seg));
	front_push(&t, &rq, sizeof(rq));
	{
		unsigned flags, lines;

		assert_int_equal(kick_logged(&t, &flags, &lines), 0);
		assert_int_equal(lines, 1);
	}
	memcpy(raw, RING_GET_RESPONSE(&t.front, 0), sizeof(raw));
	assert_int_equal(raw[offsetof(struct blkif_response, operation) + 1],
			 0);
	for (size_t i = offsetof(struct blkif_response, status) + 2;
	     i < sizeof(raw); i++)
		assert_int_equal(raw[i], 0);
	front_expect(&t, 0x1122334455667788ULL, 200, NOTSUP);
	t_close(&t);
}

/* Storage failures: an I/O error, a refused submission. */
static void test_storage_errors(void **state)
{
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {0};
	unsigned flags, lines;
	struct t t;

	t_open(&t, &o);
	t.disk.fail_sector = 20;
	rw_req(&rq, R, 1, 16, 1, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	rw_req(&rq, R, 2, 24, 1, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	assert_int_equal(kick_logged(&t, &flags, &lines), 0);
	assert_int_equal(lines, 1);
	front_expect(&t, 1, R, ERR);
	front_expect(&t, 2, R, OK);
	t.disk.refuse = -ENOMEM;
	rw_req(&rq, W, 3, 16, 1, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	assert_int_equal(kick_logged(&t, &flags, &lines), 0);
	assert_int_equal(lines, 0); /* same kind: already logged */
	front_expect(&t, 3, W, ERR);
	t.disk.refuse = -EOPNOTSUPP;
	rw_req(&rq, FL, 4, 0, 0, NULL, 0, 0);
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 4, FL, NOTSUP);
	stats(&t, &st);
	assert_int_equal(st.faults[BLK_FAULT_IO], 2);
	assert_int_equal(st.rsp_error, 2);
	assert_int_equal(st.rsp_eopnotsupp, 1);
	/* Failed requests are not counted as reads or writes done. */
	assert_int_equal(st.rd_req, 1);
	assert_int_equal(st.rd_sect, 8);
	assert_int_equal(st.wr_req, 0);
	t_close(&t);
}

/* The frontend rewrites an entry after publishing it: the ring decides on
 * its one copy, so a segment count checked is the count used. */
static void test_entry_copied_once(void **state)
{
	struct blkif_request rq;
	struct opts o = {.async = true};
	struct t t;

	t_open(&t, &o);
	rw_req(&rq, R, 1, 0, 2, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	/* Request taken; now scribble over its entry. */
	memset(RING_GET_REQUEST(&t.front, 0), 0xFF, sizeof(rq));
	assert_int_equal(t.disk.pending[0]->iovcnt, 2);
	assert_int_equal(t.disk.pending[0]->nr_sectors, 16);
	disk_complete(&t.disk, 0);
	kick(&t);
	front_expect(&t, 1, R, OK);
	t_close(&t);
}

/* feature-persistent: each ref is mapped once and kept until destroy. */
static void test_persistent_reuse(void **state)
{
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {.max_persistent = 64};
	grant_ref_t refs[4] = {5, 6, 7, 8};
	struct t t;

	t_open(&t, &o);
	for (unsigned k = 0; k < 20; k++) {
		memset(t.gnt.page[refs[k % 4]], k, PAGE);
		rw_req(&rq, k % 2 ? R : W, k, 32 * k, 4, refs, 0, 7);
		front_push(&t, &rq, sizeof(rq));
		kick(&t);
		front_expect(&t, k, k % 2 ? R : W, OK);
	}
	stats(&t, &st);
	assert_int_equal(t.gnt.map_calls, 4);
	assert_int_equal(t.gnt.unmap_calls, 0);
	assert_int_equal(st.grant_maps, 4);
	assert_int_equal(st.persistent_grants, 4);
	assert_int_equal(st.persistent_hits, 20 * 4 - 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(t.gnt.wmaps[refs[i]], 1); /* mapped writable */
	/* The last read (sectors 32*19..) landed in the cached pages. */
	assert_int_equal(t.gnt.page[refs[0]][0], disk_pattern(32 * 19 * SECT));
	assert_int_equal(t.gnt.page[refs[3]][PAGE - 1],
			 disk_pattern((32 * 19 + 32) * SECT - 1));
	t_close(&t); /* checks the 4 unmaps */
	assert_int_equal(t.gnt.unmap_calls, 4);
}

/* Cache bound 2: refs beyond it are mapped and released per request. */
static void test_persistent_bound(void **state)
{
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {.max_persistent = 2};
	grant_ref_t refs[4] = {11, 12, 13, 14};
	struct t t;

	t_open(&t, &o);
	for (unsigned k = 0; k < 5; k++) {
		rw_req(&rq, R, k, 0, 4, refs, 0, 7);
		front_push(&t, &rq, sizeof(rq));
		kick(&t);
		front_expect(&t, k, R, OK);
		assert_int_equal(t.gnt.maps[13] + t.gnt.maps[14], 0);
		assert_int_equal(t.gnt.maps[11] + t.gnt.maps[12], 2);
	}
	stats(&t, &st);
	assert_int_equal(st.persistent_grants, 2);
	assert_int_equal(t.gnt.map_calls, 2 + 5 * 2);
	assert_int_equal(t.gnt.unmap_calls, 5 * 2);
	t_close(&t);
}

/* A read-only grant is cached read-only for writes; a later disk read
 * into it is refused, and persistent indirect pages are reused too. */
static void test_persistent_readonly(void **state)
{
	struct blkif_request_indirect ind;
	struct blk_ring_stats st;
	struct blkif_request rq;
	struct opts o = {.max_persistent = 64};
	grant_ref_t ref = REF_RO;
	struct t t;

	t_open(&t, &o);
	rw_req(&rq, W, 1, 0, 1, &ref, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 1, W, OK);
	rw_req(&rq, W, 2, 8, 1, &ref, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 2, W, OK);
	assert_int_equal(t.gnt.maps[REF_RO], 1);
	assert_int_equal(t.gnt.wmaps[REF_RO], 0);

	rw_req(&rq, R, 3, 0, 1, &ref, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	{
		unsigned flags, lines;

		assert_int_equal(kick_logged(&t, &flags, &lines), 0);
		assert_int_equal(lines, 1);
	}
	front_expect(&t, 3, R, ERR);

	for (unsigned k = 0; k < 3; k++) {
		indirect_req(&t, &ind, R, 10 + k, 0, 20, 20, 0, 0, 7);
		front_push(&t, &ind, sizeof(ind));
		kick(&t);
		front_expect(&t, 10 + k, R, OK);
	}
	assert_int_equal(t.gnt.maps[REF_IND(0)], 1);
	stats(&t, &st);
	assert_int_equal(st.faults[BLK_FAULT_GRANT], 1);
	t_close(&t);
}

/* A resize seen by the next kick: sectors past the old end become valid. */
static void test_resize(void **state)
{
	struct blkif_request rq;
	struct opts o = {.nr_sectors = 8192};
	struct t t;

	t_open(&t, &o);
	t.disk.nr_sectors = 1024;
	rw_req(&rq, R, 1, 2048, 1, NULL, 0, 7);
	front_push(&t, &rq, sizeof(rq));
	{
		unsigned flags, lines;

		assert_int_equal(kick_logged(&t, &flags, &lines), 0);
	}
	front_expect(&t, 1, R, ERR);
	t.disk.nr_sectors = 8192;
	front_push(&t, &rq, sizeof(rq));
	kick(&t);
	front_expect(&t, 1, R, OK);
	t_close(&t);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(create_cases) +
				2 * ARRAY_SIZE(req_cases) +
				ARRAY_SIZE(ring_cases) + 32];
	size_t n = 0, i;

	for (i = 0; i < ARRAY_SIZE(create_cases); i++)
		tests[n++] =
		    (struct CMUnitTest){create_cases[i].name, test_create, NULL,
					NULL, (void *)&create_cases[i]};
	for (i = 0; i < 2 * ARRAY_SIZE(req_cases); i++) {
		struct req_run *run = &req_runs[i];

		run->c = &req_cases[i / 2];
		run->persistent = i % 2;
		snprintf(run->name, sizeof(run->name), "%s%s", run->c->name,
			 run->persistent ? "/persistent" : "");
		tests[n++] = (struct CMUnitTest){run->name, test_request, NULL,
						 NULL, run};
	}
	for (i = 0; i < ARRAY_SIZE(ring_cases); i++)
		tests[n++] =
		    (struct CMUnitTest){ring_cases[i].name, test_ring_indices,
					NULL, NULL, (void *)&ring_cases[i]};
#define SCENARIO(fn) tests[n++] = (struct CMUnitTest)cmocka_unit_test(fn)
	SCENARIO(test_single_read);
	SCENARIO(test_single_write);
	SCENARIO(test_scatter_gather);
	SCENARIO(test_indirect_64);
	SCENARIO(test_indirect_two_pages);
	SCENARIO(test_flush);
	SCENARIO(test_flush_with_data);
	SCENARIO(test_barrier_order);
	SCENARIO(test_discard);
	SCENARIO(test_wraparound_1_page);
	SCENARIO(test_wraparound_4_pages);
	SCENARIO(test_index_wraps_u32);
	SCENARIO(test_batching);
	SCENARIO(test_batch_limit);
	SCENARIO(test_completion_out_of_order);
	SCENARIO(test_inflight_limit);
	SCENARIO(test_notify_hold_off);
	SCENARIO(test_response_padding);
	SCENARIO(test_storage_errors);
	SCENARIO(test_entry_copied_once);
	SCENARIO(test_persistent_reuse);
	SCENARIO(test_persistent_bound);
	SCENARIO(test_persistent_readonly);
	SCENARIO(test_resize);
	return _cmocka_run_group_tests("blk_ring", tests, n, NULL, NULL);
}
