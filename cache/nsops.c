/* nsops.c: namespace operations: unlink, mkdir, rmdir, symlink, readlink,
 * statfs (rename is in rename.c).
 *
 * They go to the backend synchronously and then update the caches: a
 * created directory is known empty (its listing is fresh at once), a
 * removed name becomes a negative entry stamped with the time the share
 * confirmed it. unlink of a file that exists only locally (not uploaded
 * yet) stays local: the pending upload is cancelled and nothing reaches the
 * share. unlink of an open file detaches its local copy (orphan), which the
 * open handles keep using (POSIX); it is never uploaded.
 *
 * Threads: any FUSE thread. A file's up_lock is held across its unlink so
 * an upload of it cannot run at the same time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attrcache.h"
#include "filecache.h"
#include "fileops.h"
#include "nodes.h"

/* v->lock held: path is gone from the share (as of at), removed by this
 * node (trusted like this node's own attributes, attrcache.c). */
static void forget(struct vfs *v, const char *path, int64_t at)
{
	struct mc_node *n = mc_node_find(v, path);

	if (n)
		mc_node_remove(v, n);
	n = mc_node_get(v, path);
	if (n) {
		n->remote = 0;
		n->attr_at = at;
		n->removed_at = at;
	}
}

/* v->lock held: path must exist and be (or not be) a directory. */
static int lookup_kind(struct vfs *v, const char *path, int want_dir, struct mc_node **n)
{
	struct az_stat st;
	int rc = mc_lookup(v, path, n);

	if (rc < 0)
		return rc;
	mc_node_attrs(v, *n, &st);
	if (want_dir && !st.is_dir)
		return -ENOTDIR;
	if (!want_dir && st.is_dir)
		return -EISDIR;
	return 0;
}

/* up_lock of f (if any) held. */
static int unlink_locked(struct vfs *v, const char *path, struct mc_file *f)
{
	struct mc_node *n;
	int rc;

	pthread_mutex_lock(&v->lock);
	n = mc_node_find(v, path);
	if (n && f && n->file == f && !n->remote) {
		int64_t at = f->base.valid_at;

		mc_node_remove(v, n); /* local only: the upload is cancelled */
		forget(v, path, at);
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	pthread_mutex_unlock(&v->lock);
	rc = mc_note(v, v->be.unlink(v->be.ctx, path));
	pthread_mutex_lock(&v->lock);
	if (rc == 0 || rc == -ENOENT)
		forget(v, path, mc_now());
	pthread_mutex_unlock(&v->lock);
	return rc;
}

/* An open file about to lose its name: fetch its data now if it was not
 * read yet, so the handles keep working (POSIX) on the local copy. */
static void keep_for_handles(struct vfs *v, struct mc_file *f)
{
	int need;

	pthread_mutex_lock(&v->lock);
	need = f->openers > 0 && (!f->whole || f->stale) && f->lst.size <= v->o.file_max_bytes;
	pthread_mutex_unlock(&v->lock);
	if (!need)
		return;
	pthread_rwlock_wrlock(&f->data_lock);
	mc_file_ensure(v, f); /* best effort: failing here must not block the unlink */
	pthread_rwlock_unlock(&f->data_lock);
}

int vfs_unlink(struct vfs *v, const char *path_in)
{
	struct mc_file *f = NULL;
	struct mc_node *n;
	char path[4096];
	int rc;

	rc = mc_path_norm(path_in, path, sizeof(path));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->lock);
	rc = path[0] ? lookup_kind(v, path, 0, &n) : -EISDIR;
	if (rc == 0 && n->file) {
		f = n->file;
		mc_file_ref(f);
	}
	pthread_mutex_unlock(&v->lock);
	if (rc < 0)
		return rc;
	if (f)
		keep_for_handles(v, f);
	if (f)
		pthread_mutex_lock(&f->up_lock);
	rc = unlink_locked(v, path, f);
	if (f) {
		pthread_mutex_unlock(&f->up_lock);
		pthread_mutex_lock(&v->lock);
		mc_file_unref(v, f);
		pthread_mutex_unlock(&v->lock);
	}
	return rc;
}

/* v->lock held: may path be created (parent a directory, name free, no
 * case twin)? */
static int may_create(struct vfs *v, const char *path)
{
	struct mc_node *p, *n;
	int rc;

	if (!path[0])
		return -EEXIST;
	rc = mc_parent_dir(v, path, &p);
	if (rc == 0) {
		rc = mc_lookup(v, path, &n);
		rc = rc == 0 ? -EEXIST : rc == -ENOENT ? 0 : rc;
	}
	if (rc == 0)
		rc = mc_check_case(v, path, NULL);
	return rc;
}

/* Normalises path_in into path (len bytes) and checks it may be created;
 * takes v->lock for the check. */
static int create_path(struct vfs *v, const char *path_in, char *path, size_t len)
{
	int rc = mc_path_norm(path_in, path, len);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->lock);
	rc = may_create(v, path);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

/* v->lock held: record a new remote entry. */
static struct mc_node *created(struct vfs *v, const char *path, const struct az_stat *st,
			       mode_t type, const struct vfs_want *want)
{
	struct mc_node *n = mc_node_find(v, path);

	if (n && n->file)
		mc_file_detach(v, n->file);
	n = mc_node_get(v, path);
	if (!n)
		return NULL;
	n->remote = 1;
	n->st = *st;
	n->st.is_dir = type == S_IFDIR;
	if (!(n->st.mode & S_IFMT)) {
		n->st.mode = type | ((want->mask & VFS_SET_MODE) ? (want->mode & 07777) : 0777);
		n->st.has_owner = (want->mask & VFS_SET_UID) != 0;
		n->st.uid = want->uid;
		n->st.gid = want->gid;
	}
	n->attr_at = mc_now();
	return n;
}

int vfs_mkdir(struct vfs *v, const char *path_in, const struct vfs_want *want, struct az_stat *st)
{
	struct az_stat rst;
	struct mc_node *n;
	char path[4096];
	int rc;

	rc = create_path(v, path_in, path, sizeof(path));
	if (rc < 0)
		return rc;
	memset(&rst, 0, sizeof(rst));
	rc = mc_note(v, v->be.mkdir(v->be.ctx, path, want, &rst));
	pthread_mutex_lock(&v->lock);
	n = rc == 0 ? created(v, path, &rst, S_IFDIR, want) : mc_node_find(v, path);
	if (rc == 0 && n) {
		n->listed_at = n->attr_at; /* new: known empty */
		if (st)
			mc_node_attrs(v, n, st);
	} else if (n) {
		n->attr_at = 0; /* e.g. EEXIST: someone else made it; ask again */
	}
	pthread_mutex_unlock(&v->lock);
	return rc;
}

/* v->lock held: does the cache know an entry inside n? */
static int has_entries(struct vfs *v, struct mc_node *n)
{
	struct mc_node *c;
	int fresh = mc_fresh(n->listed_at, v->o.dir_timeout_ms);

	for (c = n->child; c; c = c->next) {
		if (mc_node_local(c) && !mc_name_hidden(c->name))
			return 1; /* not on the share yet, but there */
		if (fresh && mc_node_visible(c))
			return 1;
	}
	return 0;
}

int vfs_rmdir(struct vfs *v, const char *path_in)
{
	struct mc_node *n;
	char path[4096];
	int rc;

	rc = mc_path_norm(path_in, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (!path[0])
		return -EBUSY;
	pthread_mutex_lock(&v->lock);
	rc = lookup_kind(v, path, 1, &n);
	if (rc == 0 && has_entries(v, n))
		rc = -ENOTEMPTY;
	pthread_mutex_unlock(&v->lock);
	if (rc < 0)
		return rc;
	rc = mc_note(v, v->be.rmdir(v->be.ctx, path));
	pthread_mutex_lock(&v->lock);
	if (rc == 0 || rc == -ENOENT)
		forget(v, path, mc_now());
	pthread_mutex_unlock(&v->lock);
	return rc;
}

int vfs_symlink(struct vfs *v, const char *target, const char *path_in, const struct vfs_want *want,
		struct az_stat *st)
{
	struct az_stat rst;
	struct mc_node *n;
	char path[4096];
	int rc;

	rc = create_path(v, path_in, path, sizeof(path));
	if (rc < 0)
		return rc;
	memset(&rst, 0, sizeof(rst));
	rc = mc_note(v, v->be.symlink(v->be.ctx, path, target, want, &rst));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->lock);
	n = created(v, path, &rst, S_IFLNK, want);
	if (n) {
		free(n->link);
		n->link = strdup(target);
		snprintf(n->link_etag, sizeof(n->link_etag), "%s", n->st.etag);
		if (st)
			mc_node_attrs(v, n, st);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vfs_readlink(struct vfs *v, const char *path_in, char *buf, size_t size)
{
	struct az_stat st;
	struct mc_node *n;
	char path[4096];
	int rc;

	rc = mc_path_norm(path_in, path, sizeof(path));
	if (rc < 0 || size == 0)
		return rc < 0 ? rc : -EINVAL;
	pthread_mutex_lock(&v->lock);
	rc = mc_lookup(v, path, &n);
	if (rc == 0) {
		mc_node_attrs(v, n, &st);
		if (!S_ISLNK(st.mode))
			rc = -EINVAL;
	}
	if (rc == 0 && n->link && strcmp(n->link_etag, n->st.etag) == 0) {
		snprintf(buf, size, "%s", n->link);
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	pthread_mutex_unlock(&v->lock);
	if (rc < 0)
		return rc;
	rc = mc_note(v, v->be.readlink(v->be.ctx, path, buf, size));
	pthread_mutex_lock(&v->lock);
	n = mc_node_find(v, path);
	if (rc == 0 && n && strnlen(buf, size) < size - 1) {
		free(n->link);
		n->link = strdup(buf);
		snprintf(n->link_etag, sizeof(n->link_etag), "%s", n->st.etag);
	}
	pthread_mutex_unlock(&v->lock);
	return rc;
}

int vfs_statfs(struct vfs *v, uint64_t *total_bytes, uint64_t *used_bytes)
{
	return mc_note(v, v->be.statfs(v->be.ctx, total_bytes, used_bytes));
}
