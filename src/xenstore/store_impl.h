/* Internal structures of the pure xenstore database, shared by store.c
 * (tree, permissions, node operations, domains), txn.c (transactions) and
 * watch.c (watches).  Not for use outside src/xenstore/. */
#ifndef KXEN_XENSTORE_STORE_IMPL_H
#define KXEN_XENSTORE_STORE_IMPL_H

#include "hash.h"
#include "store.h"

#define XS_NO_TARGET UINT32_MAX

/* Node counts per owner domid, in pages allocated on first use. */
#define XS_OWNED_PAGE 256u
#define XS_OWNED_PAGES                                                         \
	((XS_DOMID_FIRST_RESERVED + XS_OWNED_PAGE - 1) / XS_OWNED_PAGE)

struct xs_watch {
	struct xs_watch *next; /* registration order */
	char *path;	       /* canonical path or "@special" */
	char *token;
	bool relative; /* registered relative to the home path */
};

/* A node a transaction has accessed: its private copy and what the global
 * node looked like at the first access (see the design comment in txn.c). */
struct xs_tnode {
	struct xs_tnode *next; /* first-access order */
	char *path;
	struct xs_node *node;	   /* the transaction's view; NULL: absent */
	uint64_t gen_seen;	   /* global generation at first access */
	struct xs_perm *old_perms; /* global perms at first access (or NULL) */
	uint32_t old_nperms;
	bool modified;
	bool fire; /* fire watches on commit */
	bool fire_exact;
};

struct xs_txn {
	struct xs_txn *next;
	struct xs_conn *conn;
	uint32_t id;
	struct xs_hash accessed; /* path -> struct xs_tnode */
	struct xs_tnode *first, *last;
	int naccessed;
	bool fail;	   /* an operation failed: commit answers ENOMEM */
	bool node_created; /* commit checks the node quota */
};

struct xs_conn {
	struct xs_store *s;
	struct xs_conn *prev, *next; /* creation order */
	uint32_t domid;
	bool priv;
	bool is_domain; /* an introduced domain's ring: watches are journaled */
	void *owner;
	char home[32]; /* "/local/domain/<domid>": base of relative paths */
	uint32_t target;
	struct xs_watch *watches, *wlast;
	int nwatches;
	struct xs_txn *txns;
	int ntxns;
	uint32_t next_txid;
};

enum xs_dom_state {
	XS_DOM_SAVED, /* known from persisted state, not re-introduced */
	XS_DOM_CONNECTED,
	XS_DOM_DISCONNECTED, /* ring dropped (hostile); still introduced */
};

struct xs_domain {
	struct xs_domain *next;
	uint32_t domid;
	enum xs_dom_state state;
	struct xs_conn *conn;	/* CONNECTED only */
	struct xs_watch *saved; /* SAVED: the watches to give back */
};

struct xs_special {
	struct xs_perm *perms;
	uint32_t n;
};

struct xs_store {
	const struct xs_store_ops *ops;
	void *opaque;
	struct xs_hash nodes; /* path -> struct xs_node */
	uint64_t gen;	      /* last generation handed out */
	struct xs_quota quota;
	struct xs_conn *conns, *conns_last;
	struct xs_domain *domains;
	int *
	    owned[XS_OWNED_PAGES]; /* nodes per owner, XS_OWNED_PAGE per page */
	struct xs_special intro, release;
	bool dirty; /* changes reported since the last XS_CHANGE_END */
};

/* store.c */
void xs_report(struct xs_store *s, const struct xs_change *c);
void xs_report_end(struct xs_store *s);
/* Makes sure domid's count exists (so that xs_owned_add cannot lose it):
 * 0 or -ENOMEM. */
int xs_owned_ensure(struct xs_store *s, uint32_t domid);
void xs_owned_add(struct xs_store *s, uint32_t domid, int delta);
int xs_owned_get(const struct xs_store *s, uint32_t domid);
unsigned xs_perm_for_conn(const struct xs_conn *c, const struct xs_perm *p,
			  uint32_t n);
bool xs_conn_unpriv(const struct xs_conn *c);
struct xs_node *xs_node_dup(const struct xs_node *n);
void xs_node_free(struct xs_node *n);
/* Parent path of an absolute path other than "/", malloc'd, or NULL. */
char *xs_parent_path(const char *path);
/* Canonical absolute form of a client path (relative to c's home; "@..."
 * unchanged), malloc'd, or NULL on no memory. */
char *xs_canonicalize(const struct xs_conn *c, const char *path);

/* txn.c */
/* The node at path as c sees it (in t, or globally when t is NULL); in a
 * transaction the first access records the node.  0 with *n (NULL when
 * absent), or -ENOSPC (transaction-nodes quota) / -ENOMEM. */
int xs_view_get(struct xs_store *s, struct xs_conn *c, struct xs_txn *t,
		const char *path, struct xs_node **n);
/* The recorded access of path in t (after xs_view_get). */
struct xs_tnode *xs_txn_node(struct xs_txn *t, const char *path);
void xs_txn_free(struct xs_txn *t);

/* watch.c */
/* Fires the watches matching path (a change by c, in t or global).  In a
 * transaction the event is only noted (fired at commit).  node: the node's
 * perms now (NULL: look it up); old: perms before the change, or NULL. */
void xs_fire_watches(struct xs_store *s, struct xs_txn *t, const char *path,
		     const struct xs_node *node, const struct xs_perm *old,
		     uint32_t nold, bool exact);
void xs_watch_free_list(struct xs_watch *w);
/* Drops every watch of c; journaled when c is a domain's. */
void xs_conn_drop_watches(struct xs_conn *c, bool journal);
/* The event path a watch reports for a change at path. */
const char *xs_watch_event_path(const struct xs_conn *c,
				const struct xs_watch *w, const char *path);

#endif
