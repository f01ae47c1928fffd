/* kxend's durable state: STATE_DIR/snapshot (the whole store) and
 * STATE_DIR/journal (the changes since), both sequences of the records of
 * src/xenstore/journal.h.
 *
 * Every batch of changes (a request, a transaction commit, a release) is
 * appended to the journal and the journal is fdatasync()ed before any
 * reply that depends on it leaves kxend: the event loop handles all the
 * requests that are ready, syncs once, then sends the replies (group
 * commit).  A batch is applied at load time only when its END record made
 * it to disk, so a transaction is never half there.
 *
 * When the journal outgrows the snapshot (and at least compact_min), the
 * store is dumped to snapshot.tmp, fsync'd and renamed over snapshot, then
 * an empty journal replaces the old one the same way.  Records state full
 * values, so a crash between the two renames (new snapshot, old journal)
 * loads the same state. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "kxend.h"
#include "xenstore/mem.h"

#define PERSIST_COMPACT_MIN (1u << 20)

static double persist_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int persist_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the file `name` of the state dir: 0 with *buf (malloc'd) and *len,
 * -ENOENT when absent, or -errno. */
static int persist_read(struct kxend_persist *p, const char *name,
			uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, rc = 0;

	*buf = NULL;
	*len = 0;
	fd = openat(p->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto out;
	}
	*buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!*buf) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
out:
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return rc;
}

/* Writes data (after magic) to name.tmp, syncs it and renames it to name,
 * then syncs the directory. */
static int persist_replace(struct kxend_persist *p, const char *name,
			   const char *magic, const void *data, size_t len)
{
	char tmp[64];
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(p->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	rc = persist_write_all(fd, magic, XS_FILE_MAGIC_LEN);
	if (!rc)
		rc = persist_write_all(fd, data, len);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && renameat(p->dirfd, tmp, p->dirfd, name))
		rc = -errno;
	if (!rc && fsync(p->dirfd))
		rc = -errno;
	if (rc)
		unlinkat(p->dirfd, tmp, 0);
	return rc;
}

static int persist_dump_emit(void *arg, const struct xs_change *c)
{
	return xs_journal_append(arg, c);
}

static int persist_open_journal(struct kxend_persist *p)
{
	struct stat st;

	if (p->jfd >= 0)
		close(p->jfd);
	p->jfd = openat(p->dirfd, "journal", O_WRONLY | O_APPEND | O_CLOEXEC);
	if (p->jfd < 0)
		return -errno;
	if (fstat(p->jfd, &st))
		return -errno;
	p->journal_bytes = (size_t)st.st_size;
	return 0;
}

int persist_compact(struct kxend_persist *p, struct xs_store *s)
{
	struct xs_jbuf b = {0};
	size_t jbytes = p->journal_bytes;
	double t0 = persist_now_ms();
	int rc;

	rc = xs_store_dump(s, persist_dump_emit, &b);
	if (!rc)
		rc = persist_replace(p, "snapshot", XS_SNAPSHOT_MAGIC, b.data,
				     b.len);
	if (!rc) {
		p->snapshot_bytes = b.len + XS_FILE_MAGIC_LEN;
		rc = persist_replace(p, "journal", XS_JOURNAL_MAGIC, NULL, 0);
	}
	if (!rc)
		rc = persist_open_journal(p);
	xs_jbuf_free(&b);
	if (!rc) {
		p->compactions++;
		log_info(
		    "compacted a %zu-byte journal into a %zu-byte snapshot "
		    "(%zu nodes) in %.1f ms",
		    jbytes, p->snapshot_bytes, xs_store_nodes(s),
		    persist_now_ms() - t0);
	}
	return rc;
}

/* Loads one file into s: the whole of a snapshot must be valid; of a
 * journal, the batches that were completely written (the rest is cut). */
static int persist_load(struct kxend_persist *p, struct xs_store *s,
			const char *name, const char *magic, bool *found)
{
	uint8_t *buf;
	size_t len, good = 0, body;
	bool journal = !strcmp(name, "journal");
	int rc;

	*found = false;
	rc = persist_read(p, name, &buf, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		errno = -rc;
		log_warn("%s/%s: cannot read", p->dir, name);
		return rc;
	}
	*found = true;
	if (len < XS_FILE_MAGIC_LEN || memcmp(buf, magic, XS_FILE_MAGIC_LEN)) {
		if (journal && len < XS_FILE_MAGIC_LEN) {
			/* Crashed while creating it: nothing in it. */
			free(buf);
			return persist_replace(p, name, magic, NULL, 0);
		}
		log_warnx("%s/%s: not a kxend state file", p->dir, name);
		free(buf);
		return -EBADMSG;
	}
	body = len - XS_FILE_MAGIC_LEN;
	xs_journal_scan(buf + XS_FILE_MAGIC_LEN, body, &good);
	if (!journal && good != body) {
		log_warnx("%s/%s: corrupt at byte %zu of %zu; move the state "
			  "directory away to start with an empty store",
			  p->dir, name, good + XS_FILE_MAGIC_LEN, len);
		free(buf);
		return -EBADMSG;
	}
	rc = xs_journal_apply(s, buf + XS_FILE_MAGIC_LEN, good);
	if (rc) {
		log_warnx("%s/%s: records do not apply (%s)", p->dir, name,
			  strerror(-rc));
		free(buf);
		return rc;
	}
	if (journal && good != body) {
		log_warnx("%s/journal: dropping %zu bytes of an incomplete "
			  "last batch",
			  p->dir, body - good);
		int fd = openat(p->dirfd, name, O_WRONLY | O_CLOEXEC);

		if (fd < 0 ||
		    ftruncate(fd, (off_t)(good + XS_FILE_MAGIC_LEN)) ||
		    fsync(fd))
			rc = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (!journal)
		p->snapshot_bytes = len;
	free(buf);
	return rc;
}

int persist_open(struct kxend_persist *p, const char *dir, struct xs_store *s)
{
	bool have_snap = false, have_journal = false;
	double t0 = persist_now_ms();
	int rc;

	memset(p, 0, sizeof(*p));
	p->dirfd = p->jfd = p->lockfd = -1;
	p->compact_min = PERSIST_COMPACT_MIN;
	p->dir = strdup(dir);
	if (!p->dir)
		return -ENOMEM;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		log_warn("cannot create state directory %s", dir);
		return -errno;
	}
	p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		log_warn("cannot open state directory %s", dir);
		return -errno;
	}
	p->lockfd =
	    openat(p->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->lockfd < 0 || flock(p->lockfd, LOCK_EX | LOCK_NB)) {
		rc = -errno;
		log_warn("state directory %s is in use by another kxend", dir);
		return rc;
	}

	if (faccessat(p->dirfd, "snapshot", F_OK, 0) &&
	    faccessat(p->dirfd, "journal", F_OK, 0)) {
		/* A fresh store: its initial tree, written down at once. */
		rc = persist_compact(p, s);
		if (rc) {
			errno = -rc;
			log_warn("cannot write the first snapshot in %s", dir);
		}
		p->load_ms = persist_now_ms() - t0;
		return rc;
	}
	xs_store_restore_begin(s);
	rc = persist_load(p, s, "snapshot", XS_SNAPSHOT_MAGIC, &have_snap);
	if (!rc)
		rc = persist_load(p, s, "journal", XS_JOURNAL_MAGIC,
				  &have_journal);
	if (rc)
		return rc;
	rc = xs_store_restore_done(s);
	if (rc) {
		log_warnx("%s: the saved tree is inconsistent", dir);
		return rc;
	}
	rc = have_journal ? persist_open_journal(p) : persist_compact(p, s);
	p->load_ms = persist_now_ms() - t0;
	return rc;
}

void persist_change(void *opaque, const struct xs_change *c)
{
	struct kxend_persist *p = opaque;

	if (xs_journal_append(&p->pending, c))
		fatalx("out of memory for the journal");
}

void persist_sync(struct kxend_persist *p, struct xs_store *s)
{
	int rc;

	if (!p->pending.len)
		return;
	rc = persist_write_all(p->jfd, p->pending.data, p->pending.len);
	if (!rc && fdatasync(p->jfd))
		rc = -errno;
	if (rc) {
		errno = -rc;
		fatal("cannot write the journal in %s (exiting without "
		      "answering)",
		      p->dir);
	}
	p->journal_bytes += p->pending.len;
	p->syncs++;
	xs_jbuf_reset(&p->pending);
	if (p->journal_bytes > p->compact_min &&
	    p->journal_bytes > p->snapshot_bytes) {
		rc = persist_compact(p, s);
		if (rc) {
			errno = -rc;
			log_warn("compaction in %s failed (the journal keeps "
				 "growing)",
				 p->dir);
		}
	}
}

void persist_close(struct kxend_persist *p)
{
	if (p->jfd >= 0)
		close(p->jfd);
	if (p->lockfd >= 0)
		close(p->lockfd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	xs_jbuf_free(&p->pending);
	free(p->dir);
	memset(p, 0, sizeof(*p));
	p->dirfd = p->jfd = p->lockfd = -1;
}
