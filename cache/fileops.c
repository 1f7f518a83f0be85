/* fileops.c: open files: open, create, read, write, flush, fsync, release.
 *
 * Close-to-open (writeback_delay_ms == 0): vfs_flush/vfs_fsync of a dirty
 * file return once backend->upload succeeded; on failure the data is
 * journaled (never dropped) and retried in the background, and the caller
 * gets the error. vfs_open of a cached clean file revalidates with one
 * request (same version: keep the copy; changed: download on the first
 * read): a HEAD, or, in a directory of at most 256 entries not listed
 * within conflict_slack_ms, a listing (same count, more answers: the new
 * name of a save that follows needs no check of its own). No earlier
 * answer is reused: it may predate another node's close. In write-back
 * mode (other nodes' changes are promised after their delay anyway) an
 * open trusts attributes validated within attr_timeout: a hot re-open
 * costs nothing. O_TRUNC needs no
 * download, and no HEAD when the attributes are fresh. Files are
 * downloaded lazily on the first read or write.
 * Write-back (delay > 0): vfs_flush journals the file durably and queues
 * it; workers upload it once half the delay has passed (wbc_hold_us), so
 * a small file is on the share within the delay. vfs_fsync always uploads now.
 * While the share is unreachable, write-back flushes fail with EIO unless
 * offline_writes is set; the data stays journaled either way.
 * Large files (over file_max_bytes, not cached, opened without O_TRUNC)
 * get a streaming handle (stream.c).
 *
 * Threads: any FUSE thread. Locks as in vfs_int.h: up_lock for journaling
 * and uploads, data_lock around data access, v->lock for metadata only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "azsharefs/log.h"
#include "attrcache.h"
#include "dircache.h"
#include "evict.h"
#include "filecache.h"
#include "fileops.h"
#include "journal.h"
#include "nodes.h"
#include "stream.h"
#include "upload.h"
#include "writeback.h"

#define MC_SMALL_DIR 256 /* entries: revalidate by listing up to this */

static int is_writable(int flags)
{
	return (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
}

/* v->lock held: a handle on f (takes a reference and counts the open). */
struct vfs_file *mc_fh_new(struct mc_file *f, int flags)
{
	struct vfs_file *fh = calloc(1, sizeof(*fh));

	if (!fh)
		return NULL;
	fh->file = f;
	fh->flags = flags;
	fh->writable = is_writable(flags);
	mc_file_ref(f);
	f->openers++;
	if (fh->writable)
		f->writers++;
	return fh;
}

/* v->lock held: undo fh_new. */
void mc_fh_drop(struct vfs *v, struct vfs_file *fh)
{
	struct mc_file *f = fh->file;

	f->openers--;
	if (fh->writable)
		f->writers--;
	if (f->openers == 0 && f->node && f->refs == 2 && !f->queued && !mc_file_dirty(f) &&
	    (!f->whole || f->stale))
		mc_file_drop(v, f); /* nothing worth keeping: the node forgets it */
	else
		mc_lru_update(v, f);
	mc_file_unref(v, f);
	mc_stream_free(fh->sm);
	free(fh);
}

/* O_TRUNC: an empty local copy based on the remote version, no download. */
static int open_trunc(struct vfs *v, struct vfs_file *fh, const char *path, int local)
{
	struct mc_file *f = fh->file;
	struct az_stat st;
	struct mc_node *n;
	int rc, fresh;

	pthread_mutex_lock(&v->lock);
	n = f->node;
	fresh = n && mc_fresh(n->attr_at, v->o.attr_timeout_ms);
	pthread_mutex_unlock(&v->lock);
	if (!local && !fresh) {
		rc = mc_revalidate(v, path, &st);
		if (rc < 0 && !mc_is_net_err(rc))
			return rc; /* -ENOENT: deleted by another node meanwhile */
	}
	pthread_rwlock_wrlock(&f->data_lock);
	pthread_mutex_lock(&v->lock);
	n = f->node;
	if (!local && n && !mc_file_dirty(f)) {
		if (n->remote)
			mc_base_from_stat(&f->base, &n->st, n->attr_at);
		else
			memset(&f->base, 0, sizeof(f->base));
		if (!f->base.remote)
			f->base.valid_at = n->attr_at;
	}
	pthread_mutex_unlock(&v->lock);
	rc = mc_file_make_empty(v, f);
	pthread_rwlock_unlock(&f->data_lock);
	return rc;
}

/* In a small directory not listed within conflict_slack_ms, the open's one
 * request is a listing rather than a HEAD: it tells as much about this file,
 * refreshes its siblings, and confirms that new names are free (a save that
 * creates ".~name" next needs no check of its own). Listed recently: a HEAD
 * (listings are the heavier request). 1 = not applicable, else 0 / -errno. */
static int revalidate_by_listing(struct vfs *v, struct vfs_file *fh, const char *path)
{
	struct mc_node *p;
	char pp[4096];
	int rc = 1;

	if (mc_path_parent(path, pp, sizeof(pp)) < 0)
		return 1;
	pthread_mutex_lock(&v->lock);
	p = mc_node_find(v, pp);
	if (p && p->listed_at && !p->listing && p->nentries <= MC_SMALL_DIR &&
	    !mc_fresh(p->listed_at, v->o.conflict_slack_ms))
		rc = mc_dir_list(v, pp);
	if (rc == 0 && (fh->file->orphan || !fh->file->node || !fh->file->node->remote))
		rc = -ENOENT; /* deleted on the share */
	pthread_mutex_unlock(&v->lock);
	return rc == -EAGAIN ? 1 : rc;
}

/* v->lock held: write-back mode (or nocto), and fh's attributes are fresh. */
static int open_trusts_attrs(const struct vfs *v, const struct vfs_file *fh)
{
	const struct mc_node *n = fh->file->node;

	return (v->o.writeback_delay_ms > 0 || v->o.nocto) && n && n->remote && !fh->file->stale &&
	       fh->file->whole && mc_fresh(n->attr_at, v->o.attr_timeout_ms);
}

/* A cached clean copy: one request tells whether it is still current. */
static int open_revalidate(struct vfs *v, struct vfs_file *fh, const char *path)
{
	struct az_stat st;
	int rc, skip;

	pthread_mutex_lock(&v->lock);
	/* the share is down: serve the copy without waiting. Close-to-open:
	 * otherwise always ask: even a listing a moment ago may predate
	 * another node's close that happened before this open started.
	 * Write-back mode promises other nodes' changes only after their
	 * delay, so there attributes validated within attr_timeout are
	 * trusted (like NFS's actimeo with nocto, or cifs without a lease);
	 * the nocto option asks for the same in close-to-open mode. */
	skip = mc_offline_recent(v) || open_trusts_attrs(v, fh);
	pthread_mutex_unlock(&v->lock);
	if (skip) {
		fh->unchanged = 1;
		return 0;
	}
	rc = revalidate_by_listing(v, fh, path);
	if (rc == 1)
		rc = mc_revalidate(v, path, &st);
	if (rc == -ENOENT)
		return -ENOENT;
	if (rc < 0 && !mc_is_net_err(rc))
		return rc;
	pthread_mutex_lock(&v->lock);
	/* offline (rc < 0): serve the local copy as it is */
	fh->unchanged = rc < 0 || (!fh->file->stale && fh->file->whole);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

enum open_kind { OPEN_TRUNC, OPEN_LOCAL, OPEN_CACHED, OPEN_STREAM, OPEN_LAZY };

/* v->lock held. */
static enum open_kind open_kind(struct vfs *v, struct mc_node *n, int flags)
{
	struct mc_file *f = n->file;

	if ((flags & O_TRUNC) && is_writable(flags))
		return OPEN_TRUNC;
	if (mc_node_local(n))
		return OPEN_LOCAL;
	if (f && f->whole && !f->stale)
		return OPEN_CACHED;
	if (n->st.size > v->o.file_max_bytes)
		return OPEN_STREAM;
	return OPEN_LAZY;
}

/* v->lock held on entry, released on return. */
static int open_node(struct vfs *v, struct mc_node *n, const char *path, int flags,
		     struct vfs_file **out)
{
	enum open_kind kind = open_kind(v, n, flags);
	int local = mc_node_local(n), rc = 0;
	struct mc_file *f = mc_file_get(v, n);
	struct vfs_file *fh = f ? mc_fh_new(f, flags) : NULL;
	uint64_t size = n->st.size;

	pthread_mutex_unlock(&v->lock);
	if (!fh)
		return -ENOMEM;
	if (kind == OPEN_TRUNC)
		rc = open_trunc(v, fh, path, local);
	else if (kind == OPEN_LOCAL)
		fh->unchanged = 1;
	else if (kind == OPEN_CACHED)
		rc = open_revalidate(v, fh, path);
	else if (kind == OPEN_STREAM) {
		fh->stream = 1;
		fh->sm = mc_stream_new(size);
		rc = fh->sm ? 0 : -ENOMEM;
	}
	if (rc < 0) {
		pthread_mutex_lock(&v->lock);
		mc_fh_drop(v, fh);
		pthread_mutex_unlock(&v->lock);
		return rc;
	}
	*out = fh;
	return 0;
}

int vfs_open(struct vfs *v, const char *path_in, int flags, struct vfs_file **fh)
{
	struct mc_node *n;
	struct az_stat st;
	char path[4096];
	int rc;

	*fh = NULL;
	rc = mc_path_norm(path_in, path, sizeof(path));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->lock);
	rc = mc_lookup(v, path, &n);
	if (rc == -ENOENT && (flags & O_CREAT)) {
		struct vfs_want w = {.mask = 0};

		pthread_mutex_unlock(&v->lock);
		return vfs_create(v, path, flags, &w, fh);
	}
	if (rc == 0 && (flags & O_CREAT) && (flags & O_EXCL))
		rc = -EEXIST;
	if (rc == 0) {
		mc_node_attrs(v, n, &st);
		if (st.is_dir)
			rc = -EISDIR;
	}
	if (rc < 0) {
		pthread_mutex_unlock(&v->lock);
		return rc;
	}
	return open_node(v, n, path, flags, fh);
}

int vfs_file_unchanged(struct vfs_file *fh)
{
	return fh->unchanged;
}

ssize_t vfs_read(struct vfs *v, struct vfs_file *fh, void *buf, size_t size, uint64_t off)
{
	struct mc_file *f = fh->file;
	ssize_t n = -EIO;
	int attempt, ok;

	if (fh->stream)
		return mc_stream_read(v, fh, buf, size, off);
	for (attempt = 0; attempt < 3; attempt++) {
		pthread_rwlock_rdlock(&f->data_lock);
		pthread_mutex_lock(&v->lock);
		ok = f->whole && !f->stale;
		pthread_mutex_unlock(&v->lock);
		if (ok) {
			n = mc_file_read(v, f, buf, size, off);
			pthread_rwlock_unlock(&f->data_lock);
			return n;
		}
		pthread_rwlock_unlock(&f->data_lock);
		pthread_rwlock_wrlock(&f->data_lock);
		n = mc_file_ensure(v, f);
		pthread_rwlock_unlock(&f->data_lock);
		if (n < 0)
			return n;
	}
	return n;
}

ssize_t vfs_write(struct vfs *v, struct vfs_file *fh, const void *buf, size_t size, uint64_t off)
{
	struct mc_file *f = fh->file;
	ssize_t n;

	if (!fh->writable)
		return -EBADF;
	if (fh->stream)
		return mc_stream_write(v, fh, buf, size, off);
	pthread_rwlock_wrlock(&f->data_lock);
	n = mc_file_write(v, f, buf, size, off);
	pthread_rwlock_unlock(&f->data_lock);
	return n;
}

/* Does f hold data (or, with attrs, a deferred attribute change) the share
 * has not got? */
static int needs_upload(struct vfs *v, struct mc_file *f, int attrs)
{
	int r;

	pthread_mutex_lock(&v->lock);
	r = (mc_file_dirty(f) || (attrs && f->pend.mask)) && !f->orphan && f->node;
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* Write-back close: journal durably, queue the upload. */
static int wb_accept(struct vfs *v, struct mc_file *f)
{
	int rc = 0, offline, skip;

	pthread_mutex_lock(&f->up_lock);
	pthread_mutex_lock(&v->lock);
	skip = f->journaled && f->jn_gen == f->gen;
	pthread_mutex_unlock(&v->lock);
	if (!skip)
		rc = jn_file(v, f);
	pthread_mutex_lock(&v->lock);
	if (rc == 0) {
		f->wb_closed_at = mc_now();
		wbc_enqueue(v, f, f->wb_closed_at + wbc_hold_us(v));
	}
	offline = v->offline;
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&f->up_lock);
	if (rc == 0 && offline && !v->o.offline_writes) {
		az_err("share unreachable: write refused (offline_writes is off); the data is "
		       "kept in the journal and uploaded when the share is back");
		rc = -EIO;
	}
	return rc;
}

/* Upload now (close-to-open flush, fsync); keep the data on failure. */
static int upload_now(struct vfs *v, struct mc_file *f)
{
	int rc = mc_upload(v, f, 0);

	if (rc == 0)
		return 0;
	pthread_mutex_lock(&f->up_lock);
	mc_upload_failed(v, f, rc);
	pthread_mutex_unlock(&f->up_lock);
	pthread_mutex_lock(&v->lock);
	if (f->node)
		az_err("upload of '%s' failed: %s; the data is kept in the journal", f->node->path,
		       strerror(-rc));
	pthread_mutex_unlock(&v->lock);
	return rc;
}

int vfs_flush(struct vfs *v, struct vfs_file *fh)
{
	if (fh->stream)
		return mc_stream_flush(v, fh);
	if (!fh->writable || !needs_upload(v, fh->file, 0))
		return 0;
	if (v->o.writeback_delay_ms > 0)
		return wb_accept(v, fh->file);
	return upload_now(v, fh->file);
}

int vfs_fsync(struct vfs *v, struct vfs_file *fh)
{
	int rc;

	if (fh->stream)
		return mc_stream_flush(v, fh);
	if (!needs_upload(v, fh->file, 1))
		return 0;
	rc = upload_now(v, fh->file);
	if (rc < 0 && mc_is_net_err(rc) && v->o.writeback_delay_ms > 0 && v->o.offline_writes) {
		pthread_mutex_lock(&v->lock);
		rc = fh->file->journaled ? 0 : rc;
		pthread_mutex_unlock(&v->lock);
		if (rc == 0)
			az_warn("share unreachable: fsync kept the data in the journal "
				"(offline_writes); it is uploaded when the share is back");
	}
	return rc;
}

int mc_persist(struct vfs *v, struct mc_file *f)
{
	if (v->o.writeback_delay_ms > 0)
		return wb_accept(v, f);
	return upload_now(v, f);
}

int vfs_release(struct vfs *v, struct vfs_file *fh)
{
	struct mc_file *f = fh->file;
	int rc = 0, orphan_dirty;

	if (fh->stream)
		rc = mc_stream_flush(v, fh);
	pthread_mutex_lock(&v->lock);
	orphan_dirty = fh->writable && f->writers == 1 && mc_file_dirty(f) && !f->orphan &&
		       f->node && !f->queued;
	pthread_mutex_unlock(&v->lock);
	if (orphan_dirty) {
		/* closed without a successful flush: keep it and retry later */
		pthread_mutex_lock(&f->up_lock);
		jn_file(v, f);
		pthread_mutex_unlock(&f->up_lock);
		pthread_mutex_lock(&v->lock);
		wbc_enqueue(v, f, mc_now() + MC_US(wbc_backoff_ms(v, 0)));
		pthread_mutex_unlock(&v->lock);
	}
	/* outside v->lock: it waits for the handle's reads ahead in flight */
	mc_stream_free(fh->sm);
	fh->sm = NULL;
	pthread_mutex_lock(&v->lock);
	mc_fh_drop(v, fh);
	mc_evict(v, 0);
	pthread_mutex_unlock(&v->lock);
	return rc;
}
