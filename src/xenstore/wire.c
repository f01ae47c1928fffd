/* The xenstore wire protocol: framing, the request table, dispatch and the
 * replies of each request type, as Xen's C xenstored (see wire.h). */
#include "wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct xs_wire {
	struct xs_store *s;
	const struct xs_wire_ops *ops;
	void *opaque;
};

struct xs_wire_msg {
	struct xs_wire_msg *next;
	uint32_t len; /* header + payload */
	bool event;   /* a WATCH_EVENT (duplicates are dropped) */
	bool reply;
	char data[];
};

struct xs_wire_conn {
	struct xs_wire *w;
	struct xs_conn *sc;
	void *owner;
	/* input */
	struct xsd_sockmsg hdr;
	uint32_t in_used;
	bool in_body;
	char in_buf[XENSTORE_PAYLOAD_MAX];
	/* output */
	struct xs_wire_msg *out, *out_last;
	uint32_t out_off;
	size_t out_bytes;
	int outstanding;
	uint64_t replies_queued, replies_sent;
	bool overflowed;
};

/* --- connections and output -------------------------------------------- */

struct xs_wire *xs_wire_new(struct xs_store *s, const struct xs_wire_ops *ops,
			    void *opaque)
{
	static const struct xs_wire_ops none;
	struct xs_wire *w = xs_calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->s = s;
	w->ops = ops ? ops : &none;
	w->opaque = opaque;
	return w;
}

void xs_wire_free(struct xs_wire *w)
{
	xs_free(w);
}

struct xs_store *xs_wire_store(const struct xs_wire *w)
{
	return w->s;
}

struct xs_wire_conn *xs_wire_conn_new(struct xs_wire *w, uint32_t domid,
				      bool privileged, void *owner)
{
	struct xs_wire_conn *wc = xs_calloc(1, sizeof(*wc));

	if (!wc)
		return NULL;
	wc->w = w;
	wc->owner = owner;
	wc->sc = xs_conn_new(w->s, domid, privileged, wc);
	if (!wc->sc) {
		xs_free(wc);
		return NULL;
	}
	return wc;
}

void xs_wire_conn_free(struct xs_wire_conn *wc)
{
	struct xs_wire_msg *m;

	if (!wc)
		return;
	while ((m = wc->out)) {
		wc->out = m->next;
		xs_free(m);
	}
	xs_conn_free(wc->sc);
	xs_free(wc);
}

void *xs_wire_conn_owner(const struct xs_wire_conn *wc)
{
	return wc->owner;
}

struct xs_conn *xs_wire_conn_store(const struct xs_wire_conn *wc)
{
	return wc->sc;
}

static void xs_wire_enqueue(struct xs_wire_conn *wc, struct xs_wire_msg *m)
{
	bool was_empty = !wc->out;

	if (wc->out_last)
		wc->out_last->next = m;
	else
		wc->out = m;
	wc->out_last = m;
	wc->out_bytes += m->len;
	if (m->reply) {
		wc->outstanding++;
		wc->replies_queued++;
	}
	if (was_empty && wc->w->ops->output)
		wc->w->ops->output(wc->w->opaque, wc);
}

static struct xs_wire_msg *xs_wire_msg_new(uint32_t type, uint32_t req_id,
					   uint32_t tx_id, uint32_t len)
{
	struct xs_wire_msg *m =
	    xs_malloc(sizeof(*m) + sizeof(struct xsd_sockmsg) + len);
	struct xsd_sockmsg h = {type, req_id, tx_id, len};

	if (!m)
		return NULL;
	m->next = NULL;
	m->len = (uint32_t)sizeof(h) + len;
	m->event = false;
	m->reply = false;
	memcpy(m->data, &h, sizeof(h));
	return m;
}

const char *xs_wire_errname(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL";
}

/* Queues the reply to `req`; over XENSTORE_PAYLOAD_MAX it becomes E2BIG,
 * as in xenstored's send_reply(). */
static int xs_wire_reply(struct xs_wire_conn *wc, const struct xsd_sockmsg *req,
			 uint32_t type, const void *data, size_t len)
{
	struct xs_wire_msg *m;

	if (len > XENSTORE_PAYLOAD_MAX) {
		type = XS_ERROR;
		data = "E2BIG";
		len = sizeof("E2BIG");
	}
	m = xs_wire_msg_new(type, req->req_id, req->tx_id, (uint32_t)len);
	if (!m)
		return -ENOMEM;
	memcpy(m->data + sizeof(*req), data, len);
	m->reply = true;
	xs_wire_enqueue(wc, m);
	return 0;
}

static void xs_wire_error(struct xs_wire_conn *wc,
			  const struct xsd_sockmsg *req, int err)
{
	const char *name = xs_wire_errname(err);

	xs_wire_reply(wc, req, XS_ERROR, name, strlen(name) + 1);
}

static int xs_wire_ack(struct xs_wire_conn *wc, const struct xsd_sockmsg *req)
{
	return xs_wire_reply(wc, req, req->type, "OK", sizeof("OK"));
}

static void xs_wire_event(struct xs_wire_conn *wc, const char *path,
			  const char *token)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	struct xs_wire_msg *m, *i;

	if (pl + tl > XENSTORE_PAYLOAD_MAX)
		return;
	m = xs_wire_msg_new(XS_WATCH_EVENT, 0, 0, (uint32_t)(pl + tl));
	if (!m)
		return;
	memcpy(m->data + sizeof(struct xsd_sockmsg), path, pl);
	memcpy(m->data + sizeof(struct xsd_sockmsg) + pl, token, tl);
	m->event = true;
	if (wc->out_bytes + m->len > (xs_conn_privileged(wc->sc)
					  ? XS_WIRE_QUEUE_MAX_HOST
					  : XS_WIRE_QUEUE_MAX_GUEST)) {
		wc->overflowed = true;
		xs_free(m);
		if (wc->w->ops->output)
			wc->w->ops->output(wc->w->opaque, wc);
		return;
	}
	if (path[0] != '@') {
		for (i = wc->out; i; i = i->next)
			if (i->event && i->len == m->len &&
			    !memcmp(i->data, m->data, m->len)) {
				xs_free(m);
				return;
			}
	}
	xs_wire_enqueue(wc, m);
}

void xs_wire_watch_event(void *opaque, struct xs_conn *c, const char *path,
			 const char *token)
{
	(void)opaque;
	xs_wire_event(xs_conn_owner(c), path, token);
}

const void *xs_wire_out_peek(const struct xs_wire_conn *wc, size_t *len,
			     bool *at_start)
{
	const struct xs_wire_msg *m = wc->out;

	if (!m) {
		*len = 0;
		if (at_start)
			*at_start = true;
		return NULL;
	}
	*len = m->len - wc->out_off;
	if (at_start)
		*at_start = wc->out_off == 0;
	return m->data + wc->out_off;
}

void xs_wire_out_advance(struct xs_wire_conn *wc, size_t n)
{
	struct xs_wire_msg *m;

	while (n && (m = wc->out)) {
		size_t left = m->len - wc->out_off, take = n < left ? n : left;

		wc->out_off += (uint32_t)take;
		wc->out_bytes -= take;
		n -= take;
		if (wc->out_off < m->len)
			break;
		wc->out = m->next;
		if (!wc->out)
			wc->out_last = NULL;
		wc->out_off = 0;
		if (m->reply) {
			wc->outstanding--;
			wc->replies_sent++;
		}
		xs_free(m);
	}
}

bool xs_wire_overflowed(const struct xs_wire_conn *wc)
{
	return wc->overflowed;
}

size_t xs_wire_out_bytes(const struct xs_wire_conn *wc)
{
	return wc->out_bytes;
}

uint64_t xs_wire_replies_queued(const struct xs_wire_conn *wc)
{
	return wc->replies_queued;
}

uint64_t xs_wire_replies_sent(const struct xs_wire_conn *wc)
{
	return wc->replies_sent;
}

bool xs_wire_can_accept(const struct xs_wire_conn *wc)
{
	return xs_conn_privileged(wc->sc) ||
	       wc->outstanding < xs_store_quota(wc->w->s)->outstanding;
}

/* --- payload helpers (xenstored's get_string & co) ----------------------- */

struct xs_req {
	const struct xsd_sockmsg *hdr;
	const char *buf;
	uint32_t len;
	struct xs_txn *t;
};

/* The single argument: the payload must hold exactly one NUL, at its end. */
static const char *xs_onearg(const struct xs_req *r)
{
	if (!r->len || memchr(r->buf, 0, r->len) != r->buf + r->len - 1)
		return NULL;
	return r->buf;
}

/* Number of NULs: the NUL-terminated strings in the payload. */
static unsigned xs_count_strings(const struct xs_req *r)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < r->len; i++)
		if (!r->buf[i])
			n++;
	return n;
}

/* Fills up to num string pointers; returns the number of strings. */
static unsigned xs_get_strings(const struct xs_req *r, const char **vec,
			       unsigned num)
{
	unsigned n = 0;
	uint32_t off = 0;
	const char *nul;

	while (off < r->len && (nul = memchr(r->buf + off, 0, r->len - off))) {
		if (n < num)
			vec[n] = r->buf + off;
		n++;
		off = (uint32_t)(nul - r->buf) + 1;
	}
	return n;
}

/* --- request handlers ---------------------------------------------------
 * Each returns 0 after queuing its reply, or -errno for the error reply. */

static int xs_do_read(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *path = xs_onearg(r), *val;
	uint32_t len;
	int rc;

	if (!path)
		return -EINVAL;
	rc = xs_store_read(wc->sc, r->t, path, &val, &len);
	return rc ? rc : xs_wire_reply(wc, r->hdr, XS_READ, val, len);
}

/* WRITE <path>|<value|>: the value is everything after the first NUL. */
static int xs_do_write(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *path;
	size_t off;
	int rc;

	if (xs_get_strings(r, &path, 1) < 1)
		return -EINVAL;
	off = strlen(path) + 1;
	rc = xs_store_write(wc->sc, r->t, path, r->buf + off,
			    (uint32_t)(r->len - off));
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_do_mkdir(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *path = xs_onearg(r);
	int rc;

	if (!path)
		return -EINVAL;
	rc = xs_store_mkdir(wc->sc, r->t, path);
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_do_rm(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *path = xs_onearg(r);
	int rc;

	if (!path)
		return -EINVAL;
	rc = xs_store_rm(wc->sc, r->t, path);
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_do_directory(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *path = xs_onearg(r), *names;
	uint32_t len;
	uint64_t gen;
	int rc;

	if (!path)
		return -EINVAL;
	rc = xs_store_directory(wc->sc, r->t, path, &names, &len, &gen);
	return rc ? rc : xs_wire_reply(wc, r->hdr, XS_DIRECTORY, names, len);
}

/* DIRECTORY_PART <path>|<offset>| -> <gencnt>|<names from offset>: as many
 * whole names as fit; the list's end is marked by an extra empty string. */
static int xs_do_directory_part(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *vec[2], *names, *child;
	char gen[24], *data;
	uint32_t clen, off, len = 0, maxlen, genlen;
	uint64_t g;
	int rc;

	if (xs_count_strings(r) != 2)
		return -EINVAL;
	xs_get_strings(r, vec, 2);
	rc = xs_store_directory(wc->sc, r->t, vec[0], &names, &clen, &g);
	if (rc)
		return rc;
	off = (uint32_t)atoi(vec[1]);
	genlen = (uint32_t)snprintf(gen, sizeof(gen), "%" PRIu64, g) + 1;
	if (off >= clen) {
		gen[genlen] = '\0';
		return xs_wire_reply(wc, r->hdr, XS_DIRECTORY_PART, gen,
				     genlen + 1);
	}
	maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	child = names + off;
	while (len + strlen(child) < maxlen) {
		len += (uint32_t)strlen(child) + 1;
		child += strlen(child) + 1;
		if (off + len == clen)
			break;
	}
	data = xs_malloc(genlen + len + 1);
	if (!data)
		return -ENOMEM;
	memcpy(data, gen, genlen);
	memcpy(data + genlen, names + off, len);
	if (off + len == clen)
		data[genlen + len++] = '\0';
	rc = xs_wire_reply(wc, r->hdr, XS_DIRECTORY_PART, data, genlen + len);
	xs_free(data);
	return rc;
}

static int xs_do_get_perms(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *path = xs_onearg(r);
	const struct xs_perm *p;
	uint32_t n, i;
	char *buf;
	size_t len = 0;
	int rc;

	if (!path)
		return -EINVAL;
	rc = xs_store_get_perms(wc->sc, r->t, path, &p, &n);
	if (rc)
		return rc;
	buf = xs_malloc((size_t)n * 16);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		len += (size_t)xs_perm_format(&p[i], buf + len, 16) + 1;
	rc = xs_wire_reply(wc, r->hdr, XS_GET_PERMS, buf, len);
	xs_free(buf);
	return rc;
}

/* SET_PERMS <path>|<perm>|+: xenstored checks the count, then the quota,
 * then the syntax. */
static int xs_do_set_perms(struct xs_wire_conn *wc, struct xs_req *r)
{
	unsigned num = xs_count_strings(r), i;
	const char *p;
	struct xs_perm *perms;
	int rc = 0;

	if (num < 2)
		return -EINVAL;
	num--;
	if (!xs_conn_privileged(wc->sc) &&
	    num > (unsigned)xs_store_quota(wc->w->s)->perms)
		return -ENOSPC;
	perms = xs_calloc(num, sizeof(*perms));
	if (!perms)
		return -ENOMEM;
	p = r->buf + strlen(r->buf) + 1;
	for (i = 0; i < num && !rc; i++) {
		rc = xs_perm_parse(p, &perms[i]);
		p += strlen(p) + 1;
	}
	if (!rc)
		rc = xs_store_set_perms(wc->sc, r->t, r->buf, perms, num);
	xs_free(perms);
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

/* WATCH <wpath>|<token>|: "OK", then the initial event with the path as
 * given (it is queued after the reply, as xenstored does). */
static int xs_do_watch(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *vec[2];
	int rc;

	if (xs_get_strings(r, vec, 2) != 2)
		return -EINVAL;
	rc = xs_store_watch(wc->sc, vec[0], vec[1]);
	if (rc)
		return rc;
	rc = xs_wire_ack(wc, r->hdr);
	xs_wire_event(wc, vec[0], vec[1]);
	return rc;
}

static int xs_do_unwatch(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *vec[2];
	int rc;

	if (xs_get_strings(r, vec, 2) != 2)
		return -EINVAL;
	rc = xs_store_unwatch(wc->sc, vec[0], vec[1]);
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_do_transaction_start(struct xs_wire_conn *wc, struct xs_req *r)
{
	char buf[16];
	uint32_t id;
	int rc;

	rc = xs_txn_start(wc->sc, r->t, &id);
	if (rc)
		return rc;
	snprintf(buf, sizeof(buf), "%u", id);
	return xs_wire_reply(wc, r->hdr, XS_TRANSACTION_START, buf,
			     strlen(buf) + 1);
}

static int xs_do_transaction_end(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *arg = xs_onearg(r);
	int rc;

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return -EINVAL;
	if (!r->t)
		return -ENOENT;
	rc = xs_txn_end(wc->sc, r->t, arg[0] == 'T');
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

/* INTRODUCE <domid>|<gfn>|<evtchn>|: in kxen the transport also needs the
 * guest's memory and event fds (src/kxend), the `introduce` hook. */
static int xs_do_introduce(struct xs_wire_conn *wc, struct xs_req *r)
{
	struct xs_wire *w = wc->w;
	struct xs_wire_conn *ring = NULL, *old;
	struct xs_conn *oc;
	const char *vec[3];
	uint32_t domid, port;
	long long gfn;
	char *end;
	int rc;

	if (xs_get_strings(r, vec, 3) < 3)
		return -EINVAL;
	domid = (uint32_t)atoi(vec[0]);
	port = (uint32_t)atoi(vec[2]);
	gfn = strtoll(vec[1], &end, 10);
	if (!port || !domid || domid >= XS_DOMID_FIRST_RESERVED || *end ||
	    end == vec[1] || gfn < 0 || gfn >= (1LL << 40))
		return -EINVAL;
	if (!w->ops->introduce || !w->ops->drop)
		return -EINVAL;
	rc =
	    w->ops->introduce(w->opaque, wc, domid, (uint64_t)gfn, port, &ring);
	if (rc)
		return rc;
	/* Introducing a connected domain again resets it (xenstored drops
	 * its watches and transactions). */
	oc = xs_store_domain_conn(w->s, domid);
	if (oc) {
		old = xs_conn_owner(oc);
		xs_store_domain_disconnect(w->s, domid);
		w->ops->drop(w->opaque, old);
	}
	rc = xs_store_domain_introduce(w->s, domid, ring->sc);
	if (rc) {
		w->ops->drop(w->opaque, ring);
		return rc;
	}
	return xs_wire_ack(wc, r->hdr);
}

/* <domid>| for RELEASE and RESUME: 0 is invalid. */
static int xs_onearg_domid(const struct xs_req *r, uint32_t *domid)
{
	const char *arg = xs_onearg(r);

	if (!arg)
		return -EINVAL;
	*domid = (uint32_t)atoi(arg);
	return *domid ? 0 : -EINVAL;
}

static int xs_do_release(struct xs_wire_conn *wc, struct xs_req *r)
{
	struct xs_wire *w = wc->w;
	struct xs_conn *c;
	uint32_t domid;
	int rc = xs_onearg_domid(r, &domid);

	if (rc)
		return rc;
	c = xs_store_domain_conn(w->s, domid);
	if (c && w->ops->drop)
		w->ops->drop(w->opaque, xs_conn_owner(c));
	rc = xs_store_domain_release(w->s, domid);
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_do_resume(struct xs_wire_conn *wc, struct xs_req *r)
{
	uint32_t domid;
	int rc = xs_onearg_domid(r, &domid);

	if (!rc)
		rc = xs_store_domain_resume(wc->w->s, domid);
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_do_get_domain_path(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *arg = xs_onearg(r);
	char buf[32];

	if (!arg)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "/local/domain/%u", (unsigned)atoi(arg));
	return xs_wire_reply(wc, r->hdr, XS_GET_DOMAIN_PATH, buf,
			     strlen(buf) + 1);
}

static int xs_do_is_domain_introduced(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *arg = xs_onearg(r);
	bool yes;

	if (!arg)
		return -EINVAL;
	yes = xs_store_domain_introduced(wc->w->s, (uint32_t)atoi(arg));
	return xs_wire_reply(wc, r->hdr, XS_IS_DOMAIN_INTRODUCED,
			     yes ? "T" : "F", 2);
}

static int xs_do_set_target(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char *vec[2];
	int rc;

	if (xs_get_strings(r, vec, 2) < 2)
		return -EINVAL;
	rc = xs_store_set_target(wc->w->s, (uint32_t)atoi(vec[0]),
				 (uint32_t)atoi(vec[1]));
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_do_reset_watches(struct xs_wire_conn *wc, struct xs_req *r)
{
	xs_store_reset_watches(wc->sc);
	return xs_wire_ack(wc, r->hdr);
}

/* --- CONTROL ------------------------------------------------------------ */

struct xs_control_cmd {
	const char *name;
	int (*fn)(struct xs_wire_conn *wc, struct xs_req *r, const char **vec,
		  unsigned num);
	const char *params;
};

static int xs_control_check(struct xs_wire_conn *wc, struct xs_req *r,
			    const char **vec, unsigned num)
{
	if (num)
		return -EINVAL;
	xs_store_check(wc->w->s);
	return xs_wire_ack(wc, r->hdr);
}

static int xs_control_log(struct xs_wire_conn *wc, struct xs_req *r,
			  const char **vec, unsigned num)
{
	int rc;

	if (num != 1 || (strcmp(vec[0], "on") && strcmp(vec[0], "off")))
		return -EINVAL;
	if (!wc->w->ops->control_log)
		return -ENOSYS;
	rc = wc->w->ops->control_log(wc->w->opaque, !strcmp(vec[0], "on"));
	return rc ? rc : xs_wire_ack(wc, r->hdr);
}

static int xs_control_print(struct xs_wire_conn *wc, struct xs_req *r,
			    const char **vec, unsigned num)
{
	if (num < 1)
		return -EINVAL;
	if (wc->w->ops->control_print)
		wc->w->ops->control_print(wc->w->opaque, vec[0]);
	return xs_wire_ack(wc, r->hdr);
}

struct xs_quota_desc {
	const char *name;
	size_t off;
	const char *descr;
};

#define XS_Q(field) offsetof(struct xs_quota, field)
static const struct xs_quota_desc xs_quota_descs[] = {
    {"nodes", XS_Q(nodes), "Nodes per domain"},
    {"watches", XS_Q(watches), "Watches per domain"},
    {"transactions", XS_Q(transactions), "Transactions per domain"},
    {"outstanding", XS_Q(outstanding), "Outstanding requests per domain"},
    {"transaction-nodes", XS_Q(trans_nodes),
     "Max. number of accessed nodes per transaction"},
    {"node-size", XS_Q(node_size), "Max. size of a node"},
    {"path-max", XS_Q(path_max), "Max. length of a node path"},
    {"permissions", XS_Q(perms), "Max. number of permissions per node"},
};
#undef XS_Q

static int *xs_quota_field(struct xs_quota *q, const struct xs_quota_desc *d)
{
	return (int *)((char *)q + d->off);
}

/* Appends printf output to a growing string; on no memory *buf is freed
 * and set to NULL. */
static void xs_strappend(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xs_strappend(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char tmp[256], *nb;
	int n;

	if (!*buf)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	nb = xs_realloc(*buf, *len + (size_t)n + 1);
	if (!nb) {
		xs_free(*buf);
		*buf = NULL;
		return;
	}
	memcpy(nb + *len, tmp, (size_t)n + 1);
	*buf = nb;
	*len += (size_t)n;
}

static int xs_reply_string(struct xs_wire_conn *wc, struct xs_req *r, char *s,
			   size_t len)
{
	int rc;

	if (!s)
		return -ENOMEM;
	rc = xs_wire_reply(wc, r->hdr, XS_CONTROL, s, len + 1);
	xs_free(s);
	return rc;
}

/* quota | quota set <name> <val> | quota <domid> */
static int xs_control_quota(struct xs_wire_conn *wc, struct xs_req *r,
			    const char **vec, unsigned num)
{
	struct xs_store *s = wc->w->s;
	struct xs_quota *q = xs_store_quota(s);
	struct xs_conn *c;
	char *buf = xs_strdup("");
	size_t len = 0, i;
	uint32_t domid;
	int val;

	if (num == 0) {
		xs_strappend(&buf, &len, "Quota settings:\n");
		for (i = 0;
		     i < sizeof(xs_quota_descs) / sizeof(*xs_quota_descs); i++)
			xs_strappend(&buf, &len, "%-17s: %8d %s\n",
				     xs_quota_descs[i].name,
				     *xs_quota_field(q, &xs_quota_descs[i]),
				     xs_quota_descs[i].descr);
		return xs_reply_string(wc, r, buf, len);
	}
	xs_free(buf);
	if (!strcmp(vec[0], "set")) {
		if (num != 3)
			return -EINVAL;
		val = atoi(vec[2]);
		if (val < 1)
			return -EINVAL;
		for (i = 0;
		     i < sizeof(xs_quota_descs) / sizeof(*xs_quota_descs); i++)
			if (!strcmp(vec[1], xs_quota_descs[i].name)) {
				*xs_quota_field(q, &xs_quota_descs[i]) = val;
				return xs_wire_ack(wc, r->hdr);
			}
		return -EINVAL;
	}
	if (num != 1)
		return -EINVAL;
	domid = (uint32_t)atoi(vec[0]);
	c = xs_store_domain_conn(s, domid);
	if (domid && !c && !xs_store_domain_introduced(s, domid))
		return -ENOENT;
	buf = xs_strdup("");
	len = 0;
	xs_strappend(&buf, &len, "Domain %u:\n", domid);
	xs_strappend(&buf, &len, "%-16s: %8d\n", "nodes",
		     xs_store_domain_nodes(s, domid));
	xs_strappend(&buf, &len, "%-16s: %8d\n", "watches",
		     c ? xs_conn_watches(c) : 0);
	xs_strappend(&buf, &len, "%-16s: %8d\n", "transactions",
		     c ? xs_conn_transactions(c) : 0);
	xs_strappend(&buf, &len, "%-16s: %8d\n", "outstanding",
		     c ? ((struct xs_wire_conn *)xs_conn_owner(c))->outstanding
		       : 0);
	return xs_reply_string(wc, r, buf, len);
}

static int xs_control_help(struct xs_wire_conn *wc, struct xs_req *r,
			   const char **vec, unsigned num);

static const struct xs_control_cmd xs_control_cmds[] = {
    {"check", xs_control_check, ""},
    {"log", xs_control_log, "on|off"},
    {"print", xs_control_print, "<string>"},
    {"quota", xs_control_quota, "[set <name> <val>|<domid>]"},
    {"help", xs_control_help, ""},
};

static int xs_control_help(struct xs_wire_conn *wc, struct xs_req *r,
			   const char **vec, unsigned num)
{
	char *buf = xs_strdup("");
	size_t len = 0, i;

	if (num) {
		xs_free(buf);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(xs_control_cmds) / sizeof(*xs_control_cmds); i++)
		xs_strappend(&buf, &len, "%s\t%s\n", xs_control_cmds[i].name,
			     xs_control_cmds[i].params);
	return xs_reply_string(wc, r, buf, len);
}

/* CONTROL <command>|[<parameters>|]: implementation-defined commands;
 * kxend has check, log, print, quota and help. */
static int xs_do_control(struct xs_wire_conn *wc, struct xs_req *r)
{
	const char **vec;
	unsigned num, i;
	int rc;

	if (!r->len || !memchr(r->buf, 0, r->len))
		return -EINVAL;
	for (i = 0; i < sizeof(xs_control_cmds) / sizeof(*xs_control_cmds); i++)
		if (!strcmp(r->buf, xs_control_cmds[i].name))
			break;
	if (i == sizeof(xs_control_cmds) / sizeof(*xs_control_cmds))
		return -EINVAL;
	num = xs_count_strings(r);
	vec = xs_calloc(num, sizeof(*vec));
	if (!vec)
		return -ENOMEM;
	xs_get_strings(r, vec, num);
	rc = xs_control_cmds[i].fn(wc, r, vec + 1, num - 1);
	xs_free(vec);
	return rc;
}

/* --- the request table and dispatch -------------------------------------- */

#define XS_WF_PRIV 0x1u	 /* privileged connections only */
#define XS_WF_NOTID 0x2u /* tx_id is ignored */

struct xs_wire_req {
	const char *name;
	int (*handler)(struct xs_wire_conn *wc, struct xs_req *r);
	unsigned flags;
};

static const struct xs_wire_req xs_wire_reqs[XS_TYPE_COUNT] = {
    [XS_CONTROL] = {"CONTROL", xs_do_control, XS_WF_PRIV},
    [XS_DIRECTORY] = {"DIRECTORY", xs_do_directory, 0},
    [XS_READ] = {"READ", xs_do_read, 0},
    [XS_GET_PERMS] = {"GET_PERMS", xs_do_get_perms, 0},
    [XS_WATCH] = {"WATCH", xs_do_watch, XS_WF_NOTID},
    [XS_UNWATCH] = {"UNWATCH", xs_do_unwatch, XS_WF_NOTID},
    [XS_TRANSACTION_START] = {"TRANSACTION_START", xs_do_transaction_start, 0},
    [XS_TRANSACTION_END] = {"TRANSACTION_END", xs_do_transaction_end, 0},
    [XS_INTRODUCE] = {"INTRODUCE", xs_do_introduce, XS_WF_PRIV},
    [XS_RELEASE] = {"RELEASE", xs_do_release, XS_WF_PRIV},
    [XS_GET_DOMAIN_PATH] = {"GET_DOMAIN_PATH", xs_do_get_domain_path, 0},
    [XS_WRITE] = {"WRITE", xs_do_write, 0},
    [XS_MKDIR] = {"MKDIR", xs_do_mkdir, 0},
    [XS_RM] = {"RM", xs_do_rm, 0},
    [XS_SET_PERMS] = {"SET_PERMS", xs_do_set_perms, 0},
    [XS_WATCH_EVENT] = {"WATCH_EVENT", NULL, 0},
    [XS_ERROR] = {"ERROR", NULL, 0},
    [XS_IS_DOMAIN_INTRODUCED] = {"IS_DOMAIN_INTRODUCED",
				 xs_do_is_domain_introduced, XS_WF_PRIV},
    [XS_RESUME] = {"RESUME", xs_do_resume, XS_WF_PRIV},
    [XS_SET_TARGET] = {"SET_TARGET", xs_do_set_target, XS_WF_PRIV},
    [XS_RESET_WATCHES] = {"RESET_WATCHES", xs_do_reset_watches, 0},
    [XS_DIRECTORY_PART] = {"DIRECTORY_PART", xs_do_directory_part, 0},
};

const char *xs_wire_type_name(uint32_t type)
{
	if (type < XS_TYPE_COUNT && xs_wire_reqs[type].name)
		return xs_wire_reqs[type].name;
	return "UNKNOWN";
}

/* The one place that checks a request before its handler runs: size (the
 * payload limit), type (ENOSYS for unknown ones and for the reply-only
 * types), privilege (EACCES) and the transaction id (ENOENT). */
int xs_wire_handle(struct xs_wire_conn *wc, const struct xsd_sockmsg *hdr,
		   const void *payload)
{
	const struct xs_wire_req *req;
	struct xs_req r = {hdr, payload, hdr->len, NULL};
	int rc;

	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return -EPROTO;
	if (wc->w->ops->request)
		wc->w->ops->request(wc->w->opaque, wc, hdr, payload);
	req = hdr->type < XS_TYPE_COUNT ? &xs_wire_reqs[hdr->type] : NULL;
	if (!req || !req->handler) {
		rc = -ENOSYS;
	} else if ((req->flags & XS_WF_PRIV) && !xs_conn_privileged(wc->sc)) {
		rc = -EACCES;
	} else {
		rc = 0;
		if (!(req->flags & XS_WF_NOTID))
			rc = xs_txn_lookup(wc->sc, hdr->tx_id, &r.t);
		if (!rc)
			rc = req->handler(wc, &r);
	}
	if (rc)
		xs_wire_error(wc, hdr, rc);
	return 0;
}

int xs_wire_feed(struct xs_wire_conn *wc, const void *buf, size_t len,
		 size_t *used)
{
	const char *p = buf;
	size_t take;

	*used = 0;
	while (len) {
		if (!wc->in_body) {
			take = sizeof(wc->hdr) - wc->in_used;
			if (take > len)
				take = len;
			memcpy((char *)&wc->hdr + wc->in_used, p, take);
			wc->in_used += (uint32_t)take;
			p += take;
			len -= take;
			*used += take;
			if (wc->in_used < sizeof(wc->hdr))
				break;
			if (wc->hdr.len > XENSTORE_PAYLOAD_MAX)
				return -EPROTO;
			wc->in_body = true;
			wc->in_used = 0;
		} else {
			take = wc->hdr.len - wc->in_used;
			if (take > len)
				take = len;
			memcpy(wc->in_buf + wc->in_used, p, take);
			wc->in_used += (uint32_t)take;
			p += take;
			len -= take;
			*used += take;
		}
		if (wc->in_body && wc->in_used == wc->hdr.len) {
			wc->in_body = false;
			wc->in_used = 0;
			xs_wire_handle(wc, &wc->hdr, wc->in_buf);
			return 1;
		}
	}
	return 0;
}

bool xs_wire_idle(const struct xs_wire_conn *wc)
{
	return !wc->in_body && !wc->in_used;
}
