/* dircache.c: cached directory listings and vfs_readdir.
 *
 * A directory is listed whole (backend->list, all pages) and every entry is
 * cached as a node with its attributes (attr_at = when the listing started),
 * so `ls -l` costs the listing pages only and later lookups of missing
 * names are answered from the listing (negative). Entries are never fetched
 * one by one. Names starting with ".azsf~" (the backend's temp files) are
 * never cached or shown.
 *
 * Threads: any FUSE thread. v->lock protects everything; it is dropped
 * during the list request; node->listing marks the request in flight and
 * other callers wait on v->list_cond instead of listing again.
 * Merge rules when a listing arrives: what this node learnt after the
 * listing started (its own upload or unlink) wins over the listing; an
 * entry a local file is based on, in another version, marks the clean copy
 * stale (dropped if unused) or, for dirty data, forces a conflict check at
 * upload (base.valid_at = 0); nodes the listing lacks become absent unless
 * local data not yet on the share keeps them (local-only and dirty files
 * stay listed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "azsharefs/log.h"
#include "attrcache.h"
#include "dircache.h"
#include "filecache.h"
#include "nodes.h"

struct list_ent {
	char *name;
	struct az_stat st;
};

struct list_acc {
	struct list_ent *v;
	size_t n, cap;
	int err;
};

static int list_cb(void *arg, const char *name, const struct az_stat *st)
{
	struct list_acc *a = arg;

	if (mc_name_hidden(name) || !name[0] || strchr(name, '/'))
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		struct list_ent *nv = realloc(a->v, cap * sizeof(*nv));

		if (!nv) {
			a->err = -ENOMEM;
			return -ENOMEM;
		}
		a->v = nv;
		a->cap = cap;
	}
	a->v[a->n].name = strdup(name);
	if (!a->v[a->n].name) {
		a->err = -ENOMEM;
		return -ENOMEM;
	}
	a->v[a->n].st = *st;
	a->n++;
	return 0;
}

static void acc_free(struct list_acc *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
}

void mc_dir_apply(struct vfs *v, struct mc_node *n, const struct az_stat *st, int64_t at)
{
	struct mc_file *f = n->file;

	n->remote = 1;
	n->st = *st;
	n->attr_at = at;
	n->removed_at = 0;
	if (!f)
		return;
	if (mc_file_dirty(f)) {
		if (f->base.remote && mc_base_matches(&f->base, st))
			f->base.valid_at = at;
		else
			f->base.valid_at = 0; /* moved or appeared: check at upload */
		return;
	}
	if (mc_base_matches(&f->base, st)) {
		if (!f->base.etag[0]) /* learnt after a rename */
			mc_base_from_stat(&f->base, st, at);
		f->base.valid_at = at;
		return;
	}
	f->stale = 1;
	if (f->refs == 1 && f->openers == 0)
		mc_file_drop(v, f);
}

static void ingest(struct vfs *v, struct mc_node *d, struct list_acc *a, int64_t t0)
{
	uint64_t gen = ++v->list_gen;
	struct mc_node *c, *next;
	char path[4200];
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (d->path[0])
			snprintf(path, sizeof(path), "%s/%s", d->path, a->v[i].name);
		else
			snprintf(path, sizeof(path), "%s", a->v[i].name);
		c = mc_node_get(v, path);
		if (!c)
			continue; /* out of memory: that entry stays unknown */
		c->seen = gen;
		if (c->attr_at >= t0)
			continue; /* we learnt newer meanwhile (our own upload, unlink) */
		mc_dir_apply(v, c, &a->v[i].st, t0);
	}
	for (c = d->child; c; c = next) {
		next = c->next;
		if (c->seen == gen || c->attr_at >= t0)
			continue;
		c->remote = 0;
		c->attr_at = t0;
		if (c->file && mc_file_dirty(c->file)) /* absent: confirmed for a new file */
			c->file->base.valid_at = c->file->base.remote ? 0 : t0;
		if (!mc_fresh(c->removed_at, v->o.attr_timeout_ms) || c->child)
			mc_node_prune(v, c); /* (this node's own removal stays known) */
	}
	d->listed_at = t0;
	d->listed_end = mc_now();
	d->nentries = a->n;
	if (d != v->root && !d->remote) {
		d->remote = 1;
		d->st.is_dir = 1;
	}
}

/* v->lock held: another thread lists dir; wait for it. */
static void wait_listing(struct vfs *v, const char *dir)
{
	struct mc_node *d = mc_node_find(v, dir);

	while (d && d->listing) {
		pthread_cond_wait(&v->list_cond, &v->lock);
		d = mc_node_find(v, dir);
	}
}

static void list_failed(struct vfs *v, struct mc_node *d, int rc, int64_t t0)
{
	if (d == v->root)
		return;
	if (rc == -ENOTDIR) { /* a file took the name: the parent will tell */
		d->attr_at = 0;
		d->listed_at = 0;
	} else if (rc == -ENOENT) {
		d->remote = 0;
		d->attr_at = t0;
		d->listed_at = 0;
		mc_node_prune(v, d);
	}
}

int64_t mc_listing_done(const struct mc_node *d)
{
	return d->listed_end > d->listed_at ? d->listed_end : d->listed_at;
}

int mc_dir_list(struct vfs *v, const char *dir)
{
	struct list_acc acc = {0};
	struct mc_node *d = mc_node_get(v, dir);
	int64_t t0;
	int rc;

	if (!d)
		return -ENOMEM;
	if (d->listing) {
		wait_listing(v, dir);
		d = mc_node_find(v, dir);
		return d && d->listed_at ? 0 : -EAGAIN;
	}
	d->listing = 1;
	pthread_mutex_unlock(&v->lock);
	t0 = mc_now();
	rc = v->be.list(v->be.ctx, dir, list_cb, &acc);
	if (rc == 0 && acc.err)
		rc = acc.err;
	mc_note(v, rc);
	pthread_mutex_lock(&v->lock);
	d = mc_node_find(v, dir);
	if (d) {
		d->listing = 0;
		if (rc == 0)
			ingest(v, d, &acc, t0);
		else
			list_failed(v, d, rc, t0);
	}
	pthread_cond_broadcast(&v->list_cond);
	acc_free(&acc);
	return rc;
}

struct rd_ent {
	char *name;
	struct az_stat st;
};

/* v->lock held: copies the visible entries of d. */
static int collect(struct vfs *v, struct mc_node *d, struct rd_ent **out, size_t *nout)
{
	struct mc_node *c;
	struct rd_ent *e;
	size_t n = 0, i = 0;

	for (c = d->child; c; c = c->next)
		n++;
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (c = d->child; c; c = c->next) {
		if (!mc_node_visible(c) || mc_name_hidden(c->name))
			continue;
		e[i].name = strdup(c->name);
		if (!e[i].name)
			break;
		mc_node_attrs(v, c, &e[i].st);
		i++;
	}
	*out = e;
	*nout = i;
	return 0;
}

/* v->lock held: make d's listing fresh (or usable while offline). */
static int fresh_listing(struct vfs *v, const char *path)
{
	struct mc_node *d = mc_node_find(v, path);
	int rc;

	if (d && mc_fresh(d->listed_at, v->o.dir_timeout_ms))
		return 0;
	if (d && d->listed_at && mc_offline_recent(v))
		return 0; /* the share is down: the stale listing, no waiting */
	rc = mc_dir_list(v, path);
	if (rc == -EAGAIN)
		rc = mc_dir_list(v, path);
	d = mc_node_find(v, path);
	if (rc < 0 && mc_is_net_err(rc) && d && d->listed_at)
		return 0; /* offline: the stale listing is better than nothing */
	return rc;
}

int vfs_readdir(struct vfs *v, const char *path_in, vfs_list_cb cb, void *arg)
{
	struct rd_ent *e = NULL;
	struct mc_node *d;
	struct az_stat st;
	char path[4096];
	size_t n = 0, i;
	int rc;

	rc = mc_path_norm(path_in, path, sizeof(path));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->lock);
	rc = mc_lookup(v, path, &d);
	if (rc == 0) {
		mc_node_attrs(v, d, &st);
		rc = st.is_dir ? fresh_listing(v, path) : -ENOTDIR;
	}
	d = rc == 0 ? mc_node_find(v, path) : NULL;
	if (rc == 0)
		rc = d ? collect(v, d, &e, &n) : -ENOENT;
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < n; i++) {
		if (cb(arg, e[i].name, &e[i].st) != 0)
			break;
	}
	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
	return rc;
}
