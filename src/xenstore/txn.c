/* Transactions of the xenstore database: each transaction's private view of
 * the nodes it touches, conflict detection and commit.
 *
 * Design
 * ------
 * Every node carries a generation: the value of the store's counter `gen`,
 * incremented before each use, at its last change.  Starting a transaction
 * increments the counter too (as xenstored does, so generations seen by
 * clients through DIRECTORY_PART match xenstored's).
 *
 * A transaction does not copy the database when it starts.  Instead, the
 * first time an operation inside it looks at a path, the node (or its
 * absence) is recorded: a private copy of the node and the generation the
 * global node had then (XS_NO_GEN when it did not exist).  Every later
 * read or write of that path inside the transaction uses the private copy,
 * so the transaction sees its own writes and repeatable reads.  Writes bump
 * the copy's generation and mark it modified; nothing global changes and
 * no watch fires (the event is noted on the recorded node).
 *
 * Every operation reads a node before changing it (writes look up the
 * target and, when it is missing, each missing ancestor up to the nearest
 * existing one; removals walk the subtree), so every modified node has been
 * recorded with its generation.  At TRANSACTION_END "T" the recorded
 * generations are compared with the global ones: any difference means
 * somebody else changed (or created, or removed) a node this transaction
 * depends on, and the commit fails with EAGAIN.  Otherwise each modified
 * copy replaces the global node (with a fresh generation) or, when the copy
 * is absent, the global node is deleted; the noted watches fire; and the
 * changes go to the journal as one batch, so a restart sees all or none.
 *
 * Worked example (g(X): global generation of X; G: the counter)
 *   Start: /a exists with g(/a) = 4, G = 9.  /b does not exist.
 *   T1 = TRANSACTION_START          G = 10
 *   T2 = TRANSACTION_START          G = 11
 *   T1: READ /a                     recorded: /a seen at 4
 *   T2: READ /a                     recorded: /a seen at 4
 *   T1: WRITE /a "x"                T1's copy of /a gets 12, G = 12
 *   T2: WRITE /a "y"                T2's copy of /a gets 13, G = 13
 *   T2: WRITE /b "z"                recorded: /b seen absent, / seen at
 *                                   g(/); copies of /b and / modified
 *   T1: END T                       g(/a) is still 4: commit; /a = "x",
 *                                   g(/a) = 14; watches on /a fire
 *   T2: END T                       /a seen at 4 but g(/a) = 14: EAGAIN;
 *                                   nothing of T2 (not even /b) appears
 *   A write to /a outside any transaction between T2's READ and END would
 *   have made T2 fail the same way; a write to an unrelated node /c would
 *   not (only nodes the transaction touched are compared).
 *
 * Node quota: creating nodes inside a transaction checks the creator's
 * current count; the commit checks that no unprivileged domain ends at or
 * above the quota (ENOSPC), as xenstored does.  A transaction whose
 * operation failed on a quota or for lack of memory cannot commit: END T
 * answers ENOMEM (xenstored's answer). */
#include <errno.h>
#include <string.h>

#include "mem.h"
#include "store_impl.h"

static void xs_tnode_free(struct xs_tnode *tn)
{
	xs_node_free(tn->node);
	xs_free(tn->old_perms);
	xs_free(tn->path);
	xs_free(tn);
}

void xs_txn_free(struct xs_txn *t)
{
	struct xs_tnode *tn;

	while ((tn = t->first)) {
		t->first = tn->next;
		xs_tnode_free(tn);
	}
	xs_hash_clear(&t->accessed);
	xs_free(t);
}

struct xs_tnode *xs_txn_node(struct xs_txn *t, const char *path)
{
	return xs_hash_get(&t->accessed, path);
}

/* Records the first access of path in t. */
static int xs_txn_record(struct xs_store *s, struct xs_txn *t, const char *path,
			 struct xs_tnode **out)
{
	struct xs_node *g = xs_hash_get(&s->nodes, path);
	struct xs_tnode *tn = NULL;
	int rc = -ENOMEM;

	if (xs_conn_unpriv(t->conn) && t->naccessed >= s->quota.trans_nodes) {
		rc = -ENOSPC;
		goto out;
	}
	tn = xs_calloc(1, sizeof(*tn));
	if (!tn || !(tn->path = xs_strdup(path)))
		goto out;
	tn->gen_seen = XS_NO_GEN;
	if (g) {
		tn->node = xs_node_dup(g);
		tn->old_perms =
		    xs_memdup(g->perms, g->nperms * sizeof(*g->perms));
		if (!tn->node || !tn->old_perms)
			goto out;
		tn->old_nperms = g->nperms;
		tn->gen_seen = g->gen;
	}
	if (xs_hash_put(&t->accessed, tn->path, tn))
		goto out;
	if (t->last)
		t->last->next = tn;
	else
		t->first = tn;
	t->last = tn;
	t->naccessed++;
	*out = tn;
	tn = NULL;
	rc = 0;
out:
	if (tn)
		xs_tnode_free(tn);
	if (rc)
		t->fail = true;
	return rc;
}

int xs_view_get(struct xs_store *s, struct xs_conn *c, struct xs_txn *t,
		const char *path, struct xs_node **n)
{
	struct xs_tnode *tn;
	int rc;

	(void)c;
	if (!t) {
		*n = xs_hash_get(&s->nodes, path);
		return 0;
	}
	tn = xs_txn_node(t, path);
	if (!tn) {
		rc = xs_txn_record(s, t, path, &tn);
		if (rc) {
			*n = NULL;
			return rc;
		}
	}
	*n = tn->node;
	return 0;
}

int xs_txn_lookup(struct xs_conn *c, uint32_t id, struct xs_txn **t)
{
	struct xs_txn *i;

	*t = NULL;
	if (!id)
		return 0;
	for (i = c->txns; i; i = i->next)
		if (i->id == id) {
			*t = i;
			return 0;
		}
	return -ENOENT;
}

int xs_txn_start(struct xs_conn *c, struct xs_txn *cur, uint32_t *id)
{
	struct xs_txn *t, *exists;

	if (cur)
		return -EBUSY;
	/* xenstored lets an unprivileged domain open quota + 1. */
	if (xs_conn_unpriv(c) && c->ntxns > c->s->quota.transactions)
		return -ENOSPC;
	t = xs_calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->conn = c;
	c->s->gen++;
	do {
		t->id = c->next_txid++;
	} while (!t->id || (xs_txn_lookup(c, t->id, &exists), exists));
	t->next = c->txns;
	c->txns = t;
	c->ntxns++;
	*id = t->id;
	return 0;
}

struct xs_delta {
	uint32_t domid;
	int delta;
};

static int xs_delta_add(struct xs_delta **d, size_t *n, size_t *cap,
			uint32_t domid, int delta)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*d)[i].domid == domid) {
			(*d)[i].delta += delta;
			return 0;
		}
	if (*n == *cap) {
		struct xs_delta *nd;

		*cap = *cap ? *cap * 2 : 8;
		nd = xs_realloc(*d, *cap * sizeof(**d));
		if (!nd)
			return -ENOMEM;
		*d = nd;
	}
	(*d)[*n].domid = domid;
	(*d)[(*n)++].delta = delta;
	return 0;
}

/* The node quota at commit, checked only when the transaction created
 * nodes on behalf of an unprivileged connection. */
static int xs_txn_check_quota(struct xs_store *s, struct xs_txn *t)
{
	struct xs_delta *d = NULL;
	size_t n = 0, cap = 0, i;
	struct xs_tnode *tn;
	struct xs_node *g;
	int rc = 0;
	long cnt;

	if (!t->node_created || !xs_conn_unpriv(t->conn))
		return 0;
	for (tn = t->first; tn && !rc; tn = tn->next) {
		if (!tn->modified)
			continue;
		g = xs_hash_get(&s->nodes, tn->path);
		if (g)
			rc = xs_delta_add(&d, &n, &cap, g->perms[0].id, -1);
		if (!rc && tn->node)
			rc = xs_delta_add(&d, &n, &cap, tn->node->perms[0].id,
					  1);
	}
	for (i = 0; i < n && !rc; i++) {
		if (d[i].domid == 0 || d[i].domid >= XS_DOMID_FIRST_RESERVED)
			continue;
		cnt = (long)xs_owned_get(s, d[i].domid) + d[i].delta;
		if (cnt >= s->quota.nodes)
			rc = -ENOSPC;
	}
	xs_free(d);
	return rc;
}

static int xs_txn_commit(struct xs_store *s, struct xs_txn *t)
{
	struct xs_tnode *tn;
	struct xs_node *g, *n;
	size_t inserts = 0;
	uint64_t cur;
	int rc;

	if (t->fail)
		return -ENOMEM;
	rc = xs_txn_check_quota(s, t);
	if (rc)
		return rc;
	for (tn = t->first; tn; tn = tn->next) {
		g = xs_hash_get(&s->nodes, tn->path);
		cur = g ? g->gen : XS_NO_GEN;
		if (cur != tn->gen_seen)
			return -EAGAIN;
		if (tn->modified && tn->node && !g)
			inserts++;
	}
	if (xs_hash_reserve(&s->nodes, inserts))
		return -ENOMEM;

	for (tn = t->first; tn; tn = tn->next) {
		if (!tn->modified)
			continue;
		g = xs_hash_get(&s->nodes, tn->path);
		n = tn->node;
		if (n) {
			struct xs_change ch = {
			    .kind = XS_CHANGE_NODE, .path = n->path, .node = n};

			tn->node = NULL;
			n->gen = ++s->gen;
			xs_hash_put(&s->nodes, n->path, n);
			if (g) {
				xs_owned_add(s, g->perms[0].id, -1);
				xs_node_free(g);
			}
			xs_owned_add(s, n->perms[0].id, 1);
			xs_report(s, &ch);
		} else if (g) {
			struct xs_change ch = {.kind = XS_CHANGE_DEL,
					       .path = tn->path};

			xs_hash_del(&s->nodes, tn->path);
			xs_owned_add(s, g->perms[0].id, -1);
			xs_node_free(g);
			xs_report(s, &ch);
		}
		if (tn->fire)
			xs_fire_watches(s, NULL, tn->path, n, tn->old_perms,
					tn->old_nperms, tn->fire_exact);
	}
	xs_report_end(s);
	return 0;
}

int xs_txn_end(struct xs_conn *c, struct xs_txn *t, bool commit)
{
	struct xs_txn **pp;
	int rc = 0;

	for (pp = &c->txns; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (!*pp)
		return -ENOENT;
	*pp = t->next;
	c->ntxns--;
	if (commit)
		rc = xs_txn_commit(c->s, t);
	xs_txn_free(t);
	return rc;
}
