/* libFuzzer target for kxend's xenstore: the wire decoder and every request
 * handler over the store (as dom0 and as two guests, with small quotas and
 * domains coming and going), and the journal decoder.
 *
 * Input: byte 0 picks the mode and quotas; the rest is, for the wire mode,
 * a sequence of chunks [conn][len_lo][len_hi][len bytes] fed to that
 * connection's byte stream (conn byte values 0xF0.. release and
 * re-introduce domain 6 instead); for the journal mode, raw journal bytes.
 * Checked after each input: the store is consistent, nothing leaked, and
 * the journal the store wrote replays into the same tree.
 *
 * Build: make fuzz.  Run: build/fuzz/xs_fuzz [-max_total_time=N] [CORPUS]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/journal.h"
#include "xenstore/mem.h"
#include "xenstore/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_changed(void *opaque, const struct xs_change *c)
{
	if (xs_journal_append(opaque, c))
		abort();
}

static const struct xs_store_ops fz_ops = {xs_wire_watch_event, fz_changed};
static const struct xs_store_ops fz_plain = {xs_wire_watch_event, NULL};

struct fz {
	struct xs_store *s;
	struct xs_wire *w;
	struct xs_wire_conn *c[3];
	struct xs_jbuf journal, base;
};

static int fz_dump(void *arg, const struct xs_change *c)
{
	return xs_journal_append(arg, c);
}

static void fz_drain(struct xs_wire_conn *wc)
{
	size_t len;

	while (xs_wire_out_peek(wc, &len, NULL))
		xs_wire_out_advance(wc, len);
}

static struct xs_wire_conn *fz_guest(struct fz *f, uint32_t domid)
{
	struct xs_wire_conn *wc = xs_wire_conn_new(f->w, domid, false, NULL);

	if (!wc ||
	    xs_store_domain_introduce(f->s, domid, xs_wire_conn_store(wc)))
		abort();
	return wc;
}

/* Every node of `a` is in `b` with the same value, perms and children. */
struct fz_cmp {
	struct xs_store *b;
	struct xs_conn *c;
	size_t n;
};

static int fz_cmp_node(void *arg, const struct xs_change *ch)
{
	struct fz_cmp *k = arg;
	const struct xs_node *n = ch->node;
	const struct xs_perm *p;
	const char *v;
	uint32_t len, np;
	uint64_t gen;

	if (ch->kind != XS_CHANGE_NODE)
		return 0;
	k->n++;
	if (xs_store_read(k->c, NULL, n->path, &v, &len) || len != n->vlen ||
	    memcmp(v, n->value, len))
		abort();
	if (xs_store_directory(k->c, NULL, n->path, &v, &len, &gen) ||
	    len != n->clen || memcmp(v, n->children, len) || gen != n->gen)
		abort();
	if (xs_store_get_perms(k->c, NULL, n->path, &p, &np) ||
	    np != n->nperms || memcmp(p, n->perms, np * sizeof(*p)))
		abort();
	return 0;
}

static void fz_check_replay(struct fz *f)
{
	struct xs_store *r = xs_store_new(&fz_plain, NULL);
	struct fz_cmp k = {r, NULL, 0};
	size_t good;

	xs_store_restore_begin(r);
	if (xs_journal_apply(r, f->base.data, f->base.len))
		abort();
	xs_journal_scan(f->journal.data, f->journal.len, &good);
	if (good != f->journal.len ||
	    xs_journal_apply(r, f->journal.data, good) ||
	    xs_store_restore_done(r))
		abort();
	k.c = xs_conn_new(r, 0, true, NULL);
	xs_store_dump(f->s, fz_cmp_node, &k);
	if (k.n != xs_store_nodes(r))
		abort();
	xs_conn_free(k.c);
	xs_store_free(r);
}

static void fz_wire(const uint8_t *data, size_t size, uint8_t mode)
{
	struct fz f;
	size_t off = 0, len, used, done;
	int i, rc;

	memset(&f, 0, sizeof(f));
	f.s = xs_store_new(&fz_ops, &f.journal);
	f.w = xs_wire_new(f.s, NULL, NULL);
	if (!f.s || !f.w)
		abort();
	if (mode & 1) {
		struct xs_quota *q = xs_store_quota(f.s);

		q->nodes = 8;
		q->watches = 3;
		q->transactions = 2;
		q->trans_nodes = 12;
		q->node_size = 200;
		q->perms = 3;
		q->path_max = 64;
	}
	xs_store_dump(f.s, fz_dump, &f.base);
	f.c[0] = xs_wire_conn_new(f.w, 0, true, NULL);
	f.c[1] = fz_guest(&f, 5);
	f.c[2] = fz_guest(&f, 6);
	while (off + 3 <= size) {
		uint8_t sel = data[off];

		len = data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		if (sel >= 0xF0) {
			/* Domain 6 goes away and comes back. */
			xs_wire_conn_free(f.c[2]);
			xs_store_domain_release(f.s, 6);
			f.c[2] = fz_guest(&f, 6);
			continue;
		}
		i = sel % 3;
		for (done = 0; done < len; done += used) {
			rc = xs_wire_feed(f.c[i], data + off + done, len - done,
					  &used);
			if (rc < 0) {
				/* Protocol violation: the client is dropped. */
				xs_wire_conn_free(f.c[i]);
				if (i == 2)
					xs_store_domain_release(f.s, 6);
				f.c[i] =
				    i ? fz_guest(&f, i == 1 ? 5 : 6)
				      : xs_wire_conn_new(f.w, 0, true, NULL);
				break;
			}
		}
		off += len;
		if (sel & 0x80)
			fz_drain(f.c[i]);
		if (xs_store_check(f.s))
			abort();
	}
	fz_check_replay(&f);
	for (i = 0; i < 3; i++)
		xs_wire_conn_free(f.c[i]);
	xs_wire_free(f.w);
	xs_store_free(f.s);
	xs_jbuf_free(&f.journal);
	xs_jbuf_free(&f.base);
}

static void fz_journal(const uint8_t *data, size_t size)
{
	struct xs_store *s = xs_store_new(&fz_plain, NULL);
	size_t good;

	xs_store_restore_begin(s);
	xs_journal_scan(data, size, &good);
	if (!xs_journal_apply(s, data, good))
		xs_store_restore_done(s);
	xs_store_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before = xs_mem_live();

	if (!size)
		return 0;
	if (data[0] < 0xE0)
		fz_wire(data + 1, size - 1, data[0]);
	else
		fz_journal(data + 1, size - 1);
	if (xs_mem_live() != before) {
		fprintf(stderr, "xs_fuzz: %ld blocks leaked\n",
			xs_mem_live() - before);
		abort();
	}
	return 0;
}
