/* attrdefer.c: deferred utimens of files this node uploaded a moment ago.
 *
 * Copy tools finish a file after closing it: shutil.copystat (Jupyter's
 * save), cp -p, tar and rsync set the times of the CLOSED copy, which
 * close-to-open has already uploaded, so each costs a Set File Properties;
 * Jupyter's copy is deleted again a few milliseconds later. Such an mtime
 * change of a clean, closed, whole copy uploaded within the window
 * (min(attr_timeout_ms, 1 s)) waits instead, at most until the window's
 * end: later ones coalesce into it, an unlink drops it, and anything that
 * needs the share to be right applies it first: an upload of new data
 * supersedes it (new data, new mtime), a resize too, a rename, fsync,
 * chmod or chown of the file and vfs_sync_all (unmount) send it. It is
 * journaled (an attributes-only record) before setattr returns, so a crash
 * does not lose it; replay applies it only to the version it was made on.
 * Why this keeps the contracts: other nodes see attributes up to
 * attr_timeout late anyway (their attribute caches; now up to the window
 * more), this node shows the change at once (mc_attrs_overlay), and
 * close-to-open is about data, which is not deferred. A late mtime only
 * makes other nodes' tools look again (make, git rehash the content); a
 * late mode or owner would make them see a different file (git reports a
 * mode change, permission checks differ), so chmod and chown are never
 * deferred: they go to the share before setattr returns, with any waiting
 * mtime. (The record format and f->pend can carry mode and owner too.)
 *
 * Threads: FUSE threads defer and apply; write-back workers apply when the
 * window ends (writeback.c calls mc_upload, which calls mc_attrs_apply).
 * Locks: f->pend changes only with f->up_lock held (so one request at a
 * time carries it, in order), and v->lock for the fields themselves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "azsharefs/log.h"
#include "attrcache.h"
#include "attrdefer.h"
#include "evict.h"
#include "filecache.h"
#include "journal.h"
#include "writeback.h"

#define MC_ATTRS_MAX_MS 1000
#define MC_OWNER_MASK (VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID)

long mc_attrs_window_ms(const struct vfs *v)
{
	long ms = v->o.attr_timeout_ms;

	return ms < MC_ATTRS_MAX_MS ? (ms > 0 ? ms : 0) : MC_ATTRS_MAX_MS;
}

int mc_attrs_deferrable(const struct vfs *v, const struct mc_node *n, const struct mc_file *f,
			const struct vfs_want *w)
{
	long win = mc_attrs_window_ms(v);

	if (win <= 0 || !f || f->node != n || f->orphan || !n->remote || mc_file_dirty(f) ||
	    f->openers > 0 || f->stale || !f->whole)
		return 0;
	if (!(w->mask & VFS_SET_MTIME) || (w->mask & ~(VFS_SET_MTIME | VFS_KNOWN_SIZE)))
		return 0; /* only utimens (see the top) */
	return f->pend.mask || mc_fresh(f->up_at, win);
}

void mc_attrs_overlay(const struct mc_file *f, struct az_stat *st)
{
	if (!f || !f->pend.mask || f->stale || f->orphan)
		return;
	if (f->pend.mask & MC_OWNER_MASK) {
		st->has_owner = 1;
		st->mode = (st->mode & S_IFMT) | (f->pend.mode & 07777);
		st->uid = f->pend.uid;
		st->gid = f->pend.gid;
	}
	if (f->pend.mask & VFS_SET_MTIME)
		st->mtime = f->pend.mtime;
	st->ctime = f->lst.ctime; /* the change's time (fold_pending) */
}

void mc_attrs_merge(const struct mc_file *f, struct vfs_want *w)
{
	unsigned add = f->pend.mask & ~w->mask;

	if (!f->pend.mask || f->stale || f->orphan)
		return;
	if (w->mask & VFS_SET_SIZE)
		add &= ~VFS_SET_MTIME; /* a resize after the utime: the share's "now" wins */
	if (add & VFS_SET_MODE)
		w->mode = (w->mode & S_IFMT) | (f->pend.mode & 07777);
	if (add & VFS_SET_UID)
		w->uid = f->pend.uid;
	if (add & VFS_SET_GID)
		w->gid = f->pend.gid;
	if (add & VFS_SET_MTIME)
		w->mtime = f->pend.mtime;
	w->mask |= add;
}

/* v->lock held: w folded into f->pend and f->lst (complete owner kept in
 * pend, so the overlay never needs the share's values). */
static void fold_pending(struct vfs *v, struct mc_file *f, const struct vfs_want *w)
{
	struct az_stat cur;

	mc_node_attrs(v, f->node, &cur);
	if (!(f->pend.mask & MC_OWNER_MASK)) {
		f->pend.mode = cur.mode;
		f->pend.uid = cur.uid;
		f->pend.gid = cur.gid;
	}
	if (w->mask & VFS_SET_MODE)
		f->pend.mode = (cur.mode & S_IFMT) | (w->mode & 07777);
	if (w->mask & VFS_SET_UID)
		f->pend.uid = w->uid;
	if (w->mask & VFS_SET_GID)
		f->pend.gid = w->gid;
	if ((w->mask & VFS_SET_MTIME) && w->mtime.tv_nsec != UTIME_OMIT) {
		f->pend.mtime = w->mtime;
		if (w->mtime.tv_nsec == UTIME_NOW)
			mc_realtime(&f->pend.mtime);
		f->pend.mask |= VFS_SET_MTIME;
	}
	f->pend.mask |= w->mask & MC_OWNER_MASK;
	mc_realtime(&f->lst.ctime);
	mc_attrs_overlay(f, &f->lst); /* an upload of new data carries it */
	mc_lru_remove(v, f);
}

int mc_attrs_defer(struct vfs *v, struct mc_file *f, const struct vfs_want *w)
{
	int rc, first = 0, ok;

	pthread_mutex_lock(&f->up_lock);
	pthread_mutex_lock(&v->lock);
	ok = f->node && mc_attrs_deferrable(v, f->node, f, w);
	if (ok) {
		first = !f->pend.mask;
		fold_pending(v, f, w);
	}
	pthread_mutex_unlock(&v->lock);
	if (!ok) {
		pthread_mutex_unlock(&f->up_lock);
		return 1;
	}
	rc = jn_attrs(v, f);
	if (rc < 0) /* not durable here: send it now instead */
		rc = mc_attrs_apply(v, f);
	pthread_mutex_lock(&v->lock);
	if (rc == 0 && first && f->pend.mask)
		wbc_enqueue(v, f, mc_now() + MC_US(mc_attrs_window_ms(v)));
	else if (rc < 0 && f->pend.mask)
		wbc_enqueue(v, f, mc_now() + MC_US(wbc_backoff_ms(v, 0)));
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&f->up_lock);
	return rc;
}

void mc_attrs_done(struct vfs *v, struct mc_file *f)
{
	int unjournal;

	pthread_mutex_lock(&v->lock);
	if (f->pend.mask) {
		f->pend.mask = 0;
		mc_lru_update(v, f);
	}
	unjournal = f->journaled && !mc_file_dirty(f);
	if (unjournal)
		f->journaled = 0;
	pthread_mutex_unlock(&v->lock);
	if (unjournal)
		jn_remove(v, f->id);
}

/* v->lock held: the request for f->pend, complete (mode and owner always,
 * the size the cache knows, so the backend asks the share for nothing). */
static void pending_want(const struct vfs *v, const struct mc_file *f, struct vfs_want *w)
{
	struct az_stat cur;

	mc_node_attrs(v, f->node, &cur);
	memset(w, 0, sizeof(*w));
	w->mask = f->pend.mask | MC_OWNER_MASK | VFS_KNOWN_SIZE;
	w->mode = (cur.mode & 07777) | S_IFREG;
	w->uid = cur.uid;
	w->gid = cur.gid;
	w->mtime = (f->pend.mask & VFS_SET_MTIME) ? f->pend.mtime : f->node->st.mtime;
	w->size = f->node->st.size;
}

/* v->lock held: the share took the change; st is the result. */
static void applied(struct vfs *v, struct mc_file *f, const char *path, const struct az_stat *st)
{
	struct mc_node *n = f->node;

	if (!n || f->orphan || strcmp(n->path, path) != 0)
		return;
	mc_file_set_remote(v, f, st);
	if (!st->etag[0]) { /* the version is unknown now: ask again, download again */
		f->stale = 1;
		n->attr_at = 0;
	}
}

int mc_attrs_apply(struct vfs *v, struct mc_file *f)
{
	struct vfs_want w;
	struct az_stat st;
	char *path = NULL;
	int rc = 0, stale;

	pthread_mutex_lock(&v->lock);
	if (!f->pend.mask || f->orphan || !f->node || mc_file_dirty(f)) {
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	stale = f->stale;
	if (!stale) {
		pending_want(v, f, &w);
		path = strdup(f->node->path);
	} else {
		az_info("'%s' changed on the share before its deferred attribute change was sent; "
			"the change is dropped (the newer version's attributes stand)",
			f->node->path);
	}
	pthread_mutex_unlock(&v->lock);
	if (stale) {
		mc_attrs_done(v, f);
		return 0;
	}
	if (!path)
		return -ENOMEM;
	memset(&st, 0, sizeof(st));
	rc = mc_note(v, v->be.setattr(v->be.ctx, path, 0, &w, &st));
	pthread_mutex_lock(&v->lock);
	if (rc == 0)
		applied(v, f, path, &st);
	else if (rc == -ENOENT && f->node)
		f->node->attr_at = 0; /* deleted on the share meanwhile: ask again */
	pthread_mutex_unlock(&v->lock);
	if (rc < 0 && !mc_is_net_err(rc))
		az_err("deferred attribute change of '%s' failed: %s; dropped", path,
		       strerror(-rc));
	if (rc == 0 || !mc_is_net_err(rc)) {
		mc_attrs_done(v, f);
		rc = 0;
	}
	free(path);
	return rc;
}
