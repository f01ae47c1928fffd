/* Unit tests for the block backend's host storage engines
 * (backends/blk_storage*.c) against real temporary files in $TMPDIR (or
 * /tmp): raw files through io_uring and through the worker threads, qcow2
 * images through qemu-nbd (created with qemu-img), and a loop block device
 * with 4096-byte sectors where this machine lets us make one (skipped
 * otherwise).  The same scenarios run on every engine (data round trips
 * with scattered iovecs, 64 requests in flight, flush, discard, read-only,
 * draining at close), then the engine-specific ones (hole punching, qcow2
 * consistency, qemu-nbd's lifetime).
 *
 * Every done() is checked to run exactly once and only inside
 * blk_storage_complete() or blk_storage_close(), never inside a submit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/blk_storage.h"

#define SECT BLK_SECTOR_SIZE
#define DISK_SIZE (8u << 20) /* every test image */
#define MAX_IOV 2048
#define container_of(p, type, member)                                          \
	((type *)((char *)(p)-offsetof(type, member)))

/* ---- engines ---- */

enum kind { K_URING, K_THREADS, K_QCOW2, K_BLKDEV };

struct engine {
	enum kind kind;
	const char *env;    /* KXEN_BLK_ENGINE */
	const char *expect; /* blk_storage_engine_name() */
};

static const struct engine E_URING = {K_URING, "uring", "uring"};
static const struct engine E_THREADS = {K_THREADS, "threads", "threads"};
static const struct engine E_QCOW2 = {K_QCOW2, NULL, "qemu-nbd"};
static const struct engine E_BLKDEV = {K_BLKDEV, "uring", "uring"};

struct fx {
	const struct engine *e;
	char dir[256];
	char path[PATH_MAX];	/* the image: file, qcow2 or loop device */
	char backing[PATH_MAX]; /* K_BLKDEV: the loop device's file */
	int loop_fd;		/* K_BLKDEV: keeps the loop device */
	bool unavailable;	/* K_BLKDEV: no loop device here */
	struct blk_storage *s;
	const struct blk_storage_ops *ops;
	uint32_t align; /* sector size of the storage */
};

/* ---- requests ---- */

struct tio {
	struct blk_io io;
	struct iovec *iov;
	uint8_t **bufs;	 /* separately allocated segments, or NULL */
	uint8_t *linear; /* or one buffer cut into the iovecs */
	int err;
	int ndone;
};

static unsigned g_done;
static bool g_completing; /* inside blk_storage_complete() or close */

static void tio_done(struct blk_io *io, int err)
{
	struct tio *t = container_of(io, struct tio, io);

	assert_true(g_completing);
	t->err = err;
	t->ndone++;
	g_done++;
}

static uint8_t pattern(uint64_t byte, unsigned seed)
{
	return (uint8_t)(byte * 131 + seed * 29 + (byte >> 9) + 1);
}

/* A READ or WRITE of nsect sectors at `sector`, its buffer cut into
 * segments of the given sizes (repeated); `scattered` puts each segment
 * in its own allocation (the NBD engine's bounce path), else one buffer
 * backs them all (adjacent: used in place). */
static struct tio *tio_rw(enum blk_io_op op, uint64_t sector, uint64_t nsect,
			  const size_t *segs, unsigned nsegs, bool scattered)
{
	struct tio *t = calloc(1, sizeof(*t));
	size_t total = nsect * SECT, pos = 0;
	unsigned n = 0;

	assert_non_null(t);
	for (pos = 0; pos < total; n++)
		pos += segs[n % nsegs];
	assert_true(n <= MAX_IOV);
	t->iov = calloc(n, sizeof(*t->iov));
	t->bufs = calloc(n, sizeof(*t->bufs));
	assert_non_null(t->iov);
	assert_non_null(t->bufs);
	t->io.op = op;
	t->io.sector = sector;
	t->io.nr_sectors = nsect;
	t->io.done = tio_done;
	t->io.iov = t->iov;
	t->io.iovcnt = n;
	t->err = 1;
	if (!scattered) {
		t->linear = malloc(total);
		assert_non_null(t->linear);
	}
	pos = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = segs[i % nsegs];

		if (len > total - pos)
			len = total - pos;
		if (scattered) {
			t->bufs[i] = malloc(len);
			assert_non_null(t->bufs[i]);
			t->iov[i].iov_base = t->bufs[i];
		} else {
			t->iov[i].iov_base = t->linear + pos;
		}
		t->iov[i].iov_len = len;
		pos += len;
	}
	return t;
}

static struct tio *tio_op(enum blk_io_op op, uint64_t sector, uint64_t nsect)
{
	struct tio *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->io.op = op;
	t->io.sector = sector;
	t->io.nr_sectors = nsect;
	t->io.done = tio_done;
	t->err = 1;
	return t;
}

static void tio_free(struct tio *t)
{
	if (!t)
		return;
	for (unsigned i = 0; t->bufs && i < t->io.iovcnt; i++)
		free(t->bufs[i]);
	free(t->bufs);
	free(t->iov);
	free(t->linear);
	free(t);
}

static void tio_fill(struct tio *t, unsigned seed)
{
	uint64_t byte = t->io.sector * SECT;

	for (unsigned i = 0; i < t->io.iovcnt; i++) {
		uint8_t *p = t->iov[i].iov_base;

		for (size_t j = 0; j < t->iov[i].iov_len; j++)
			p[j] = pattern(byte++, seed);
	}
}

/* 0 when t's buffers hold the pattern (seed) or zeros (seed < 0). */
static int tio_check(const struct tio *t, int seed)
{
	uint64_t byte = t->io.sector * SECT;

	for (unsigned i = 0; i < t->io.iovcnt; i++) {
		const uint8_t *p = t->iov[i].iov_base;

		for (size_t j = 0; j < t->iov[i].iov_len; j++, byte++) {
			uint8_t want = seed < 0 ? 0 : pattern(byte, seed);

			if (p[j] != want) {
				print_error("byte %llu: %#x, expected %#x\n",
					    (unsigned long long)byte, p[j],
					    want);
				return -1;
			}
		}
	}
	return 0;
}

static int submit(struct fx *f, struct tio *t)
{
	switch (t->io.op) {
	case BLK_IO_READ:
		return f->ops->read(f->s, &t->io);
	case BLK_IO_WRITE:
		return f->ops->write(f->s, &t->io);
	case BLK_IO_FLUSH:
		return f->ops->flush(f->s, &t->io);
	case BLK_IO_DISCARD:
		return f->ops->discard(f->s, &t->io);
	}
	return -EINVAL;
}

static unsigned complete(struct blk_storage *s)
{
	unsigned n;

	g_completing = true;
	n = blk_storage_complete(s);
	g_completing = false;
	return n;
}

/* Polls the event fd and completes until `target` done() calls in all;
 * each blk_storage_complete() must count exactly the done() it made. */
static void wait_done(struct blk_storage *s, unsigned target)
{
	int fd = blk_storage_event_fd(s);

	while (g_done < target) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		unsigned before = g_done, n;
		int r = poll(&p, 1, 10000);

		assert_true(r >= 0);
		if (r == 0)
			fail_msg("no completion in 10 s (%u of %u done)",
				 g_done, target);
		n = complete(s);
		assert_int_equal(n, g_done - before);
	}
	assert_int_equal(g_done, target);
}

/* Submits t, waits for it, returns its error. */
static int run(struct fx *f, struct tio *t)
{
	unsigned target = g_done + 1;

	assert_int_equal(submit(f, t), 0);
	assert_int_equal(t->ndone, 0); /* never inside the submit */
	wait_done(f->s, target);
	assert_int_equal(t->ndone, 1);
	return t->err;
}

/* ---- fixtures ---- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2 * PATH_MAX + 256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("`%s` failed (%d)", cmd, rc);
}

static void make_dir(struct fx *f)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(f->dir, sizeof(f->dir), "%s/kxen-blk-test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
}

static void make_raw(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* A loop device over f->backing with 4096-byte sectors, detached when the
 * last descriptor closes (so a crashed test leaves nothing behind).  Our
 * descriptor, f->loop_fd, keeps it until teardown.  False when this
 * machine does not let us make one. */
static bool make_loop(struct fx *f)
{
	struct loop_config cfg;
	int ctl, file, n;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return false;
	file = open(f->backing, O_RDWR | O_CLOEXEC);
	assert_true(file >= 0);
	for (int tries = 0; tries < 10 && f->loop_fd < 0; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(f->path, sizeof(f->path), "/dev/loop%d", n);
		f->loop_fd = open(f->path, O_RDWR | O_CLOEXEC);
		if (f->loop_fd < 0)
			break;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)file;
		cfg.block_size = 4096;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(f->loop_fd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		n = errno;
		close(f->loop_fd);
		f->loop_fd = -1;
		if (n != EBUSY) /* EBUSY: another process took it first */
			break;
	}
	close(file);
	close(ctl);
	return f->loop_fd >= 0;
}

static int open_storage(struct fx *f, bool readonly)
{
	struct blk_storage_params p = {
	    .path = f->path,
	    .format = f->e->kind == K_QCOW2 ? BLK_FMT_QCOW2 : BLK_FMT_RAW,
	    .readonly = readonly,
	};
	char err[512] = "";
	int ret;

	if (f->e->env)
		setenv("KXEN_BLK_ENGINE", f->e->env, 1);
	else
		unsetenv("KXEN_BLK_ENGINE");
	ret = blk_storage_open(&p, &f->s, err, sizeof(err));
	if (ret)
		print_error("open %s: %s\n", f->path, err);
	else
		f->ops = blk_storage_get_ops(f->s);
	return ret;
}

static void close_storage(struct fx *f)
{
	g_completing = true;
	blk_storage_close(f->s);
	g_completing = false;
	f->s = NULL;
}

static int setup_image(void **state, bool readonly)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->e = *state;
	f->align = SECT;
	f->loop_fd = -1;
	*state = f;
	make_dir(f);
	snprintf(f->path, sizeof(f->path), "%s/disk.img", f->dir);
	switch (f->e->kind) {
	case K_URING:
	case K_THREADS:
		make_raw(f->path, DISK_SIZE);
		break;
	case K_QCOW2:
		sh("qemu-img create -q -f qcow2 '%s' %u", f->path, DISK_SIZE);
		break;
	case K_BLKDEV:
		snprintf(f->backing, sizeof(f->backing), "%s/backing.img",
			 f->dir);
		make_raw(f->backing, DISK_SIZE);
		if (!make_loop(f)) {
			f->unavailable = true; /* each test skips */
			return 0;
		}
		f->align = 4096;
		break;
	}
	assert_int_equal(open_storage(f, readonly), 0);
	assert_string_equal(blk_storage_engine_name(f->s), f->e->expect);
	return 0;
}

static int setup(void **state)
{
	return setup_image(state, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->s)
		close_storage(f);
	if (f->loop_fd >= 0)
		close(f->loop_fd);
	sh("rm -rf '%s'", f->dir);
	free(f);
	return 0;
}

/* The fixture, or a skip where the engine cannot run here. */
static struct fx *fx_of(void **state)
{
	struct fx *f = *state;

	if (f->unavailable) {
		print_message("no loop device on this machine\n");
		skip();
	}
	return f;
}

/* ---- scenarios for every engine ---- */

static void test_info(void **state)
{
	struct fx *f = fx_of(state);
	struct blk_storage_info info;

	memset(&info, 0xff, sizeof(info));
	f->ops->get_info(f->s, &info);
	assert_int_equal(info.nr_sectors, DISK_SIZE / SECT);
	assert_int_equal(info.sector_size, f->align);
	assert_false(info.readonly);
	assert_false(info.discard_secure);
	assert_non_null(f->ops->read);
	assert_non_null(f->ops->write);
	assert_non_null(f->ops->flush);
	assert_non_null(f->ops->discard);
	assert_int_equal(blk_storage_inflight(f->s), 0);
	assert_true(blk_storage_event_fd(f->s) >= 0);
	assert_int_equal(complete(f->s), 0); /* nothing to do */
}

/* Writes with one segmentation, reads back with another, for scattered
 * and adjacent buffers, at the start, the middle, odd sectors and the
 * very end of the disk. */
static void test_roundtrip(void **state)
{
	struct fx *f = fx_of(state);
	const uint64_t a = f->align / SECT, last = DISK_SIZE / SECT;
	static const size_t wsegs[] = {4096, 512, 1536, 4096, 2048};
	static const size_t wsegs4k[] = {4096, 8192, 4096};
	static const size_t rsegs[] = {1024, 4096, 3072};
	static const size_t rsegs4k[] = {12288, 4096};
	const struct {
		uint64_t sector, nsect;
	} at[] = {
	    {0, 8},
	    {a, 24 * a},
	    {7 * a, 3 * a},
	    {1000 * a, 64 * a},
	    {1531 * a, 5 * a},
	    {last - 16 * a, 16 * a},
	    {last - a, a},
	};
	bool big = f->align > SECT;

	for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		for (int scattered = 0; scattered < 2; scattered++) {
			unsigned seed = i * 2 + (unsigned)scattered + 1;
			uint64_t nsect = at[i].nsect;
			struct tio *w, *r;

			if (big && nsect % a)
				nsect = a;
			w = tio_rw(BLK_IO_WRITE, at[i].sector, nsect,
				   big ? wsegs4k : wsegs, big ? 3 : 5,
				   scattered);
			r = tio_rw(BLK_IO_READ, at[i].sector, nsect,
				   big ? rsegs4k : rsegs, big ? 2 : 3,
				   !scattered);
			tio_fill(w, seed);
			assert_int_equal(run(f, w), 0);
			assert_int_equal(run(f, r), 0);
			assert_int_equal(tio_check(r, (int)seed), 0);
			tio_free(w);
			tio_free(r);
		}
	}
	/* The raw engines wrote where they said: check behind their back. */
	if (f->e->kind == K_URING || f->e->kind == K_THREADS) {
		uint8_t buf[SECT];
		int fd = open(f->path, O_RDONLY);

		assert_true(fd >= 0);
		assert_int_equal(pread(fd, buf, SECT, 1000 * SECT), SECT);
		close(fd);
		for (unsigned j = 0; j < SECT; j++)
			assert_int_equal(buf[j], pattern(1000 * SECT + j, 8));
	}
}

/* More iovecs than IOV_MAX (1024) in one request: the raw engines go on
 * in several system calls, the NBD engine bounces. */
static void test_many_iovecs(void **state)
{
	struct fx *f = fx_of(state);
	const size_t seg = f->align;
	const uint64_t nsect = 1500 * seg / SECT;
	struct tio *w = tio_rw(BLK_IO_WRITE, 64, nsect, &seg, 1, true);
	struct tio *r = tio_rw(BLK_IO_READ, 64, nsect, &seg, 1, true);

	assert_int_equal(w->io.iovcnt, 1500);
	tio_fill(w, 77);
	assert_int_equal(run(f, w), 0);
	assert_int_equal(run(f, r), 0);
	assert_int_equal(tio_check(r, 77), 0);
	tio_free(w);
	tio_free(r);
}

/* 64 writes in flight at once, then 64 reads: each completes exactly
 * once, in whatever order, and nothing completes twice afterwards. */
static void test_inflight_64(void **state)
{
	struct fx *f = fx_of(state);
	const uint64_t nsect = 8192 / SECT;
	static const size_t segs[] = {4096};
	struct tio *t[64];
	unsigned base;

	for (int pass = 0; pass < 2; pass++) {
		enum blk_io_op op = pass ? BLK_IO_READ : BLK_IO_WRITE;

		base = g_done;
		for (unsigned i = 0; i < 64; i++) {
			/* Interleaved sectors: neighbours are not in order. */
			uint64_t sector = ((i * 37) % 64) * 2 * nsect;

			t[i] = tio_rw(op, sector, nsect, segs, 1, i & 1);
			if (op == BLK_IO_WRITE)
				tio_fill(t[i], 5);
			assert_int_equal(submit(f, t[i]), 0);
		}
		assert_int_equal(blk_storage_inflight(f->s), 64);
		wait_done(f->s, base + 64);
		assert_int_equal(blk_storage_inflight(f->s), 0);
		for (unsigned i = 0; i < 64; i++) {
			assert_int_equal(t[i]->ndone, 1);
			assert_int_equal(t[i]->err, 0);
			if (op == BLK_IO_READ)
				assert_int_equal(tio_check(t[i], 5), 0);
			tio_free(t[i]);
		}
	}
	/* Nothing left, nothing repeated. */
	assert_int_equal(complete(f->s), 0);
	assert_int_equal(g_done, base + 64);
}

/* More requests in flight than io_uring's queues hold (128 submission,
 * 1024 completion entries): the submission queue is handed over when
 * full, completions that overflow are picked up, none is lost. */
static void test_inflight_2000(void **state)
{
	struct fx *f = fx_of(state);
	const uint64_t nsect = f->align / SECT;
	const size_t seg = f->align;
	enum { N = 2000 };
	struct tio **t = calloc(N, sizeof(*t));
	unsigned base = g_done;

	assert_non_null(t);
	for (unsigned i = 0; i < N; i++) {
		t[i] = tio_rw(BLK_IO_READ, (i % 1024) * nsect, nsect, &seg, 1,
			      false);
		assert_int_equal(submit(f, t[i]), 0);
	}
	assert_int_equal(blk_storage_inflight(f->s), N);
	wait_done(f->s, base + N);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(t[i]->ndone, 1);
		assert_int_equal(t[i]->err, 0);
		tio_free(t[i]);
	}
	assert_int_equal(complete(f->s), 0);
	free(t);
}

static void test_flush(void **state)
{
	struct fx *f = fx_of(state);
	static const size_t segs[] = {4096};
	struct tio *w = tio_rw(BLK_IO_WRITE, 0, 64, segs, 1, false);
	struct tio *fl = tio_op(BLK_IO_FLUSH, 0, 0);
	struct tio *fl2 = tio_op(BLK_IO_FLUSH, 0, 0);

	tio_fill(w, 3);
	assert_int_equal(run(f, w), 0);
	assert_int_equal(run(f, fl), 0);
	/* A flush with writes in flight beside it completes too. */
	tio_free(w);
	w = tio_rw(BLK_IO_WRITE, 64, 64, segs, 1, true);
	tio_fill(w, 4);
	assert_int_equal(submit(f, w), 0);
	assert_int_equal(submit(f, fl2), 0);
	wait_done(f->s, g_done + 2);
	assert_int_equal(w->err, 0);
	assert_int_equal(fl2->err, 0);
	tio_free(w);
	tio_free(fl);
	tio_free(fl2);
}

/* Discarded data reads back as zeros (files: a punched hole; qcow2 with
 * no backing file: unallocated clusters; loop device: the hole punched in
 * its file).  On a file, the blocks are given back. */
static void test_discard(void **state)
{
	struct fx *f = fx_of(state);
	static const size_t segs[] = {65536};
	const uint64_t sector = 2048, nsect = 2048; /* 1 MiB at 1 MiB */
	struct tio *w = tio_rw(BLK_IO_WRITE, sector, nsect, segs, 1, false);
	struct tio *fl = tio_op(BLK_IO_FLUSH, 0, 0);
	struct tio *d = tio_op(BLK_IO_DISCARD, sector, nsect);
	struct tio *r = tio_rw(BLK_IO_READ, sector, nsect, segs, 1, true);
	const char *file = f->e->kind == K_BLKDEV ? f->backing : f->path;
	struct stat before, after;
	int err;

	tio_fill(w, 9);
	assert_int_equal(run(f, w), 0);
	assert_int_equal(run(f, fl), 0);
	assert_int_equal(stat(file, &before), 0);
	err = run(f, d);
	if (err == -EOPNOTSUPP) {
		print_message("discard not supported on this filesystem\n");
		tio_free(w), tio_free(fl), tio_free(d), tio_free(r);
		skip();
	}
	assert_int_equal(err, 0);
	assert_int_equal(run(f, r), 0);
	assert_int_equal(tio_check(r, -1), 0);
	if (f->e->kind != K_QCOW2) {
		assert_int_equal(stat(file, &after), 0);
		assert_true(after.st_blocks + 2048 / 2 <= before.st_blocks);
		assert_int_equal(after.st_size, before.st_size);
	}
	tio_free(w);
	tio_free(fl);
	tio_free(d);
	tio_free(r);
}

/* Requests in flight when the storage is closed are completed (done()
 * called once each) before close returns. */
static void test_close_drains(void **state)
{
	struct fx *f = fx_of(state);
	static const size_t segs[] = {4096};
	struct tio *t[33];
	unsigned base = g_done;

	for (unsigned i = 0; i < 32; i++) {
		t[i] = tio_rw(i & 1 ? BLK_IO_READ : BLK_IO_WRITE, i * 16, 16,
			      segs, 1, false);
		assert_int_equal(submit(f, t[i]), 0);
	}
	t[32] = tio_op(BLK_IO_FLUSH, 0, 0);
	assert_int_equal(submit(f, t[32]), 0);
	assert_int_equal(blk_storage_inflight(f->s), 33);
	close_storage(f);
	assert_int_equal(g_done, base + 33);
	for (unsigned i = 0; i < 33; i++) {
		assert_int_equal(t[i]->ndone, 1);
		assert_int_equal(t[i]->err, 0);
		tio_free(t[i]);
	}
}

/* Read-only storage: reads work, the rest is refused at submit with
 * -EROFS (done() not called), and info says so. */
static void test_readonly(void **state)
{
	struct fx *f = fx_of(state);
	static const size_t segs[] = {4096};
	struct blk_storage_info info;
	struct tio *w, *r, *fl, *d;

	/* Some data to find again through the read-only storage. */
	w = tio_rw(BLK_IO_WRITE, 128, 8, segs, 1, false);
	tio_fill(w, 21);
	assert_int_equal(run(f, w), 0);
	close_storage(f);
	assert_int_equal(open_storage(f, true), 0);

	f->ops->get_info(f->s, &info);
	assert_true(info.readonly);
	assert_int_equal(info.nr_sectors, DISK_SIZE / SECT);
	r = tio_rw(BLK_IO_READ, 128, 8, segs, 1, true);
	assert_int_equal(run(f, r), 0);
	assert_int_equal(tio_check(r, 21), 0);
	fl = tio_op(BLK_IO_FLUSH, 0, 0);
	d = tio_op(BLK_IO_DISCARD, 0, 8);
	tio_free(w);
	w = tio_rw(BLK_IO_WRITE, 0, 8, segs, 1, false);
	assert_int_equal(f->ops->write(f->s, &w->io), -EROFS);
	/* NULL where the storage does not offer it read-only (qemu-nbd
	 * --read-only has no flush or trim): the ring answers EOPNOTSUPP. */
	if (f->ops->flush)
		assert_int_equal(f->ops->flush(f->s, &fl->io), -EROFS);
	if (f->ops->discard)
		assert_int_equal(f->ops->discard(f->s, &d->io), -EROFS);
	assert_int_equal(blk_storage_inflight(f->s), 0);
	assert_int_equal(complete(f->s), 0);
	assert_int_equal(w->ndone + fl->ndone + d->ndone, 0);
	tio_free(w);
	tio_free(r);
	tio_free(fl);
	tio_free(d);
}

/* ---- engine-specific ---- */

static void test_missing_file(void **state)
{
	const struct engine *e = *state;
	struct blk_storage_params p = {
	    .path = "/nonexistent/kxen/disk.img",
	    .format = e->kind == K_QCOW2 ? BLK_FMT_QCOW2 : BLK_FMT_RAW,
	};
	struct blk_storage *s = (struct blk_storage *)0x1;
	char err[512] = "";

	if (e->env)
		setenv("KXEN_BLK_ENGINE", e->env, 1);
	assert_int_equal(blk_storage_open(&p, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/kxen/disk.img"));
	assert_non_null(strstr(err, "No such file"));
	assert_ptr_equal(s, (struct blk_storage *)0x1);
}

static void test_bad_engine_and_params(void **state)
{
	struct blk_storage_params p = {.path = "/dev/null"};
	struct blk_storage *s = NULL;
	char err[512] = "";

	(void)state;
	setenv("KXEN_BLK_ENGINE", "aio", 1);
	assert_int_equal(blk_storage_open(&p, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "KXEN_BLK_ENGINE=aio"));
	unsetenv("KXEN_BLK_ENGINE");
	/* /dev/null: a character device, neither file nor block device */
	assert_int_equal(blk_storage_open(&p, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/dev/null"));
	p.path = NULL;
	assert_int_equal(blk_storage_open(&p, &s, err, sizeof(err)), -EINVAL);
	p.path = "/dev/null";
	p.format = (enum blk_format)7;
	assert_int_equal(blk_storage_open(&p, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
	blk_storage_close(NULL);
}

/* A file that grows shows at the next get_info. */
static void test_raw_resize(void **state)
{
	struct fx *f = fx_of(state);
	struct blk_storage_info info;

	assert_int_equal(truncate(f->path, 2 * DISK_SIZE), 0);
	f->ops->get_info(f->s, &info);
	assert_int_equal(info.nr_sectors, 2 * DISK_SIZE / SECT);
}

/* qcow2: data written through qemu-nbd is in the image, and the image is
 * consistent after close (qemu-img check, then convert to raw and look). */
static void test_qcow2_consistent(void **state)
{
	struct fx *f = fx_of(state);
	static const size_t segs[] = {4096, 512};
	struct tio *w1 = tio_rw(BLK_IO_WRITE, 3, 101, segs, 2, true);
	struct tio *w2 = tio_rw(BLK_IO_WRITE, 9000, 256, segs, 1, false);
	uint8_t buf[101 * SECT];
	char raw[PATH_MAX + 8];
	int fd;

	tio_fill(w1, 31);
	tio_fill(w2, 32);
	assert_int_equal(run(f, w1), 0);
	assert_int_equal(run(f, w2), 0);
	close_storage(f);
	sh("qemu-img check -q '%s'", f->path);
	snprintf(raw, sizeof(raw), "%s.raw", f->path);
	sh("qemu-img convert -f qcow2 -O raw '%s' '%s'", f->path, raw);
	fd = open(raw, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), 3 * SECT), sizeof(buf));
	for (unsigned j = 0; j < sizeof(buf); j++)
		assert_int_equal(buf[j], pattern(3 * SECT + j, 31));
	assert_int_equal(pread(fd, buf, SECT, 9000 * SECT), SECT);
	for (unsigned j = 0; j < SECT; j++)
		assert_int_equal(buf[j], pattern(9000 * SECT + j, 32));
	close(fd);
	tio_free(w1);
	tio_free(w2);
}

/* Something that is not a qcow2 image: qemu-nbd's reason, with the path. */
static void test_qcow2_not_an_image(void **state)
{
	struct fx *f = fx_of(state);
	struct blk_storage_params p = {.format = BLK_FMT_QCOW2};
	struct blk_storage *s = NULL;
	char path[PATH_MAX + 8], err[512] = "";

	snprintf(path, sizeof(path), "%s/junk.img", f->dir);
	make_raw(path, 1 << 20);
	p.path = path;
	assert_int_equal(blk_storage_open(&p, &s, err, sizeof(err)), -EIO);
	print_message("qemu-nbd said: %s\n", err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "qcow2"));
	assert_null(s);
}

/* The pid of our child qemu-nbd, from /proc (0 if none). */
static pid_t find_qemu_nbd(pid_t parent)
{
	char path[64], comm[64];
	pid_t found = 0;
	FILE *fp;
	int pid;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", parent,
		 parent);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	while (!found && fscanf(fp, "%d", &pid) == 1) {
		FILE *c;

		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		c = fopen(path, "r");
		if (c && fgets(comm, sizeof(comm), c) &&
		    !strncmp(comm, "qemu-nbd", 8))
			found = pid;
		if (c)
			fclose(c);
	}
	fclose(fp);
	return found;
}

/* kill -9 of the process that owns the storage: its qemu-nbd exits by
 * itself (connection closed / parent-death signal).  We are its subreaper
 * for the test, so that we can reap it and see how it ended. */
static void test_qcow2_killed_owner(void **state)
{
	struct fx *f = fx_of(state);
	int pfd[2], status;
	pid_t child, qpid = 0;
	long waited = 0;

	close_storage(f); /* the child opens its own */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(pfd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t q;

		close(pfd[0]);
		if (open_storage(f, false))
			_exit(1);
		q = find_qemu_nbd(getpid());
		if (write(pfd[1], &q, sizeof(q)) != sizeof(q))
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &qpid, sizeof(qpid)), sizeof(qpid));
	close(pfd[0]);
	assert_true(qpid > 0);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	/* Reparented to us: reap it within 5 s or fail. */
	while (waitpid(qpid, &status, WNOHANG) != qpid) {
		if (waited >= 5000) {
			kill(qpid, SIGKILL);
			waitpid(qpid, &status, 0);
			fail_msg(
			    "qemu-nbd %d still running 5 s after its owner "
			    "was killed",
			    qpid);
		}
		usleep(10000);
		waited += 10;
	}
	print_message("qemu-nbd gone %ld ms after kill -9 of its owner\n",
		      waited);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	/* And the image is still consistent. */
	sh("qemu-img check -q '%s'", f->path);
}

/* qemu-nbd dying under us: requests fail with an error, none hangs, and
 * close still works. */
static void test_qcow2_server_dies(void **state)
{
	struct fx *f = fx_of(state);
	static const size_t segs[] = {4096};
	pid_t qpid = find_qemu_nbd(getpid());
	struct tio *t[8];
	siginfo_t si;

	assert_true(qpid > 0);
	assert_int_equal(kill(qpid, SIGKILL), 0);
	/* Dead (not reaped: that is the storage's job at close). */
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)qpid, &si, WEXITED | WNOWAIT), 0);
	for (unsigned i = 0; i < 8; i++) {
		t[i] = tio_rw(BLK_IO_READ, i * 8, 8, segs, 1, false);
		assert_int_equal(submit(f, t[i]), 0);
	}
	close_storage(f);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(t[i]->ndone, 1);
		assert_true(t[i]->err < 0);
		tio_free(t[i]);
	}
	assert_int_equal(find_qemu_nbd(getpid()), 0);
}

/* Every engine: raw files through io_uring and threads, qcow2 through
 * qemu-nbd, a 4096-byte-sector loop device through io_uring. */
#define ON(fn, e, label)                                                       \
	{                                                                      \
		.name = label ": " #fn, .test_func = fn, .setup_func = setup,  \
		.teardown_func = teardown, .initial_state = (void *)&e,        \
	}
#define EVERY(fn)                                                              \
	ON(fn, E_URING, "uring"), ON(fn, E_THREADS, "threads"),                \
	    ON(fn, E_QCOW2, "qcow2"), ON(fn, E_BLKDEV, "blkdev")

int main(void)
{
	const struct CMUnitTest tests[] = {
	    EVERY(test_info),
	    EVERY(test_roundtrip),
	    EVERY(test_many_iovecs),
	    EVERY(test_inflight_64),
	    EVERY(test_inflight_2000),
	    EVERY(test_flush),
	    EVERY(test_discard),
	    EVERY(test_close_drains),
	    EVERY(test_readonly),
	    {.name = "uring: test_missing_file",
	     .test_func = test_missing_file,
	     .initial_state = (void *)&E_URING},
	    {.name = "threads: test_missing_file",
	     .test_func = test_missing_file,
	     .initial_state = (void *)&E_THREADS},
	    {.name = "qcow2: test_missing_file",
	     .test_func = test_missing_file,
	     .initial_state = (void *)&E_QCOW2},
	    cmocka_unit_test(test_bad_engine_and_params),
	    ON(test_raw_resize, E_URING, "uring"),
	    ON(test_raw_resize, E_THREADS, "threads"),
	    ON(test_qcow2_consistent, E_QCOW2, "qcow2"),
	    ON(test_qcow2_not_an_image, E_QCOW2, "qcow2"),
	    ON(test_qcow2_killed_owner, E_QCOW2, "qcow2"),
	    ON(test_qcow2_server_dies, E_QCOW2, "qcow2"),
	};

	/* A peer that hangs up must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
