/* Watches of the xenstore database: registration, matching and firing, and
 * the special @introduceDomain / @releaseDomain events.
 *
 * The protocol's rule, in short: a change at path P fires every watch whose
 * path is P or an ancestor of P (the event carries P, made relative again
 * for relative watches).  When a subtree is removed, its root fires like a
 * change and every removed descendant fires only the watches set exactly
 * on it.  A connection is told only about nodes it may read (the node, its
 * permissions before the change, or its parent must grant it read).
 * Special events match only watches on exactly that name, and go to those
 * allowed to read the special path's permissions (dom0 by default). */
#include <errno.h>
#include <string.h>

#include "mem.h"
#include "store_impl.h"

void xs_watch_free_list(struct xs_watch *w)
{
	struct xs_watch *next;

	for (; w; w = next) {
		next = w->next;
		xs_free(w->path);
		xs_free(w->token);
		xs_free(w);
	}
}

const char *xs_watch_event_path(const struct xs_conn *c,
				const struct xs_watch *w, const char *path)
{
	size_t hl;

	if (!w->relative)
		return path;
	hl = strlen(c->home);
	if (strncmp(path, c->home, hl))
		return path;
	path += hl;
	if (*path == '/')
		path++;
	return path;
}

/* Is child the same as parent or below it? */
static bool xs_is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (!strcmp(parent, "/"))
		return true;
	if (strncmp(child, parent, len))
		return false;
	return child[len] == '/' || child[len] == '\0';
}

static bool xs_watch_permitted(struct xs_store *s, const struct xs_conn *c,
			       const char *path, const struct xs_node *node,
			       const struct xs_perm *old, uint32_t nold)
{
	const struct xs_node *parent;
	char *up;

	if (old && (xs_perm_for_conn(c, old, nold) & XSP_READ))
		return true;
	if (!node)
		node = xs_hash_get(&s->nodes, path);
	if (!node)
		return false;
	if (xs_perm_for_conn(c, node->perms, node->nperms) & XSP_READ)
		return true;
	up = xs_parent_path(path);
	if (!up)
		return false;
	parent = xs_hash_get(&s->nodes, up);
	xs_free(up);
	return parent &&
	       (xs_perm_for_conn(c, parent->perms, parent->nperms) & XSP_READ);
}

void xs_fire_watches(struct xs_store *s, struct xs_txn *t, const char *path,
		     const struct xs_node *node, const struct xs_perm *old,
		     uint32_t nold, bool exact)
{
	const struct xs_special *sp = NULL;
	struct xs_tnode *tn;
	struct xs_conn *c;
	struct xs_watch *w;

	if (t) {
		tn = xs_txn_node(t, path);
		if (!tn) {
			t->fail = true;
			return;
		}
		if (!tn->fire) {
			tn->fire = true;
			tn->fire_exact = exact;
		} else if (!exact) {
			tn->fire_exact = false;
		}
		return;
	}
	if (path[0] == '@')
		sp = !strcmp(path, "@releaseDomain") ? &s->release : &s->intro;
	for (c = s->conns; c; c = c->next) {
		if (!c->watches)
			continue;
		if (sp) {
			if (!(xs_perm_for_conn(c, sp->perms, sp->n) & XSP_READ))
				continue;
		} else if (!xs_watch_permitted(s, c, path, node, old, nold)) {
			continue;
		}
		for (w = c->watches; w; w = w->next) {
			if (exact ? strcmp(path, w->path)
				  : !xs_is_child(path, w->path))
				continue;
			s->ops->watch_event(s->opaque, c,
					    xs_watch_event_path(c, w, path),
					    w->token);
		}
	}
}

static void xs_report_watch(struct xs_conn *c, const struct xs_watch *w,
			    bool add)
{
	struct xs_change ch = {
	    .kind = add ? XS_CHANGE_WATCH_ADD : XS_CHANGE_WATCH_DEL,
	    .domid = c->domid,
	    .path = w->path,
	    .token = w->token,
	    .relative = w->relative,
	};

	if (c->is_domain)
		xs_report(c->s, &ch);
}

int xs_store_watch(struct xs_conn *c, const char *path, const char *token)
{
	struct xs_watch *w;
	char *canon;
	bool relative = false;

	if (path[0] == '@') {
		if (strlen(path) > XS_REL_PATH_MAX)
			return -EINVAL;
	} else {
		relative = path[0] != '/';
	}
	canon = xs_canonicalize(c, path);
	if (!canon)
		return -ENOMEM;
	if (path[0] != '@' && !xs_store_valid_path(c->s, canon)) {
		xs_free(canon);
		return -EINVAL;
	}
	for (w = c->watches; w; w = w->next)
		if (!strcmp(w->path, canon) && !strcmp(w->token, token)) {
			xs_free(canon);
			return -EEXIST;
		}
	if (xs_conn_unpriv(c) && c->nwatches > c->s->quota.watches) {
		xs_free(canon);
		return -E2BIG;
	}
	w = xs_calloc(1, sizeof(*w));
	if (!w || !(w->token = xs_strdup(token))) {
		xs_free(w);
		xs_free(canon);
		return -ENOMEM;
	}
	w->path = canon;
	w->relative = relative;
	if (c->wlast)
		c->wlast->next = w;
	else
		c->watches = w;
	c->wlast = w;
	c->nwatches++;
	xs_report_watch(c, w, true);
	xs_report_end(c->s);
	return 0;
}

int xs_store_unwatch(struct xs_conn *c, const char *path, const char *token)
{
	struct xs_watch **pp, *w, *prev = NULL;
	char *canon = xs_canonicalize(c, path);

	if (!canon)
		return -ENOMEM;
	for (pp = &c->watches; (w = *pp); prev = w, pp = &w->next)
		if (!strcmp(w->path, canon) && !strcmp(w->token, token))
			break;
	xs_free(canon);
	if (!w)
		return -ENOENT;
	*pp = w->next;
	if (c->wlast == w)
		c->wlast = prev;
	c->nwatches--;
	w->next = NULL;
	xs_report_watch(c, w, false);
	xs_report_end(c->s);
	xs_watch_free_list(w);
	return 0;
}

void xs_conn_drop_watches(struct xs_conn *c, bool journal)
{
	struct xs_watch *w;

	while ((w = c->watches)) {
		c->watches = w->next;
		w->next = NULL;
		if (journal)
			xs_report_watch(c, w, false);
		xs_watch_free_list(w);
	}
	c->wlast = NULL;
	c->nwatches = 0;
}

void xs_store_reset_watches(struct xs_conn *c)
{
	struct xs_txn *t;

	xs_conn_drop_watches(c, true);
	while ((t = c->txns)) {
		c->txns = t->next;
		xs_txn_free(t);
	}
	c->ntxns = 0;
	xs_report_end(c->s);
}
