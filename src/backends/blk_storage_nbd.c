/* qcow2 storage for the block backend, through qemu's own implementation:
 * a private qemu-nbd serves the image on a Unix socket, and libnbd speaks
 * NBD to it, asynchronously, with every request of the ring in flight on
 * one connection (qemu-nbd runs them concurrently).
 *
 * Threads: the owner issues commands (nbd_aio_pread & co. queue them and
 * write what the socket takes at once); an I/O thread of ours polls the
 * socket and lets libnbd read the replies, whose completion callbacks post
 * the request to the owner through the event fd.  libnbd's handle lock
 * serialises the two.  The I/O thread also forwards qemu-nbd's stderr to
 * our log, line by line.
 *
 * Buffers: NBD moves one linear buffer per command.  A request's iovecs
 * are used in place when they lie back to back in memory (one segment, or
 * guest pages adjacent in the guest-RAM mapping), else through a bounce
 * buffer (one copy; cheap next to the socket round trip, and one command
 * instead of one per 4 KiB segment).  Requests beyond the server's maximum
 * block size, and discards beyond NBD's 32-bit length, are split into
 * several commands; the request completes when the last one answers.
 *
 * Lifetime of qemu-nbd: it exits when its only client (us) disconnects,
 * which also happens when this process dies in any way (kill -9 included:
 * the kernel closes our socket).  Before the connection exists,
 * PR_SET_PDEATHSIG covers the gap.  Without --persistent and with
 * --shared=1 nobody else can connect, and the socket's path is removed as
 * soon as we are connected. */
#include "backends/blk_storage_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <libnbd.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

/* How long qemu-nbd may take to listen, and to exit once disconnected. */
#define BLK_NBD_START_MS 10000
#define BLK_NBD_EXIT_MS 10000
/* Largest READ/WRITE command when the server names no maximum, and the
 * largest TRIM (NBD lengths are 32-bit). */
#define BLK_NBD_MAX_RW (32u << 20)
#define BLK_NBD_MAX_TRIM (1u << 30)

struct blk_nbd {
	struct blk_storage base;
	char *path;
	struct nbd_handle *h;
	pid_t pid;   /* qemu-nbd; -1 when none or reaped */
	int log_fd;  /* read end of qemu-nbd's stderr; -1 at EOF */
	int wake_fd; /* eventfd: owner -> I/O thread */
	bool thread; /* I/O thread running */
	bool stop;   /* atomic: I/O thread should end */
	pthread_t tid;
	bool readonly;
	uint32_t sector_size;
	uint64_t size;
	uint64_t max_rw;
	char dir[96];	/* private directory of the socket, "" when gone */
	char sock[108]; /* sun_path's size */
	char line[512]; /* a stderr line being assembled */
	size_t line_len;
	char first_msg[512]; /* first stderr line: the reason of a failure */
};

static struct blk_nbd *blk_nbd_of(void *opaque)
{
	return opaque;
}

static long blk_nbd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- qemu-nbd's stderr ---- */

static void blk_nbd_line(struct blk_nbd *n, bool log)
{
	n->line[n->line_len] = '\0';
	n->line_len = 0;
	if (!n->line[0])
		return;
	if (!n->first_msg[0])
		snprintf(n->first_msg, sizeof(n->first_msg), "%s", n->line);
	if (log)
		log_warnx("blk: qemu-nbd for %s: %s", n->path, n->line);
}

/* Reads what qemu-nbd wrote to stderr; complete lines are kept (the first)
 * and, when `log`, logged.  At end of file the descriptor is closed. */
static void blk_nbd_read_log(struct blk_nbd *n, bool log)
{
	char buf[512];
	ssize_t got;

	while (n->log_fd >= 0) {
		got = read(n->log_fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return; /* EAGAIN: all read */
		if (got == 0) {
			blk_nbd_line(n, log);
			close(n->log_fd);
			n->log_fd = -1;
			return;
		}
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n')
				blk_nbd_line(n, log);
			else if (n->line_len < sizeof(n->line) - 1)
				n->line[n->line_len++] = buf[i];
		}
	}
}

/* ---- the process ---- */

/* Waits up to ms for qemu-nbd to exit, draining its stderr meanwhile
 * (logged when `log`); true once it is reaped. */
static bool blk_nbd_wait_exit(struct blk_nbd *n, int ms, bool log)
{
	long end = blk_nbd_now_ms() + ms;
	int status;

	for (;;) {
		pid_t got = waitpid(n->pid, &status, WNOHANG);

		if (got == n->pid || (got < 0 && errno == ECHILD)) {
			/* ECHILD: the owner reaps children itself; nothing to
			 * wait for then. */
			n->pid = -1;
			blk_nbd_read_log(n, log);
			if (got < 0 || !log)
				return true;
			if (WIFSIGNALED(status))
				log_warnx(
				    "blk: qemu-nbd for %s killed by signal "
				    "%d",
				    n->path, WTERMSIG(status));
			else if (WEXITSTATUS(status))
				log_warnx("blk: qemu-nbd for %s exited with "
					  "status %d",
					  n->path, WEXITSTATUS(status));
			return true;
		}
		if (blk_nbd_now_ms() >= end)
			return false;
		/* The pipe hangs up when qemu-nbd exits: wake on that, or on
		 * its output, else look again in 10 ms. */
		struct pollfd p = {.fd = n->log_fd, .events = POLLIN};
		poll(&p, n->log_fd >= 0 ? 1 : 0, 10);
		blk_nbd_read_log(n, log);
	}
}

/* Makes sure qemu-nbd is gone and reaped: a polite wait (it flushes and
 * closes the image once we disconnected), then SIGTERM, then SIGKILL.
 * `log`: its last words go to our log (not when they are in an error
 * message already). */
static void blk_nbd_reap(struct blk_nbd *n, int polite_ms, bool log)
{
	if (n->pid <= 0)
		return;
	if (polite_ms && blk_nbd_wait_exit(n, polite_ms, log))
		return;
	kill(n->pid, SIGTERM);
	if (blk_nbd_wait_exit(n, 5000, log))
		return;
	log_warnx("blk: qemu-nbd for %s ignores SIGTERM: killing it", n->path);
	kill(n->pid, SIGKILL);
	blk_nbd_wait_exit(n, INT_MAX, log);
}

static void blk_nbd_remove_socket(struct blk_nbd *n)
{
	if (!n->dir[0])
		return;
	unlink(n->sock);
	rmdir(n->dir);
	n->dir[0] = '\0';
}

/* A private directory for the socket: sun_path holds 107 characters, so
 * a long $TMPDIR gives way to /tmp. */
static int blk_nbd_make_dir(struct blk_nbd *n)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp || strlen(tmp) > 64)
		tmp = "/tmp";
	snprintf(n->dir, sizeof(n->dir), "%s/kxen-nbd.XXXXXX", tmp);
	if (!mkdtemp(n->dir)) {
		n->dir[0] = '\0';
		return -errno;
	}
	snprintf(n->sock, sizeof(n->sock), "%s/sock", n->dir);
	return 0;
}

static int blk_nbd_spawn(struct blk_nbd *n, const char *format, char *err,
			 size_t errlen)
{
	const char *bin = getenv("KXEN_QEMU_NBD");
	char fmt_arg[64], sock_arg[PATH_MAX + 16];
	const char *argv[16];
	int argc = 0, pfd[2], devnull;
	pid_t parent = getpid();

	if (!bin || !*bin)
		bin = "qemu-nbd";
	snprintf(fmt_arg, sizeof(fmt_arg), "--format=%s", format);
	snprintf(sock_arg, sizeof(sock_arg), "--socket=%s", n->sock);
	argv[argc++] = bin;
	argv[argc++] = fmt_arg;
	argv[argc++] = sock_arg;
	argv[argc++] = "--cache=writeback"; /* flushed by NBD_CMD_FLUSH */
	argv[argc++] = "--discard=unmap";   /* trims free clusters */
	argv[argc++] = "--shared=1";
	if (n->readonly)
		argv[argc++] = "--read-only";
	argv[argc++] = "--";
	argv[argc++] = n->path;
	argv[argc] = NULL;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(pfd, O_CLOEXEC)) {
		int e = errno;

		if (devnull >= 0)
			close(devnull);
		errbuf_printf(err, errlen, "%s: cannot start qemu-nbd: %s",
			      n->path, strerror(e));
		return -e;
	}
	n->pid = fork();
	if (n->pid == 0) {
		/* Child of a possibly threaded process: only async-signal-
		 * safe calls until exec. */
		sigset_t none;
		static const char msg[] = "cannot execute qemu-nbd\n";

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127); /* the parent died before prctl */
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(pfd[1], 2);
		if (close_range(3, ~0u, 0))
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(bin, (char *const *)argv);
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(127);
	}
	close(devnull);
	close(pfd[1]);
	if (n->pid < 0) {
		int e = errno;

		close(pfd[0]);
		errbuf_printf(err, errlen, "%s: cannot start qemu-nbd: %s",
			      n->path, strerror(e));
		return -e;
	}
	n->log_fd = pfd[0];
	fcntl(n->log_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Connects as soon as qemu-nbd listens.  Every failed attempt costs a
 * fresh handle (libnbd's cannot be reused), and a failed connect is not a
 * client to qemu-nbd, so it does not count against --shared=1. */
static int blk_nbd_connect(struct blk_nbd *n, char *err, size_t errlen)
{
	long end = blk_nbd_now_ms() + BLK_NBD_START_MS;

	for (;;) {
		struct nbd_handle *h = nbd_create();
		int e;

		if (!h) {
			errbuf_printf(err, errlen, "%s: libnbd: %s", n->path,
				      nbd_get_error());
			return -ENOMEM;
		}
		/* Buffers are ours; a failed read is answered as an error,
		 * so libnbd need not clear them first. */
		nbd_set_pread_initialize(h, false);
		if (nbd_connect_unix(h, n->sock) == 0) {
			n->h = h;
			return 0;
		}
		e = nbd_get_errno();
		if (e != ENOENT && e != ECONNREFUSED) {
			/* qemu-nbd may listen before it opens the image, and
			 * hang up when that fails: its reason beats ours. */
			errbuf_printf(err, errlen, "%s: qemu-nbd: %s", n->path,
				      nbd_get_error());
			nbd_close(h);
			if (blk_nbd_wait_exit(n, 1000, false) &&
			    n->first_msg[0])
				errbuf_printf(err, errlen, "%s: %s", n->path,
					      n->first_msg);
			return -EIO;
		}
		nbd_close(h);
		if (blk_nbd_wait_exit(n, 10, false)) {
			errbuf_printf(err, errlen, "%s: %s", n->path,
				      n->first_msg[0] ? n->first_msg
						      : "qemu-nbd exited");
			return -EIO;
		}
		if (blk_nbd_now_ms() >= end) {
			errbuf_printf(err, errlen,
				      "%s: qemu-nbd did not listen within %d s",
				      n->path, BLK_NBD_START_MS / 1000);
			return -ETIMEDOUT;
		}
	}
}

/* ---- I/O thread ---- */

static void blk_nbd_wake(struct blk_nbd *n)
{
	uint64_t one = 1;

	(void)!write(n->wake_fd, &one, sizeof(one));
}

static void *blk_nbd_io_thread(void *arg)
{
	struct blk_nbd *n = arg;

	while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
		unsigned dir = nbd_aio_get_direction(n->h);
		struct pollfd p[3] = {
		    {.fd = dir ? nbd_aio_get_fd(n->h) : -1,
		     .events =
			 (short)((dir & LIBNBD_AIO_DIRECTION_READ ? POLLIN
								  : 0) |
				 (dir & LIBNBD_AIO_DIRECTION_WRITE ? POLLOUT
								   : 0))},
		    {.fd = n->wake_fd, .events = POLLIN},
		    {.fd = n->log_fd, .events = POLLIN},
		};
		uint64_t v;
		int r = 0;

		if (poll(p, 3, -1) < 0)
			continue; /* EINTR: signals are blocked, but still */
		if (p[1].revents)
			(void)!read(n->wake_fd, &v, sizeof(v));
		if (p[0].revents) {
			/* Direction again: the owner may have moved the state
			 * machine meanwhile. */
			dir = nbd_aio_get_direction(n->h);
			if ((dir & LIBNBD_AIO_DIRECTION_READ) &&
			    (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
				r = nbd_aio_notify_read(n->h);
			else if ((dir & LIBNBD_AIO_DIRECTION_WRITE) &&
				 (p[0].revents & (POLLOUT | POLLHUP | POLLERR)))
				r = nbd_aio_notify_write(n->h);
			/* A dead connection fails the commands in flight
			 * (their callbacks run with an error) and refuses new
			 * ones: nothing more to do here. */
			if (r < 0 && log_first_time("blk_storage nbd dead",
						    (uintptr_t)n, 0))
				log_warnx("blk: %s: connection to qemu-nbd: %s",
					  n->path, nbd_get_error());
		}
		if (p[2].revents)
			blk_nbd_read_log(n, true);
	}
	return NULL;
}

/* ---- requests ---- */

static void blk_nbd_fail(struct blk_storage_req *q, int err)
{
	int none = 0;

	/* The first error is the one reported. */
	__atomic_compare_exchange_n(&q->err, &none, err, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Drops one reference (a command answered, or the issuer done issuing);
 * the last one posts the request. */
static void blk_nbd_put(struct blk_storage_req *q)
{
	if (__atomic_sub_fetch(&q->pending, 1, __ATOMIC_ACQ_REL) == 0)
		blk_storage_post(q, __atomic_load_n(&q->err, __ATOMIC_RELAXED));
}

/* libnbd's completion callback: in the I/O thread (or, when the connection
 * dies while sending, in the owner's), under the handle's lock. */
static int blk_nbd_answered(void *user_data, int *error)
{
	struct blk_storage_req *q = user_data;

	if (*error)
		blk_nbd_fail(q, -*error);
	blk_nbd_put(q);
	return 1; /* retire the command */
}

/* Issues one NBD command for q; false (q's error set) when libnbd refused
 * it, in which case the callback will not run. */
static bool blk_nbd_issue(struct blk_nbd *n, struct blk_storage_req *q,
			  void *buf, uint64_t len, uint64_t off)
{
	nbd_completion_callback cb = {.callback = blk_nbd_answered,
				      .user_data = q};
	int64_t cookie = -1;
	int e;

	__atomic_add_fetch(&q->pending, 1, __ATOMIC_RELAXED);
	switch (q->io->op) {
	case BLK_IO_READ:
		cookie = nbd_aio_pread(n->h, buf, len, off, cb, 0);
		break;
	case BLK_IO_WRITE:
		cookie = nbd_aio_pwrite(n->h, buf, len, off, cb, 0);
		break;
	case BLK_IO_FLUSH:
		cookie = nbd_aio_flush(n->h, cb, 0);
		break;
	case BLK_IO_DISCARD:
		cookie = nbd_aio_trim(n->h, len, off, cb, 0);
		break;
	}
	if (cookie >= 0)
		return true;
	e = nbd_get_errno();
	if (log_first_time("blk_storage nbd issue", (uintptr_t)n, (uint64_t)e))
		log_warnx("blk: %s: %s", n->path, nbd_get_error());
	/* A connection that is gone is an I/O error, whatever libnbd's
	 * errno for the state it is in. */
	if (nbd_aio_is_dead(n->h) > 0 || nbd_aio_is_closed(n->h) > 0)
		e = EIO;
	blk_nbd_fail(q, e > 0 ? -e : -EIO);
	__atomic_sub_fetch(&q->pending, 1, __ATOMIC_RELAXED);
	return false;
}

static int blk_nbd_submit(void *opaque, struct blk_io *io)
{
	struct blk_nbd *n = blk_nbd_of(opaque);
	struct blk_storage_req *q;
	uint64_t off = io->sector * BLK_SECTOR_SIZE, len = 0, chunk = 0;
	void *buf = NULL;
	size_t rw_len;
	int ret;

	if (n->readonly && io->op != BLK_IO_READ)
		return -EROFS;
	q = blk_storage_req_get(&n->base, io);
	if (!q)
		return -ENOMEM;
	switch (io->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		ret = blk_storage_linear(q, &buf, &rw_len);
		if (ret) {
			blk_storage_req_cancel(q);
			return ret;
		}
		len = rw_len;
		chunk = n->max_rw;
		break;
	case BLK_IO_FLUSH:
		break;
	case BLK_IO_DISCARD:
		len = io->nr_sectors * BLK_SECTOR_SIZE;
		chunk = BLK_NBD_MAX_TRIM;
		break;
	}
	/* The issuer's own reference keeps the request from completing
	 * before every command is out. */
	q->pending = 1;
	if (io->op == BLK_IO_FLUSH) {
		blk_nbd_issue(n, q, NULL, 0, 0);
	} else {
		for (uint64_t pos = 0; pos < len; pos += chunk) {
			uint64_t this = len - pos < chunk ? len - pos : chunk;

			if (!blk_nbd_issue(n, q,
					   buf ? (uint8_t *)buf + pos : NULL,
					   this, off + pos))
				break;
		}
	}
	blk_nbd_put(q);
	/* libnbd wrote what the socket took; if some of it waits for room,
	 * the I/O thread must poll for POLLOUT, which it does not yet. */
	if (nbd_aio_get_direction(n->h) & LIBNBD_AIO_DIRECTION_WRITE)
		blk_nbd_wake(n);
	return 0;
}

static void blk_nbd_get_info(void *opaque, struct blk_storage_info *info)
{
	struct blk_nbd *n = blk_nbd_of(opaque);

	info->nr_sectors = n->size / BLK_SECTOR_SIZE;
	info->sector_size = n->sector_size;
	info->readonly = n->readonly;
	info->discard_secure = false;
}

/* ---- open and close ---- */

static void blk_nbd_destroy(struct blk_storage *s)
{
	struct blk_nbd *n = (struct blk_nbd *)s;

	if (n->thread) {
		__atomic_store_n(&n->stop, true, __ATOMIC_RELEASE);
		blk_nbd_wake(n);
		pthread_join(n->tid, NULL);
	}
	if (n->h) {
		/* NBD_CMD_DISC: qemu-nbd then flushes, closes the image and
		 * exits, its only client gone. */
		nbd_shutdown(n->h, 0);
		nbd_close(n->h);
	}
	blk_nbd_reap(n, BLK_NBD_EXIT_MS, true);
	blk_nbd_remove_socket(n);
	if (n->log_fd >= 0)
		close(n->log_fd);
	if (n->wake_fd >= 0)
		close(n->wake_fd);
	blk_storage_fini(s);
	free(n->path);
	free(n);
}

static const struct blk_storage_engine blk_nbd_engine = {
    .name = "qemu-nbd",
    .destroy = blk_nbd_destroy,
};

/* What the server offers: size, read-only, flush, trim, block sizes. */
static int blk_nbd_query(struct blk_nbd *n, char *err, size_t errlen)
{
	int64_t size = nbd_get_size(n->h);
	int64_t min = nbd_get_block_size(n->h, LIBNBD_SIZE_MINIMUM);
	int64_t max = nbd_get_block_size(n->h, LIBNBD_SIZE_MAXIMUM);

	if (size < 0) {
		errbuf_printf(err, errlen, "%s: qemu-nbd: %s", n->path,
			      nbd_get_error());
		return -EIO;
	}
	n->size = (uint64_t)size;
	if (nbd_is_read_only(n->h) > 0)
		n->readonly = true;
	n->sector_size = BLK_SECTOR_SIZE;
	if (min > BLK_SECTOR_SIZE && min <= BLK_PAGE_SIZE && !(min & (min - 1)))
		n->sector_size = (uint32_t)min;
	n->max_rw = BLK_NBD_MAX_RW;
	if (max > 0 && (uint64_t)max < n->max_rw)
		n->max_rw = (uint64_t)max;
	n->max_rw -= n->max_rw % n->sector_size;
	if (!n->max_rw) {
		errbuf_printf(err, errlen,
			      "%s: qemu-nbd's maximum block size %lld is below "
			      "the sector size",
			      n->path, (long long)max);
		return -EINVAL;
	}
	n->base.ops = (struct blk_storage_ops){
	    .get_info = blk_nbd_get_info,
	    .read = blk_nbd_submit,
	    .write = blk_nbd_submit,
	    .flush = nbd_can_flush(n->h) > 0 ? blk_nbd_submit : NULL,
	    .discard = nbd_can_trim(n->h) > 0 ? blk_nbd_submit : NULL,
	};
	return 0;
}

int blk_storage_nbd_open(const struct blk_storage_params *p,
			 struct blk_storage **out, char *err, size_t errlen)
{
	struct blk_nbd *n = calloc(1, sizeof(*n));
	sigset_t all, old;
	int fd, ret;

	if (!n || !(n->path = strdup(p->path))) {
		free(n);
		errbuf_printf(err, errlen, "%s: out of memory", p->path);
		return -ENOMEM;
	}
	n->base.engine = &blk_nbd_engine;
	n->base.event_fd = -1;
	n->pid = -1;
	n->log_fd = -1;
	n->readonly = p->readonly;
	n->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ret = n->wake_fd < 0 ? -errno : blk_storage_init(&n->base);
	if (ret) {
		errbuf_printf(err, errlen, "%s: eventfd: %s", p->path,
			      strerror(-ret));
		goto out;
	}
	/* Our own open first: the errors every caller expects (ENOENT,
	 * EACCES, EROFS) with the path, not qemu-nbd's wording of them. */
	fd = open(p->path, (p->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errbuf_printf(err, errlen, "%s: %s", p->path, strerror(-ret));
		goto out;
	}
	close(fd);
	ret = blk_nbd_make_dir(n);
	if (ret) {
		errbuf_printf(err, errlen, "%s: private socket directory: %s",
			      p->path, strerror(-ret));
		goto out;
	}
	ret = blk_nbd_spawn(n, "qcow2", err, errlen);
	if (ret)
		goto out;
	ret = blk_nbd_connect(n, err, errlen);
	if (ret)
		goto out;
	blk_nbd_remove_socket(n);
	/* Warnings qemu-nbd printed while starting (no failure to explain
	 * with them). */
	if (n->first_msg[0])
		log_warnx("blk: qemu-nbd for %s: %s", n->path, n->first_msg);
	ret = blk_nbd_query(n, err, errlen);
	if (ret)
		goto out;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&n->tid, NULL, blk_nbd_io_thread, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		errbuf_printf(err, errlen, "%s: I/O thread: %s", p->path,
			      strerror(-ret));
		goto out;
	}
	n->thread = true;
	*out = &n->base;
	return 0;
out:
	/* Not connected (or not usefully): qemu-nbd is told to go. */
	if (n->h) {
		nbd_close(n->h);
		n->h = NULL;
	}
	blk_nbd_reap(n, 0, false);
	blk_nbd_destroy(&n->base);
	return ret;
}
