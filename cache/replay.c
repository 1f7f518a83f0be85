/* replay.c: uploading the journal of a previous mount, at vfs_init.
 *
 * Directory records (write-back mkdirs not yet on the share, pendir.c) go
 * first, parents before children; a missing parent without a record of its
 * own is made with the mount's default attributes. Every other record in
 * cache_dir/journal names a data file and a share path. A
 * record whose upload had finished (the share holds exactly its size and
 * mtime, see already_uploaded) is dropped; any other is adopted as a dirty
 * local file and uploaded right away with the
 * conflict check (its base was validated by a previous process, so the
 * check asks the share, unless already_uploaded's HEAD just found the
 * share on that base). On success the record goes and the copy
 * stays as a clean cached file. On a transport error with offline_writes
 * the file stays queued for the workers; without offline_writes vfs_init
 * fails (the share is down; the record is kept for the next mount). Any
 * other failure is logged and the file is queued for retries; its record
 * stays until an upload succeeds. Afterwards, data files no record refers
 * to (clean copies of a previous mount) are removed.
 * An attributes-only record (a deferred chmod/chown/utimens, attrdefer.c)
 * is applied with one HEAD and one setattr, and only if the share still
 * holds the version it was made on (else it is dropped with a log line: the
 * newer version's attributes stand). On a transport error it stays for the
 * next mount.
 *
 * Threads: runs in vfs_init before the mount serves anything (workers are
 * already running, for retries).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "evict.h"
#include "filecache.h"
#include "journal.h"
#include "nodes.h"
#include "replay.h"
#include "upload.h"
#include "writeback.h"

struct replay {
	uint64_t *ids; /* data files to keep */
	size_t n, cap;
	int fatal; /* first error that fails vfs_init */
	int done, failed;
};

static int keep_id(struct replay *rp, uint64_t id)
{
	if (rp->n == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 32;
		uint64_t *nv = realloc(rp->ids, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		rp->ids = nv;
		rp->cap = cap;
	}
	rp->ids[rp->n++] = id;
	return 0;
}

/* v->lock held: a dirty file for r, attached to its path. */
static struct mc_file *adopt(struct vfs *v, const struct jn_rec *r, int fd, uint64_t size)
{
	struct mc_node *n = mc_node_get(v, r->path);
	struct mc_file *f;

	if (!n || n->file)
		return NULL; /* two records for one path: the next mount takes it */
	f = mc_file_new(v, r->id);
	if (!f)
		return NULL;
	f->fd = fd;
	f->whole = 1;
	f->node = n;
	n->file = f;
	f->base = r->base;
	f->base.valid_at = 0; /* check the share (replay_one may know better) */
	f->lst.size = size;
	f->lst.has_owner = r->has_owner;
	f->lst.mode = r->mode;
	f->lst.uid = r->uid;
	f->lst.gid = r->gid;
	f->lst.mtime = r->mtime;
	f->lst.ctime = r->mtime;
	f->gen = 1;
	f->clean_gen = 0;
	f->journaled = 1;
	f->jn_gen = 1;
	mc_acct_set(v, f, size);
	return f;
}

/* The data file of r; *size is what it holds now: writes after the record
 * (the file was open again when the daemon died) are the newest state. */
static int open_record_data(struct vfs *v, const struct jn_rec *r, int *fd, uint64_t *size)
{
	char path[4200];
	struct stat sb;

	mc_file_data_path(v, r->id, path, sizeof(path));
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, &sb) < 0) {
		int rc = -errno;

		close(*fd);
		*fd = -1;
		return rc;
	}
	*size = (uint64_t)sb.st_size;
	if (*size != r->size)
		az_warn("journal record for '%s': data is %llu bytes, recorded %llu; uploading "
			"what is there",
			r->path, (unsigned long long)*size, (unsigned long long)r->size);
	return 0;
}

/* After the upload attempt of f (v->lock held). */
static void settle(struct vfs *v, struct replay *rp, struct mc_file *f, int rc, const char *path)
{
	if (rc == 0) {
		rp->done++;
		mc_file_unref(v, f); /* our reference; the node keeps the clean copy */
		return;
	}
	rp->failed++;
	if (mc_is_net_err(rc) && !v->o.offline_writes && !rp->fatal)
		rp->fatal = rc;
	az_err("journal replay: upload of '%s' failed: %s; kept in the journal", path,
	       strerror(-rc));
	wbc_enqueue(v, f, mc_now() + MC_US(wbc_backoff_ms(v, 0)));
	mc_file_unref(v, f);
}

/* An attributes-only record: the change, if the share still holds the
 * version it was made on. */
static int replay_attrs(struct vfs *v, const struct jn_rec *r, struct replay *rp)
{
	struct vfs_want w;
	struct az_stat st;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = mc_note(v, v->be.stat(v->be.ctx, r->path, &st));
	if (rc == 0 && !st.is_dir && mc_base_matches(&r->base, &st)) {
		memset(&w, 0, sizeof(w));
		w.mask = r->attrs | VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_KNOWN_SIZE;
		w.mode = (r->mode & 07777) | S_IFREG;
		w.uid = r->uid;
		w.gid = r->gid;
		w.mtime = (r->attrs & VFS_SET_MTIME) ? r->mtime : st.mtime;
		w.size = st.size;
		rc = mc_note(v, v->be.setattr(v->be.ctx, r->path, 0, &w, &st));
	} else if (rc == 0 || rc == -ENOENT) {
		az_warn("journal replay: '%s' changed on the share meanwhile; its pending "
			"attribute change is dropped",
			r->path);
		rc = 0;
	}
	if (rc < 0 && mc_is_net_err(rc)) {
		rp->failed++;
		if (!v->o.offline_writes && !rp->fatal)
			rp->fatal = rc;
		az_err("journal replay: attribute change of '%s' failed: %s; kept in the journal",
		       r->path, strerror(-rc));
		return 0;
	}
	if (rc < 0)
		az_err("journal replay: attribute change of '%s' failed: %s; dropped", r->path,
		       strerror(-rc));
	else
		rp->done++;
	jn_remove(v, r->id);
	return 0;
}

/* Did this record's upload finish before the crash (its removal was not
 * synced yet, journal_sync_ms > 0)? The share then holds exactly the
 * record's size and mtime (the upload set it; the service keeps 100 ns)
 * and a version other than the record's base. One HEAD; when it shows the
 * share still on the record's base, *valid_at says when, and the upload's
 * conflict check need not ask again. */
static int already_uploaded(struct vfs *v, const struct jn_rec *r, uint64_t size, int64_t *valid_at)
{
	struct az_stat st;
	int64_t t0 = mc_now();

	*valid_at = 0;
	if (size != r->size)
		return 0; /* written again after the record: upload what is there */
	memset(&st, 0, sizeof(st));
	if (mc_note(v, v->be.stat(v->be.ctx, r->path, &st)) < 0 || st.is_dir)
		return 0;
	if (mc_base_matches(&r->base, &st)) {
		*valid_at = t0;
		return 0;
	}
	return st.size == r->size && st.mtime.tv_sec == r->mtime.tv_sec &&
	       st.mtime.tv_nsec / 100 == r->mtime.tv_nsec / 100;
}

static int replay_one(struct vfs *v, const struct jn_rec *r, void *arg)
{
	struct replay *rp = arg;
	struct mc_file *f;
	uint64_t size = 0;
	int64_t valid_at;
	int fd = -1, rc;

	if (r->attrs & JN_DIR)
		return 0; /* the first pass made it */
	if (r->attrs)
		return replay_attrs(v, r, rp);

	rc = open_record_data(v, r, &fd, &size);
	if (rc < 0) {
		az_err("journal record %llu for '%s' has no usable data (%s); dropped",
		       (unsigned long long)r->id, r->path, strerror(-rc));
		jn_remove(v, r->id);
		return 0;
	}
	if (already_uploaded(v, r, size, &valid_at)) {
		az_info("journal replay: '%s' is on the share already (its upload finished "
			"before the daemon stopped)",
			r->path);
		close(fd);
		jn_remove(v, r->id);
		return 0;
	}
	if (keep_id(rp, r->id) < 0) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&v->lock);
	f = adopt(v, r, fd, size);
	if (f) {
		mc_file_ref(f);
		f->base.valid_at = valid_at; /* 0: the upload's check asks the share */
	}
	pthread_mutex_unlock(&v->lock);
	if (!f) {
		close(fd);
		return 0;
	}
	rc = mc_upload(v, f, 0);
	pthread_mutex_lock(&v->lock);
	settle(v, rp, f, rc, r->path);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static int kept(const struct replay *rp, uint64_t id)
{
	size_t i;

	for (i = 0; i < rp->n; i++)
		if (rp->ids[i] == id)
			return 1;
	return 0;
}

/* Removes data files of a previous mount that no record needs. */
static void sweep_data(struct vfs *v, const struct replay *rp)
{
	DIR *d = opendir(v->data_dir);
	struct dirent *de;
	char path[4200], *end;
	unsigned long long id;

	if (!d)
		return;
	for (de = readdir(d); de; de = readdir(d)) {
		if (de->d_name[0] == '.')
			continue;
		id = strtoull(de->d_name, &end, 10);
		if (*end == '\0' && end != de->d_name && kept(rp, id))
			continue;
		snprintf(path, sizeof(path), "%s/%s", v->data_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

uint64_t mc_replay_max_id(struct vfs *v)
{
	const char *dirs[2] = {v->data_dir, v->jn_dir};
	unsigned long long id, max = 0;
	struct dirent *de;
	char *end;
	int i;

	for (i = 0; i < 2; i++) {
		DIR *d = opendir(dirs[i]);

		for (de = d ? readdir(d) : NULL; de; de = readdir(d)) {
			id = strtoull(de->d_name, &end, 10);
			if (end != de->d_name && id > max)
				max = id;
		}
		if (d)
			closedir(d);
	}
	return max;
}

/* ---- directories made in write-back mode (pendir.c), before files ---- */

struct dir_recs {
	struct jn_rec *r;
	size_t n, cap;
};

static int collect_dir(struct vfs *v, const struct jn_rec *r, void *arg)
{
	struct dir_recs *d = arg;

	(void)v;
	if (!(r->attrs & JN_DIR))
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct jn_rec *nr = realloc(d->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		d->r = nr;
		d->cap = cap;
	}
	d->r[d->n++] = *r;
	return 0;
}

static int depth(const char *p)
{
	int n = 0;

	for (; *p; p++)
		n += *p == '/';
	return n;
}

static int by_depth(const void *a, const void *b)
{
	return depth(((const struct jn_rec *)a)->path) - depth(((const struct jn_rec *)b)->path);
}

/* Makes directory path with w; when its parent is missing too (its own
 * record was lost, or it never had one), the parents first, with the
 * mount's default attributes. */
static int mkdir_p(struct vfs *v, const char *path, const struct vfs_want *w)
{
	struct vfs_want dw;
	struct az_stat st;
	char pp[4096];
	int rc = v->real.mkdir(v->real.ctx, path, w, &st);

	if (rc != -ENOENT || mc_path_parent(path, pp, sizeof(pp)) < 0 || !pp[0])
		return rc;
	memset(&dw, 0, sizeof(dw));
	dw.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID;
	dw.mode = S_IFDIR | (v->o.default_dir_mode & 07777);
	dw.uid = v->o.default_uid;
	dw.gid = v->o.default_gid;
	rc = mkdir_p(v, pp, &dw);
	if (rc == 0 || rc == -EEXIST)
		rc = v->real.mkdir(v->real.ctx, path, w, &st);
	return rc;
}

static void replay_dir(struct vfs *v, const struct jn_rec *r, struct replay *rp)
{
	struct vfs_want w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_SET_MTIME;
	w.mode = S_IFDIR | (r->mode & 07777);
	w.uid = r->uid;
	w.gid = r->gid;
	w.mtime = r->mtime;
	rc = mc_note(v, mkdir_p(v, r->path, &w));
	if (rc == -EEXIST)
		rc = 0; /* made by an earlier replay, or elsewhere: its attributes stand */
	if (rc < 0 && mc_is_net_err(rc)) {
		rp->failed++;
		if (!v->o.offline_writes && !rp->fatal)
			rp->fatal = rc;
		az_err("journal replay: directory '%s' not made: %s; kept in the journal", r->path,
		       strerror(-rc));
		return;
	}
	if (rc < 0)
		az_err("journal replay: directory '%s' not made: %s; dropped", r->path,
		       strerror(-rc));
	else
		rp->done++;
	jn_remove(v, r->id);
}

static int replay_dirs(struct vfs *v, struct replay *rp)
{
	struct dir_recs d = {0};
	int rc = jn_scan(v, collect_dir, &d);
	size_t i;

	if (rc == 0 && d.n)
		qsort(d.r, d.n, sizeof(*d.r), by_depth);
	for (i = 0; rc == 0 && i < d.n; i++)
		replay_dir(v, &d.r[i], rp);
	free(d.r);
	return rc;
}

int mc_replay(struct vfs *v)
{
	struct replay rp = {0};
	int rc = replay_dirs(v, &rp);

	if (rc == 0)
		rc = jn_scan(v, replay_one, &rp);

	if (rc == 0)
		sweep_data(v, &rp);
	if (rp.done || rp.failed)
		az_info("journal replay: %d file(s) uploaded, %d pending", rp.done, rp.failed);
	free(rp.ids);
	return rc < 0 ? rc : rp.fatal;
}
