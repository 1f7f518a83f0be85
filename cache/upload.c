/* upload.c: publishing a dirty file to the share, with the conflict check.
 *
 * mc_upload() snapshots the file (path, gen, base version, size, mode,
 * owner, mtime), checks the remote version (backend->stat) unless this node
 * validated the base within conflict_slack_ms, then calls backend->upload,
 * which publishes atomically (docs/DESIGN.md); the cache never sends
 * partial data. If the remote moved since the base (or a new file's name
 * appeared meanwhile), the data goes to "NAME.conflict-<host>-<stamp>"
 * beside it, an error line names both paths, the remote file is kept, and
 * the local copy follows the remote version (stale: re-downloaded on the
 * next read).
 *
 * Threads: FUSE threads (flush, fsync, rename, sync_all) and write-back
 * workers. Locks: v->ns_lock shared, then f->up_lock (one upload of a file
 * at a time), then f->data_lock shared for the whole check + upload, so no
 * write can change the data or gen meanwhile; v->lock only for snapshots
 * and the result.
 * Invariant: f is marked clean (clean_gen = gen uploaded) only after the
 * backend confirmed the upload; its journal record is removed only then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "azsharefs/log.h"
#include "attrdefer.h"
#include "dircache.h"
#include "evict.h"
#include "filecache.h"
#include "journal.h"
#include "nodes.h"
#include "upload.h"
#include "writeback.h"

struct up_snap {
	char path[4096];
	uint64_t gen;
	uint64_t size;
	struct mc_base base;
	struct vfs_want want;
	int is_new; /* no remote version was ever seen */
	/* a new name's "absent" must be learnt after this (its last
	 * write-back close; 0 in close-to-open mode) */
	int64_t check_after;
};

int mc_conflict_name(const struct vfs *v, const char *path, int seq, char *buf, size_t len)
{
	struct tm tm;
	time_t now = time(NULL);
	char stamp[32];
	int n;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	if (seq > 0)
		n = snprintf(buf, len, "%s.conflict-%s-%s-%d", path, v->host, stamp, seq);
	else
		n = snprintf(buf, len, "%s.conflict-%s-%s", path, v->host, stamp);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* v->lock held. 0 = snapshot taken, 1 = nothing to do. The want always
 * carries mode and owner (the mount defaults for a file not ours), so the
 * backend never has to ask the share for them. */
static int snapshot(const struct vfs *v, struct mc_file *f, struct up_snap *s)
{
	struct az_stat own;

	if (f->orphan || !f->node || !mc_file_dirty(f) || !f->whole)
		return 1;
	snprintf(s->path, sizeof(s->path), "%s", f->node->path);
	s->gen = f->gen;
	s->size = f->lst.size;
	s->base = f->base;
	s->check_after = v->o.writeback_delay_ms > 0 ? f->wb_closed_at : 0;
	memset(&s->want, 0, sizeof(s->want));
	s->want.mask = VFS_SET_MTIME | VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID;
	s->want.mtime = f->lst.mtime;
	s->want.size = f->lst.size;
	own = f->lst;
	own.is_dir = 0;
	mc_fill_owner(v, &own);
	s->want.mode = (own.mode & ~(mode_t)S_IFMT) | S_IFREG;
	s->want.uid = own.uid;
	s->want.gid = own.gid;
	return 0;
}

/* v->lock held: does p's listing answer for s's name? One that answered
 * within conflict_slack_ms and, in write-back mode, was asked for after the
 * file's last close: a name another node made before the upload started
 * must not be overwritten just because a listing from before our close
 * was still within the slack (one in flight may have started earlier). */
static int listing_serves(const struct vfs *v, const struct mc_node *p, const struct up_snap *s)
{
	return !p->listing && mc_fresh(mc_listing_done(p), v->o.conflict_slack_ms) &&
	       p->listed_at >= s->check_after;
}

/* A new file's name: while its directory lists in two pages, one listing
 * confirms the name is still free, for every other new name there as well
 * (an untar or a burst of creates costs one request per conflict_slack_ms,
 * not one per file). Returns 1 when not applicable (then a HEAD decides). */
static int check_new_by_listing(struct vfs *v, const struct up_snap *s, int *conflict,
				struct az_stat *rst, int *have_rst)
{
	struct mc_node *p, *n;
	char pp[4096];
	int rc = 1;

	if (mc_path_parent(s->path, pp, sizeof(pp)) < 0)
		return 1;
	pthread_mutex_lock(&v->lock);
	p = mc_node_find(v, pp);
	if (p && p->listed_at && p->nentries < MC_LIST_CHEAP) {
		/* listed within conflict_slack_ms: that answer is the check (as
		 * for a base validated that recently); one in flight: wait for
		 * it rather than send a HEAD per file (16 workers upload one
		 * directory's files at once) */
		rc = 0;
		for (int i = 0; i < 2 && rc == 0 && !listing_serves(v, p, s); i++) {
			rc = mc_dir_list(v, pp);
			p = mc_node_find(v, pp);
			if (!p)
				rc = -EAGAIN;
		}
	}
	if (rc == 0) {
		n = mc_node_find(v, s->path);
		if (n && n->remote) {
			*rst = n->st;
			*have_rst = 1;
			*conflict = 1;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return rc == -EAGAIN ? 1 : rc;
}

/* Is the remote still the version we are based on? Sets *conflict and,
 * when the share answered, rst and have_rst. */
static int check_remote(struct vfs *v, const struct up_snap *s, int *conflict, struct az_stat *rst,
			int *have_rst)
{
	int rc;

	*conflict = 0;
	*have_rst = 0;
	if (mc_fresh(s->base.valid_at, v->o.conflict_slack_ms) &&
	    (s->base.remote || s->base.valid_at >= s->check_after))
		return 0; /* validated recently enough (docs/DESIGN.md) */
	memset(rst, 0, sizeof(*rst));
	if (!s->base.remote) {
		rc = check_new_by_listing(v, s, conflict, rst, have_rst);
		if (rc <= 0)
			return rc;
	}
	rc = mc_note(v, v->be.stat(v->be.ctx, s->path, rst));
	if (rc == -ENOENT) {
		if (s->base.remote)
			az_warn("'%s' was deleted on the share meanwhile; uploading it again",
				s->path);
		return 0;
	}
	if (rc < 0)
		return rc;
	*have_rst = 1;
	if (!s->base.remote || rst->is_dir || !mc_base_matches(&s->base, rst))
		*conflict = 1;
	return 0;
}

/* A free conflict name beside s->path (one stat per candidate). */
static int pick_conflict_name(struct vfs *v, const char *path, char *buf, size_t len)
{
	struct az_stat st;
	int seq, rc;

	for (seq = 0; seq < 100; seq++) {
		rc = mc_conflict_name(v, path, seq, buf, len);
		if (rc < 0)
			return rc;
		rc = mc_note(v, v->be.stat(v->be.ctx, buf, &st));
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
	}
	return -EEXIST;
}

static void merge_result(struct mc_file *f, const struct az_stat *st, uint64_t size)
{
	struct az_stat keep = f->lst;

	f->lst = *st;
	f->lst.is_dir = 0;
	f->lst.size = size;
	if (st->mtime.tv_sec == 0 && st->mtime.tv_nsec == 0)
		f->lst.mtime = keep.mtime;
	if (!st->has_owner && keep.has_owner) {
		f->lst.has_owner = 1;
		f->lst.mode = keep.mode;
		f->lst.uid = keep.uid;
		f->lst.gid = keep.gid;
	}
}

/* v->lock held: the upload of s succeeded (to s->path). */
static void done_ok(struct vfs *v, struct mc_file *f, const struct up_snap *s,
		    const struct az_stat *st)
{
	int64_t now = mc_now();

	f->clean_gen = s->gen;
	f->upload_err = 0;
	f->up_at = now;
	f->pend.mask = 0; /* the upload carried mode, owner and mtime */
	merge_result(f, st, s->size);
	mc_base_from_stat(&f->base, &f->lst, now);
	if (f->node) {
		f->node->remote = 1;
		f->node->st = f->lst;
		f->node->attr_at = now;
	}
	mc_lru_update(v, f);
	mc_evict(v, 0);
}

/* v->lock held: our data went to cname; the remote (rst) wins locally. */
static void done_conflict(struct vfs *v, struct mc_file *f, const struct up_snap *s,
			  const char *cname, const struct az_stat *cst, const struct az_stat *rst,
			  int have_rst)
{
	struct mc_node *cn = mc_node_get(v, cname);
	int64_t now = mc_now();

	az_err("conflict: '%s' changed on the share since this node read it; this node's "
	       "version was saved as '%s' and the share's version kept",
	       s->path, cname);
	if (cn) {
		cn->remote = 1;
		cn->st = *cst;
		cn->attr_at = now;
	}
	f->clean_gen = s->gen;
	f->upload_err = 0;
	if (have_rst && !rst->is_dir) {
		mc_file_set_remote(v, f, rst);
		f->stale = 1; /* next read downloads the share's version */
	} else if (f->node) {
		if (have_rst) {
			f->node->remote = 1;
			f->node->st = *rst;
			f->node->attr_at = now;
		}
		mc_file_detach(v, f); /* a directory took the name */
	}
}

/* The check and the upload, with up_lock and data_lock held. */
static int upload_locked(struct vfs *v, struct mc_file *f)
{
	struct up_snap *s = malloc(sizeof(*s));
	struct az_stat st, rst;
	char cname[4200];
	int rc, conflict = 0, have_rst = 0;

	if (!s)
		return -ENOMEM;
	pthread_mutex_lock(&v->lock);
	rc = snapshot(v, f, s);
	pthread_mutex_unlock(&v->lock);
	if (rc == 1) {
		rc = 0;
		goto out;
	}
	rc = check_remote(v, s, &conflict, &rst, &have_rst);
	if (rc == 0 && conflict)
		rc = pick_conflict_name(v, s->path, cname, sizeof(cname));
	if (rc == 0) {
		memset(&st, 0, sizeof(st));
		rc = mc_note(v, v->be.upload(v->be.ctx, conflict ? cname : s->path, f->fd, s->size,
					     &s->want, &st));
	}
	pthread_mutex_lock(&v->lock);
	if (rc == 0 && conflict)
		done_conflict(v, f, s, cname, &st, &rst, have_rst);
	else if (rc == 0)
		done_ok(v, f, s, &st);
	else
		f->upload_err = rc;
	pthread_mutex_unlock(&v->lock);
out:
	free(s);
	return rc;
}

int mc_upload(struct vfs *v, struct mc_file *f, unsigned flags)
{
	int rc, journaled;

	if (!(flags & MC_UP_NS_HELD))
		pthread_rwlock_rdlock(&v->ns_lock);
	if (!(flags & MC_UP_LOCK_HELD))
		pthread_mutex_lock(&f->up_lock);
	pthread_rwlock_rdlock(&f->data_lock);
	rc = upload_locked(v, f);
	pthread_rwlock_unlock(&f->data_lock);
	if (rc == 0)
		rc = mc_attrs_apply(v, f); /* a deferred attribute change of a clean file */
	pthread_mutex_lock(&v->lock);
	journaled = f->journaled && ((!mc_file_dirty(f) && !f->pend.mask) || f->orphan);
	if (journaled)
		f->journaled = 0;
	pthread_mutex_unlock(&v->lock);
	if (journaled)
		jn_remove(v, f->id);
	if (!(flags & MC_UP_LOCK_HELD))
		pthread_mutex_unlock(&f->up_lock);
	if (!(flags & MC_UP_NS_HELD))
		pthread_rwlock_unlock(&v->ns_lock);
	return rc;
}

void mc_upload_failed(struct vfs *v, struct mc_file *f, int rc)
{
	int need;

	pthread_mutex_lock(&v->lock);
	need = (mc_file_dirty(f) || f->pend.mask) && !f->orphan && f->node;
	pthread_mutex_unlock(&v->lock);
	if (!need)
		return;
	jn_file(v, f);	/* logs its own failure; the data stays in memory regardless */
	jn_attrs(v, f); /* or the attribute change, when only that is pending */
	pthread_mutex_lock(&v->lock);
	if (mc_is_net_err(rc) || v->o.writeback_delay_ms > 0)
		wbc_enqueue(v, f, mc_now() + MC_US(wbc_backoff_ms(v, f->retries)));
	pthread_mutex_unlock(&v->lock);
}
