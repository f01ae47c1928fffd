/* kxen's xenstore database: the node tree, permissions, watches, per-domain
 * quotas and transactions, with the semantics of Xen's C xenstored (4.17).
 *
 * Pure: no I/O, no logging, no clock.  The wire layer (wire.h) decodes
 * requests and calls the xs_store_* operations below; the store reports
 * what happened through two callbacks (struct xs_store_ops): watch events to
 * queue on a connection, and committed changes for the daemon's journal.
 * Every function returns 0 or a negative errno whose name is the xenstore
 * error string (-ENOSPC is xenstored's quota error).  Single-threaded. */
#ifndef KXEN_XENSTORE_STORE_H
#define KXEN_XENSTORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Permission bits (the values of Xen's XS_PERM_*). */
#define XSP_NONE 0x00u
#define XSP_READ 0x01u
#define XSP_WRITE 0x02u
#define XSP_OWNER 0x08u

/* The generation of a node that does not exist. */
#define XS_NO_GEN UINT64_MAX

/* Domain ids: DOMID_FIRST_RESERVED and DOMID_SELF from xen.h. */
#define XS_DOMID_FIRST_RESERVED 0x7FF0u
#define XS_DOMID_SELF 0x7FF0u

/* xenstored's path and payload limits (xs_wire.h). */
#define XS_PAYLOAD_MAX 4096u
#define XS_ABS_PATH_MAX 3072u
#define XS_REL_PATH_MAX 2048u

/* Size of xenstored's record header (generation, three counts) and of one
 * permission entry: the node-size quota counts bytes as xenstored stores
 * them, 24 + 8 * nperms + value length + children length. */
#define XS_REC_HDR_SIZE 24u
#define XS_REC_PERM_SIZE 8u

struct xs_perm {
	uint32_t id;	/* domid; the first entry is the owner */
	uint32_t perms; /* XSP_READ | XSP_WRITE, or XSP_NONE */
};

/* One node.  `path` is absolute and canonical; `children` holds the child
 * names, each followed by a NUL, in creation order (what DIRECTORY
 * returns).  Read-only outside the store. */
struct xs_node {
	char *path;
	uint64_t gen;
	uint32_t nperms; /* >= 1 */
	struct xs_perm *perms;
	uint32_t vlen;
	char *value;
	uint32_t clen;
	char *children;
};

/* Hard quotas for unprivileged domains (dom0 and host sockets are exempt),
 * named as in xenstored's "quota" control command; defaults in brackets. */
struct xs_quota {
	int nodes;	  /* [1000] nodes owned by a domain */
	int watches;	  /* [128] watches per domain */
	int transactions; /* [10] open transactions per connection */
	int outstanding;  /* [20] replies not yet taken by the domain */
	int trans_nodes;  /* [1024] nodes one transaction may access */
	int node_size;	  /* [2048] bytes of one node record */
	int path_max;	  /* [2048] path length below /local/domain/N/ */
	int perms;	  /* [5] permission entries per node */
};

/* What a committed change looks like to the journal.  A request (or a
 * transaction commit) reports its changes and then one XS_CHANGE_END; the
 * state is consistent only at END boundaries. */
enum xs_change_kind {
	XS_CHANGE_NODE,	     /* node (full record) written */
	XS_CHANGE_DEL,	     /* node at path deleted */
	XS_CHANGE_WATCH_ADD, /* domid's watch (path, token, relative) */
	XS_CHANGE_WATCH_DEL, /* domid's watch (path, token) removed */
	XS_CHANGE_DOMAIN,    /* domid introduced */
	XS_CHANGE_RELEASE,   /* domid released: its watches are gone */
	XS_CHANGE_SPECIAL,   /* perms of "@introduceDomain"/"@releaseDomain" */
	XS_CHANGE_END,
};

struct xs_change {
	enum xs_change_kind kind;
	const char *path;	     /* NODE, DEL, WATCH_*, SPECIAL */
	const struct xs_node *node;  /* NODE */
	uint32_t domid;		     /* WATCH_*, DOMAIN, RELEASE */
	const char *token;	     /* WATCH_* */
	bool relative;		     /* WATCH_ADD */
	const struct xs_perm *perms; /* SPECIAL */
	uint32_t nperms;
};

struct xs_conn;
struct xs_txn;

struct xs_store_ops {
	/* A watch of `conn` fired: queue WATCH_EVENT "path\0token\0" on it.
	 * Called synchronously from inside store operations; must not call
	 * back into the store. */
	void (*watch_event)(void *opaque, struct xs_conn *conn,
			    const char *path, const char *token);
	/* A committed change (may be NULL: nothing is persisted).  Pointers
	 * are valid only during the call. */
	void (*changed)(void *opaque, const struct xs_change *change);
};

struct xs_store;

/* Creates a store with the initial tree of a fresh xenstored: "/",
 * "/tool", "/tool/xenstored", all owned by dom0 with no access for others,
 * and default quotas.  `ops` must outlive the store.  NULL on no memory. */
struct xs_store *xs_store_new(const struct xs_store_ops *ops, void *opaque);

/* Frees the store.  All connections must have been freed first. */
void xs_store_free(struct xs_store *s);

/* The store's quotas; may be changed at any time (the CONTROL command). */
struct xs_quota *xs_store_quota(struct xs_store *s);

/* Number of nodes, and of nodes owned by domid. */
size_t xs_store_nodes(const struct xs_store *s);
int xs_store_domain_nodes(const struct xs_store *s, uint32_t domid);

/* Checks the tree's internal consistency (every node's parent exists and
 * lists it exactly once, every listed child exists, node counts match):
 * 0 or -EIO.  For tests, the fuzzer and after loading persisted state. */
int xs_store_check(const struct xs_store *s);

/* --- connections ---------------------------------------------------------
 * A connection is one client: a host socket (privileged, domid 0) or a
 * guest's ring (its domid, unprivileged unless domid is 0).  The domid is
 * fixed by the transport, never taken from the peer.  `owner` is the
 * transport's object, returned by xs_conn_owner(). */
struct xs_conn *xs_conn_new(struct xs_store *s, uint32_t domid, bool privileged,
			    void *owner);

/* Drops the connection's watches and transactions (no journal records:
 * a domain's persisted watches survive; see xs_store_domain_disconnect)
 * and frees it. */
void xs_conn_free(struct xs_conn *c);

uint32_t xs_conn_domid(const struct xs_conn *c);
bool xs_conn_privileged(const struct xs_conn *c);
void *xs_conn_owner(const struct xs_conn *c);
/* Open transactions and watches of the connection. */
int xs_conn_transactions(const struct xs_conn *c);
int xs_conn_watches(const struct xs_conn *c);

/* --- transactions --------------------------------------------------------
 * Transaction ids are per connection, allocated from 1 upwards. */

/* Finds transaction `id` of c: *t = NULL for id 0, the transaction, or
 * -ENOENT when c has no such transaction. */
int xs_txn_lookup(struct xs_conn *c, uint32_t id, struct xs_txn **t);

/* TRANSACTION_START: *id gets the new id.  -EBUSY inside a transaction
 * (`cur` not NULL), -ENOSPC over quota. */
int xs_txn_start(struct xs_conn *c, struct xs_txn *cur, uint32_t *id);

/* TRANSACTION_END: commit (T) or abort (F).  The transaction is gone
 * afterwards whatever the result.  -EAGAIN: a node it accessed was changed
 * by someone else meanwhile; -ENOSPC: the commit would exceed the node
 * quota; -ENOMEM: an operation inside it failed and it cannot commit. */
int xs_txn_end(struct xs_conn *c, struct xs_txn *t, bool commit);

/* --- node operations -----------------------------------------------------
 * `path` as sent by the client: absolute, or relative to the connection's
 * home /local/domain/<domid> (host sockets: /local/domain/0).  `t` is the
 * transaction from xs_txn_lookup or NULL.  Returned pointers stay valid
 * until the next store call. */

/* READ: *val and *len are the node's value.  -ENOENT, -EACCES, -EINVAL. */
int xs_store_read(struct xs_conn *c, struct xs_txn *t, const char *path,
		  const char **val, uint32_t *len);

/* WRITE: sets the value, creating the node and missing parents
 * (inheriting the nearest existing ancestor's permissions; an
 * unprivileged creator becomes the owner). */
int xs_store_write(struct xs_conn *c, struct xs_txn *t, const char *path,
		   const void *val, uint32_t len);

/* MKDIR: creates the node (empty) when missing. */
int xs_store_mkdir(struct xs_conn *c, struct xs_txn *t, const char *path);

/* RM: removes the node and its subtree.  Success when the node is missing
 * but its parent exists; -EINVAL for "/". */
int xs_store_rm(struct xs_conn *c, struct xs_txn *t, const char *path);

/* DIRECTORY: *names and *len are the children list (names, each NUL-ended);
 * *gen the node's generation (DIRECTORY_PART). */
int xs_store_directory(struct xs_conn *c, struct xs_txn *t, const char *path,
		       const char **names, uint32_t *len, uint64_t *gen);

/* GET_PERMS: the node's permissions. */
int xs_store_get_perms(struct xs_conn *c, struct xs_txn *t, const char *path,
		       const struct xs_perm **perms, uint32_t *n);

/* SET_PERMS: n >= 1 entries.  Needs ownership; an unprivileged owner may
 * not change the owner (-EPERM); more than quota.perms entries -ENOSPC.
 * "@introduceDomain" and "@releaseDomain" set who gets those events. */
int xs_store_set_perms(struct xs_conn *c, struct xs_txn *t, const char *path,
		       const struct xs_perm *perms, uint32_t n);

/* --- watches -------------------------------------------------------------
 * WATCH: registers (path, token); -EEXIST for a duplicate, -E2BIG over
 * quota, -EINVAL for a bad path.  The initial event is the caller's to
 * queue, after its "OK" reply: for every valid watch its path is the path
 * as the client sent it (relative watches get relative event paths). */
int xs_store_watch(struct xs_conn *c, const char *path, const char *token);
int xs_store_unwatch(struct xs_conn *c, const char *path, const char *token);
/* RESET_WATCHES: drops all watches and transactions of c. */
void xs_store_reset_watches(struct xs_conn *c);

/* --- domains -------------------------------------------------------------
 * INTRODUCE: c is the new ring connection of domid (unprivileged).  A
 * domid the store already knows from persisted state (kxend restarted)
 * gets its saved watches back, each firing once; a new one fires
 * @introduceDomain.  Re-introducing a connected domid: -EEXIST (the caller
 * releases the old connection first; see kxend). */
int xs_store_domain_introduce(struct xs_store *s, uint32_t domid,
			      struct xs_conn *c);

/* The domain's connection went away without a RELEASE (hostile ring):
 * drops its watches and transactions (journaled), keeps it introduced. */
void xs_store_domain_disconnect(struct xs_store *s, uint32_t domid);

/* RELEASE: the domain's connection (already freed by the caller, or NULL)
 * is forgotten, nodes owned by it are removed (firing watches), its
 * entries in other nodes' permissions are dropped, and @releaseDomain
 * fires.  -ENOENT when the domain is not known. */
int xs_store_domain_release(struct xs_store *s, uint32_t domid);

/* IS_DOMAIN_INTRODUCED: connected (dom0 and DOMID_SELF always are). */
bool xs_store_domain_introduced(const struct xs_store *s, uint32_t domid);

/* The connection of an introduced domain, or NULL. */
struct xs_conn *xs_store_domain_conn(const struct xs_store *s, uint32_t domid);

/* SET_TARGET: domid may act as tdomid's owner.  Both must be connected
 * (-ENOENT). */
int xs_store_set_target(struct xs_store *s, uint32_t domid, uint32_t tdomid);

/* RESUME: allowed for connected domains (-ENOENT otherwise). */
int xs_store_domain_resume(struct xs_store *s, uint32_t domid);

/* Domains known from persisted state that have not been re-introduced
 * yet: fills up to max domids, returns how many there are. */
size_t xs_store_saved_domains(const struct xs_store *s, uint32_t *out,
			      size_t max);

/* --- persistence (state replay and snapshots) ---------------------------
 * xs_store_restore_begin() empties the store (no nodes at all, no saved
 * domains, default special perms); no connection may exist.  Restoring: replace
 * or add a node exactly as recorded, delete one, add a saved watch or domain,
 * set special perms.  Nothing is reported through ops->changed, no watch fires.
 * xs_store_restore_done() recomputes the accounting and generation counter and
 * checks consistency (-EIO). */
void xs_store_restore_begin(struct xs_store *s);
int xs_store_restore_node(struct xs_store *s, const struct xs_node *n);
int xs_store_restore_del(struct xs_store *s, const char *path);
int xs_store_restore_watch(struct xs_store *s, uint32_t domid, const char *path,
			   const char *token, bool relative, bool add);
int xs_store_restore_domain(struct xs_store *s, uint32_t domid, bool add);
int xs_store_restore_special(struct xs_store *s, const char *name,
			     const struct xs_perm *perms, uint32_t n);
int xs_store_restore_done(struct xs_store *s);

/* Reports the whole state (nodes, saved and connected domains and their
 * watches, special perms) through `emit`, as the change records a replay
 * needs, ending with XS_CHANGE_END; stops at the first non-zero return of
 * emit and returns it. */
int xs_store_dump(const struct xs_store *s,
		  int (*emit)(void *arg, const struct xs_change *c), void *arg);

/* --- helpers shared with the wire layer ---------------------------------- */

/* Xen's node name rule: absolute, [A-Za-z0-9/_@-], no "//", no trailing
 * "/" except the root, length limit per quota.path_max. */
bool xs_store_valid_path(const struct xs_store *s, const char *path);

/* Parses "r5"/"w0"/"b7"/"n1" (domid in C notation, as strtol base 0):
 * 0 or -EINVAL. */
int xs_perm_parse(const char *str, struct xs_perm *p);
/* Formats as xenstored does ("b5"); buf of at least 16 bytes.  Returns the
 * string length. */
int xs_perm_format(const struct xs_perm *p, char *buf, size_t len);

#endif
