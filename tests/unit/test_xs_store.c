/* Unit tests for the pure xenstore database (src/xenstore/store.h): a table
 * of named cases, each a short script of operations by dom0 (a host
 * socket) and guests 5 and 6 with the expected result, events and
 * journal; every case ends with a consistency check and a leak check. */
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
#include "xenstore/store.h"

enum op {
	END = 0,
	READ,	  /* a: path; want: value */
	WRITE,	  /* a: path, b: value */
	MKDIR,	  /* a: path */
	RM,	  /* a: path */
	DIR,	  /* a: path; want: children joined by ',' */
	PERMS,	  /* a: path; want: perms joined by ',' */
	SETPERMS, /* a: path, b: perms separated by ' ' */
	WATCH,	  /* a: path, b: token */
	UNWATCH,  /* a: path, b: token */
	EVENTS,	  /* want: all events since the last EVENTS, "c:path:token;"
		   * (c: connection slot; 4 for one outside the slots) */
	TSTART,	  /* tx: slot to fill */
	TEND,	  /* tx: slot; b: "T" or "F" */
	QUOTA,	  /* a: name, b: value */
	INTRO,	  /* a: domid (connection slot 3) */
	RELEASE,  /* a: domid */
	NODES,	  /* a: domid; want: count of nodes it owns */
	RESET,	  /* RESET_WATCHES */
};

struct step {
	int conn; /* 0: dom0 socket, 1: domain 5, 2: domain 6, 3: INTRO'd */
	enum op op;
	const char *a, *b;
	int rc;
	const char *want;
	int tx; /* transaction slot (1..3), 0: none */
};

struct tcase {
	const char *name;
	struct step steps[24];
};

#define OK 0

static const struct tcase cases[] = {
    {"write creates parents, read and directory see them",
     {{0, WRITE, "/a/b/c", "v", OK, NULL, 0},
      {0, READ, "/a/b/c", NULL, OK, "v", 0},
      {0, READ, "/a/b", NULL, OK, "", 0},
      {0, DIR, "/a", NULL, OK, "b", 0},
      {0, DIR, "/", NULL, OK, "tool,a", 0},
      {0, PERMS, "/a/b", NULL, OK, "n0", 0}}},
    {"the initial tree of xenstored",
     {{0, DIR, "/tool", NULL, OK, "xenstored", 0},
      {0, PERMS, "/tool/xenstored", NULL, OK, "n0", 0},
      {0, NODES, "0", NULL, OK, "3", 0}}},
    {"children keep creation order; rm takes one out",
     {{0, WRITE, "/d/z", "", OK, NULL, 0},
      {0, WRITE, "/d/a", "", OK, NULL, 0},
      {0, WRITE, "/d/m", "", OK, NULL, 0},
      {0, RM, "/d/a", NULL, OK, NULL, 0},
      {0, DIR, "/d", NULL, OK, "z,m", 0}}},
    {"relative paths of a socket resolve under /local/domain/0",
     {{0, WRITE, "rel/x", "1", OK, NULL, 0},
      {0, READ, "/local/domain/0/rel/x", NULL, OK, "1", 0}}},
    {"created nodes inherit the parent's perms, guests own what they create",
     {{0, MKDIR, "/local/domain/5", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/5", "n5 r6", OK, NULL, 0},
      {1, WRITE, "data/x", "1", OK, NULL, 0},
      {1, READ, "data/x", NULL, OK, "1", 0},
      {0, PERMS, "/local/domain/5/data", NULL, OK, "n5,r6", 0},
      {0, WRITE, "/local/domain/5/y", "2", OK, NULL, 0},
      {0, PERMS, "/local/domain/5/y", NULL, OK, "n5,r6", 0},
      {2, READ, "/local/domain/5/data/x", NULL, OK, "1", 0},
      {2, WRITE, "/local/domain/5/data/x", "no", -EACCES, NULL, 0},
      {0, NODES, "5", NULL, OK, "4", 0}}},
    {"a guest is refused dom0's private nodes",
     {{0, WRITE, "/secret", "s", OK, NULL, 0},
      {1, READ, "/secret", NULL, -EACCES, NULL, 0},
      {1, WRITE, "/secret", "x", -EACCES, NULL, 0},
      {1, READ, "/missing", NULL, -EACCES, NULL, 0},
      {1, WRITE, "/new", "x", -EACCES, NULL, 0},
      {1, MKDIR, "/new", NULL, -EACCES, NULL, 0},
      {1, RM, "/secret", NULL, -EACCES, NULL, 0},
      {1, DIR, "/", NULL, -EACCES, NULL, 0},
      {1, PERMS, "/secret", NULL, -EACCES, NULL, 0},
      {0, READ, "/secret", NULL, OK, "s", 0}}},
    {"ENOENT only where the nearest existing node is readable",
     {{0, MKDIR, "/pub", NULL, OK, NULL, 0},
      {0, SETPERMS, "/pub", "n0 r5", OK, NULL, 0},
      {1, READ, "/pub/missing", NULL, -ENOENT, NULL, 0},
      {1, READ, "/pub/a/b/c", NULL, -ENOENT, NULL, 0},
      {2, READ, "/pub/missing", NULL, -EACCES, NULL, 0},
      {1, WRITE, "/pub/x", "1", -EACCES, NULL, 0}}},
    {"a guest is refused another guest's nodes",
     {{0, MKDIR, "/local/domain/6", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/6", "n6", OK, NULL, 0},
      {2, WRITE, "/local/domain/6/x", "a", OK, NULL, 0},
      {1, READ, "/local/domain/6/x", NULL, -EACCES, NULL, 0},
      {1, WRITE, "/local/domain/6/x", "b", -EACCES, NULL, 0},
      {1, WRITE, "/local/domain/6/new", "b", -EACCES, NULL, 0},
      {2, READ, "x", NULL, OK, "a", 0}}},
    {"read-only and write-only grants",
     {{0, WRITE, "/g", "1", OK, NULL, 0},
      {0, SETPERMS, "/g", "n0 r5 w6", OK, NULL, 0},
      {1, READ, "/g", NULL, OK, "1", 0},
      {1, WRITE, "/g", "2", -EACCES, NULL, 0},
      {2, WRITE, "/g", "3", OK, NULL, 0},
      {2, READ, "/g", NULL, -EACCES, NULL, 0},
      {0, SETPERMS, "/g", "r0", OK, NULL, 0},
      {1, READ, "/g", NULL, OK, "3", 0},
      {1, WRITE, "/g", "4", -EACCES, NULL, 0}}},
    {"SET_PERMS: owners only, no owner change by guests, entry quota",
     {{0, MKDIR, "/local/domain/5", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/5", "n5", OK, NULL, 0},
      {1, WRITE, "n", "", OK, NULL, 0},
      {1, SETPERMS, "n", "n6", -EPERM, NULL, 0},
      {1, SETPERMS, "n", "n5 r6", OK, NULL, 0},
      {2, SETPERMS, "/local/domain/5/n", "n6", -EACCES, NULL, 0},
      {1, SETPERMS, "n", "n5 r1 r2 r3 r4 r6", -ENOSPC, NULL, 0},
      {1, PERMS, "n", NULL, OK, "n5,r6", 0},
      {0, SETPERMS, "/local/domain/5/n", "b6", OK, NULL, 0},
      {0, PERMS, "/local/domain/5/n", NULL, OK, "b6", 0},
      {0, NODES, "6", NULL, OK, "1", 0}}},
    {"RM: subtrees, missing nodes, the root",
     {{0, WRITE, "/r/a/b", "", OK, NULL, 0},
      {0, WRITE, "/r/c", "", OK, NULL, 0},
      {0, RM, "/r/a", NULL, OK, NULL, 0},
      {0, DIR, "/r", NULL, OK, "c", 0},
      {0, READ, "/r/a/b", NULL, -ENOENT, NULL, 0},
      {0, RM, "/r/missing", NULL, OK, NULL, 0},
      {0, RM, "/r/missing/deeper", NULL, -ENOENT, NULL, 0},
      {0, RM, "/", NULL, -EINVAL, NULL, 0},
      {0, NODES, "0", NULL, OK, "5", 0}}},
    {"invalid paths",
     {{0, READ, "/a//b", NULL, -EINVAL, NULL, 0},
      {0, WRITE, "/a/", "", -EINVAL, NULL, 0},
      {0, WRITE, "/a b", "", -EINVAL, NULL, 0},
      {0, WRITE, "/a.b", "", -EINVAL, NULL, 0},
      {0, WRITE, "", "", -EINVAL, NULL, 0},
      {0, WRITE, "/ok-_@x", "", OK, NULL, 0}}},
    {"watches fire for the path and below, with the token",
     {{0, WATCH, "/w", "tok", OK, NULL, 0},
      {0, WRITE, "/w/x/y", "1", OK, NULL, 0},
      {0, WRITE, "/other", "1", OK, NULL, 0},
      {0, WRITE, "/w", "2", OK, NULL, 0},
      {0, EVENTS, NULL, NULL, OK, "0:/w/x/y:tok;0:/w:tok;", 0},
      {0, RM, "/w", NULL, OK, NULL, 0},
      {0, EVENTS, NULL, NULL, OK, "0:/w:tok;", 0}}},
    {"removing a subtree fires exact watches on its nodes",
     {{0, WRITE, "/s/a/b", "", OK, NULL, 0},
      {0, WATCH, "/s/a/b", "deep", OK, NULL, 0},
      {0, WATCH, "/", "root", OK, NULL, 0},
      {0, RM, "/s", NULL, OK, NULL, 0},
      {0, EVENTS, NULL, NULL, OK, "0:/s/a/b:deep;0:/s:root;", 0}}},
    {"a relative watch reports relative paths",
     {{0, MKDIR, "/local/domain/5", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/5", "n5", OK, NULL, 0},
      {1, WATCH, "data", "t", OK, NULL, 0},
      {1, WRITE, "data/x", "1", OK, NULL, 0},
      {0, WRITE, "/local/domain/5/data", "2", OK, NULL, 0},
      {1, EVENTS, NULL, NULL, OK, "1:data/x:t;1:data:t;", 0}}},
    {"watch events only for nodes the watcher may read",
     {{1, WATCH, "/secret", "t", OK, NULL, 0},
      {0, WRITE, "/secret", "s", OK, NULL, 0},
      {0, WRITE, "/open", "s", OK, NULL, 0},
      {0, SETPERMS, "/open", "r0", OK, NULL, 0},
      {1, WATCH, "/open", "o", OK, NULL, 0},
      {0, WRITE, "/open", "t", OK, NULL, 0},
      {1, EVENTS, NULL, NULL, OK, "1:/open:o;", 0}}},
    {"duplicate watches, unwatch, reset",
     {{0, WATCH, "/d", "t", OK, NULL, 0},
      {0, WATCH, "/d", "t", -EEXIST, NULL, 0},
      {0, WATCH, "/d", "u", OK, NULL, 0},
      {0, UNWATCH, "/d", "t", OK, NULL, 0},
      {0, UNWATCH, "/d", "t", -ENOENT, NULL, 0},
      {0, RESET, NULL, NULL, OK, NULL, 0},
      {0, UNWATCH, "/d", "u", -ENOENT, NULL, 0},
      {0, WATCH, "/a//b", "t", -EINVAL, NULL, 0}}},
    {"@introduceDomain and @releaseDomain",
     {{0, WATCH, "@introduceDomain", "in", OK, NULL, 0},
      {0, WATCH, "@releaseDomain", "out", OK, NULL, 0},
      {1, WATCH, "@releaseDomain", "g", OK, NULL, 0},
      {0, INTRO, "7", NULL, OK, NULL, 0},
      {0, RELEASE, "7", NULL, OK, NULL, 0},
      {0, RELEASE, "7", NULL, -ENOENT, NULL, 0},
      {0, EVENTS, NULL, NULL, OK, "0:@introduceDomain:in;0:@releaseDomain:out;",
       0},
      {1, EVENTS, NULL, NULL, OK, "", 0},
      {0, SETPERMS, "@releaseDomain", "n0 r5", OK, NULL, 0},
      {1, SETPERMS, "@releaseDomain", "n5", -EACCES, NULL, 0},
      {0, SETPERMS, "@bogus", "n0", -EINVAL, NULL, 0},
      {0, INTRO, "7", NULL, OK, NULL, 0},
      {0, RELEASE, "7", NULL, OK, NULL, 0},
      {1, EVENTS, NULL, NULL, OK,
       "0:@introduceDomain:in;0:@releaseDomain:out;1:@releaseDomain:g;", 0}}},
    {"release removes the domain's nodes and its grants",
     {{0, MKDIR, "/local/domain/7", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/7", "n7", OK, NULL, 0},
      {0, WRITE, "/local/domain/7/device/x", "1", OK, NULL, 0},
      {0, WRITE, "/keep", "", OK, NULL, 0},
      {0, SETPERMS, "/keep", "n0 r7 r5 b7", OK, NULL, 0},
      {0, INTRO, "7", NULL, OK, NULL, 0},
      {3, WRITE, "mine", "1", OK, NULL, 0},
      {0, WATCH, "/local/domain", "ld", OK, NULL, 0},
      {0, NODES, "7", NULL, OK, "4", 0},
      {0, RELEASE, "7", NULL, OK, NULL, 0},
      {0, NODES, "7", NULL, OK, "0", 0},
      {0, READ, "/local/domain/7", NULL, -ENOENT, NULL, 0},
      {0, PERMS, "/keep", NULL, OK, "n0,r5", 0},
      {0, READ, "/keep", NULL, OK, "", 0},
      {0, EVENTS, NULL, NULL, OK, "0:/local/domain/7:ld;", 0}}},
    {"a transaction sees its own writes; others see them at commit",
     {{0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, WRITE, "/t", "1", OK, NULL, 1},
      {0, READ, "/t", NULL, OK, "1", 1},
      {0, READ, "/t", NULL, -ENOENT, NULL, 0},
      {1, READ, "/t", NULL, -EACCES, NULL, 0},
      {0, TEND, NULL, "T", OK, NULL, 1},
      {0, READ, "/t", NULL, OK, "1", 0}}},
    {"two transactions on one node: the first commits, the second EAGAIN",
     {{0, WRITE, "/n", "0", OK, NULL, 0},
      {0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, TSTART, NULL, NULL, OK, NULL, 2},
      {0, READ, "/n", NULL, OK, "0", 1},
      {0, READ, "/n", NULL, OK, "0", 2},
      {0, WRITE, "/n", "1", OK, NULL, 1},
      {0, WRITE, "/n", "2", OK, NULL, 2},
      {0, TEND, NULL, "T", OK, NULL, 1},
      {0, TEND, NULL, "T", -EAGAIN, NULL, 2},
      {0, READ, "/n", NULL, OK, "1", 0}}},
    {"a write outside the transaction makes it fail",
     {{0, WRITE, "/n", "0", OK, NULL, 0},
      {0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, READ, "/n", NULL, OK, "0", 1},
      {0, WRITE, "/n", "x", OK, NULL, 0},
      {0, WRITE, "/m", "1", OK, NULL, 1},
      {0, TEND, NULL, "T", -EAGAIN, NULL, 1},
      {0, READ, "/m", NULL, -ENOENT, NULL, 0}}},
    {"creating a node the transaction saw missing is a conflict",
     {{0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, READ, "/c", NULL, -ENOENT, NULL, 1},
      {0, WRITE, "/c", "outside", OK, NULL, 0},
      {0, WRITE, "/d", "1", OK, NULL, 1},
      {0, TEND, NULL, "T", -EAGAIN, NULL, 1}}},
    {"unrelated writes do not conflict",
     {{0, WRITE, "/u/a", "0", OK, NULL, 0},
      {0, WRITE, "/v", "0", OK, NULL, 0},
      {0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, WRITE, "/u/a", "1", OK, NULL, 1},
      {0, WRITE, "/v", "x", OK, NULL, 0},
      {0, TEND, NULL, "T", OK, NULL, 1},
      {0, READ, "/u/a", NULL, OK, "1", 0}}},
    {"abort discards; removal inside a transaction",
     {{0, WRITE, "/k/a", "0", OK, NULL, 0},
      {0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, RM, "/k", NULL, OK, NULL, 1},
      {0, READ, "/k/a", NULL, -ENOENT, NULL, 1},
      {0, TEND, NULL, "F", OK, NULL, 1},
      {0, READ, "/k/a", NULL, OK, "0", 0},
      {0, TSTART, NULL, NULL, OK, NULL, 2},
      {0, RM, "/k", NULL, OK, NULL, 2},
      {0, TEND, NULL, "T", OK, NULL, 2},
      {0, READ, "/k", NULL, -ENOENT, NULL, 0},
      {0, NODES, "0", NULL, OK, "3", 0}}},
    {"watches fire at commit, not before",
     {{0, WATCH, "/e", "t", OK, NULL, 0},
      {0, EVENTS, NULL, NULL, OK, "", 0},
      {0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, WRITE, "/e/x", "1", OK, NULL, 1},
      {0, EVENTS, NULL, NULL, OK, "", 0},
      {0, TEND, NULL, "T", OK, NULL, 1},
      {0, EVENTS, NULL, NULL, OK, "0:/e/x:t;", 0}}},
    {"transaction errors: nesting, unknown ids",
     {{0, TSTART, NULL, NULL, OK, NULL, 1},
      {0, TSTART, NULL, NULL, -EBUSY, NULL, 1},
      {0, TEND, NULL, "T", OK, NULL, 1},
      {0, READ, "/", NULL, -ENOENT, NULL, 1}}},
    {"node quota: a guest stops at its limit, dom0 does not",
     {{0, QUOTA, "nodes", "5", OK, NULL, 0},
      {0, MKDIR, "/local/domain/5", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/5", "n5", OK, NULL, 0},
      {1, WRITE, "a", "", OK, NULL, 0},
      {1, WRITE, "b", "", OK, NULL, 0},
      {1, WRITE, "c/d", "", OK, NULL, 0},
      {1, WRITE, "e/f", "", -ENOSPC, NULL, 0},
      {1, WRITE, "e", "", -ENOSPC, NULL, 0},
      {1, READ, "a", NULL, OK, "", 0},
      {1, WRITE, "a", "still writable", OK, NULL, 0},
      {0, WRITE, "/local/domain/0/x/y/z", "1", OK, NULL, 0},
      {0, NODES, "5", NULL, OK, "5", 0}}},
    {"node quota is checked at commit",
     {{0, QUOTA, "nodes", "3", OK, NULL, 0},
      {0, MKDIR, "/local/domain/5", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/5", "n5", OK, NULL, 0},
      {1, TSTART, NULL, NULL, OK, NULL, 1},
      {1, WRITE, "a", "", OK, NULL, 1},
      {1, WRITE, "b", "", OK, NULL, 1},
      {1, TEND, NULL, "T", -ENOSPC, NULL, 1},
      {1, READ, "a", NULL, -ENOENT, NULL, 0}}},
    {"node size quota",
     {{0, QUOTA, "node-size", "64", OK, NULL, 0},
      {0, MKDIR, "/local/domain/5", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/5", "n5", OK, NULL, 0},
      {1, WRITE, "small", "0123456789", OK, NULL, 0},
      {1, WRITE, "big", "0123456789012345678901234567890123", -ENOSPC, NULL, 0},
      {0, WRITE, "/local/domain/5/big",
       "0123456789012345678901234567890123456789", OK, NULL, 0}}},
    {"watch and transaction quotas",
     {{0, QUOTA, "watches", "2", OK, NULL, 0},
      {0, QUOTA, "transactions", "1", OK, NULL, 0},
      {1, WATCH, "/a", "1", OK, NULL, 0},
      {1, WATCH, "/a", "2", OK, NULL, 0},
      {1, WATCH, "/a", "3", OK, NULL, 0},
      {1, WATCH, "/a", "4", -E2BIG, NULL, 0},
      {1, TSTART, NULL, NULL, OK, NULL, 1},
      {1, TSTART, NULL, NULL, OK, NULL, 2},
      {1, TSTART, NULL, NULL, -ENOSPC, NULL, 3},
      {0, WATCH, "/a", "4", OK, NULL, 0},
      {0, WATCH, "/a", "5", OK, NULL, 0}}},
    {"transaction-nodes quota fails the transaction",
     {{0, QUOTA, "transaction-nodes", "2", OK, NULL, 0},
      {0, MKDIR, "/local/domain/5", NULL, OK, NULL, 0},
      {0, SETPERMS, "/local/domain/5", "n5", OK, NULL, 0},
      {1, TSTART, NULL, NULL, OK, NULL, 1},
      {1, WRITE, "a", "", OK, NULL, 1},
      {1, WRITE, "b", "", -ENOSPC, NULL, 1},
      {1, TEND, NULL, "T", -ENOMEM, NULL, 1}}},
};

/* --- the interpreter ----------------------------------------------------- */

struct env {
	struct xs_store *s;
	struct xs_conn *c[4];
	uint32_t tx[4]; /* per slot, owned by the connection that started it */
	char events[2048];
	int changes, ends;
};

static void ev_cb(void *opaque, struct xs_conn *c, const char *path,
		  const char *token)
{
	struct env *e = opaque;
	size_t len = strlen(e->events);
	int i;

	for (i = 0; i < 4 && e->c[i] != c; i++)
		;
	snprintf(e->events + len, sizeof(e->events) - len, "%d:%s:%s;", i, path,
		 token);
}

static void change_cb(void *opaque, const struct xs_change *ch)
{
	struct env *e = opaque;

	if (ch->kind == XS_CHANGE_END)
		e->ends++;
	else
		e->changes++;
}

static const struct xs_store_ops ops = {ev_cb, change_cb};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_int_equal(xs_mem_live(), 0);
	e->s = xs_store_new(&ops, e);
	assert_non_null(e->s);
	e->c[0] = xs_conn_new(e->s, 0, true, NULL);
	e->c[1] = xs_conn_new(e->s, 5, false, NULL);
	e->c[2] = xs_conn_new(e->s, 6, false, NULL);
	assert_int_equal(xs_store_domain_introduce(e->s, 5, e->c[1]), 0);
	assert_int_equal(xs_store_domain_introduce(e->s, 6, e->c[2]), 0);
	e->events[0] = '\0';
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	int i;

	for (i = 0; i < 4; i++)
		xs_conn_free(e->c[i]);
	xs_store_free(e->s);
	free(e);
	/* Leak check: every block the store allocated is back. */
	assert_int_equal(xs_mem_live(), 0);
	return 0;
}

static void join(char *out, size_t len, const char *list, uint32_t n)
{
	uint32_t off = 0;

	out[0] = '\0';
	while (off < n) {
		if (out[0])
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, list + off, len - strlen(out) - 1);
		off += (uint32_t)strlen(list + off) + 1;
	}
}

static void run_step(struct env *e, const struct step *st, int idx)
{
	struct xs_conn *c = e->c[st->conn];
	struct xs_txn *t = NULL;
	char got[2048] = "", buf[512];
	const char *val;
	const struct xs_perm *perms;
	struct xs_perm pv[8];
	uint32_t len, n, i;
	uint64_t gen;
	int rc = 0;

	if (st->tx && st->op != TSTART)
		rc = xs_txn_lookup(c, e->tx[st->tx], &t);
	if (rc) {
		print_message("step %d: transaction lookup %d\n", idx, rc);
		assert_int_equal(rc, st->rc);
		return;
	}
	switch (st->op) {
	case READ:
		rc = xs_store_read(c, t, st->a, &val, &len);
		if (!rc)
			snprintf(got, sizeof(got), "%.*s", (int)len, val);
		break;
	case WRITE:
		rc =
		    xs_store_write(c, t, st->a, st->b, (uint32_t)strlen(st->b));
		break;
	case MKDIR:
		rc = xs_store_mkdir(c, t, st->a);
		break;
	case RM:
		rc = xs_store_rm(c, t, st->a);
		break;
	case DIR:
		rc = xs_store_directory(c, t, st->a, &val, &len, &gen);
		if (!rc)
			join(got, sizeof(got), val, len);
		break;
	case PERMS:
		rc = xs_store_get_perms(c, t, st->a, &perms, &n);
		for (i = 0; !rc && i < n; i++) {
			xs_perm_format(&perms[i], buf, sizeof(buf));
			if (i)
				strcat(got, ",");
			strcat(got, buf);
		}
		break;
	case SETPERMS: {
		char copy[256], *tok, *save;

		snprintf(copy, sizeof(copy), "%s", st->b);
		n = 0;
		for (tok = strtok_r(copy, " ", &save); tok && n < 8;
		     tok = strtok_r(NULL, " ", &save))
			assert_int_equal(xs_perm_parse(tok, &pv[n++]), 0);
		rc = xs_store_set_perms(c, t, st->a, pv, n);
		break;
	}
	case WATCH:
		rc = xs_store_watch(c, st->a, st->b);
		break;
	case UNWATCH:
		rc = xs_store_unwatch(c, st->a, st->b);
		break;
	case EVENTS:
		snprintf(got, sizeof(got), "%s", e->events);
		e->events[0] = '\0';
		break;
	case TSTART:
		rc = xs_txn_lookup(c, 0, &t);
		if (st->rc == -EBUSY)
			xs_txn_lookup(c, e->tx[st->tx], &t);
		rc = xs_txn_start(c, t, &e->tx[st->tx]);
		break;
	case TEND:
		rc = xs_txn_end(c, t, st->b[0] == 'T');
		break;
	case QUOTA: {
		struct xs_quota *q = xs_store_quota(e->s);
		int v = atoi(st->b);

		if (!strcmp(st->a, "nodes"))
			q->nodes = v;
		else if (!strcmp(st->a, "watches"))
			q->watches = v;
		else if (!strcmp(st->a, "transactions"))
			q->transactions = v;
		else if (!strcmp(st->a, "node-size"))
			q->node_size = v;
		else if (!strcmp(st->a, "transaction-nodes"))
			q->trans_nodes = v;
		else
			fail_msg("unknown quota %s", st->a);
		break;
	}
	case INTRO:
		e->c[3] = xs_conn_new(e->s, (uint32_t)atoi(st->a), false, NULL);
		rc = xs_store_domain_introduce(e->s, (uint32_t)atoi(st->a),
					       e->c[3]);
		break;
	case RELEASE: {
		uint32_t d = (uint32_t)atoi(st->a);
		struct xs_conn *dc = xs_store_domain_conn(e->s, d);

		for (i = 0; i < 4; i++)
			if (dc && e->c[i] == dc)
				e->c[i] = NULL;
		xs_conn_free(dc);
		rc = xs_store_domain_release(e->s, d);
		break;
	}
	case NODES:
		snprintf(got, sizeof(got), "%d",
			 xs_store_domain_nodes(e->s, (uint32_t)atoi(st->a)));
		break;
	case RESET:
		xs_store_reset_watches(c);
		break;
	case END:
		break;
	}
	if (rc != st->rc)
		fail_msg("step %d: rc %d (%s), expected %d", idx, rc,
			 strerror(-rc), st->rc);
	if (st->want && strcmp(got, st->want))
		fail_msg("step %d: got \"%s\", expected \"%s\"", idx, got,
			 st->want);
}

static const struct tcase *current;

static void test_script(void **state)
{
	struct env *e = *state;
	const struct step *st;
	int i;

	for (i = 0, st = current->steps; st->op != END; st++, i++) {
		run_step(e, st, i);
		assert_int_equal(xs_store_check(e->s), 0);
	}
	/* Every change reported to the journal was closed by an END. */
	if (e->changes)
		assert_true(e->ends > 0);
}

static int setup_case(void **state)
{
	current = *state;
	return setup(state);
}

/* Transaction ids are per connection and start at 1. */
static void test_txn_ids(void **state)
{
	struct env *e = *state;
	uint32_t a, b;
	struct xs_txn *t;

	assert_int_equal(xs_txn_start(e->c[0], NULL, &a), 0);
	assert_int_equal(xs_txn_start(e->c[0], NULL, &b), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(xs_txn_start(e->c[1], NULL, &a), 0);
	assert_int_equal(a, 1);
	assert_int_equal(xs_txn_lookup(e->c[0], 3, &t), -ENOENT);
	assert_int_equal(xs_txn_lookup(e->c[0], 2, &t), 0);
	assert_non_null(t);
}

/* Every allocation failure leaves the store consistent and leak-free. */
static void test_enomem(void **state)
{
	struct env *e = *state;
	long n;
	int rc;

	for (n = 0; n < 200; n++) {
		xs_mem_fail_after(n);
		rc = xs_store_write(e->c[0], NULL, "/m/a/b/c", "v", 1);
		xs_mem_fail_after(-1);
		assert_true(rc == 0 || rc == -ENOMEM);
		assert_int_equal(xs_store_check(e->s), 0);
		if (!rc)
			break;
	}
	assert_int_equal(xs_store_rm(e->c[0], NULL, "/m"), 0);
	assert_int_equal(xs_store_check(e->s), 0);
}

/* Persisted state: a dump applied to a fresh store gives the same tree. */
struct dump_ctx {
	struct xs_store *to;
};

static int dump_emit(void *arg, const struct xs_change *c)
{
	struct dump_ctx *d = arg;

	switch (c->kind) {
	case XS_CHANGE_NODE:
		return xs_store_restore_node(d->to, c->node);
	case XS_CHANGE_DOMAIN:
		return xs_store_restore_domain(d->to, c->domid, true);
	case XS_CHANGE_WATCH_ADD:
		return xs_store_restore_watch(d->to, c->domid, c->path,
					      c->token, c->relative, true);
	case XS_CHANGE_SPECIAL:
		return xs_store_restore_special(d->to, c->path, c->perms,
						c->nperms);
	default:
		return 0;
	}
}

static void test_dump_restore(void **state)
{
	struct env *e = *state;
	static const struct xs_store_ops none = {ev_cb, NULL};
	struct dump_ctx d;
	struct xs_conn *c;
	const char *val;
	uint32_t len, saved[4];

	assert_int_equal(xs_store_write(e->c[0], NULL, "/p/q", "42", 2), 0);
	assert_int_equal(xs_store_watch(e->c[1], "/p", "t5"), 0);
	d.to = xs_store_new(&none, e);
	xs_store_restore_begin(d.to);
	assert_int_equal(xs_store_dump(e->s, dump_emit, &d), 0);
	assert_int_equal(xs_store_restore_done(d.to), 0);
	assert_int_equal(xs_store_nodes(d.to), xs_store_nodes(e->s));
	assert_int_equal(xs_store_saved_domains(d.to, saved, 4), 2);
	/* Domain 5 comes back with its watch, which fires once. */
	c = xs_conn_new(d.to, 5, false, NULL);
	e->events[0] = '\0';
	assert_int_equal(xs_store_domain_introduce(d.to, 5, c), 0);
	assert_string_equal(e->events, "4:/p:t5;"); /* not in e->c */
	assert_int_equal(xs_conn_watches(c), 1);
	assert_int_equal(xs_store_read(c, NULL, "/p/q", &val, &len), -EACCES);
	xs_conn_free(c);
	xs_store_free(d.to);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 3];
	size_t i, n = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tests[n++] =
		    (struct CMUnitTest){cases[i].name, test_script, setup_case,
					teardown, (void *)&cases[i]};
	tests[n++] =
	    (struct CMUnitTest){"transaction ids are per connection from 1",
				test_txn_ids, setup, teardown, NULL};
	tests[n++] = (struct CMUnitTest){
	    "allocation failures leave the store consistent", test_enomem,
	    setup, teardown, NULL};
	tests[n++] =
	    (struct CMUnitTest){"a dump restores the tree, domains and watches",
				test_dump_restore, setup, teardown, NULL};
	return _cmocka_run_group_tests("xs_store", tests, n, NULL, NULL);
}
