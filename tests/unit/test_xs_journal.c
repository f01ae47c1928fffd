/* Unit tests for the persisted record format (src/xenstore/journal.h):
 * a store's journal replayed into a fresh store gives the same tree; torn
 * and corrupt tails are cut at the last complete batch; replaying twice or
 * over a snapshot changes nothing.  Leak-checked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xenstore/journal.h"
#include "xenstore/mem.h"

static void ev(void *o, struct xs_conn *c, const char *p, const char *t)
{
}

static void record(void *o, const struct xs_change *c)
{
	assert_int_equal(xs_journal_append(o, c), 0);
}

static const struct xs_store_ops rec_ops = {ev, record};
static const struct xs_store_ops plain_ops = {ev, NULL};

static int dump_emit(void *arg, const struct xs_change *c)
{
	return xs_journal_append(arg, c);
}

/* A canonical text form of a store: its dump, sorted by path. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct text {
	char *lines[256];
	int n;
};

static int text_emit(void *arg, const struct xs_change *c)
{
	struct text *t = arg;
	char buf[512];
	uint32_t i;
	int len;

	if (c->kind == XS_CHANGE_NODE) {
		len = snprintf(
		    buf, sizeof(buf), "N %s gen=%llu v=%.*s c=%u p=", c->path,
		    (unsigned long long)c->node->gen, (int)c->node->vlen,
		    c->node->value, c->node->clen);
		for (i = 0; i < c->node->nperms; i++)
			len += xs_perm_format(&c->node->perms[i], buf + len,
					      sizeof(buf) - (size_t)len);
	} else if (c->kind == XS_CHANGE_WATCH_ADD) {
		snprintf(buf, sizeof(buf), "W %u %s %s %d", c->domid, c->path,
			 c->token, c->relative);
	} else if (c->kind == XS_CHANGE_DOMAIN) {
		snprintf(buf, sizeof(buf), "D %u", c->domid);
	} else if (c->kind == XS_CHANGE_SPECIAL) {
		len = snprintf(buf, sizeof(buf), "S %s ", c->path);
		for (i = 0; i < c->nperms; i++)
			len += xs_perm_format(&c->perms[i], buf + len,
					      sizeof(buf) - (size_t)len);
	} else {
		return 0;
	}
	assert_true(t->n < 256);
	t->lines[t->n++] = strdup(buf);
	return 0;
}

static void text_of(const struct xs_store *s, struct text *t)
{
	t->n = 0;
	assert_int_equal(xs_store_dump(s, text_emit, t), 0);
	qsort(t->lines, (size_t)t->n, sizeof(char *), cmp_str);
}

static void text_free(struct text *t)
{
	while (t->n)
		free(t->lines[--t->n]);
}

static void assert_same(const struct xs_store *a, const struct xs_store *b)
{
	struct text ta, tb;
	int i;

	text_of(a, &ta);
	text_of(b, &tb);
	assert_int_equal(ta.n, tb.n);
	for (i = 0; i < ta.n; i++)
		assert_string_equal(ta.lines[i], tb.lines[i]);
	text_free(&ta);
	text_free(&tb);
}

struct env {
	struct xs_jbuf j;    /* the journal of s since it was made */
	struct xs_jbuf base; /* the dump of s at that point */
	struct xs_store *s;
	struct xs_conn *c0, *c5;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_int_equal(xs_mem_live(), 0);
	e->s = xs_store_new(&rec_ops, &e->j);
	assert_int_equal(xs_store_dump(e->s, dump_emit, &e->base), 0);
	e->c0 = xs_conn_new(e->s, 0, true, NULL);
	e->c5 = xs_conn_new(e->s, 5, false, NULL);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	xs_conn_free(e->c0);
	xs_conn_free(e->c5);
	xs_store_free(e->s);
	xs_jbuf_free(&e->j);
	xs_jbuf_free(&e->base);
	free(e);
	assert_int_equal(xs_mem_live(), 0);
	return 0;
}

/* Some history: nodes, perms, a domain and its watches, a transaction, a
 * removal, special perms. */
static void history(struct env *e)
{
	struct xs_perm p[2] = {{5, XSP_NONE}, {0, XSP_READ}};
	struct xs_txn *t;
	uint32_t id;

	assert_int_equal(xs_store_write(e->c0, NULL, "/a/b", "1", 1), 0);
	assert_int_equal(xs_store_mkdir(e->c0, NULL, "/local/domain/5"), 0);
	assert_int_equal(
	    xs_store_set_perms(e->c0, NULL, "/local/domain/5", p, 1), 0);
	assert_int_equal(xs_store_domain_introduce(e->s, 5, e->c5), 0);
	assert_int_equal(xs_store_write(e->c5, NULL, "data/x", "v\0w", 3), 0);
	assert_int_equal(xs_store_set_perms(e->c5, NULL, "data/x", p, 2), 0);
	assert_int_equal(xs_store_watch(e->c5, "data", "rel"), 0);
	assert_int_equal(xs_store_watch(e->c5, "/a", "abs"), 0);
	assert_int_equal(xs_store_watch(e->c5, "/gone", "x"), 0);
	assert_int_equal(xs_store_unwatch(e->c5, "/gone", "x"), 0);
	assert_int_equal(xs_txn_start(e->c0, NULL, &id), 0);
	assert_int_equal(xs_txn_lookup(e->c0, id, &t), 0);
	assert_int_equal(xs_store_write(e->c0, t, "/t/1", "x", 1), 0);
	assert_int_equal(xs_store_rm(e->c0, t, "/a/b"), 0);
	assert_int_equal(xs_txn_end(e->c0, t, true), 0);
	assert_int_equal(
	    xs_store_set_perms(e->c0, NULL, "@releaseDomain", p, 2), 0);
}

static struct xs_store *replay(const struct xs_jbuf *base,
			       const struct xs_jbuf *j, size_t jlen)
{
	struct xs_store *s = xs_store_new(&plain_ops, NULL);
	size_t good;

	xs_store_restore_begin(s);
	xs_journal_scan(base->data, base->len, &good);
	assert_int_equal(good, base->len);
	assert_int_equal(xs_journal_apply(s, base->data, base->len), 0);
	xs_journal_scan(j->data, jlen, &good);
	assert_int_equal(xs_journal_apply(s, j->data, good), 0);
	assert_int_equal(xs_store_restore_done(s), 0);
	return s;
}

static void test_roundtrip(void **state)
{
	struct env *e = *state;
	struct xs_store *r;

	history(e);
	r = replay(&e->base, &e->j, e->j.len);
	assert_same(e->s, r);
	xs_store_free(r);
}

/* Every possible torn length gives the state after some whole batch. */
static void test_torn(void **state)
{
	struct env *e = *state;
	struct xs_store *r;
	size_t len, good, batches, last = 0;

	history(e);
	for (len = 0; len <= e->j.len; len++) {
		batches = xs_journal_scan(e->j.data, len, &good);
		assert_true(good <= len);
		assert_true(good >= last);
		last = good;
		r = replay(&e->base, &e->j, len);
		assert_int_equal(xs_store_check(r), 0);
		xs_store_free(r);
		(void)batches;
	}
	assert_int_equal(last, e->j.len);
}

/* A flipped byte anywhere stops the scan at the batch before it. */
static void test_corrupt(void **state)
{
	struct env *e = *state;
	size_t i, good, full;

	history(e);
	xs_journal_scan(e->j.data, e->j.len, &full);
	for (i = 0; i < e->j.len; i += 7) {
		e->j.data[i] ^= 0x40;
		xs_journal_scan(e->j.data, e->j.len, &good);
		assert_true(good <= i);
		e->j.data[i] ^= 0x40;
	}
	xs_journal_scan(e->j.data, e->j.len, &good);
	assert_int_equal(good, full);
}

/* The journal applied twice, or over the final snapshot, changes nothing
 * (records state full values). */
static void test_idempotent(void **state)
{
	struct env *e = *state;
	struct xs_jbuf snap = {0};
	struct xs_store *r;

	history(e);
	assert_int_equal(xs_store_dump(e->s, dump_emit, &snap), 0);
	r = replay(&snap, &e->j, e->j.len);
	assert_same(e->s, r);
	assert_int_equal(xs_journal_apply(r, e->j.data, e->j.len), 0);
	assert_int_equal(xs_store_restore_done(r), 0);
	assert_same(e->s, r);
	xs_store_free(r);
	xs_jbuf_free(&snap);
}

/* Release after restart: a domain known only from the journal. */
static void test_saved_domain(void **state)
{
	struct env *e = *state;
	struct xs_store *r;
	uint32_t d[2];

	history(e);
	r = replay(&e->base, &e->j, e->j.len);
	assert_int_equal(xs_store_saved_domains(r, d, 2), 1);
	assert_int_equal(d[0], 5);
	assert_false(xs_store_domain_introduced(r, 5));
	assert_int_equal(xs_store_domain_release(r, 5), 0);
	assert_int_equal(xs_store_domain_nodes(r, 5), 0);
	assert_int_equal(xs_store_check(r), 0);
	xs_store_free(r);
}

/* Garbage is not applied. */
static void test_garbage(void **state)
{
	static const uint8_t junk[] = {1, 0, 0, 0, 200, 0, 0, 0, 'x'};
	struct xs_store *s = xs_store_new(&plain_ops, NULL);
	size_t good;

	assert_int_equal(xs_journal_scan(junk, sizeof(junk), &good), 0);
	assert_int_equal(good, 0);
	assert_int_equal(xs_journal_apply(s, junk, sizeof(junk)), -EBADMSG);
	xs_store_free(s);
	assert_int_equal(xs_crc32(0, "123456789", 9), 0xCBF43926u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    {"a replayed journal gives the same store", test_roundtrip, setup,
	     teardown, NULL},
	    {"a torn journal loads up to its last whole batch", test_torn,
	     setup, teardown, NULL},
	    {"a corrupt record ends the journal", test_corrupt, setup, teardown,
	     NULL},
	    {"replaying twice or over a snapshot changes nothing",
	     test_idempotent, setup, teardown, NULL},
	    {"a domain known from the journal can be released",
	     test_saved_domain, setup, teardown, NULL},
	    {"garbage is refused; CRC-32 check value", test_garbage, NULL, NULL,
	     NULL},
	};

	return _cmocka_run_group_tests(
	    "xs_journal", tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
}
