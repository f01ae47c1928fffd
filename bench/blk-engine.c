/* bench/blk-engine.c: the block backend's raw storage engines side by side
 * (src/backends/blk_storage_raw.c: io_uring, and the worker-thread
 * fallback), driven through the same blk_storage API the vbd ring uses,
 * on one host file, without a guest.
 *
 * Workloads, each a closed loop at queue depth Q (default 32) for S
 * seconds (default 3): 4 KiB random read and random write (IOPS), 1 MiB
 * sequential read and write (MB/s, as 256 iovecs of 4 KiB, the way a
 * blkif indirect request arrives).  Engines and workloads alternate, R
 * rounds (default 5); the table has the median of the rounds, the CPU
 * time (user + system, all threads, io_uring's kernel workers included)
 * per operation, and uring/threads.
 *
 *   blk-engine [-f FILE] [-m SIZE_MiB] [-q DEPTH] [-s SECONDS] [-r ROUNDS]
 *
 * FILE (default /dev/shm/kxen-blk-engine.XXXXXX, SIZE_MiB 256) is created,
 * filled with non-zero data so every page exists, and removed.  Built and
 * run by bench/blk-engine.sh. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backends/blk_storage.h"

#define BE_MAX_DEPTH 256
#define BE_MAX_ROUNDS 64
#define BE_SEG 4096u

enum be_kind { BE_RANDREAD, BE_RANDWRITE, BE_SEQREAD, BE_SEQWRITE, BE_NR };

static const struct {
	const char *name;
	enum blk_io_op op;
	size_t bs;
	bool random;
} be_workloads[BE_NR] = {
    [BE_RANDREAD] = {"4k randread", BLK_IO_READ, 4096, true},
    [BE_RANDWRITE] = {"4k randwrite", BLK_IO_WRITE, 4096, true},
    [BE_SEQREAD] = {"1M seqread", BLK_IO_READ, 1 << 20, false},
    [BE_SEQWRITE] = {"1M seqwrite", BLK_IO_WRITE, 1 << 20, false},
};

static const char *const be_engines[] = {"uring", "threads"};
#define BE_NR_ENGINES 2

struct be_slot {
	struct blk_io io;
	struct iovec iov[(1 << 20) / BE_SEG];
	struct be_run *run;
};

struct be_run {
	struct blk_storage *s;
	const struct blk_storage_ops *ops;
	enum be_kind kind;
	uint64_t nr_blocks; /* of the workload's size in the file */
	uint64_t next_seq;
	uint64_t rng;
	uint64_t done, errors;
	unsigned inflight;
	bool stopping;
	struct be_slot *slots;
};

static double be_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double be_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t be_rand(struct be_run *r)
{
	/* xorshift64*: cheap, and the same sequence for both engines. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 2685821657736338717ull;
}

static void be_submit(struct be_run *r, struct be_slot *sl);

static void be_done(struct blk_io *io, int err)
{
	struct be_slot *sl = (struct be_slot *)io;
	struct be_run *r = sl->run;

	r->inflight--;
	if (err)
		r->errors++;
	else
		r->done++;
	if (!r->stopping)
		be_submit(r, sl);
}

static void be_submit(struct be_run *r, struct be_slot *sl)
{
	size_t bs = be_workloads[r->kind].bs;
	uint64_t block;
	int ret;

	if (be_workloads[r->kind].random)
		block = be_rand(r) % r->nr_blocks;
	else
		block = r->next_seq++ % r->nr_blocks;
	sl->io.op = be_workloads[r->kind].op;
	sl->io.sector = block * bs / BLK_SECTOR_SIZE;
	sl->io.nr_sectors = bs / BLK_SECTOR_SIZE;
	sl->io.iovcnt = (unsigned)((bs + BE_SEG - 1) / BE_SEG);
	ret = sl->io.op == BLK_IO_READ ? r->ops->read(r->s, &sl->io)
				       : r->ops->write(r->s, &sl->io);
	if (ret) {
		fprintf(stderr, "blk-engine: submit: %s\n", strerror(-ret));
		exit(1);
	}
	r->inflight++;
}

struct be_result {
	double rate;   /* ops/s */
	double cpu_us; /* CPU microseconds per op */
};

static int be_measure(const char *path, const char *engine, enum be_kind kind,
		      uint64_t file_size, unsigned depth, double secs,
		      uint8_t *bufs, struct be_result *res)
{
	struct blk_storage_params p = {.path = path, .format = BLK_FMT_RAW};
	struct be_run r = {.kind = kind, .rng = 0x9e3779b97f4a7c15ull};
	size_t bs = be_workloads[kind].bs;
	char err[256];
	double t0, t1, c0, c1, end;
	uint64_t done0;
	int ret;

	setenv("KXEN_BLK_ENGINE", engine, 1);
	ret = blk_storage_open(&p, &r.s, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "blk-engine: %s\n", err);
		return ret;
	}
	if (strcmp(blk_storage_engine_name(r.s), engine)) {
		fprintf(stderr, "blk-engine: asked for %s, got %s\n", engine,
			blk_storage_engine_name(r.s));
		blk_storage_close(r.s);
		return -EINVAL;
	}
	r.ops = blk_storage_get_ops(r.s);
	r.nr_blocks = file_size / bs;
	r.slots = calloc(depth, sizeof(*r.slots));
	if (!r.slots)
		return -ENOMEM;
	for (unsigned i = 0; i < depth; i++) {
		struct be_slot *sl = &r.slots[i];
		uint8_t *b = bufs + (size_t)i * (1 << 20);

		sl->run = &r;
		sl->io.iov = sl->iov;
		sl->io.done = be_done;
		for (unsigned j = 0; j < (1 << 20) / BE_SEG; j++) {
			sl->iov[j].iov_base = b + (size_t)j * BE_SEG;
			sl->iov[j].iov_len = BE_SEG;
		}
	}
	/* Half a second of warm-up, then the measured window. */
	for (unsigned i = 0; i < depth; i++)
		be_submit(&r, &r.slots[i]);
	t0 = 0;
	c0 = 0;
	done0 = 0;
	end = be_now() + 0.5;
	for (int phase = 0; phase < 2; phase++) {
		while (be_now() < end) {
			struct pollfd pf = {.fd = blk_storage_event_fd(r.s),
					    .events = POLLIN};

			poll(&pf, 1, 100);
			blk_storage_complete(r.s);
		}
		if (phase == 0) {
			t0 = be_now();
			c0 = be_cpu();
			done0 = r.done;
			end = t0 + secs;
		}
	}
	t1 = be_now();
	c1 = be_cpu();
	res->rate = (double)(r.done - done0) / (t1 - t0);
	res->cpu_us = (c1 - c0) * 1e6 / (double)(r.done - done0);
	r.stopping = true;
	blk_storage_close(r.s); /* drains */
	free(r.slots);
	if (r.errors) {
		fprintf(stderr, "blk-engine: %llu I/O errors\n",
			(unsigned long long)r.errors);
		return -EIO;
	}
	return 0;
}

static int be_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double be_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), be_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int be_fill(const char *path, uint64_t size)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	for (uint64_t off = 0; off < size; off += sizeof(buf))
		if (pwrite(fd, buf, sizeof(buf), (off_t)off) != sizeof(buf)) {
			close(fd);
			return -EIO;
		}
	fsync(fd);
	close(fd);
	return 0;
}

static void be_usage(void)
{
	fprintf(stderr, "usage: blk-engine [-f FILE] [-m SIZE_MiB] [-q DEPTH] "
			"[-s SECONDS] [-r ROUNDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char path[4096] = "/dev/shm/kxen-blk-engine.XXXXXX";
	unsigned depth = 32, rounds = 5, size_mib = 256;
	double secs = 3;
	double rate[BE_NR][BE_NR_ENGINES][BE_MAX_ROUNDS];
	double cpu[BE_NR][BE_NR_ENGINES][BE_MAX_ROUNDS];
	bool own_file = true;
	struct statfs sfs;
	uint8_t *bufs;
	int c, fd;

	while ((c = getopt(argc, argv, "f:m:q:s:r:h")) != -1) {
		switch (c) {
		case 'f':
			snprintf(path, sizeof(path), "%s", optarg);
			own_file = false;
			break;
		case 'm':
			size_mib = (unsigned)atoi(optarg);
			break;
		case 'q':
			depth = (unsigned)atoi(optarg);
			break;
		case 's':
			secs = atof(optarg);
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			break;
		default:
			be_usage();
		}
	}
	if (!depth || depth > BE_MAX_DEPTH || !rounds ||
	    rounds > BE_MAX_ROUNDS || secs <= 0 || size_mib < 2)
		be_usage();
	if (own_file) {
		fd = mkstemp(path);
	} else {
		fd = open(path, O_RDWR | O_CREAT, 0600);
	}
	if (fd < 0 || ftruncate(fd, (off_t)size_mib << 20)) {
		perror(path);
		return 1;
	}
	fstatfs(fd, &sfs);
	close(fd);
	if (be_fill(path, (uint64_t)size_mib << 20)) {
		fprintf(stderr, "blk-engine: cannot fill %s\n", path);
		return 1;
	}
	bufs = aligned_alloc(4096, (size_t)depth << 20);
	if (!bufs)
		return 1;
	memset(bufs, 0x5a, (size_t)depth << 20);

	printf("file %s: %u MiB on %s; queue depth %u; %g s per run after "
	       "0.5 s warm-up; %u rounds, medians\n",
	       path, size_mib,
	       sfs.f_type == 0x01021994 ? "tmpfs (RAM)" : "a disk filesystem",
	       depth, secs, rounds);
	for (unsigned rd = 0; rd < rounds; rd++)
		for (int k = 0; k < BE_NR; k++)
			for (int e = 0; e < BE_NR_ENGINES; e++) {
				/* Alternate which engine goes first. */
				int ee = (e + rd) % BE_NR_ENGINES;
				struct be_result res;

				if (be_measure(path, be_engines[ee], k,
					       (uint64_t)size_mib << 20, depth,
					       secs, bufs, &res))
					return 1;
				rate[k][ee][rd] = res.rate;
				cpu[k][ee][rd] = res.cpu_us;
			}
	printf("%-13s %24s %24s %6s  %s\n", "workload", "uring (min..max)",
	       "threads (min..max)", "ratio", "CPU us/op: uring, threads");
	for (int k = 0; k < BE_NR; k++) {
		double m[BE_NR_ENGINES], lo[BE_NR_ENGINES], hi[BE_NR_ENGINES];
		double cp[BE_NR_ENGINES];
		/* MB/s for the 1 MiB workloads, IOPS for 4 KiB. */
		double unit = be_workloads[k].bs > 4096 ? 1.048576 : 1;
		char col[BE_NR_ENGINES][64];

		for (int e = 0; e < BE_NR_ENGINES; e++) {
			m[e] = be_median(rate[k][e], rounds) * unit;
			lo[e] = rate[k][e][0] * unit; /* sorted by be_median */
			hi[e] = rate[k][e][rounds - 1] * unit;
			cp[e] = be_median(cpu[k][e], rounds);
			snprintf(col[e], sizeof(col[e]), "%.0f (%.0f..%.0f)",
				 m[e], lo[e], hi[e]);
		}
		printf("%-13s %24s %24s %6.2f  %.1f, %.1f   [%s]\n",
		       be_workloads[k].name, col[0], col[1], m[0] / m[1], cp[0],
		       cp[1], unit == 1 ? "IOPS" : "MB/s");
	}
	if (own_file)
		unlink(path);
	free(bufs);
	return 0;
}
