/* Unit tests for the xenstore wire layer (src/xenstore/wire.h): each named
 * case sends requests as bytes and compares the bytes that come back with
 * what Xen's C xenstored 4.17 sends (reply type, echoed req_id and tx_id,
 * payload, error strings, watch events).  Leak-checked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xenstore/mem.h"
#include "xenstore/wire.h"

/* A byte string literal with its length (it may hold NULs). */
#define B(s) s, (uint32_t)(sizeof(s) - 1)
#define NONE NULL, 0

struct msg {
	int conn; /* 0: dom0 socket, 1: domain 5 */
	uint32_t type;
	uint32_t tx;
	const char *pl;
	uint32_t plen;
	uint32_t rtype; /* expected reply type */
	const char *rpl;
	uint32_t rplen;
	const char *ev; /* expected WATCH_EVENT payload after the reply */
	uint32_t evlen;
	int flags; /* PREFIX: compare only the first rplen bytes;
		    * EVFIRST: the event comes before the reply */
};

#define PREFIX 1
#define EVFIRST 2

struct wcase {
	const char *name;
	struct msg msgs[12];
};

static const struct wcase cases[] = {
    {"READ of the initial tree, of a missing node",
     {{0, XS_READ, 0, B("/tool\0"), XS_READ, B(""), NONE, 0},
      {0, XS_READ, 0, B("/nope\0"), XS_ERROR, B("ENOENT\0"), NONE, 0},
      {1, XS_READ, 0, B("/tool\0"), XS_ERROR, B("EACCES\0"), NONE, 0}}},
    {"a single argument must end with its only NUL",
     {{0, XS_READ, 0, B("/tool"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_READ, 0, B("/tool\0x\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_READ, 0, B(""), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_MKDIR, 0, B("/a\0\0"), XS_ERROR, B("EINVAL\0"), NONE, 0}}},
    {"WRITE: the value is everything after the path, NULs included",
     {{0, XS_WRITE, 0, B("/v\0x\0y"), XS_WRITE, B("OK\0"), NONE, 0},
      {0, XS_READ, 0, B("/v\0"), XS_READ, B("x\0y"), NONE, 0},
      {0, XS_WRITE, 0, B("/e\0"), XS_WRITE, B("OK\0"), NONE, 0},
      {0, XS_READ, 0, B("/e\0"), XS_READ, B(""), NONE, 0},
      {0, XS_WRITE, 0, B("/nonul"), XS_ERROR, B("EINVAL\0"), NONE, 0}}},
    {"MKDIR, DIRECTORY, RM",
     {{0, XS_MKDIR, 0, B("/d/e\0"), XS_MKDIR, B("OK\0"), NONE, 0},
      {0, XS_DIRECTORY, 0, B("/\0"), XS_DIRECTORY, B("tool\0d\0"), NONE, 0},
      {0, XS_DIRECTORY, 0, B("/d/e\0"), XS_DIRECTORY, B(""), NONE, 0},
      {0, XS_RM, 0, B("/d\0"), XS_RM, B("OK\0"), NONE, 0},
      {0, XS_RM, 0, B("/d\0"), XS_RM, B("OK\0"), NONE, 0},
      {0, XS_RM, 0, B("/d/e\0"), XS_ERROR, B("ENOENT\0"), NONE, 0},
      {0, XS_RM, 0, B("/\0"), XS_ERROR, B("EINVAL\0"), NONE, 0}}},
    {"DIRECTORY_PART: generation, names, end marker",
     {{0, XS_DIRECTORY_PART, 0,
       B("/\0"
	 "0\0"),
       XS_DIRECTORY_PART, B("1\0tool\0\0"), NONE, 0},
      {0, XS_DIRECTORY_PART, 0,
       B("/\0"
	 "5\0"),
       XS_DIRECTORY_PART, B("1\0\0"), NONE, 0},
      {0, XS_DIRECTORY_PART, 0, B("/\0"), XS_ERROR, B("EINVAL\0"), NONE, 0}}},
    {"GET_PERMS and SET_PERMS",
     {{0, XS_GET_PERMS, 0, B("/\0"), XS_GET_PERMS, B("n0\0"), NONE, 0},
      {0, XS_WRITE, 0, B("/p\0"), XS_WRITE, B("OK\0"), NONE, 0},
      {0, XS_SET_PERMS, 0, B("/p\0n0\0r5\0b0x10\0"), XS_SET_PERMS, B("OK\0"),
       NONE, 0},
      {0, XS_GET_PERMS, 0, B("/p\0"), XS_GET_PERMS, B("n0\0r5\0b16\0"), NONE,
       0},
      {1, XS_READ, 0, B("/p\0"), XS_READ, B(""), NONE, 0},
      {0, XS_SET_PERMS, 0, B("/p\0x5\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_SET_PERMS, 0, B("/p\0r\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_SET_PERMS, 0, B("/p\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {1, XS_SET_PERMS, 0, B("/p\0n1\0n2\0n3\0n4\0n5\0n6\0"), XS_ERROR,
       B("ENOSPC\0"), NONE, 0}}},
    {"WATCH: OK, then the initial event (req_id and tx_id 0)",
     {{0, XS_WATCH, 7, B("/w\0tok\0"), XS_WATCH, B("OK\0"), B("/w\0tok\0"), 0},
      {0, XS_WATCH, 0, B("/w\0tok\0"), XS_ERROR, B("EEXIST\0"), NONE, 0},
      {0, XS_WRITE, 0,
       B("/w/x\0"
	 "1"),
       XS_WRITE, B("OK\0"), B("/w/x\0tok\0"), EVFIRST},
      {0, XS_WATCH, 0, B("rel\0t\0"), XS_WATCH, B("OK\0"), B("rel\0t\0"), 0},
      {0, XS_WATCH, 0, B("/w\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_WATCH, 0,
       B("/w\0t\0"
	 "3\0"),
       XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_UNWATCH, 0, B("/w\0tok\0"), XS_UNWATCH, B("OK\0"), NONE, 0},
      {0, XS_UNWATCH, 0, B("/w\0tok\0"), XS_ERROR, B("ENOENT\0"), NONE, 0},
      {0, XS_RESET_WATCHES, 0, B(""), XS_RESET_WATCHES, B("OK\0"), NONE, 0},
      {0, XS_UNWATCH, 0, B("rel\0t\0"), XS_ERROR, B("ENOENT\0"), NONE, 0}}},
    {"transactions: ids, tx_id echoed, conflicts, bad ids",
     {{0, XS_TRANSACTION_START, 0, B("\0"), XS_TRANSACTION_START, B("1\0"),
       NONE, 0},
      {0, XS_WRITE, 1,
       B("/t\0"
	 "1"),
       XS_WRITE, B("OK\0"), NONE, 0},
      {0, XS_READ, 0, B("/t\0"), XS_ERROR, B("ENOENT\0"), NONE, 0},
      {0, XS_TRANSACTION_START, 1, B("\0"), XS_ERROR, B("EBUSY\0"), NONE, 0},
      {0, XS_TRANSACTION_END, 1, B("X\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_TRANSACTION_END, 1, B("T\0"), XS_TRANSACTION_END, B("OK\0"), NONE,
       0},
      {0, XS_READ, 1, B("/t\0"), XS_ERROR, B("ENOENT\0"), NONE, 0},
      {0, XS_TRANSACTION_END, 0, B("T\0"), XS_ERROR, B("ENOENT\0"), NONE, 0},
      {0, XS_TRANSACTION_START, 0, B("\0"), XS_TRANSACTION_START, B("2\0"),
       NONE, 0},
      {0, XS_WRITE, 0,
       B("/t\0"
	 "2"),
       XS_WRITE, B("OK\0"), NONE, 0},
      {0, XS_WRITE, 2,
       B("/t\0"
	 "3"),
       XS_WRITE, B("OK\0"), NONE, 0},
      {0, XS_TRANSACTION_END, 2, B("T\0"), XS_TRANSACTION_END, B("OK\0"), NONE,
       0}}},
    {"domain requests",
     {{0, XS_GET_DOMAIN_PATH, 0, B("5\0"), XS_GET_DOMAIN_PATH,
       B("/local/domain/5\0"), NONE, 0},
      {1, XS_GET_DOMAIN_PATH, 0, B("x\0"), XS_GET_DOMAIN_PATH,
       B("/local/domain/0\0"), NONE, 0},
      {0, XS_IS_DOMAIN_INTRODUCED, 0, B("5\0"), XS_IS_DOMAIN_INTRODUCED,
       B("T\0"), NONE, 0},
      {0, XS_IS_DOMAIN_INTRODUCED, 0, B("9\0"), XS_IS_DOMAIN_INTRODUCED,
       B("F\0"), NONE, 0},
      {1, XS_IS_DOMAIN_INTRODUCED, 0, B("5\0"), XS_ERROR, B("EACCES\0"), NONE,
       0},
      {0, XS_INTRODUCE, 0,
       B("9\0"
	 "100\0"
	 "3\0"),
       XS_ERROR, B("EINVAL\0"), NONE, 0},
      {1, XS_INTRODUCE, 0,
       B("9\0"
	 "100\0"
	 "3\0"),
       XS_ERROR, B("EACCES\0"), NONE, 0},
      {0, XS_RELEASE, 0, B("0\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_RELEASE, 0, B("9\0"), XS_ERROR, B("ENOENT\0"), NONE, 0},
      {0, XS_RESUME, 0, B("5\0"), XS_RESUME, B("OK\0"), NONE, 0},
      {0, XS_SET_TARGET, 0, B("5\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_SET_TARGET, 0,
       B("5\0"
	 "9\0"),
       XS_ERROR, B("ENOENT\0"), NONE, 0}}},
    {"unknown and reply-only types: ENOSYS",
     {{0, XS_WATCH_EVENT, 0, B(""), XS_ERROR, B("ENOSYS\0"), NONE, 0},
      {0, XS_ERROR, 0, B(""), XS_ERROR, B("ENOSYS\0"), NONE, 0},
      {0, 20, 0, B(""), XS_ERROR, B("ENOSYS\0"), NONE, 0},
      {0, 999, 0, B(""), XS_ERROR, B("ENOSYS\0"), NONE, 0},
      {1, XS_INVALID, 0, B(""), XS_ERROR, B("ENOSYS\0"), NONE, 0}}},
    {"CONTROL: privileged, help, quota, errors",
     {{0, XS_CONTROL, 0, B("help\0"), XS_CONTROL, B("check\t\nlog\ton|off\n"),
       NONE, PREFIX},
      {0, XS_CONTROL, 0, B("quota\0"), XS_CONTROL,
       B("Quota settings:\nnodes            :     1000 Nodes per domain\n"),
       NONE, PREFIX},
      {0, XS_CONTROL, 0,
       B("quota\0set\0nodes\0"
	 "500\0"),
       XS_CONTROL, B("OK\0"), NONE, 0},
      {0, XS_CONTROL, 0,
       B("quota\0"
	 "5\0"),
       XS_CONTROL, B("Domain 5:\nnodes           :        0\n"), NONE, PREFIX},
      {0, XS_CONTROL, 0,
       B("quota\0set\0nodes\0"
	 "0\0"),
       XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_CONTROL, 0, B("check\0"), XS_CONTROL, B("OK\0"), NONE, 0},
      {0, XS_CONTROL, 0, B("bogus\0"), XS_ERROR, B("EINVAL\0"), NONE, 0},
      {0, XS_CONTROL, 0, B("log\0on\0"), XS_ERROR, B("ENOSYS\0"), NONE, 0},
      {1, XS_CONTROL, 0, B("help\0"), XS_ERROR, B("EACCES\0"), NONE, 0}}},
    {"a guest's relative paths and the node quota on the wire",
     {{0, XS_MKDIR, 0, B("/local/domain/5\0"), XS_MKDIR, B("OK\0"), NONE, 0},
      {0, XS_SET_PERMS, 0, B("/local/domain/5\0n5\0"), XS_SET_PERMS, B("OK\0"),
       NONE, 0},
      {1, XS_WRITE, 0,
       B("data/x\0"
	 "1"),
       XS_WRITE, B("OK\0"), NONE, 0},
      {0, XS_READ, 0, B("/local/domain/5/data/x\0"), XS_READ, B("1"), NONE, 0},
      {0, XS_CONTROL, 0,
       B("quota\0set\0nodes\0"
	 "4\0"),
       XS_CONTROL, B("OK\0"), NONE, 0},
      {1, XS_WRITE, 0,
       B("data/y\0"
	 "1"),
       XS_WRITE, B("OK\0"), NONE, 0},
      {1, XS_WRITE, 0,
       B("data/z\0"
	 "1"),
       XS_ERROR, B("ENOSPC\0"), NONE, 0},
      {0, XS_WRITE, 0,
       B("/local/domain/5/data/z\0"
	 "1"),
       XS_WRITE, B("OK\0"), NONE, 0}}},
};

struct env {
	struct xs_store *s;
	struct xs_wire *w;
	struct xs_wire_conn *c[2];
};

static const struct xs_store_ops sops = {xs_wire_watch_event, NULL};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_int_equal(xs_mem_live(), 0);
	e->s = xs_store_new(&sops, NULL);
	e->w = xs_wire_new(e->s, NULL, NULL);
	e->c[0] = xs_wire_conn_new(e->w, 0, true, NULL);
	e->c[1] = xs_wire_conn_new(e->w, 5, false, NULL);
	assert_non_null(e->c[1]);
	assert_int_equal(
	    xs_store_domain_introduce(e->s, 5, xs_wire_conn_store(e->c[1])), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	xs_wire_conn_free(e->c[0]);
	xs_wire_conn_free(e->c[1]);
	xs_wire_free(e->w);
	xs_store_free(e->s);
	free(e);
	assert_int_equal(xs_mem_live(), 0);
	return 0;
}

/* Sends one request; `split`: feed it one byte at a time. */
static void send_msg(struct xs_wire_conn *wc, uint32_t type, uint32_t req,
		     uint32_t tx, const char *pl, uint32_t len, bool split)
{
	char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = {type, req, tx, len};
	size_t total = sizeof(h) + len, off = 0, used;
	int rc;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), pl, len);
	while (off < total) {
		rc =
		    xs_wire_feed(wc, buf + off, split ? 1 : total - off, &used);
		assert_true(rc >= 0);
		off += used;
	}
	assert_true(xs_wire_idle(wc));
}

/* Takes the next whole message from wc's queue. */
static bool take_msg(struct xs_wire_conn *wc, struct xsd_sockmsg *h, char *pl)
{
	const char *p;
	size_t len;
	bool start;

	p = xs_wire_out_peek(wc, &len, &start);
	if (!p)
		return false;
	assert_true(start);
	assert_true(len >= sizeof(*h));
	memcpy(h, p, sizeof(*h));
	assert_int_equal(len, sizeof(*h) + h->len);
	memcpy(pl, p + sizeof(*h), h->len);
	xs_wire_out_advance(wc, len);
	return true;
}

static void check_reply(const struct msg *m, const struct xsd_sockmsg *h,
			const char *pl, uint32_t req, int i)
{
	if (h->type != m->rtype)
		fail_msg("message %d: reply type %u, expected %u (payload "
			 "\"%.*s\")",
			 i, h->type, m->rtype, (int)h->len, pl);
	assert_int_equal(h->req_id, req);
	assert_int_equal(h->tx_id, m->tx);
	if (m->flags & PREFIX) {
		assert_true(h->len >= m->rplen);
		assert_memory_equal(pl, m->rpl, m->rplen);
	} else {
		if (h->len != m->rplen || memcmp(pl, m->rpl, m->rplen))
			fail_msg("message %d: payload \"%.*s\" (%u bytes), "
				 "expected %u bytes",
				 i, (int)h->len, pl, h->len, m->rplen);
	}
}

static const struct wcase *current;

static void check_event(const struct msg *m, const struct xsd_sockmsg *h,
			const char *pl)
{
	assert_int_equal(h->type, XS_WATCH_EVENT);
	assert_int_equal(h->req_id, 0);
	assert_int_equal(h->tx_id, 0);
	assert_int_equal(h->len, m->evlen);
	assert_memory_equal(pl, m->ev, m->evlen);
}

static void run_case(void **state, const struct wcase *wc, bool split)
{
	struct env *e = *state;
	const struct msg *m;
	struct xsd_sockmsg h;
	char pl[XENSTORE_PAYLOAD_MAX];
	int i;

	for (i = 0, m = wc->msgs; m->pl; m++, i++) {
		struct xs_wire_conn *c = e->c[m->conn];
		uint32_t req = 1000 + (uint32_t)i;

		send_msg(c, m->type, req, m->tx, m->pl, m->plen, split);
		if (m->ev && (m->flags & EVFIRST)) {
			assert_true(take_msg(c, &h, pl));
			check_event(m, &h, pl);
		}
		assert_true(take_msg(c, &h, pl));
		check_reply(m, &h, pl, req, i);
		if (m->ev && !(m->flags & EVFIRST)) {
			assert_true(take_msg(c, &h, pl));
			check_event(m, &h, pl);
		}
		/* Nothing else was queued. */
		assert_false(take_msg(c, &h, pl));
		assert_int_equal(xs_store_check(e->s), 0);
	}
}

static void test_case(void **state)
{
	run_case(state, current, false);
}

static int setup_case(void **state)
{
	current = *state;
	return setup(state);
}

/* Every case again, its requests fed one byte at a time. */
static void test_split(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		teardown(state);
		setup(state);
		run_case(state, &cases[i], true);
	}
}

/* A header announcing more than 4096 bytes is a protocol violation. */
static void test_oversized(void **state)
{
	struct env *e = *state;
	struct xsd_sockmsg h = {XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};
	size_t used;

	assert_int_equal(xs_wire_feed(e->c[0], &h, sizeof(h), &used), -EPROTO);
	h.len = XENSTORE_PAYLOAD_MAX;
	assert_int_equal(xs_wire_handle(e->c[1], &h, ""), 0);
	h.len = XENSTORE_PAYLOAD_MAX + 1;
	assert_int_equal(xs_wire_handle(e->c[1], &h, ""), -EPROTO);
}

/* A reply over 4096 bytes is E2BIG; DIRECTORY_PART pages through it. */
static void test_e2big(void **state)
{
	struct env *e = *state;
	struct xsd_sockmsg h;
	char pl[XENSTORE_PAYLOAD_MAX], path[64], all[16384] = "", *p;
	size_t got = 0;
	int i, off = 0;

	for (i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "/big/child-number-%03d", i);
		assert_int_equal(
		    xs_store_mkdir(xs_wire_conn_store(e->c[0]), NULL, path), 0);
	}
	send_msg(e->c[0], XS_DIRECTORY, 1, 0, B("/big\0"), false);
	assert_true(take_msg(e->c[0], &h, pl));
	assert_int_equal(h.type, XS_ERROR);
	assert_memory_equal(pl, "E2BIG", 6);
	for (;;) {
		char arg[32];
		int n = snprintf(arg, sizeof(arg), "/big%c%d", 0, off) + 1;

		send_msg(e->c[0], XS_DIRECTORY_PART, 2, 0, arg, (uint32_t)n,
			 false);
		assert_true(take_msg(e->c[0], &h, pl));
		assert_int_equal(h.type, XS_DIRECTORY_PART);
		assert_true(h.len <= XENSTORE_PAYLOAD_MAX);
		p = memchr(pl, 0, h.len) + 1; /* after the generation */
		if (p == pl + h.len - 1 && !*p)
			break; /* just the end marker */
		size_t part = (size_t)(pl + h.len - p);
		bool end = part >= 2 && !p[part - 1] && !p[part - 2];

		if (end)
			part--;
		memcpy(all + got, p, part);
		got += part;
		off += (int)part;
		if (end)
			break;
	}
	assert_int_equal(got, 400 * (sizeof("child-number-000")));
	assert_memory_equal(all, "child-number-000\0child-number-001", 34);
}

/* An event identical to one still queued is not queued again; special
 * events always are. */
static void test_event_dedup(void **state)
{
	struct env *e = *state;
	struct xs_conn *sc = xs_wire_conn_store(e->c[0]);
	struct xsd_sockmsg h;
	char pl[XENSTORE_PAYLOAD_MAX];
	int n = 0;

	assert_int_equal(xs_store_watch(sc, "/dd", "t"), 0);
	assert_int_equal(xs_store_write(sc, NULL, "/dd", "1", 1), 0);
	assert_int_equal(xs_store_write(sc, NULL, "/dd", "2", 1), 0);
	assert_int_equal(xs_store_write(sc, NULL, "/dd/x", "3", 1), 0);
	while (take_msg(e->c[0], &h, pl))
		n++;
	assert_int_equal(n, 2);
}

/* A guest with quota.outstanding replies not taken is not read from. */
static void test_outstanding(void **state)
{
	struct env *e = *state;
	struct xsd_sockmsg h;
	char pl[XENSTORE_PAYLOAD_MAX];
	int i;

	for (i = 0; i < 20; i++) {
		assert_true(xs_wire_can_accept(e->c[1]));
		send_msg(e->c[1], XS_GET_DOMAIN_PATH, (uint32_t)i, 0, B("5\0"),
			 false);
	}
	assert_false(xs_wire_can_accept(e->c[1]));
	assert_int_equal(xs_wire_replies_queued(e->c[1]), 20);
	assert_true(take_msg(e->c[1], &h, pl));
	assert_int_equal(xs_wire_replies_sent(e->c[1]), 1);
	assert_true(xs_wire_can_accept(e->c[1]));
	assert_true(xs_wire_can_accept(e->c[0]));
}

/* Error names are xs_wire.h's; unknown errnos become EINVAL. */
static void test_errnames(void **state)
{
	assert_string_equal(xs_wire_errname(-ENOSPC), "ENOSPC");
	assert_string_equal(xs_wire_errname(EAGAIN), "EAGAIN");
	assert_string_equal(xs_wire_errname(-E2BIG), "E2BIG");
	assert_string_equal(xs_wire_errname(-EPERM), "EPERM");
	assert_string_equal(xs_wire_errname(-EDOM), "EINVAL");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void **);
	} extra[] = {
	    {"every case fed one byte at a time", test_split},
	    {"a header over the payload limit is a protocol error",
	     test_oversized},
	    {"replies over 4096 bytes: E2BIG, and DIRECTORY_PART pages",
	     test_e2big},
	    {"identical queued events are not repeated", test_event_dedup},
	    {"outstanding replies stop a guest's input", test_outstanding},
	    {"error names", test_errnames},
	};
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) +
				sizeof(extra) / sizeof(extra[0])];
	size_t i, n = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tests[n++] =
		    (struct CMUnitTest){cases[i].name, test_case, setup_case,
					teardown, (void *)&cases[i]};
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		tests[n++] = (struct CMUnitTest){extra[i].name, extra[i].fn,
						 setup, teardown, NULL};
	return _cmocka_run_group_tests("xs_wire", tests, n, NULL, NULL);
}
