/* fileattr.c: vfs_create and vfs_setattr.
 *
 * A created file exists only locally until its first upload (flush in
 * close-to-open mode, the write-back worker otherwise): mode, owner and
 * mtime travel with that upload, so create + write + chmod + utimens +
 * close costs one request. Its base records that no remote file existed
 * and when the share last confirmed that (the listing or negative entry
 * the lookup used), for the "name appeared meanwhile" conflict check.
 * Except O_EXCL on lock files (git's index.lock; every O_EXCL name with
 * strict_excl): they need the name taken on the share before open returns,
 * or two nodes could both win; backend->create_excl publishes the empty
 * file (-EEXIST if the name is taken), and writes upload as usual (with the offline_writes and
 * write-back options, a share that is down makes it a local create).
 *
 * setattr on a dirty, local-only or open-for-write file is folded into the
 * pending upload (local truncate, mode/owner/mtime in the local view); on
 * a clean file it goes to the backend at once, except when it would change
 * nothing (then it costs no request) or when it is a utimens of a closed
 * file this node uploaded a moment ago (attrdefer.c: deferred, journaled,
 * coalesced). Directories always go to the backend.
 *
 * Threads: any FUSE thread; locks as in vfs_int.h.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "attrcache.h"
#include "attrdefer.h"
#include "evict.h"
#include "filecache.h"
#include "fileops.h"
#include "nodes.h"
#include "stream.h"

int mc_parent_dir(struct vfs *v, const char *path, struct mc_node **out)
{
	struct az_stat st;
	char pp[4096];
	int rc = mc_path_parent(path, pp, sizeof(pp));

	if (rc == 0)
		rc = mc_lookup(v, pp, out);
	if (rc == 0) {
		mc_node_attrs(v, *out, &st);
		if (!st.is_dir)
			rc = -ENOTDIR;
	}
	return rc;
}

int mc_check_case(struct vfs *v, const char *path, const struct mc_node *skip)
{
	struct mc_node *p, *twin;
	char pp[4096];

	if (mc_path_parent(path, pp, sizeof(pp)) < 0)
		return -ENAMETOOLONG;
	p = mc_node_find(v, pp);
	twin = p ? mc_node_case_twin(v, p, mc_path_name(path), skip) : NULL;
	if (!twin)
		return 0;
	az_err("cannot create '%s': '%s' exists and differs only in case (the share is "
	       "case-insensitive)",
	       path, twin->path);
	return -EEXIST;
}

static void init_local(const struct vfs *v, struct mc_file *f, const struct vfs_want *w)
{
	struct timespec now;

	mc_realtime(&now);
	memset(&f->lst, 0, sizeof(f->lst));
	f->lst.has_owner = 1;
	f->lst.mode = S_IFREG | ((w->mask & VFS_SET_MODE) ? (w->mode & 07777)
							  : (v->o.default_file_mode & 07777));
	f->lst.uid = (w->mask & VFS_SET_UID) ? w->uid : v->o.default_uid;
	f->lst.gid = (w->mask & VFS_SET_GID) ? w->gid : v->o.default_gid;
	f->lst.mtime = (w->mask & VFS_SET_MTIME) ? w->mtime : now;
	f->lst.ctime = f->lst.btime = f->lst.atime = now;
}

/* v->lock held: a local-only node and file for path. */
static int create_local(struct vfs *v, const char *path, struct mc_node *p, struct mc_file **out)
{
	struct mc_node *n = mc_node_get(v, path);
	struct mc_file *f;

	if (!n)
		return -ENOMEM;
	f = mc_file_get(v, n);
	if (!f)
		return -ENOMEM;
	memset(&f->base, 0, sizeof(f->base));
	/* when the share last said "no such name" */
	f->base.valid_at = n->attr_at > p->listed_at ? n->attr_at : p->listed_at;
	n->remote = 0;
	/* Dirty at once, in this same v->lock hold: a local-only node must
	 * never look clean, or a listing merged before vfs_create has made the
	 * data file (v->lock is dropped for that) prunes the name the listing
	 * lacks and orphans the file (ENOENT at the getattr after create, never
	 * uploaded). Uploads and journal records wait for f->whole. */
	mc_file_mark_dirty(v, f);
	*out = f;
	return 0;
}

/* Flags of a created file's handle: readable too (the kernel may read it). */
static int created_flags(int flags)
{
	return (flags & ~O_ACCMODE) |
	       ((flags & O_ACCMODE) == O_RDONLY ? O_RDWR : (flags & O_ACCMODE));
}

/* want with mode and owner complete (the mount defaults where it says
 * nothing), as the share needs them at once. */
static void excl_want(const struct vfs *v, const struct vfs_want *in, struct vfs_want *w)
{
	*w = *in;
	if (!(w->mask & VFS_SET_MODE))
		w->mode = v->o.default_file_mode;
	w->mode = S_IFREG | (w->mode & 07777);
	if (!(w->mask & VFS_SET_UID))
		w->uid = v->o.default_uid;
	if (!(w->mask & VFS_SET_GID))
		w->gid = v->o.default_gid;
	w->mask = (w->mask & VFS_SET_MTIME) | VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID;
}

/* v->lock held: the share now holds path as the empty file st (ours). */
static int excl_done(struct vfs *v, const char *path, int flags, struct az_stat *st,
		     struct vfs_file **fh, struct mc_file **out)
{
	struct mc_node *n = mc_node_get(v, path);
	struct mc_file *f = n ? mc_file_get(v, n) : NULL;

	if (!f)
		return -ENOMEM;
	st->is_dir = 0;
	if (!mc_file_dirty(f)) /* (else a local create raced us: its upload decides) */
		mc_file_set_remote(v, f, st);
	*fh = mc_fh_new(f, created_flags(flags));
	if (!*fh)
		return -ENOMEM;
	*out = mc_file_dirty(f) ? NULL : f;
	return 0;
}

/* Does this O_EXCL create take the name on the share before open returns?
 * Lock files always do (the cross-node mutual exclusion tools rely on);
 * other names only with strict_excl, since tar, cp and mkstemp create every
 * file with O_EXCL and two more round trips per file would dominate them. */
static int excl_on_share(const struct vfs *v, const char *path)
{
	size_t n = strlen(path);

	if (v->o.strict_excl)
		return 1;
	return (n > 5 && strcmp(path + n - 5, ".lock") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".lck") == 0);
}

/* O_EXCL, exclusive across nodes. 1 = the share is down and offline writes
 * are on: create locally instead. */
static int create_exclusive(struct vfs *v, const char *path, int flags, const struct vfs_want *want,
			    struct vfs_file **fh)
{
	struct mc_file *f = NULL;
	struct vfs_want w;
	struct az_stat st;
	int rc;

	excl_want(v, want, &w);
	memset(&st, 0, sizeof(st));
	rc = mc_note(v, v->be.create_excl(v->be.ctx, path, &w, &st));
	if (rc < 0 && mc_is_net_err(rc) && v->o.offline_writes && v->o.writeback_delay_ms > 0) {
		az_warn("share unreachable: '%s' created with O_EXCL is exclusive on this node "
			"only (offline_writes)",
			path);
		return 1;
	}
	pthread_mutex_lock(&v->lock);
	if (rc == -EEXIST)
		mc_invalidate(v, path); /* taken meanwhile: the next lookup asks */
	else if (rc == 0)
		rc = excl_done(v, path, flags, &st, fh, &f);
	pthread_mutex_unlock(&v->lock);
	if (rc < 0 || !f)
		return rc;
	pthread_rwlock_wrlock(&f->data_lock);
	rc = mc_file_set_empty(v, f);
	pthread_rwlock_unlock(&f->data_lock);
	if (rc < 0) {
		pthread_mutex_lock(&v->lock);
		mc_fh_drop(v, *fh);
		*fh = NULL;
		pthread_mutex_unlock(&v->lock);
	}
	return rc;
}

int vfs_create(struct vfs *v, const char *path_in, int flags, const struct vfs_want *want,
	       struct vfs_file **fh)
{
	struct mc_node *p, *n;
	struct mc_file *f = NULL;
	char path[4096];
	int rc, excl;

	*fh = NULL;
	rc = mc_path_norm(path_in, path, sizeof(path));
	if (rc < 0 || !path[0])
		return rc < 0 ? rc : -EISDIR;
	pthread_mutex_lock(&v->lock);
	rc = mc_parent_dir(v, path, &p);
	if (rc == 0)
		rc = mc_lookup(v, path, &n);
	if (rc == 0) {
		pthread_mutex_unlock(&v->lock);
		if (flags & O_EXCL)
			return -EEXIST;
		return vfs_open(v, path, flags & ~O_CREAT, fh);
	}
	if (rc < 0 && mc_is_net_err(rc) && v->o.offline_writes && v->o.writeback_delay_ms > 0)
		rc = -ENOENT; /* offline: assume new; the upload checks the share */
	if (rc == -ENOENT)
		rc = mc_parent_dir(v, path, &p); /* the lookup may have listed it again */
	if (rc == 0)
		rc = mc_check_case(v, path, NULL);
	excl = rc == 0 && (flags & O_EXCL) && v->be.create_excl && excl_on_share(v, path);
	if (rc == 0 && !excl)
		rc = create_local(v, path, p, &f);
	if (rc == 0 && !excl) {
		init_local(v, f, want);
		*fh = mc_fh_new(f, created_flags(flags));
		rc = *fh ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&v->lock);
	if (excl) {
		rc = create_exclusive(v, path, flags, want, fh);
		return rc == 1 ? vfs_create(v, path, flags & ~O_EXCL, want, fh) : rc;
	}
	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&f->data_lock);
	rc = mc_file_make_empty(v, f);
	pthread_rwlock_unlock(&f->data_lock);
	pthread_mutex_lock(&v->lock);
	if (rc == 0 && (want->mask & VFS_SET_MTIME))
		f->lst.mtime = want->mtime;
	if (rc < 0) {
		n = f->node;
		mc_fh_drop(v, *fh);
		*fh = NULL;
		if (n && !n->remote && n->file == f)
			mc_file_detach(v, f);
	}
	pthread_mutex_unlock(&v->lock);
	return rc;
}

static void want_time(const struct vfs_want *w, struct timespec *out)
{
	*out = w->mtime;
	if (w->mtime.tv_nsec == UTIME_NOW)
		mc_realtime(out);
}

/* v->lock held: apply mode/owner/mtime of w to a local view. */
static void apply_meta(const struct vfs *v, struct az_stat *st, const struct vfs_want *w)
{
	mc_fill_owner(v, st);
	st->has_owner = 1;
	if (w->mask & VFS_SET_MODE)
		st->mode = (st->mode & S_IFMT ? st->mode & S_IFMT : S_IFREG) | (w->mode & 07777);
	if (w->mask & VFS_SET_UID)
		st->uid = w->uid;
	if (w->mask & VFS_SET_GID)
		st->gid = w->gid;
	if ((w->mask & VFS_SET_MTIME) && w->mtime.tv_nsec != UTIME_OMIT)
		want_time(w, &st->mtime);
}

/* Fold w into f's pending upload. */
static int fold(struct vfs *v, struct mc_file *f, const struct vfs_want *w)
{
	int rc = 0, persist;

	pthread_rwlock_wrlock(&f->data_lock);
	if (w->mask & VFS_SET_SIZE)
		rc = mc_file_truncate(v, f, w->size);
	if (rc == 0 && (w->mask & (VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_SET_MTIME))) {
		pthread_mutex_lock(&v->lock);
		apply_meta(v, &f->lst, w);
		mc_file_mark_dirty(v, f);
		pthread_mutex_unlock(&v->lock);
	}
	pthread_rwlock_unlock(&f->data_lock);
	pthread_mutex_lock(&v->lock);
	persist = rc == 0 && f->openers == 0 && !f->orphan && f->node;
	pthread_mutex_unlock(&v->lock);
	if (persist)
		rc = mc_persist(v, f);
	return rc;
}

/* v->lock held: would w change nothing on n? */
static int is_noop(const struct vfs *v, const struct mc_node *n, const struct vfs_want *w)
{
	struct az_stat st;

	mc_node_attrs(v, n, &st);
	if ((w->mask & VFS_SET_MODE) &&
	    (!n->st.has_owner || (st.mode & 07777) != (w->mode & 07777)))
		return 0;
	if ((w->mask & VFS_SET_UID) && (!n->st.has_owner || st.uid != w->uid))
		return 0;
	if ((w->mask & VFS_SET_GID) && (!n->st.has_owner || st.gid != w->gid))
		return 0;
	if ((w->mask & VFS_SET_SIZE) && st.size != w->size)
		return 0;
	if ((w->mask & VFS_SET_MTIME) && w->mtime.tv_nsec != UTIME_OMIT &&
	    (w->mtime.tv_nsec == UTIME_NOW || st.mtime.tv_sec != w->mtime.tv_sec ||
	     st.mtime.tv_nsec != w->mtime.tv_nsec))
		return 0;
	return 1;
}

/* w with mode and owner completed from the current attributes, so the
 * backend need not ask the share for them (one request, not two). */
static void complete_owner(struct vfs *v, const char *path, const struct vfs_want *w,
			   struct vfs_want *out)
{
	struct mc_node *n;
	struct az_stat cur;

	*out = *w;
	pthread_mutex_lock(&v->lock);
	n = mc_node_find(v, path);
	if (n && mc_node_visible(n)) {
		mc_node_attrs(v, n, &cur);
		if (!(out->mask & VFS_SET_MODE))
			out->mode = cur.mode;
		else if (!(out->mode & S_IFMT))
			out->mode |= cur.mode & S_IFMT;
		if (!(out->mask & VFS_SET_UID))
			out->uid = cur.uid;
		if (!(out->mask & VFS_SET_GID))
			out->gid = cur.gid;
		out->mask |= VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID;
	}
	pthread_mutex_unlock(&v->lock);
}

/* A clean file or a directory: the backend, now. A file's deferred
 * attribute change goes with it (f->up_lock keeps the requests in order). */
static int setattr_backend(struct vfs *v, const char *path, int is_dir, struct mc_file *f,
			   const struct vfs_want *w_in)
{
	struct vfs_want wc, *w = &wc;
	struct mc_node *n;
	struct az_stat st;
	int rc;

	if (f)
		pthread_mutex_lock(&f->up_lock);
	complete_owner(v, path, w_in, &wc);
	if (f) {
		pthread_mutex_lock(&v->lock);
		mc_attrs_merge(f, &wc);
		pthread_mutex_unlock(&v->lock);
	}
	memset(&st, 0, sizeof(st));
	rc = mc_note(v, v->be.setattr(v->be.ctx, path, is_dir, w, &st));
	if (f && rc == 0)
		mc_attrs_done(v, f);
	if (f)
		pthread_mutex_unlock(&f->up_lock);
	if (rc < 0)
		return rc;
	if (f)
		pthread_rwlock_wrlock(&f->data_lock);
	pthread_mutex_lock(&v->lock);
	n = mc_node_find(v, path);
	if (n) {
		n->remote = 1;
		n->st = st;
		n->st.is_dir = is_dir;
		n->attr_at = st.etag[0] ? mc_now() : 0;
	}
	if (f && f->node && f->node == n && !mc_file_dirty(f)) {
		if (f->whole && (w->mask & VFS_SET_SIZE) && ftruncate(f->fd, (off_t)w->size) < 0)
			f->stale = 1;
		mc_file_set_remote(v, f, &st);
		if (!st.etag[0])
			f->stale = 1; /* unknown version: download again when read */
		if (f->whole && !f->stale)
			mc_acct_set(v, f, st.size);
	}
	pthread_mutex_unlock(&v->lock);
	if (f)
		pthread_rwlock_unlock(&f->data_lock);
	return 0;
}

enum sa_how { SA_NOOP, SA_FOLD, SA_LOCAL, SA_BACKEND, SA_STREAM, SA_DEFER };

/* v->lock held. */
static enum sa_how setattr_how(const struct vfs *v, struct mc_node *n, struct mc_file *f,
			       struct vfs_file *fh, int is_dir, const struct vfs_want *w)
{
	if (f && (f->orphan || !n))
		return SA_LOCAL;
	if (is_dir) /* tar's chown/chmod to what mkdir gave: nothing to send */
		return is_noop(v, n, w) ? SA_NOOP : SA_BACKEND;
	if (fh && fh->stream)
		return SA_STREAM;
	if (f && (mc_file_dirty(f) || !n->remote || (f->writers > 0 && f->whole)))
		return SA_FOLD;
	if (is_noop(v, n, w))
		return SA_NOOP;
	return mc_attrs_deferrable(v, n, f, w) ? SA_DEFER : SA_BACKEND;
}

/* Orphaned (unlinked) open file: only the local copy changes. */
static int setattr_local(struct vfs *v, struct mc_file *f, const struct vfs_want *w)
{
	int rc = 0;

	pthread_rwlock_wrlock(&f->data_lock);
	if (w->mask & VFS_SET_SIZE)
		rc = mc_file_truncate(v, f, w->size);
	pthread_mutex_lock(&v->lock);
	apply_meta(v, &f->lst, w);
	pthread_mutex_unlock(&v->lock);
	pthread_rwlock_unlock(&f->data_lock);
	return rc;
}

static int setattr_stream(struct vfs *v, struct vfs_file *fh, const char *path,
			  const struct vfs_want *w)
{
	int rc = mc_stream_flush(v, fh);

	if (rc == 0)
		rc = setattr_backend(v, path, 0, NULL, w);
	if (rc == 0 && (w->mask & VFS_SET_SIZE))
		mc_stream_resized(fh->sm, w->size);
	return rc;
}

/* v->lock held: the node and file setattr works on. */
static int setattr_target(struct vfs *v, const char *path, struct vfs_file *fh, struct mc_node **n,
			  struct mc_file **f)
{
	int rc = 0;

	if (fh) {
		*f = fh->file;
		*n = (*f)->node;
	} else {
		rc = mc_lookup(v, path, n);
		*f = rc == 0 ? (*n)->file : NULL;
	}
	if (*f)
		mc_file_ref(*f);
	return rc;
}

int vfs_setattr(struct vfs *v, const char *path_in, struct vfs_file *fh,
		const struct vfs_want *want, struct az_stat *st)
{
	struct mc_node *n = NULL;
	struct mc_file *f = NULL;
	struct az_stat cur;
	char path[4096];
	enum sa_how how = SA_NOOP;
	int rc;

	rc = mc_path_norm(path_in ? path_in : "", path, sizeof(path));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->lock);
	rc = setattr_target(v, path, fh, &n, &f);
	if (rc == 0 && n) {
		snprintf(path, sizeof(path), "%s", n->path);
		mc_node_attrs(v, n, &cur);
	}
	if (rc == 0)
		how = setattr_how(v, n, f, fh, n ? cur.is_dir : 0, want);
	pthread_mutex_unlock(&v->lock);
	if (rc == 0 && how == SA_DEFER) {
		rc = mc_attrs_defer(v, f, want);
		if (rc == 1) /* no longer deferrable: now */
			how = SA_BACKEND;
	}
	if (rc == 1)
		rc = 0;
	if (rc == 0 && how == SA_FOLD)
		rc = fold(v, f, want);
	else if (rc == 0 && how == SA_LOCAL)
		rc = setattr_local(v, f, want);
	else if (rc == 0 && how == SA_STREAM)
		rc = setattr_stream(v, fh, path, want);
	else if (rc == 0 && how == SA_BACKEND)
		rc = setattr_backend(v, path, n ? cur.is_dir : 0, f, want);
	pthread_mutex_lock(&v->lock);
	if (rc == 0 && st) {
		n = f && how == SA_LOCAL ? NULL : mc_node_find(v, path);
		if (n)
			mc_node_attrs(v, n, st);
		else if (f)
			*st = f->lst;
		mc_fill_owner(v, st);
	}
	if (f)
		mc_file_unref(v, f);
	pthread_mutex_unlock(&v->lock);
	return rc;
}
