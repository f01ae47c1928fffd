/* The xenstore tree: nodes, paths, permissions, quotas, node operations and
 * domains, with the semantics of Xen's C xenstored (see store.h).  The
 * transaction view is in txn.c, watches in watch.c.
 *
 * Every mutating operation first looks everything up and checks every
 * permission and quota, allocating what it will need, and only then
 * changes the tree, so a failed request leaves no trace (xenstored undoes
 * partial work instead; the outcome seen by clients is the same). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_impl.h"

static const struct xs_quota xs_default_quota = {
    .nodes = 1000,
    .watches = 128,
    .transactions = 10,
    .outstanding = 20,
    .trans_nodes = 1024,
    .node_size = 2048,
    .path_max = XS_REL_PATH_MAX,
    .perms = 5,
};

/* --- journal reporting ------------------------------------------------- */

void xs_report(struct xs_store *s, const struct xs_change *c)
{
	if (!s->ops->changed)
		return;
	s->ops->changed(s->opaque, c);
	s->dirty = true;
}

void xs_report_end(struct xs_store *s)
{
	struct xs_change c = {.kind = XS_CHANGE_END};

	if (s->ops->changed && s->dirty)
		s->ops->changed(s->opaque, &c);
	s->dirty = false;
}

static void xs_report_node(struct xs_store *s, const struct xs_node *n)
{
	struct xs_change c = {
	    .kind = XS_CHANGE_NODE, .path = n->path, .node = n};

	xs_report(s, &c);
}

static void xs_report_del(struct xs_store *s, const char *path)
{
	struct xs_change c = {.kind = XS_CHANGE_DEL, .path = path};

	xs_report(s, &c);
}

/* --- nodes ------------------------------------------------------------- */

int xs_owned_ensure(struct xs_store *s, uint32_t domid)
{
	int **page;

	if (domid >= XS_DOMID_FIRST_RESERVED)
		return 0;
	page = &s->owned[domid / XS_OWNED_PAGE];
	if (!*page)
		*page = xs_calloc(XS_OWNED_PAGE, sizeof(**page));
	return *page ? 0 : -ENOMEM;
}

void xs_owned_add(struct xs_store *s, uint32_t domid, int delta)
{
	if (domid < XS_DOMID_FIRST_RESERVED && !xs_owned_ensure(s, domid))
		s->owned[domid / XS_OWNED_PAGE][domid % XS_OWNED_PAGE] += delta;
}

int xs_owned_get(const struct xs_store *s, uint32_t domid)
{
	const int *page;

	if (domid >= XS_DOMID_FIRST_RESERVED)
		return 0;
	page = s->owned[domid / XS_OWNED_PAGE];
	return page ? page[domid % XS_OWNED_PAGE] : 0;
}

static void xs_owned_clear(struct xs_store *s)
{
	size_t i;

	for (i = 0; i < XS_OWNED_PAGES; i++) {
		xs_free(s->owned[i]);
		s->owned[i] = NULL;
	}
}

void xs_node_free(struct xs_node *n)
{
	if (!n)
		return;
	xs_free(n->path);
	xs_free(n->perms);
	xs_free(n->value);
	xs_free(n->children);
	xs_free(n);
}

static struct xs_node *xs_node_new(const char *path, const struct xs_perm *p,
				   uint32_t np, const void *val, uint32_t vlen,
				   const void *children, uint32_t clen)
{
	struct xs_node *n = xs_calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->path = xs_strdup(path);
	n->perms = xs_memdup(p, np * sizeof(*p));
	n->value = xs_memdup(val, vlen);
	n->children = xs_memdup(children, clen);
	if (!n->path || !n->perms || !n->value || !n->children) {
		xs_node_free(n);
		return NULL;
	}
	n->nperms = np;
	n->vlen = vlen;
	n->clen = clen;
	return n;
}

struct xs_node *xs_node_dup(const struct xs_node *n)
{
	struct xs_node *d = xs_node_new(n->path, n->perms, n->nperms, n->value,
					n->vlen, n->children, n->clen);

	if (d)
		d->gen = n->gen;
	return d;
}

/* Bytes of the node as xenstored stores it: what node-size limits. */
static size_t xs_node_size(uint32_t nperms, uint32_t vlen, uint32_t clen)
{
	return XS_REC_HDR_SIZE + (size_t)nperms * XS_REC_PERM_SIZE + vlen +
	       clen;
}

/* --- paths ------------------------------------------------------------- */

bool xs_store_valid_path(const struct xs_store *s, const char *path)
{
	static const char prefix[] = "/local/domain/";
	size_t len, local_off = 0, i;

	if (path[0] != '/')
		return false;
	len = strlen(path);
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	/* Paths below /local/domain/<domid>/ may be path_max long after that
	 * prefix (xenstored's sscanf("/local/domain/%5u/%n")). */
	if (!strncmp(path, prefix, sizeof(prefix) - 1)) {
		const char *p = path + sizeof(prefix) - 1, *q = p;

		if (*q == '-' || *q == '+')
			q++;
		while (*q >= '0' && *q <= '9' && q - p < 5)
			q++;
		if (q > p && q[-1] >= '0' && q[-1] <= '9' && *q == '/')
			local_off = (size_t)(q - path) + 1;
	}
	if (len > local_off + (size_t)s->quota.path_max)
		return false;
	for (i = 0; i < len; i++) {
		char ch = path[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '/' ||
		      ch == '_' || ch == '@'))
			return false;
	}
	return true;
}

char *xs_parent_path(const char *path)
{
	const char *slash = strrchr(path + 1, '/');

	if (!slash)
		return xs_strdup("/");
	return xs_strndup(path, (size_t)(slash - path));
}

static const char *xs_basename(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* Full path of child `name` of `parent`, malloc'd. */
static char *xs_child_path(const char *parent, const char *name)
{
	size_t pl = strlen(parent), nl = strlen(name);
	char *p;

	if (!strcmp(parent, "/"))
		pl = 0;
	p = xs_malloc(pl + nl + 2);
	if (!p)
		return NULL;
	memcpy(p, parent, pl);
	p[pl] = '/';
	memcpy(p + pl + 1, name, nl + 1);
	return p;
}

char *xs_canonicalize(const struct xs_conn *c, const char *path)
{
	if (path[0] == '/' || path[0] == '@')
		return xs_strdup(path);
	return xs_child_path(c->home, path);
}

/* --- permissions ------------------------------------------------------- */

bool xs_conn_unpriv(const struct xs_conn *c)
{
	return c && !c->priv;
}

/* xenstored's perm_for_conn(): owners and privileged connections get
 * everything; otherwise the first entry naming the domain (or its target)
 * decides, else the first entry's access applies to everybody. */
unsigned xs_perm_for_conn(const struct xs_conn *c, const struct xs_perm *p,
			  uint32_t n)
{
	const unsigned all = XSP_READ | XSP_WRITE | XSP_OWNER;
	uint32_t i;

	if (!xs_conn_unpriv(c) || p[0].id == c->domid ||
	    (c->target != XS_NO_TARGET && p[0].id == c->target))
		return all;
	for (i = 1; i < n; i++)
		if (p[i].id == c->domid ||
		    (c->target != XS_NO_TARGET && p[i].id == c->target))
			return p[i].perms & all;
	return p[0].perms & all;
}

int xs_perm_parse(const char *str, struct xs_perm *p)
{
	char *end;
	long v;

	switch (str[0]) {
	case 'r':
		p->perms = XSP_READ;
		break;
	case 'w':
		p->perms = XSP_WRITE;
		break;
	case 'b':
		p->perms = XSP_READ | XSP_WRITE;
		break;
	case 'n':
		p->perms = XSP_NONE;
		break;
	default:
		return -EINVAL;
	}
	if (!str[1])
		return -EINVAL;
	v = strtol(str + 1, &end, 0);
	if (*end)
		return -EINVAL;
	p->id = (uint32_t)(unsigned int)v;
	return 0;
}

int xs_perm_format(const struct xs_perm *p, char *buf, size_t len)
{
	static const char letter[4] = {'n', 'r', 'w', 'b'};

	return snprintf(buf, len, "%c%i", letter[p->perms & 3], (int)p->id);
}

/* --- lookups with xenstored's error rules ------------------------------ */

/* xenstored's get_node(): the node at canonical path `path` if c has all
 * of `perm` on it.  A missing or forbidden node answers ENOENT or EACCES
 * as the nearest existing ancestor allows, so that the error tells nothing
 * about nodes c may not see. */
static int xs_get_node(struct xs_store *s, struct xs_conn *c, struct xs_txn *t,
		       const char *path, unsigned perm, struct xs_node **out)
{
	struct xs_node *n, *p = NULL;
	char *name, *up;
	int rc, err;

	*out = NULL;
	if (!xs_store_valid_path(s, path))
		return -EINVAL;
	rc = xs_view_get(s, c, t, path, &n);
	if (rc)
		return rc;
	if (n) {
		if ((xs_perm_for_conn(c, n->perms, n->nperms) & perm) == perm) {
			*out = n;
			return 0;
		}
		err = -EACCES;
	} else {
		err = -ENOENT;
	}
	name = xs_strdup(path);
	if (!name)
		return -ENOMEM;
	while (strcmp(name, "/")) {
		up = xs_parent_path(name);
		xs_free(name);
		name = up;
		if (!name)
			return -ENOMEM;
		rc = xs_view_get(s, c, t, name, &p);
		if (rc) {
			xs_free(name);
			return rc;
		}
		if (p)
			break;
	}
	xs_free(name);
	if (!p || !(xs_perm_for_conn(c, p->perms, p->nperms) & perm))
		return -EACCES;
	return err;
}

static void xs_txn_failed(struct xs_txn *t)
{
	if (t)
		t->fail = true;
}

/* Makes an existing node's change (done in place by the caller) count:
 * a new generation; globally reported, in a transaction marked. */
static void xs_node_changed(struct xs_store *s, struct xs_txn *t,
			    struct xs_node *n)
{
	n->gen = ++s->gen;
	if (t) {
		xs_txn_node(t, n->path)->modified = true;
		return;
	}
	xs_report_node(s, n);
}

/* Adds a new node (room in the table reserved by the caller). */
static void xs_node_insert(struct xs_store *s, struct xs_txn *t,
			   struct xs_node *n)
{
	struct xs_tnode *tn;

	n->gen = ++s->gen;
	if (t) {
		tn = xs_txn_node(t, n->path);
		tn->node = n;
		tn->modified = true;
		t->node_created = true;
		return;
	}
	xs_hash_put(&s->nodes, n->path, n);
	xs_owned_add(s, n->perms[0].id, 1);
	xs_report_node(s, n);
}

static void xs_node_remove(struct xs_store *s, struct xs_txn *t,
			   struct xs_node *n)
{
	struct xs_tnode *tn;

	s->gen++;
	if (t) {
		tn = xs_txn_node(t, n->path);
		tn->node = NULL;
		tn->modified = true;
		xs_node_free(n);
		return;
	}
	xs_hash_del(&s->nodes, n->path);
	xs_owned_add(s, n->perms[0].id, -1);
	xs_report_del(s, n->path);
	xs_node_free(n);
}

/* --- creating nodes ---------------------------------------------------- */

/* xenstored's create_node(): path is missing; creates it (value val) and
 * every missing ancestor, each inheriting the permissions of its parent,
 * owned by c's domain when c is unprivileged. */
static int xs_create(struct xs_store *s, struct xs_conn *c, struct xs_txn *t,
		     const char *path, const void *val, uint32_t vlen,
		     struct xs_node **out)
{
	struct xs_node *anc = NULL, **nodes = NULL, *parent;
	char **chain = NULL, *cur, *up, *children = NULL;
	size_t k = 0, cap = 0, i, alen, blen;
	int rc = -ENOMEM;
	bool unpriv = xs_conn_unpriv(c);

	cur = xs_strdup(path);
	if (!cur)
		return -ENOMEM;
	for (;;) {
		if (k == cap) {
			char **nc;

			cap = cap ? cap * 2 : 8;
			nc = xs_realloc(chain, cap * sizeof(*chain));
			if (!nc) {
				xs_free(cur);
				goto out;
			}
			chain = nc;
		}
		chain[k++] = cur;
		up = xs_parent_path(cur);
		if (!up)
			goto out;
		rc = xs_view_get(s, c, t, up, &anc);
		if (rc || anc || !strcmp(up, "/")) {
			xs_free(up);
			if (!rc && !anc)
				rc = -ENOENT;
			if (rc)
				goto out;
			break;
		}
		cur = up;
	}

	if (unpriv && c->domid < XS_DOMID_FIRST_RESERVED) {
		long owned = xs_owned_get(s, c->domid);

		if (t ? owned >= s->quota.nodes
		      : owned + (long)k - 1 >= s->quota.nodes) {
			rc = -ENOSPC;
			goto out;
		}
	}

	rc = -ENOMEM;
	nodes = xs_calloc(k, sizeof(*nodes));
	if (!nodes)
		goto out;
	parent = anc;
	for (i = k; i-- > 0;) {
		const char *child = i ? xs_basename(chain[i - 1]) : "";
		uint32_t clen = i ? (uint32_t)strlen(child) + 1 : 0;

		nodes[i] = xs_node_new(chain[i], parent->perms, parent->nperms,
				       i ? "" : val, i ? 0 : vlen, child, clen);
		if (!nodes[i])
			goto out;
		if (unpriv)
			nodes[i]->perms[0].id = c->domid;
		parent = nodes[i];
	}
	blen = strlen(xs_basename(chain[k - 1])) + 1;
	alen = anc->clen + blen;
	children = xs_malloc(alen);
	if (!children)
		goto out;
	memcpy(children, anc->children, anc->clen);
	memcpy(children + anc->clen, xs_basename(chain[k - 1]), blen);

	if (unpriv) {
		rc = -ENOSPC;
		for (i = 0; i < k; i++)
			if (xs_node_size(nodes[i]->nperms, nodes[i]->vlen,
					 nodes[i]->clen) >=
			    (size_t)s->quota.node_size)
				goto out;
		if (xs_node_size(anc->nperms, anc->vlen, (uint32_t)alen) >=
		    (size_t)s->quota.node_size)
			goto out;
	}
	if (!t && xs_hash_reserve(&s->nodes, k)) {
		rc = -ENOMEM;
		goto out;
	}

	/* Written bottom-up, as xenstored does (the generations show it). */
	for (i = 0; i < k; i++) {
		xs_node_insert(s, t, nodes[i]);
		nodes[i] = NULL;
	}
	xs_free(anc->children);
	anc->children = children;
	anc->clen = (uint32_t)alen;
	children = NULL;
	xs_node_changed(s, t, anc);
	*out = t ? xs_txn_node(t, path)->node : xs_hash_get(&s->nodes, path);
	rc = 0;
out:
	if (rc && rc != -ENOENT)
		xs_txn_failed(t);
	for (i = 0; i < k; i++) {
		if (nodes)
			xs_node_free(nodes[i]);
		xs_free(chain[i]);
	}
	xs_free(nodes);
	xs_free(chain);
	xs_free(children);
	return rc;
}

/* --- node operations --------------------------------------------------- */

int xs_store_read(struct xs_conn *c, struct xs_txn *t, const char *path,
		  const char **val, uint32_t *len)
{
	struct xs_store *s = c->s;
	struct xs_node *n;
	char *canon = xs_canonicalize(c, path);
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = xs_get_node(s, c, t, canon, XSP_READ, &n);
	xs_free(canon);
	if (rc)
		return rc;
	*val = n->value;
	*len = n->vlen;
	return 0;
}

int xs_store_write(struct xs_conn *c, struct xs_txn *t, const char *path,
		   const void *val, uint32_t len)
{
	struct xs_store *s = c->s;
	struct xs_node *n;
	char *canon = xs_canonicalize(c, path), *copy;
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = xs_get_node(s, c, t, canon, XSP_WRITE, &n);
	if (rc == -ENOENT) {
		rc = xs_create(s, c, t, canon, val, len, &n);
	} else if (!rc) {
		if (xs_conn_unpriv(c) &&
		    xs_node_size(n->nperms, len, n->clen) >=
			(size_t)s->quota.node_size) {
			rc = -ENOSPC;
			xs_txn_failed(t);
			goto out;
		}
		copy = xs_memdup(val, len);
		if (!copy) {
			rc = -ENOMEM;
			xs_txn_failed(t);
			goto out;
		}
		xs_free(n->value);
		n->value = copy;
		n->vlen = len;
		xs_node_changed(s, t, n);
	}
	if (!rc) {
		xs_fire_watches(s, t, canon, n, NULL, 0, false);
		xs_report_end(s);
	}
out:
	xs_free(canon);
	return rc;
}

int xs_store_mkdir(struct xs_conn *c, struct xs_txn *t, const char *path)
{
	struct xs_store *s = c->s;
	struct xs_node *n;
	char *canon = xs_canonicalize(c, path);
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = xs_get_node(s, c, t, canon, XSP_WRITE, &n);
	if (rc == -ENOENT) {
		rc = xs_create(s, c, t, canon, "", 0, &n);
		if (!rc) {
			xs_fire_watches(s, t, canon, n, NULL, 0, false);
			xs_report_end(s);
		}
	}
	xs_free(canon);
	return rc;
}

/* Removes child `name` from n's children list in place. */
static void xs_children_remove(struct xs_node *n, const char *name)
{
	uint32_t off = 0, l;

	while (off < n->clen) {
		l = (uint32_t)strlen(n->children + off) + 1;
		if (!strcmp(n->children + off, name)) {
			memmove(n->children + off, n->children + off + l,
				n->clen - off - l);
			n->clen -= l;
			return;
		}
		off += l;
	}
}

/* Collects the subtree at root (as c sees it) in post-order: children in
 * list order, each before its parent, the root last.  *list is malloc'd. */
static int xs_subtree(struct xs_store *s, struct xs_conn *c, struct xs_txn *t,
		      struct xs_node *root, struct xs_node ***list, size_t *n)
{
	struct frame {
		struct xs_node *node;
		uint32_t off;
	} *stack = NULL, *f;
	size_t depth = 0, scap = 0, lcap = 0;
	struct xs_node **out = NULL, *child;
	const char *name;
	char *cp;
	void *p;
	int rc = 0;

	*n = 0;
	while (!rc && (root || depth)) {
		if (depth == scap) {
			scap = scap ? scap * 2 : 16;
			p = xs_realloc(stack, scap * sizeof(*stack));
			rc = p ? 0 : -ENOMEM;
			stack = p ? p : stack;
			continue;
		}
		if (*n == lcap) {
			lcap = lcap ? lcap * 2 : 16;
			p = xs_realloc(out, lcap * sizeof(*out));
			rc = p ? 0 : -ENOMEM;
			out = p ? p : out;
			continue;
		}
		if (root) {
			stack[depth].node = root;
			stack[depth++].off = 0;
			root = NULL;
			continue;
		}
		f = &stack[depth - 1];
		if (f->off >= f->node->clen) {
			out[(*n)++] = f->node;
			depth--;
			continue;
		}
		name = f->node->children + f->off;
		f->off += (uint32_t)strlen(name) + 1;
		cp = xs_child_path(f->node->path, name);
		rc = cp ? xs_view_get(s, c, t, cp, &child) : -ENOMEM;
		xs_free(cp);
		if (!rc && child) {
			stack[depth].node = child;
			stack[depth++].off = 0;
		}
	}
	xs_free(stack);
	if (rc) {
		xs_free(out);
		out = NULL;
		*n = 0;
	}
	*list = out;
	return rc;
}

/* xenstored's rm_node(): removes node n (not "/") and its subtree, firing
 * each removed node's watches (exactly for the descendants), and takes it
 * out of its parent's list. */
static int xs_rm_node(struct xs_store *s, struct xs_conn *c, struct xs_txn *t,
		      struct xs_node *n)
{
	struct xs_node *parent, **list = NULL;
	char *up = xs_parent_path(n->path), *root = NULL;
	size_t cnt = 0, i;
	int rc;

	if (!up)
		return -ENOMEM;
	rc = xs_view_get(s, c, t, up, &parent);
	if (!rc && !parent)
		rc = -EINVAL;
	if (!rc)
		rc = xs_subtree(s, c, t, n, &list, &cnt);
	if (!rc) {
		root = xs_strdup(n->path);
		if (!root)
			rc = -ENOMEM;
	}
	if (rc) {
		xs_free(up);
		xs_free(list);
		xs_txn_failed(t);
		return rc;
	}
	for (i = 0; i < cnt; i++) {
		bool exact = strcmp(list[i]->path, root) != 0;

		xs_fire_watches(s, t, list[i]->path, list[i], NULL, 0, exact);
		xs_node_remove(s, t, list[i]);
	}
	xs_children_remove(parent, xs_basename(root));
	xs_node_changed(s, t, parent);
	xs_free(root);
	xs_free(up);
	xs_free(list);
	return 0;
}

int xs_store_rm(struct xs_conn *c, struct xs_txn *t, const char *path)
{
	struct xs_store *s = c->s;
	struct xs_node *n, *p;
	char *canon = xs_canonicalize(c, path), *up;
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = xs_get_node(s, c, t, canon, XSP_WRITE, &n);
	if (rc == -ENOENT) {
		/* Fine when the parent exists. */
		up = xs_parent_path(canon);
		rc = up ? xs_view_get(s, c, t, up, &p) : -ENOMEM;
		xs_free(up);
		if (!rc && !p)
			rc = -ENOENT;
	} else if (!rc) {
		if (!strcmp(canon, "/"))
			rc = -EINVAL;
		else
			rc = xs_rm_node(s, c, t, n);
		if (!rc)
			xs_report_end(s);
	}
	xs_free(canon);
	return rc;
}

int xs_store_directory(struct xs_conn *c, struct xs_txn *t, const char *path,
		       const char **names, uint32_t *len, uint64_t *gen)
{
	struct xs_node *n;
	char *canon = xs_canonicalize(c, path);
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = xs_get_node(c->s, c, t, canon, XSP_READ, &n);
	xs_free(canon);
	if (rc)
		return rc;
	*names = n->children;
	*len = n->clen;
	*gen = n->gen;
	return 0;
}

int xs_store_get_perms(struct xs_conn *c, struct xs_txn *t, const char *path,
		       const struct xs_perm **perms, uint32_t *np)
{
	struct xs_node *n;
	char *canon = xs_canonicalize(c, path);
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = xs_get_node(c->s, c, t, canon, XSP_READ, &n);
	xs_free(canon);
	if (rc)
		return rc;
	*perms = n->perms;
	*np = n->nperms;
	return 0;
}

static struct xs_special *xs_special_get(struct xs_store *s, const char *name)
{
	if (!strcmp(name, "@releaseDomain"))
		return &s->release;
	if (!strcmp(name, "@introduceDomain"))
		return &s->intro;
	return NULL;
}

static void xs_report_special(struct xs_store *s, const char *name,
			      const struct xs_special *sp)
{
	struct xs_change ch = {.kind = XS_CHANGE_SPECIAL,
			       .path = name,
			       .perms = sp->perms,
			       .nperms = sp->n};

	xs_report(s, &ch);
}

int xs_store_set_perms(struct xs_conn *c, struct xs_txn *t, const char *path,
		       const struct xs_perm *perms, uint32_t np)
{
	struct xs_store *s = c->s;
	struct xs_special *sp;
	struct xs_node *n;
	struct xs_perm *copy, *old;
	uint32_t nold;
	char *canon;
	int rc;

	if (np < 1)
		return -EINVAL;
	if (xs_conn_unpriv(c) && np > (uint32_t)s->quota.perms)
		return -ENOSPC;
	copy = xs_memdup(perms, np * sizeof(*perms));
	if (!copy)
		return -ENOMEM;

	if (path[0] == '@') {
		sp = xs_special_get(s, path);
		if (!sp) {
			rc = -EINVAL;
		} else if ((xs_perm_for_conn(c, sp->perms, sp->n) &
			    (XSP_WRITE | XSP_OWNER)) !=
			   (XSP_WRITE | XSP_OWNER)) {
			rc = -EACCES;
		} else {
			xs_free(sp->perms);
			sp->perms = copy;
			sp->n = np;
			copy = NULL;
			xs_report_special(s, path, sp);
			xs_report_end(s);
			rc = 0;
		}
		xs_free(copy);
		return rc;
	}

	canon = xs_canonicalize(c, path);
	if (!canon) {
		xs_free(copy);
		return -ENOMEM;
	}
	rc = xs_get_node(s, c, t, canon, XSP_WRITE | XSP_OWNER, &n);
	if (rc)
		goto out;
	if (xs_conn_unpriv(c) && perms[0].id != n->perms[0].id) {
		rc = -EPERM;
		goto out;
	}
	if (xs_conn_unpriv(c) &&
	    xs_node_size(np, n->vlen, n->clen) >= (size_t)s->quota.node_size) {
		rc = -ENOSPC;
		xs_txn_failed(t);
		goto out;
	}
	rc = xs_owned_ensure(s, copy[0].id);
	if (rc)
		goto out;
	old = n->perms;
	nold = n->nperms;
	if (!t) {
		xs_owned_add(s, old[0].id, -1);
		xs_owned_add(s, copy[0].id, 1);
	}
	n->perms = copy;
	n->nperms = np;
	copy = NULL;
	xs_node_changed(s, t, n);
	xs_fire_watches(s, t, canon, n, old, nold, false);
	xs_free(old);
	xs_report_end(s);
out:
	xs_free(copy);
	xs_free(canon);
	return rc;
}

/* --- store ------------------------------------------------------------- */

static int xs_special_default(struct xs_special *sp)
{
	xs_free(sp->perms);
	sp->perms = xs_calloc(1, sizeof(*sp->perms));
	sp->n = sp->perms ? 1 : 0;
	return sp->perms ? 0 : -ENOMEM;
}

static void xs_store_clear_nodes(struct xs_store *s)
{
	struct xs_node *n;
	size_t pos = 0;

	while ((n = xs_hash_next(&s->nodes, &pos, NULL)))
		xs_node_free(n);
	xs_hash_clear(&s->nodes);
	xs_owned_clear(s);
}

static void xs_domain_free(struct xs_domain *d)
{
	xs_watch_free_list(d->saved);
	xs_free(d);
}

static void xs_store_clear_domains(struct xs_store *s)
{
	struct xs_domain *d;

	while ((d = s->domains)) {
		s->domains = d->next;
		xs_domain_free(d);
	}
}

static int xs_store_init_tree(struct xs_store *s)
{
	static const struct {
		const char *path, *child;
	} init[] = {
	    {"/", "tool"}, {"/tool", "xenstored"}, {"/tool/xenstored", ""}};
	struct xs_perm p = {0, XSP_NONE};
	struct xs_node *n;
	size_t i;

	for (i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		size_t cl = init[i].child[0] ? strlen(init[i].child) + 1 : 0;

		n = xs_node_new(init[i].path, &p, 1, "", 0, init[i].child,
				(uint32_t)cl);
		if (!n || xs_hash_put(&s->nodes, n->path, n)) {
			xs_node_free(n);
			return -ENOMEM;
		}
		n->gen = ++s->gen;
		xs_owned_add(s, 0, 1);
	}
	return 0;
}

struct xs_store *xs_store_new(const struct xs_store_ops *ops, void *opaque)
{
	struct xs_store *s = xs_calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ops = ops;
	s->opaque = opaque;
	s->quota = xs_default_quota;
	if (xs_special_default(&s->intro) || xs_special_default(&s->release) ||
	    xs_store_init_tree(s)) {
		xs_store_free(s);
		return NULL;
	}
	return s;
}

void xs_store_free(struct xs_store *s)
{
	if (!s)
		return;
	while (s->conns)
		xs_conn_free(s->conns);
	xs_store_clear_nodes(s);
	xs_store_clear_domains(s);
	xs_free(s->intro.perms);
	xs_free(s->release.perms);
	xs_free(s);
}

struct xs_quota *xs_store_quota(struct xs_store *s)
{
	return &s->quota;
}

size_t xs_store_nodes(const struct xs_store *s)
{
	return s->nodes.n;
}

int xs_store_domain_nodes(const struct xs_store *s, uint32_t domid)
{
	return xs_owned_get(s, domid);
}

/* True when `name` appears exactly once in n's children list. */
static bool xs_children_once(const struct xs_node *n, const char *name)
{
	uint32_t off = 0;
	int seen = 0;

	while (off < n->clen) {
		if (!strcmp(n->children + off, name))
			seen++;
		off += (uint32_t)strlen(n->children + off) + 1;
	}
	return seen == 1;
}

/* Nodes per owner, counted over the table: a short list (a store has few
 * distinct owners). */
struct xs_owner_count {
	uint32_t id;
	int n;
};

static int xs_count_owner(struct xs_owner_count **list, size_t *n, size_t *cap,
			  uint32_t id)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*list)[i].id == id) {
			(*list)[i].n++;
			return 0;
		}
	if (*n == *cap) {
		struct xs_owner_count *nl;

		*cap = *cap ? *cap * 2 : 16;
		nl = xs_realloc(*list, *cap * sizeof(**list));
		if (!nl)
			return -ENOMEM;
		*list = nl;
	}
	(*list)[*n].id = id;
	(*list)[(*n)++].n = 1;
	return 0;
}

int xs_store_check(const struct xs_store *s)
{
	struct xs_owner_count *owners = NULL;
	const struct xs_node *n, *p;
	size_t pos = 0, nowners = 0, cap = 0, i;
	long total = 0, counted = 0;
	uint32_t off;
	char *up, *cp;
	bool ok = true;
	int rc = -ENOMEM;

	if (!xs_hash_get(&s->nodes, "/"))
		return -EIO;
	while (ok && (n = xs_hash_next(&s->nodes, &pos, NULL))) {
		if (!n->nperms || n->gen > s->gen ||
		    (n->clen && n->children[n->clen - 1])) {
			ok = false;
			break;
		}
		if (n->perms[0].id < XS_DOMID_FIRST_RESERVED) {
			total++;
			if (xs_count_owner(&owners, &nowners, &cap,
					   n->perms[0].id))
				goto out;
		}
		if (strcmp(n->path, "/")) {
			up = xs_parent_path(n->path);
			if (!up)
				goto out;
			p = xs_hash_get(&s->nodes, up);
			ok = p && xs_children_once(p, xs_basename(n->path));
			xs_free(up);
		}
		for (off = 0; ok && off < n->clen;) {
			cp = xs_child_path(n->path, n->children + off);
			if (!cp)
				goto out;
			ok = xs_hash_get(&s->nodes, cp) != NULL;
			xs_free(cp);
			off += (uint32_t)strlen(n->children + off) + 1;
		}
	}
	for (i = 0; ok && i < nowners; i++)
		ok = xs_owned_get(s, owners[i].id) == owners[i].n;
	for (i = 0; ok && i < XS_OWNED_PAGES * XS_OWNED_PAGE; i++)
		if (s->owned[i / XS_OWNED_PAGE])
			counted +=
			    s->owned[i / XS_OWNED_PAGE][i % XS_OWNED_PAGE];
		else
			i += XS_OWNED_PAGE - 1;
	if (ok && counted != total)
		ok = false;
	rc = ok ? 0 : -EIO;
out:
	xs_free(owners);
	return rc;
}

/* --- connections ------------------------------------------------------- */

struct xs_conn *xs_conn_new(struct xs_store *s, uint32_t domid, bool privileged,
			    void *owner)
{
	struct xs_conn *c = xs_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (xs_owned_ensure(s, domid)) {
		xs_free(c);
		return NULL;
	}
	c->s = s;
	c->domid = domid;
	c->priv = privileged || domid == 0;
	c->owner = owner;
	c->target = XS_NO_TARGET;
	c->next_txid = 1;
	snprintf(c->home, sizeof(c->home), "/local/domain/%u", domid);
	c->prev = s->conns_last;
	if (s->conns_last)
		s->conns_last->next = c;
	else
		s->conns = c;
	s->conns_last = c;
	return c;
}

static struct xs_domain *xs_domain_find(const struct xs_store *s,
					uint32_t domid)
{
	struct xs_domain *d;

	for (d = s->domains; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

void xs_conn_free(struct xs_conn *c)
{
	struct xs_store *s;
	struct xs_domain *d;
	struct xs_txn *t;

	if (!c)
		return;
	s = c->s;
	while ((t = c->txns)) {
		c->txns = t->next;
		xs_txn_free(t);
	}
	d = c->is_domain ? xs_domain_find(s, c->domid) : NULL;
	if (d && d->conn == c) {
		/* The domain keeps its watches for when it comes back. */
		xs_watch_free_list(d->saved);
		d->saved = c->watches;
		c->watches = NULL;
		d->conn = NULL;
		d->state = XS_DOM_SAVED;
	}
	xs_watch_free_list(c->watches);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->conns_last = c->prev;
	xs_free(c);
}

uint32_t xs_conn_domid(const struct xs_conn *c)
{
	return c->domid;
}

bool xs_conn_privileged(const struct xs_conn *c)
{
	return c->priv;
}

void *xs_conn_owner(const struct xs_conn *c)
{
	return c->owner;
}

int xs_conn_transactions(const struct xs_conn *c)
{
	return c->ntxns;
}

int xs_conn_watches(const struct xs_conn *c)
{
	return c->nwatches;
}

/* --- domains ----------------------------------------------------------- */

static void xs_fire_special(struct xs_store *s, const char *name)
{
	xs_fire_watches(s, NULL, name, NULL, NULL, 0, true);
}

int xs_store_domain_introduce(struct xs_store *s, uint32_t domid,
			      struct xs_conn *c)
{
	struct xs_domain *d = xs_domain_find(s, domid);
	struct xs_change ch = {.kind = XS_CHANGE_DOMAIN, .domid = domid};
	struct xs_watch *w;
	bool known = d != NULL;

	if (d && d->state == XS_DOM_CONNECTED)
		return -EEXIST;
	if (!d) {
		d = xs_calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		d->domid = domid;
		d->next = s->domains;
		s->domains = d;
	}
	d->state = XS_DOM_CONNECTED;
	d->conn = c;
	c->is_domain = true;
	/* Watches saved across a restart come back and fire once each: the
	 * domain may have missed events meanwhile (spurious events are
	 * allowed by the protocol). */
	while ((w = d->saved)) {
		d->saved = w->next;
		w->next = NULL;
		if (c->wlast)
			c->wlast->next = w;
		else
			c->watches = w;
		c->wlast = w;
		c->nwatches++;
		s->ops->watch_event(
		    s->opaque, c, xs_watch_event_path(c, w, w->path), w->token);
	}
	if (!known) {
		xs_report(s, &ch);
		xs_report_end(s);
		xs_fire_special(s, "@introduceDomain");
	}
	return 0;
}

void xs_store_domain_disconnect(struct xs_store *s, uint32_t domid)
{
	struct xs_domain *d = xs_domain_find(s, domid);
	struct xs_conn *c;
	struct xs_txn *t;

	if (!d || !d->conn)
		return;
	c = d->conn;
	xs_conn_drop_watches(c, true);
	while ((t = c->txns)) {
		c->txns = t->next;
		xs_txn_free(t);
	}
	c->ntxns = 0;
	c->is_domain = false;
	d->conn = NULL;
	d->state = XS_DOM_DISCONNECTED;
	xs_report_end(s);
}

/* Removes the special perms entries of domid (its ownership goes to 0). */
static void xs_special_forget(struct xs_store *s, const char *name,
			      struct xs_special *sp, uint32_t domid)
{
	uint32_t i, j;
	bool changed = false;

	if (sp->perms[0].id == domid) {
		sp->perms[0].id = 0;
		changed = true;
	}
	for (i = j = 1; i < sp->n; i++) {
		if (sp->perms[i].id == domid) {
			changed = true;
			continue;
		}
		sp->perms[j++] = sp->perms[i];
	}
	sp->n = j;
	if (changed)
		xs_report_special(s, name, sp);
}

/* Walks the tree from path (children in order) and removes every subtree
 * whose root is owned by domid, as xenstored does when a domain goes. */
static void xs_remove_owned(struct xs_store *s, const char *path,
			    uint32_t domid)
{
	struct xs_node *n = xs_hash_get(&s->nodes, path);
	char *kids, *cp;
	uint32_t off, clen;

	if (!n || !xs_store_domain_nodes(s, domid))
		return;
	if (n->perms[0].id == domid && strcmp(path, "/")) {
		xs_rm_node(s, NULL, NULL, n);
		return;
	}
	clen = n->clen;
	kids = xs_memdup(n->children, clen);
	if (!kids)
		return;
	for (off = 0; off < clen; off += (uint32_t)strlen(kids + off) + 1) {
		cp = xs_child_path(path, kids + off);
		if (!cp)
			break;
		xs_remove_owned(s, cp, domid);
		xs_free(cp);
	}
	xs_free(kids);
}

/* Takes domid's entries (other than ownership) out of every node's perms,
 * so that a later domain reusing the domid inherits no grant.  xenstored
 * gets the same effect by ignoring entries for domains younger than the
 * node; kxend has no hypervisor to ask how old a domain is. */
static void xs_forget_grants(struct xs_store *s, uint32_t domid)
{
	struct xs_node *n;
	size_t pos = 0;
	uint32_t i, j;

	while ((n = xs_hash_next(&s->nodes, &pos, NULL))) {
		for (i = j = 1; i < n->nperms; i++)
			if (n->perms[i].id != domid)
				n->perms[j++] = n->perms[i];
		if (j == n->nperms)
			continue;
		n->nperms = j;
		n->gen = ++s->gen;
		xs_report_node(s, n);
	}
}

int xs_store_domain_release(struct xs_store *s, uint32_t domid)
{
	struct xs_domain **pp, *d;
	struct xs_change ch = {.kind = XS_CHANGE_RELEASE, .domid = domid};

	for (pp = &s->domains; *pp && (*pp)->domid != domid; pp = &(*pp)->next)
		;
	d = *pp;
	if (!d)
		return -ENOENT;
	if (d->conn) {
		/* The caller should have freed it: detach it at least. */
		d->conn->is_domain = false;
		d->conn = NULL;
	}
	*pp = d->next;
	xs_domain_free(d);
	xs_report(s, &ch);
	if (domid < XS_DOMID_FIRST_RESERVED)
		xs_remove_owned(s, "/", domid);
	xs_forget_grants(s, domid);
	xs_special_forget(s, "@releaseDomain", &s->release, domid);
	xs_special_forget(s, "@introduceDomain", &s->intro, domid);
	xs_report_end(s);
	xs_fire_special(s, "@releaseDomain");
	return 0;
}

bool xs_store_domain_introduced(const struct xs_store *s, uint32_t domid)
{
	const struct xs_domain *d;

	if (domid == 0 || domid == XS_DOMID_SELF)
		return true;
	d = xs_domain_find(s, domid);
	return d && d->state != XS_DOM_SAVED;
}

struct xs_conn *xs_store_domain_conn(const struct xs_store *s, uint32_t domid)
{
	const struct xs_domain *d = xs_domain_find(s, domid);

	return d ? d->conn : NULL;
}

int xs_store_set_target(struct xs_store *s, uint32_t domid, uint32_t tdomid)
{
	struct xs_domain *d = xs_domain_find(s, domid);
	struct xs_domain *td = xs_domain_find(s, tdomid);

	if (!d || !d->conn || !td || !td->conn)
		return -ENOENT;
	d->conn->target = tdomid;
	return 0;
}

int xs_store_domain_resume(struct xs_store *s, uint32_t domid)
{
	struct xs_domain *d = xs_domain_find(s, domid);

	return d && d->state != XS_DOM_SAVED ? 0 : -ENOENT;
}

size_t xs_store_saved_domains(const struct xs_store *s, uint32_t *out,
			      size_t max)
{
	const struct xs_domain *d;
	size_t n = 0;

	for (d = s->domains; d; d = d->next) {
		if (d->state != XS_DOM_SAVED)
			continue;
		if (n < max)
			out[n] = d->domid;
		n++;
	}
	return n;
}

/* --- persistence ------------------------------------------------------- */

void xs_store_restore_begin(struct xs_store *s)
{
	xs_store_clear_nodes(s);
	xs_store_clear_domains(s);
	xs_special_default(&s->intro);
	xs_special_default(&s->release);
	s->gen = 0;
}

int xs_store_restore_node(struct xs_store *s, const struct xs_node *n)
{
	struct xs_node *d, *old;

	if (!n->nperms || !xs_store_valid_path(s, n->path))
		return -EINVAL;
	d = xs_node_dup(n);
	if (!d)
		return -ENOMEM;
	old = xs_hash_get(&s->nodes, d->path);
	if (xs_hash_put(&s->nodes, d->path, d)) {
		xs_node_free(d);
		return -ENOMEM;
	}
	xs_node_free(old);
	return 0;
}

int xs_store_restore_del(struct xs_store *s, const char *path)
{
	xs_node_free(xs_hash_del(&s->nodes, path));
	return 0;
}

int xs_store_restore_watch(struct xs_store *s, uint32_t domid, const char *path,
			   const char *token, bool relative, bool add)
{
	struct xs_domain *d = xs_domain_find(s, domid);
	struct xs_watch **pp, *w;

	if (!d)
		return -ENOENT;
	for (pp = &d->saved; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->path, path) && !strcmp((*pp)->token, token))
			break;
	if (!add) {
		if ((w = *pp)) {
			*pp = w->next;
			w->next = NULL;
			xs_watch_free_list(w);
		}
		return 0;
	}
	if (*pp)
		return 0;
	w = xs_calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->path = xs_strdup(path);
	w->token = xs_strdup(token);
	w->relative = relative;
	if (!w->path || !w->token) {
		xs_watch_free_list(w);
		return -ENOMEM;
	}
	*pp = w;
	return 0;
}

int xs_store_restore_domain(struct xs_store *s, uint32_t domid, bool add)
{
	struct xs_domain **pp, *d;

	for (pp = &s->domains; *pp && (*pp)->domid != domid; pp = &(*pp)->next)
		;
	if (!add) {
		if ((d = *pp)) {
			*pp = d->next;
			xs_domain_free(d);
		}
		return 0;
	}
	if (*pp)
		return 0;
	d = xs_calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->domid = domid;
	d->state = XS_DOM_SAVED;
	*pp = d;
	return 0;
}

int xs_store_restore_special(struct xs_store *s, const char *name,
			     const struct xs_perm *perms, uint32_t n)
{
	struct xs_special *sp = xs_special_get(s, name);
	struct xs_perm *p;

	if (!sp || !n)
		return -EINVAL;
	p = xs_memdup(perms, n * sizeof(*perms));
	if (!p)
		return -ENOMEM;
	xs_free(sp->perms);
	sp->perms = p;
	sp->n = n;
	return 0;
}

int xs_store_restore_done(struct xs_store *s)
{
	const struct xs_node *n;
	size_t pos = 0;

	xs_owned_clear(s);
	s->gen = 0;
	while ((n = xs_hash_next(&s->nodes, &pos, NULL))) {
		if (xs_owned_ensure(s, n->perms[0].id))
			return -ENOMEM;
		xs_owned_add(s, n->perms[0].id, 1);
		if (n->gen != XS_NO_GEN && n->gen > s->gen)
			s->gen = n->gen;
	}
	return xs_store_check(s);
}

static int xs_dump_watches(const struct xs_watch *w, uint32_t domid,
			   int (*emit)(void *, const struct xs_change *),
			   void *arg)
{
	struct xs_change ch = {.kind = XS_CHANGE_WATCH_ADD, .domid = domid};
	int rc;

	for (; w; w = w->next) {
		ch.path = w->path;
		ch.token = w->token;
		ch.relative = w->relative;
		rc = emit(arg, &ch);
		if (rc)
			return rc;
	}
	return 0;
}

int xs_store_dump(const struct xs_store *s,
		  int (*emit)(void *arg, const struct xs_change *c), void *arg)
{
	struct xs_change ch = {0};
	const struct xs_node *n;
	const struct xs_domain *d;
	size_t pos = 0;
	int rc;

	while ((n = xs_hash_next(&s->nodes, &pos, NULL))) {
		ch.kind = XS_CHANGE_NODE;
		ch.path = n->path;
		ch.node = n;
		if ((rc = emit(arg, &ch)))
			return rc;
	}
	for (d = s->domains; d; d = d->next) {
		memset(&ch, 0, sizeof(ch));
		ch.kind = XS_CHANGE_DOMAIN;
		ch.domid = d->domid;
		if ((rc = emit(arg, &ch)))
			return rc;
		rc = xs_dump_watches(d->conn ? d->conn->watches : d->saved,
				     d->domid, emit, arg);
		if (rc)
			return rc;
	}
	memset(&ch, 0, sizeof(ch));
	ch.kind = XS_CHANGE_SPECIAL;
	ch.path = "@introduceDomain";
	ch.perms = s->intro.perms;
	ch.nperms = s->intro.n;
	if ((rc = emit(arg, &ch)))
		return rc;
	ch.path = "@releaseDomain";
	ch.perms = s->release.perms;
	ch.nperms = s->release.n;
	if ((rc = emit(arg, &ch)))
		return rc;
	memset(&ch, 0, sizeof(ch));
	ch.kind = XS_CHANGE_END;
	return emit(arg, &ch);
}
