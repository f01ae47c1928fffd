/* Encoding and decoding of kxend's persisted store records (journal.h). */
#include "journal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "mem.h"

enum xs_jtype {
	XS_J_NODE = 1,
	XS_J_DEL,
	XS_J_WATCH_ADD,
	XS_J_WATCH_DEL,
	XS_J_DOMAIN,
	XS_J_RELEASE,
	XS_J_SPECIAL,
	XS_J_END,
};

/* Largest payload a record can have: a node of a path, value and children
 * list each below the wire limit, plus counts; anything bigger is corrupt. */
#define XS_J_MAX_PAYLOAD (1u << 20)

uint32_t xs_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;
	uint32_t c;
	int i, k;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* --- encoding ------------------------------------------------------------ */

void xs_jbuf_reset(struct xs_jbuf *b)
{
	b->len = 0;
}

void xs_jbuf_free(struct xs_jbuf *b)
{
	xs_free(b->data);
	memset(b, 0, sizeof(*b));
}

static int xs_jbuf_room(struct xs_jbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *d;

	while (b->len + n > cap)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	d = xs_realloc(b->data, cap);
	if (!d)
		return -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

static void xs_put32(struct xs_jbuf *b, uint32_t v)
{
	uint8_t *p = b->data + b->len;

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	b->len += 4;
}

static void xs_put64(struct xs_jbuf *b, uint64_t v)
{
	xs_put32(b, (uint32_t)v);
	xs_put32(b, (uint32_t)(v >> 32));
}

static void xs_putbytes(struct xs_jbuf *b, const void *p, uint32_t n)
{
	xs_put32(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void xs_putstr(struct xs_jbuf *b, const char *s)
{
	xs_putbytes(b, s, (uint32_t)strlen(s));
}

static void xs_putperms(struct xs_jbuf *b, const struct xs_perm *p, uint32_t n)
{
	uint32_t i;

	xs_put32(b, n);
	for (i = 0; i < n; i++) {
		xs_put32(b, p[i].id);
		xs_put32(b, p[i].perms);
	}
}

int xs_journal_append(struct xs_jbuf *b, const struct xs_change *c)
{
	const struct xs_node *n = c->node;
	size_t start = b->len, need = 12 + 16;
	uint32_t crc, plen;

	if (c->path)
		need += strlen(c->path) + 4;
	if (c->token)
		need += strlen(c->token) + 4;
	if (c->kind == XS_CHANGE_NODE)
		need += 8 + 4 + n->nperms * 8u + 8 + n->vlen + n->clen;
	if (c->kind == XS_CHANGE_SPECIAL)
		need += 4 + c->nperms * 8u;
	if (xs_jbuf_room(b, need))
		return -ENOMEM;
	b->len += 8; /* type and length, filled in below */
	switch (c->kind) {
	case XS_CHANGE_NODE:
		xs_putstr(b, n->path);
		xs_put64(b, n->gen);
		xs_putperms(b, n->perms, n->nperms);
		xs_putbytes(b, n->value, n->vlen);
		xs_putbytes(b, n->children, n->clen);
		break;
	case XS_CHANGE_DEL:
		xs_putstr(b, c->path);
		break;
	case XS_CHANGE_WATCH_ADD:
	case XS_CHANGE_WATCH_DEL:
		xs_put32(b, c->domid);
		xs_put32(b, c->relative);
		xs_putstr(b, c->path);
		xs_putstr(b, c->token);
		break;
	case XS_CHANGE_DOMAIN:
	case XS_CHANGE_RELEASE:
		xs_put32(b, c->domid);
		break;
	case XS_CHANGE_SPECIAL:
		xs_putstr(b, c->path);
		xs_putperms(b, c->perms, c->nperms);
		break;
	case XS_CHANGE_END:
		break;
	}
	plen = (uint32_t)(b->len - start - 8);
	b->len = start;
	xs_put32(b, (uint32_t)c->kind + 1);
	xs_put32(b, plen);
	b->len += plen;
	crc = xs_crc32(0, b->data + start, 8 + plen);
	xs_put32(b, crc);
	return 0;
}

/* --- decoding ------------------------------------------------------------ */

struct xs_jreader {
	const uint8_t *p;
	uint32_t left;
	bool bad;
};

static uint32_t xs_get32(struct xs_jreader *r)
{
	uint32_t v;

	if (r->left < 4) {
		r->bad = true;
		return 0;
	}
	v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
	    (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	r->left -= 4;
	return v;
}

static uint64_t xs_get64(struct xs_jreader *r)
{
	uint64_t lo = xs_get32(r);

	return lo | (uint64_t)xs_get32(r) << 32;
}

/* A byte string: *p points into the record, *n its length. */
static const uint8_t *xs_getbytes(struct xs_jreader *r, uint32_t *n)
{
	const uint8_t *p;

	*n = xs_get32(r);
	if (r->bad || *n > r->left) {
		r->bad = true;
		*n = 0;
		return NULL;
	}
	p = r->p;
	r->p += *n;
	r->left -= *n;
	return p;
}

/* A string without NULs, copied (malloc'd, NUL-terminated). */
static char *xs_getstr(struct xs_jreader *r)
{
	uint32_t n;
	const uint8_t *p = xs_getbytes(r, &n);

	if (!p || memchr(p, 0, n)) {
		r->bad = true;
		return NULL;
	}
	return xs_strndup((const char *)p, n);
}

static struct xs_perm *xs_getperms(struct xs_jreader *r, uint32_t *n)
{
	struct xs_perm *p;
	uint32_t i;

	*n = xs_get32(r);
	if (r->bad || !*n || *n > r->left / 8) {
		r->bad = true;
		return NULL;
	}
	p = xs_calloc(*n, sizeof(*p));
	if (!p)
		return NULL;
	for (i = 0; i < *n; i++) {
		p[i].id = xs_get32(r);
		p[i].perms = xs_get32(r) & (XSP_READ | XSP_WRITE);
	}
	return p;
}

/* Checks the record at buf: its total size, or 0 when it is incomplete or
 * fails its CRC (a torn or corrupt tail). */
static size_t xs_journal_record(const uint8_t *buf, size_t len, uint32_t *type)
{
	uint32_t plen, crc;
	struct xs_jreader r = {
	    buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len, false};

	*type = xs_get32(&r);
	plen = xs_get32(&r);
	if (r.bad || *type < XS_J_NODE || *type > XS_J_END ||
	    plen > XS_J_MAX_PAYLOAD || len < (size_t)plen + 12)
		return 0;
	r.p = buf + 8 + plen;
	r.left = 4;
	crc = xs_get32(&r);
	if (crc != xs_crc32(0, buf, 8 + plen))
		return 0;
	return (size_t)plen + 12;
}

size_t xs_journal_scan(const void *buf, size_t len, size_t *good)
{
	const uint8_t *p = buf;
	size_t off = 0, n, batches = 0;
	uint32_t type;

	*good = 0;
	while (off < len &&
	       (n = xs_journal_record(p + off, len - off, &type))) {
		off += n;
		if (type == XS_J_END) {
			*good = off;
			batches++;
		}
	}
	return batches;
}

static int xs_journal_apply_one(struct xs_store *s, uint32_t type,
				struct xs_jreader *r)
{
	struct xs_node n = {0};
	char *path = NULL, *token = NULL;
	const uint8_t *p;
	uint32_t domid, rel, np = 0;
	struct xs_perm *perms = NULL;
	int rc = 0;

	switch (type) {
	case XS_J_NODE:
		n.path = xs_getstr(r);
		n.gen = xs_get64(r);
		n.perms = xs_getperms(r, &n.nperms);
		p = xs_getbytes(r, &n.vlen);
		n.value = (char *)p;
		p = xs_getbytes(r, &n.clen);
		n.children = (char *)p;
		if (r->bad || !n.path || !n.perms || !n.value || !n.children ||
		    (n.clen && n.children[n.clen - 1]))
			rc = r->bad || (n.clen && n.children[n.clen - 1])
				 ? -EBADMSG
				 : -ENOMEM;
		else
			rc = xs_store_restore_node(s, &n);
		xs_free(n.path);
		xs_free(n.perms);
		break;
	case XS_J_DEL:
		path = xs_getstr(r);
		rc = path ? xs_store_restore_del(s, path) : -EBADMSG;
		break;
	case XS_J_WATCH_ADD:
	case XS_J_WATCH_DEL:
		domid = xs_get32(r);
		rel = xs_get32(r);
		path = xs_getstr(r);
		token = xs_getstr(r);
		rc = path && token
			 ? xs_store_restore_watch(s, domid, path, token,
						  rel != 0,
						  type == XS_J_WATCH_ADD)
			 : -EBADMSG;
		break;
	case XS_J_DOMAIN:
	case XS_J_RELEASE:
		domid = xs_get32(r);
		rc = r->bad ? -EBADMSG
			    : xs_store_restore_domain(s, domid,
						      type == XS_J_DOMAIN);
		break;
	case XS_J_SPECIAL:
		path = xs_getstr(r);
		perms = xs_getperms(r, &np);
		rc = path && perms
			 ? xs_store_restore_special(s, path, perms, np)
			 : -EBADMSG;
		break;
	case XS_J_END:
		break;
	default:
		rc = -EBADMSG;
	}
	xs_free(path);
	xs_free(token);
	xs_free(perms);
	if (!rc && (r->bad || r->left))
		rc = -EBADMSG;
	if (rc == -ENOENT || rc == -EINVAL)
		rc = -EBADMSG;
	return rc;
}

int xs_journal_apply(struct xs_store *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t off = 0, n;
	uint32_t type;
	int rc;

	while (off < len) {
		n = xs_journal_record(p + off, len - off, &type);
		if (!n)
			return -EBADMSG;
		struct xs_jreader r = {p + off + 8, (uint32_t)(n - 12), false};

		rc = xs_journal_apply_one(s, type, &r);
		if (rc)
			return rc;
		off += n;
	}
	return 0;
}
