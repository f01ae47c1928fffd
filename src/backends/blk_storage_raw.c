/* Raw host storage for the block backend: a regular file or a block device
 * (phy: paths, LVM volumes) read and written in place, through io_uring,
 * or through a small pool of threads doing preadv/pwritev where io_uring
 * cannot be set up (or KXEN_BLK_ENGINE=threads asks for it).
 *
 * Buffered I/O, not O_DIRECT: the page cache holds a guest's writes until
 * its cache flush, which becomes an fdatasync; that is the durability a
 * disk with a volatile write cache promises, and it keeps reads of hot
 * blocks cheap.
 *
 * Continued transfers: a READ or WRITE that moved fewer bytes than asked
 * (a signal, a partial pwritev, more iovecs than IOV_MAX) goes on from
 * where it stopped: req->seg/seg_off name the first byte not yet moved.
 * Worked example: iovecs of 4096, 4096, 512 bytes; the first preadv
 * returns 5000: seg = 1, seg_off = 904, and the next call reads into a
 * scratch copy {iov[1] + 904, 3192}, {iov[2], 512} at offset + 5000. */
#include "backends/blk_storage_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* Worker threads of the fallback engine: enough to keep a few requests
 * in flight on a real disk, few enough to be cheap per device. */
#define BLK_RAW_THREADS 8
/* Submission queue entries; the completion queue is sized for the most a
 * ring can hold in flight (16 pages of 32 requests) with room to spare, so
 * that it never overflows. */
#define BLK_RAW_SQ_ENTRIES 128
#define BLK_RAW_CQ_ENTRIES 1024
/* READ/WRITE of this many bytes or more go straight to io_uring's kernel
 * workers (IOSQE_ASYNC) instead of being tried inline in io_uring_enter:
 * a page-cache hit of 1 MiB is 100-200 us of copying that would otherwise
 * run on the domain's event-loop thread, holding up its other devices,
 * while a 4 KiB hit costs less inline than the hand-over (measured in
 * docs/performance.md, "Block storage engines"). */
#define BLK_RAW_URING_ASYNC_MIN (64u << 10)

struct blk_raw {
	struct blk_storage base;
	char *path;
	int fd;
	bool blkdev, readonly;
	uint32_t sector_size;
	uint64_t size; /* bytes, as last read */
	/* io_uring engine */
	struct io_uring ring;
	bool uring;	      /* ring set up */
	bool uring_fallocate; /* the kernel knows IORING_OP_FALLOCATE */
	/* thread engine: a FIFO of requests for the workers */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct blk_storage_req *qhead, *qtail;
	bool pool, stop; /* pool: qlock and qcond set up */
	unsigned nthreads;
	pthread_t threads[BLK_RAW_THREADS];
};

static struct blk_raw *blk_raw_of(void *opaque)
{
	return opaque;
}

/* Re-reads the size; keeps the last one if that fails. */
static void blk_raw_read_size(struct blk_raw *r)
{
	struct stat st;
	uint64_t sz;

	if (r->blkdev) {
		if (ioctl(r->fd, BLKGETSIZE64, &sz) == 0)
			r->size = sz;
	} else if (fstat(r->fd, &st) == 0) {
		r->size = (uint64_t)st.st_size;
	}
}

static void blk_raw_get_info(void *opaque, struct blk_storage_info *info)
{
	struct blk_raw *r = blk_raw_of(opaque);

	blk_raw_read_size(r);
	info->nr_sectors = r->size / BLK_SECTOR_SIZE;
	info->sector_size = r->sector_size;
	info->readonly = r->readonly;
	info->discard_secure = false;
}

/* Submit-time refusal: a read-only storage takes only reads (the ring
 * refuses the others first; this is the second lock on the door). */
static int blk_raw_refuse(const struct blk_raw *r, const struct blk_io *io)
{
	if (r->readonly && io->op != BLK_IO_READ)
		return -EROFS;
	return 0;
}

/* Moves the transfer position on by n bytes. */
static void blk_raw_advance(struct blk_storage_req *q, size_t n)
{
	const struct blk_io *io = q->io;

	q->done += n;
	while (q->seg < io->iovcnt) {
		size_t left = io->iov[q->seg].iov_len - q->seg_off;

		if (n < left) {
			q->seg_off += n;
			return;
		}
		n -= left;
		q->seg++;
		q->seg_off = 0;
	}
}

/* What is left of the transfer, at most IOV_MAX iovecs: the ring's own
 * array when the last transfer stopped on an iovec boundary, else a
 * scratch copy with its first entry trimmed (kept until the next call or
 * completion: io_uring may read it until the request is issued). */
static int blk_raw_rest(struct blk_storage_req *q, const struct iovec **iov,
			int *cnt)
{
	const struct blk_io *io = q->io;
	unsigned n = io->iovcnt - q->seg;

	if (n > IOV_MAX)
		n = IOV_MAX;
	*cnt = (int)n;
	if (!q->seg_off) {
		*iov = io->iov + q->seg;
		return 0;
	}
	free(q->scratch);
	q->scratch = malloc(n * sizeof(*q->scratch));
	if (!q->scratch)
		return -ENOMEM;
	memcpy(q->scratch, io->iov + q->seg, n * sizeof(*q->scratch));
	q->scratch[0].iov_base = (uint8_t *)q->scratch[0].iov_base + q->seg_off;
	q->scratch[0].iov_len -= q->seg_off;
	*iov = q->scratch;
	return 0;
}

static uint64_t blk_raw_offset(const struct blk_storage_req *q)
{
	return q->io->sector * BLK_SECTOR_SIZE + q->done;
}

/* DISCARD, synchronously.  Files: punch a hole (the range reads back as
 * zeros, and the file keeps its size).  Block devices: BLKDISCARD, as
 * Linux's blkback does (no promise about what reads back). */
static int blk_raw_discard(struct blk_raw *r, const struct blk_io *io)
{
	uint64_t range[2] = {io->sector * BLK_SECTOR_SIZE,
			     io->nr_sectors * BLK_SECTOR_SIZE};

	if (r->blkdev)
		return ioctl(r->fd, BLKDISCARD, range) ? -errno : 0;
	return fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 (off_t)range[0], (off_t)range[1])
		   ? -errno
		   : 0;
}

/* ---- io_uring engine ----
 * One SQE per request at a time (a continued transfer is resubmitted from
 * the completion), submitted at once: the ring hands requests over one by
 * one with no end-of-batch call, and a small buffered read that hits the
 * page cache completes inside that same io_uring_enter.  Large transfers
 * are punted to the kernel's workers (BLK_RAW_URING_ASYNC_MIN). */

static void blk_raw_uring_kick(struct blk_raw *r)
{
	int ret;

	do
		ret = io_uring_submit(&r->ring);
	while (ret == -EINTR);
	if (ret < 0) {
		/* The SQEs stay queued (-EAGAIN, -EBUSY: the kernel is short
		 * of memory or completions are waiting to be reaped):
		 * come back through blk_storage_complete() to retry. */
		if (log_first_time("blk_storage uring submit", (uint64_t)-ret,
				   0))
			log_warnx("blk: %s: io_uring submit: %s (retrying)",
				  r->path, strerror(-ret));
		blk_storage_signal(&r->base);
	}
}

static void blk_raw_uring_queue(struct blk_raw *r, struct blk_storage_req *q)
{
	const struct blk_io *io = q->io;
	struct io_uring_sqe *sqe;
	const struct iovec *iov = NULL;
	int cnt = 0, ret;

	if (io->op == BLK_IO_READ || io->op == BLK_IO_WRITE) {
		ret = blk_raw_rest(q, &iov, &cnt);
		if (ret) {
			blk_storage_post(q, ret);
			return;
		}
	}
	sqe = io_uring_get_sqe(&r->ring);
	if (!sqe) {
		/* Full of SQEs the kernel has not taken: hand them over. */
		blk_raw_uring_kick(r);
		sqe = io_uring_get_sqe(&r->ring);
	}
	if (!sqe) {
		blk_storage_post(q, -EBUSY);
		return;
	}
	switch (io->op) {
	case BLK_IO_READ:
		io_uring_prep_readv(sqe, r->fd, iov, (unsigned)cnt,
				    blk_raw_offset(q));
		break;
	case BLK_IO_WRITE:
		io_uring_prep_writev(sqe, r->fd, iov, (unsigned)cnt,
				     blk_raw_offset(q));
		break;
	case BLK_IO_FLUSH:
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_IO_DISCARD:
		io_uring_prep_fallocate(
		    sqe, r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    (off_t)(io->sector * BLK_SECTOR_SIZE),
		    (off_t)(io->nr_sectors * BLK_SECTOR_SIZE));
		break;
	}
	if ((io->op == BLK_IO_READ || io->op == BLK_IO_WRITE) &&
	    io->nr_sectors * BLK_SECTOR_SIZE >= BLK_RAW_URING_ASYNC_MIN)
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	io_uring_sqe_set_data(sqe, q);
	blk_raw_uring_kick(r);
}

static int blk_raw_uring_submit(void *opaque, struct blk_io *io)
{
	struct blk_raw *r = blk_raw_of(opaque);
	struct blk_storage_req *q;
	int ret = blk_raw_refuse(r, io);

	if (ret)
		return ret;
	q = blk_storage_req_get(&r->base, io);
	if (!q)
		return -ENOMEM;
	blk_raw_advance(q, 0); /* step over empty leading iovecs */
	/* io_uring has no BLKDISCARD; a discard is rare and short enough to
	 * do here, its completion still goes through the event fd. */
	if (io->op == BLK_IO_DISCARD && (r->blkdev || !r->uring_fallocate)) {
		blk_storage_post(q, blk_raw_discard(r, io));
		return 0;
	}
	blk_raw_uring_queue(r, q);
	return 0;
}

/* One completion: 1 if done() was called, 0 if the request goes on. */
static unsigned blk_raw_uring_result(struct blk_raw *r,
				     struct blk_storage_req *q, int res)
{
	const struct blk_io *io = q->io;

	if (io->op != BLK_IO_READ && io->op != BLK_IO_WRITE) {
		blk_storage_finish(q, res < 0 ? res : 0);
		return 1;
	}
	if (res == -EINTR || res == -EAGAIN) {
		blk_raw_uring_queue(r, q);
		return 0;
	}
	/* 0 bytes: end of file inside a range the ring checked against the
	 * size, so the file shrank under us. */
	if (res <= 0) {
		blk_storage_finish(q, res < 0 ? res : -EIO);
		return 1;
	}
	blk_raw_advance(q, (size_t)res);
	if (q->seg < io->iovcnt) {
		blk_raw_uring_queue(r, q);
		return 0;
	}
	blk_storage_finish(q, 0);
	return 1;
}

static unsigned blk_raw_uring_reap(struct blk_storage *s)
{
	struct blk_raw *r = (struct blk_raw *)s;
	/* Only what is there now: a done() that submits again may complete
	 * inline, and those are left for the next round so that one call
	 * cannot run forever.  Completions that overflowed the queue (more
	 * requests in flight than it holds) are moved in by the first peek. */
	unsigned todo = io_uring_cq_ready(&r->ring), n = 0;
	struct io_uring_cqe *cqe;

	if (!todo && io_uring_cq_has_overflow(&r->ring))
		todo = 1;
	while (todo-- && io_uring_peek_cqe(&r->ring, &cqe) == 0) {
		struct blk_storage_req *q = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&r->ring, cqe);
		n += blk_raw_uring_result(r, q, res);
	}
	if (io_uring_sq_ready(&r->ring))
		blk_raw_uring_kick(r);
	/* Left over (or flushed in from the overflow list, which signals
	 * nothing): come back for them. */
	if (io_uring_cq_ready(&r->ring) || io_uring_cq_has_overflow(&r->ring))
		blk_storage_signal(s);
	return n;
}

static int blk_raw_uring_init(struct blk_raw *r)
{
	struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE,
				    .cq_entries = BLK_RAW_CQ_ENTRIES};
	struct io_uring_probe *probe;
	int ret;

	ret = io_uring_queue_init_params(BLK_RAW_SQ_ENTRIES, &r->ring, &p);
	if (ret == -EINVAL) /* before Linux 5.5: no CQSIZE */
		ret = io_uring_queue_init(BLK_RAW_SQ_ENTRIES, &r->ring, 0);
	if (ret)
		return ret;
	r->uring = true;
	probe = io_uring_get_probe_ring(&r->ring);
	if (!probe)
		return -ENOSYS; /* before 5.6: no probe, no FALLOCATE */
	if (!io_uring_opcode_supported(probe, IORING_OP_READV) ||
	    !io_uring_opcode_supported(probe, IORING_OP_WRITEV) ||
	    !io_uring_opcode_supported(probe, IORING_OP_FSYNC))
		ret = -ENOSYS;
	r->uring_fallocate =
	    io_uring_opcode_supported(probe, IORING_OP_FALLOCATE);
	io_uring_free_probe(probe);
	if (!ret)
		ret = io_uring_register_eventfd(&r->ring, r->base.event_fd);
	return ret;
}

/* ---- thread engine ---- */

static int blk_raw_sync_io(struct blk_raw *r, struct blk_storage_req *q)
{
	const struct blk_io *io = q->io;
	const struct iovec *iov;
	ssize_t n;
	int cnt, ret;

	switch (io->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		while (q->seg < io->iovcnt) {
			ret = blk_raw_rest(q, &iov, &cnt);
			if (ret)
				return ret;
			if (io->op == BLK_IO_READ)
				n = preadv(r->fd, iov, cnt,
					   (off_t)blk_raw_offset(q));
			else
				n = pwritev(r->fd, iov, cnt,
					    (off_t)blk_raw_offset(q));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return -EIO;
			blk_raw_advance(q, (size_t)n);
		}
		return 0;
	case BLK_IO_FLUSH:
		return fdatasync(r->fd) ? -errno : 0;
	case BLK_IO_DISCARD:
		return blk_raw_discard(r, io);
	}
	return -EOPNOTSUPP;
}

static void *blk_raw_worker(void *arg)
{
	struct blk_raw *r = arg;
	struct blk_storage_req *q;

	pthread_mutex_lock(&r->qlock);
	for (;;) {
		while (!r->qhead && !r->stop)
			pthread_cond_wait(&r->qcond, &r->qlock);
		q = r->qhead;
		if (!q)
			break;
		r->qhead = q->next;
		if (!r->qhead)
			r->qtail = NULL;
		pthread_mutex_unlock(&r->qlock);
		blk_storage_post(q, blk_raw_sync_io(r, q));
		pthread_mutex_lock(&r->qlock);
	}
	pthread_mutex_unlock(&r->qlock);
	return NULL;
}

static int blk_raw_threads_submit(void *opaque, struct blk_io *io)
{
	struct blk_raw *r = blk_raw_of(opaque);
	struct blk_storage_req *q;
	int ret = blk_raw_refuse(r, io);

	if (ret)
		return ret;
	q = blk_storage_req_get(&r->base, io);
	if (!q)
		return -ENOMEM;
	blk_raw_advance(q, 0);
	q->next = NULL;
	pthread_mutex_lock(&r->qlock);
	if (r->qtail)
		r->qtail->next = q;
	else
		r->qhead = q;
	r->qtail = q;
	pthread_cond_signal(&r->qcond);
	pthread_mutex_unlock(&r->qlock);
	return 0;
}

static int blk_raw_threads_init(struct blk_raw *r)
{
	sigset_t all, old;
	int ret = 0;

	pthread_mutex_init(&r->qlock, NULL);
	pthread_cond_init(&r->qcond, NULL);
	r->pool = true;
	/* Workers take no signals: those are the owner's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (r->nthreads < BLK_RAW_THREADS) {
		ret = -pthread_create(&r->threads[r->nthreads], NULL,
				      blk_raw_worker, r);
		if (ret)
			break;
		r->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* A few workers are as good as many, none is not. */
	return r->nthreads ? 0 : ret;
}

static void blk_raw_destroy(struct blk_storage *s)
{
	struct blk_raw *r = (struct blk_raw *)s;

	if (r->pool) {
		pthread_mutex_lock(&r->qlock);
		r->stop = true;
		pthread_cond_broadcast(&r->qcond);
		pthread_mutex_unlock(&r->qlock);
		while (r->nthreads)
			pthread_join(r->threads[--r->nthreads], NULL);
		pthread_cond_destroy(&r->qcond);
		pthread_mutex_destroy(&r->qlock);
	}
	if (r->uring)
		io_uring_queue_exit(&r->ring);
	if (r->fd >= 0)
		close(r->fd);
	blk_storage_fini(s);
	free(r->path);
	free(r);
}

static const struct blk_storage_engine blk_raw_threads_engine = {
    .name = "threads",
    .destroy = blk_raw_destroy,
};

static const struct blk_storage_engine blk_raw_uring_engine = {
    .name = "uring",
    .reap = blk_raw_uring_reap,
    .destroy = blk_raw_destroy,
};

/* ---- opening ---- */

static int blk_raw_probe(struct blk_raw *r, const char *path, char *err,
			 size_t errlen)
{
	struct stat st;
	int ss;

	if (fstat(r->fd, &st)) {
		errbuf_printf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	r->sector_size = BLK_SECTOR_SIZE;
	if (S_ISBLK(st.st_mode)) {
		r->blkdev = true;
		if (ioctl(r->fd, BLKSSZGET, &ss)) {
			errbuf_printf(err, errlen,
				      "%s: cannot read the block size: %s",
				      path, strerror(errno));
			return -errno;
		}
		/* What the ring can express: a power of two, 512..4096. */
		if (ss < 512 || ss > 4096 || (ss & (ss - 1))) {
			errbuf_printf(err, errlen,
				      "%s: logical block size %d not supported",
				      path, ss);
			return -EINVAL;
		}
		r->sector_size = (uint32_t)ss;
	} else if (!S_ISREG(st.st_mode)) {
		errbuf_printf(err, errlen,
			      "%s: not a regular file or block device", path);
		return -EINVAL;
	}
	blk_raw_read_size(r);
	return 0;
}

int blk_storage_raw_open(const struct blk_storage_params *p,
			 struct blk_storage **out, char *err, size_t errlen)
{
	const char *want = getenv("KXEN_BLK_ENGINE");
	bool threads = want && !strcmp(want, "threads");
	bool uring_only = want && !strcmp(want, "uring");
	struct blk_raw *r;
	int ret;

	if (want && *want && !threads && !uring_only) {
		errbuf_printf(err, errlen,
			      "KXEN_BLK_ENGINE=%s: expected uring or threads",
			      want);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(p->path))) {
		free(r);
		errbuf_printf(err, errlen, "%s: out of memory", p->path);
		return -ENOMEM;
	}
	r->fd = -1;
	r->readonly = p->readonly;
	r->base.engine = &blk_raw_uring_engine;
	ret = blk_storage_init(&r->base);
	if (ret) {
		errbuf_printf(err, errlen, "%s: eventfd: %s", p->path,
			      strerror(-ret));
		goto out;
	}
	r->fd = open(p->path, (p->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (r->fd < 0) {
		ret = -errno;
		errbuf_printf(err, errlen, "%s: %s", p->path, strerror(-ret));
		goto out;
	}
	ret = blk_raw_probe(r, p->path, err, errlen);
	if (ret)
		goto out;
	if (!threads) {
		ret = blk_raw_uring_init(r);
		if (ret && uring_only) {
			errbuf_printf(
			    err, errlen,
			    "%s: io_uring (KXEN_BLK_ENGINE=uring): %s", p->path,
			    strerror(-ret));
			goto out;
		}
		if (ret) {
			log_warnx("blk: %s: io_uring unavailable (%s), using "
				  "worker threads",
				  p->path, strerror(-ret));
			if (r->uring)
				io_uring_queue_exit(&r->ring);
			r->uring = false;
		}
	}
	if (r->uring) {
		r->base.ops = (struct blk_storage_ops){
		    .get_info = blk_raw_get_info,
		    .read = blk_raw_uring_submit,
		    .write = blk_raw_uring_submit,
		    .flush = blk_raw_uring_submit,
		    .discard = blk_raw_uring_submit,
		};
	} else {
		ret = blk_raw_threads_init(r);
		if (ret) {
			errbuf_printf(err, errlen, "%s: worker threads: %s",
				      p->path, strerror(-ret));
			goto out;
		}
		r->base.engine = &blk_raw_threads_engine;
		r->base.ops = (struct blk_storage_ops){
		    .get_info = blk_raw_get_info,
		    .read = blk_raw_threads_submit,
		    .write = blk_raw_threads_submit,
		    .flush = blk_raw_threads_submit,
		    .discard = blk_raw_threads_submit,
		};
	}
	*out = &r->base;
	return 0;
out:
	blk_raw_destroy(&r->base);
	return ret;
}
