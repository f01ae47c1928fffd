/* Block storage front: picks the engine for a format, and owns what the
 * engines share (request records, the completion queue, the event fd, the
 * drain at close). */
#include "backends/blk_storage_engine.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/util.h"

static const struct {
	enum blk_format format;
	int (*open)(const struct blk_storage_params *p,
		    struct blk_storage **out, char *err, size_t errlen);
} blk_storage_formats[] = {
    {BLK_FMT_RAW, blk_storage_raw_open},
    {BLK_FMT_QCOW2, blk_storage_nbd_open},
};

int blk_storage_open(const struct blk_storage_params *p,
		     struct blk_storage **out, char *err, size_t errlen)
{
	if (!p || !p->path || !*p->path || !out) {
		errbuf_printf(err, errlen, "block storage: no path given");
		return -EINVAL;
	}
	for (size_t i = 0;
	     i < sizeof(blk_storage_formats) / sizeof(blk_storage_formats[0]);
	     i++)
		if (blk_storage_formats[i].format == p->format)
			return blk_storage_formats[i].open(p, out, err, errlen);
	errbuf_printf(err, errlen, "%s: unknown disk format %d", p->path,
		      (int)p->format);
	return -EINVAL;
}

const struct blk_storage_ops *blk_storage_get_ops(struct blk_storage *s)
{
	return &s->ops;
}

int blk_storage_event_fd(const struct blk_storage *s)
{
	return s->event_fd;
}

unsigned blk_storage_inflight(const struct blk_storage *s)
{
	return s->inflight;
}

const char *blk_storage_engine_name(const struct blk_storage *s)
{
	return s->engine->name;
}

unsigned blk_storage_complete(struct blk_storage *s)
{
	struct blk_storage_req *q, *next;
	uint64_t v;
	unsigned n = 0;

	/* Clear the event before looking: whatever finishes after this read
	 * signals again, so nothing is left waiting unseen. */
	if (read(s->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	if (s->engine->reap)
		n += s->engine->reap(s);
	pthread_mutex_lock(&s->lock);
	q = s->posted;
	s->posted = s->posted_tail = NULL;
	pthread_mutex_unlock(&s->lock);
	for (; q; q = next) {
		next = q->next;
		blk_storage_finish(q, q->err);
		n++;
	}
	return n;
}

void blk_storage_close(struct blk_storage *s)
{
	if (!s)
		return;
	/* The timeout only guards against a lost wake-up; the loop ends when
	 * the last request is done, however long the host storage takes. */
	while (s->inflight) {
		struct pollfd p = {.fd = s->event_fd, .events = POLLIN};

		poll(&p, 1, 1000);
		blk_storage_complete(s);
	}
	s->engine->destroy(s);
}

/* ---- for the engines ---- */

int blk_storage_init(struct blk_storage *s)
{
	s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->event_fd < 0) {
		s->event_fd = -1;
		return -errno;
	}
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

void blk_storage_fini(struct blk_storage *s)
{
	struct blk_storage_req *q;

	while ((q = s->free_reqs)) {
		s->free_reqs = q->next;
		free(q);
	}
	if (s->event_fd >= 0) {
		close(s->event_fd);
		pthread_mutex_destroy(&s->lock);
	}
	s->event_fd = -1;
}

struct blk_storage_req *blk_storage_req_get(struct blk_storage *s,
					    struct blk_io *io)
{
	struct blk_storage_req *q = s->free_reqs;

	if (q)
		s->free_reqs = q->next;
	else if (!(q = malloc(sizeof(*q))))
		return NULL;
	memset(q, 0, sizeof(*q));
	q->io = io;
	q->s = s;
	s->inflight++;
	return q;
}

static void blk_storage_req_put(struct blk_storage_req *q)
{
	struct blk_storage *s = q->s;

	free(q->scratch);
	free(q->bounce);
	q->scratch = NULL;
	q->bounce = NULL;
	q->next = s->free_reqs;
	s->free_reqs = q;
	s->inflight--;
}

void blk_storage_req_cancel(struct blk_storage_req *q)
{
	blk_storage_req_put(q);
}

void blk_storage_signal(struct blk_storage *s)
{
	uint64_t one = 1;

	/* Fails only when the counter is at its maximum: still readable. */
	(void)!write(s->event_fd, &one, sizeof(one));
}

void blk_storage_post(struct blk_storage_req *q, int err)
{
	struct blk_storage *s = q->s;
	bool was_empty;

	q->err = err;
	q->next = NULL;
	pthread_mutex_lock(&s->lock);
	was_empty = !s->posted;
	if (s->posted_tail)
		s->posted_tail->next = q;
	else
		s->posted = q;
	s->posted_tail = q;
	pthread_mutex_unlock(&s->lock);
	/* A non-empty queue was signalled by whoever made it non-empty and
	 * has not been taken yet (complete() clears the event first). */
	if (was_empty)
		blk_storage_signal(s);
}

static void blk_storage_scatter(const struct blk_io *io, const uint8_t *src)
{
	for (unsigned i = 0; i < io->iovcnt; i++) {
		memcpy(io->iov[i].iov_base, src, io->iov[i].iov_len);
		src += io->iov[i].iov_len;
	}
}

void blk_storage_finish(struct blk_storage_req *q, int err)
{
	struct blk_io *io = q->io;

	if (q->bounce && io->op == BLK_IO_READ && !err)
		blk_storage_scatter(io, q->bounce);
	/* Recycle first: done() may submit again and reuse the record. */
	blk_storage_req_put(q);
	io->done(io, err);
}

int blk_storage_linear(struct blk_storage_req *q, void **buf, size_t *len)
{
	const struct blk_io *io = q->io;
	size_t total = 0;
	bool adjacent = true;
	uint8_t *p;

	for (unsigned i = 0; i < io->iovcnt; i++) {
		if (i && (uint8_t *)io->iov[i - 1].iov_base +
				 io->iov[i - 1].iov_len !=
			     io->iov[i].iov_base)
			adjacent = false;
		total += io->iov[i].iov_len;
	}
	*len = total;
	if (adjacent) {
		*buf = io->iovcnt ? io->iov[0].iov_base : NULL;
		return 0;
	}
	q->bounce = malloc(total);
	if (!q->bounce)
		return -ENOMEM;
	p = q->bounce;
	if (io->op == BLK_IO_WRITE)
		for (unsigned i = 0; i < io->iovcnt; i++) {
			memcpy(p, io->iov[i].iov_base, io->iov[i].iov_len);
			p += io->iov[i].iov_len;
		}
	*buf = q->bounce;
	return 0;
}
