/* filecache.c: local whole-file copies of small files.
 *
 * Owns struct mc_file objects and their data files cache_dir/data/<id>
 * (0600). A file object is created when a file is opened or created and
 * lives while its node, a handle, the write-back queue or a worker holds a
 * reference (refs). Writes land in the data file and bump gen; the file is
 * dirty until an upload of that gen succeeds (clean_gen, upload.c).
 *
 * Threads: any FUSE thread and the write-back workers. Locks: v->lock for
 * metadata (see vfs_int.h), f->data_lock for the data file: exclusive for
 * write/truncate/download, shared for reads and uploads. Functions below
 * say which they expect; v->lock is taken inside, briefly, never across the
 * backend download.
 * Invariants: whole == 1 means fd holds the complete current content;
 * a dirty file is never stale and never evicted; an orphaned file is never
 * uploaded and has no journal record. A file's data and journal survive its
 * object only when it is dirty, journaled and not orphaned (vfs_free before
 * the share took it: the next mount replays it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "evict.h"
#include "filecache.h"
#include "journal.h"
#include "writeback.h"

void mc_file_data_path(const struct vfs *v, uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%llu", v->data_dir, (unsigned long long)id);
}

struct mc_file *mc_file_new(struct vfs *v, uint64_t id)
{
	struct mc_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->id = id;
	f->fd = -1;
	f->refs = 1;
	pthread_mutex_init(&f->up_lock, NULL);
	pthread_rwlock_init(&f->data_lock, NULL);
	if (id >= v->next_id)
		v->next_id = id + 1;
	return f;
}

struct mc_file *mc_file_get(struct vfs *v, struct mc_node *n)
{
	struct mc_file *f;

	if (n->file)
		return n->file;
	f = mc_file_new(v, v->next_id);
	if (!f)
		return NULL;
	f->node = n;
	if (n->remote) {
		f->lst = n->st;
		mc_base_from_stat(&f->base, &n->st, n->attr_at);
	}
	n->file = f;
	return f;
}

void mc_file_ref(struct mc_file *f)
{
	f->refs++;
}

static void file_free(struct vfs *v, struct mc_file *f)
{
	char path[4096];
	int keep = f->journaled && (mc_file_dirty(f) || f->pend.mask) && !f->orphan;

	mc_lru_remove(v, f);
	if (f->fd >= 0)
		close(f->fd);
	if (!keep) {
		mc_file_data_path(v, f->id, path, sizeof(path));
		unlink(path);
		if (f->journaled)
			jn_remove(v, f->id);
	}
	mc_acct_set(v, f, 0);
	pthread_mutex_destroy(&f->up_lock);
	pthread_rwlock_destroy(&f->data_lock);
	free(f);
}

void mc_file_unref(struct vfs *v, struct mc_file *f)
{
	if (--f->refs > 0)
		return;
	file_free(v, f);
}

void mc_file_detach(struct vfs *v, struct mc_file *f)
{
	if (f->node && f->node->file == f)
		f->node->file = NULL;
	f->node = NULL;
	f->orphan = 1;
	mc_lru_remove(v, f);
	wbc_dequeue(v, f);
	if (f->journaled) {
		jn_remove(v, f->id);
		f->journaled = 0;
	}
	mc_file_unref(v, f);
}

void mc_file_drop(struct vfs *v, struct mc_file *f)
{
	if (f->node && f->node->file == f)
		f->node->file = NULL;
	f->node = NULL;
	mc_lru_remove(v, f);
	mc_file_unref(v, f);
}

int mc_file_dirty(const struct mc_file *f)
{
	return f->gen != f->clean_gen;
}

void mc_file_mark_dirty(struct vfs *v, struct mc_file *f)
{
	f->gen++;
	f->stale = 0;
	mc_lru_remove(v, f);
}

void mc_base_from_stat(struct mc_base *b, const struct az_stat *st, int64_t at)
{
	b->remote = 1;
	snprintf(b->etag, sizeof(b->etag), "%s", st->etag);
	b->size = st->size;
	b->mtime = st->mtime;
	b->valid_at = at;
}

int mc_base_matches(const struct mc_base *b, const struct az_stat *st)
{
	if (b->etag[0])
		return strcmp(b->etag, st->etag) == 0;
	return b->size == st->size && b->mtime.tv_sec == st->mtime.tv_sec &&
	       b->mtime.tv_nsec == st->mtime.tv_nsec;
}

void mc_file_set_remote(struct vfs *v, struct mc_file *f, const struct az_stat *st)
{
	int64_t now = mc_now();

	f->lst = *st;
	mc_base_from_stat(&f->base, st, now);
	f->stale = 0;
	if (f->node) {
		f->node->st = *st;
		f->node->remote = 1;
		f->node->attr_at = now;
	}
}

static int open_data(struct vfs *v, struct mc_file *f)
{
	char path[4096];

	if (f->fd >= 0)
		return 0;
	mc_file_data_path(v, f->id, path, sizeof(path));
	f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		int rc = -errno;

		az_err("cannot open cache file '%s': %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

static int is_nospc(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT;
}

/* Download into fd; data_lock exclusive. path is the file's path. */
static int download(struct vfs *v, struct mc_file *f, const char *path, struct az_stat *st)
{
	int rc, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (ftruncate(f->fd, 0) < 0)
			return -errno;
		rc = mc_note(v, v->be.download(v->be.ctx, path, f->fd, st));
		if (!is_nospc(rc) || attempt == 1)
			break;
		pthread_mutex_lock(&v->lock);
		mc_evict_all(v);
		pthread_mutex_unlock(&v->lock);
	}
	if (is_nospc(rc))
		az_err("cache dir '%s' is full: cannot download '%s'", v->cache_dir, path);
	return rc;
}

static void download_done(struct vfs *v, struct mc_file *f, int rc, const struct az_stat *st)
{
	if (rc == 0) {
		f->whole = 1;
		mc_file_set_remote(v, f, st);
		mc_acct_set(v, f, st->size);
		mc_evict(v, 0);
	} else if (rc == -ENOENT && f->node && !mc_file_dirty(f)) {
		struct mc_node *n = f->node;

		n->remote = 0; /* deleted on the share meanwhile */
		n->attr_at = mc_now();
		mc_file_detach(v, f);
	}
}

int mc_file_ensure(struct vfs *v, struct mc_file *f)
{
	struct az_stat st;
	char *path = NULL;
	int rc;

	pthread_mutex_lock(&v->lock);
	if (f->whole && !f->stale) {
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	if (f->node)
		path = strdup(f->node->path);
	pthread_mutex_unlock(&v->lock);
	if (!path)
		return f->orphan ? -ESTALE : -ENOMEM;
	rc = open_data(v, f);
	if (rc == 0) {
		memset(&st, 0, sizeof(st));
		rc = download(v, f, path, &st);
	}
	pthread_mutex_lock(&v->lock);
	download_done(v, f, rc, &st);
	pthread_mutex_unlock(&v->lock);
	free(path);
	return rc;
}

/* data_lock exclusive: the local copy truncated to nothing and whole; with
 * dirty, a new local version (size 0, mtime now) waiting for an upload. */
static int empty_copy(struct vfs *v, struct mc_file *f, int dirty)
{
	int rc = open_data(v, f);

	if (rc < 0)
		return rc;
	if (ftruncate(f->fd, 0) < 0)
		return -errno;
	pthread_mutex_lock(&v->lock);
	f->whole = 1;
	f->stale = 0;
	if (dirty) {
		f->lst.size = 0;
		mc_realtime(&f->lst.mtime);
		f->lst.ctime = f->lst.mtime;
	}
	mc_acct_set(v, f, 0);
	if (dirty)
		mc_file_mark_dirty(v, f);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int mc_file_make_empty(struct vfs *v, struct mc_file *f)
{
	return empty_copy(v, f, 1);
}

int mc_file_set_empty(struct vfs *v, struct mc_file *f)
{
	return empty_copy(v, f, 0);
}

static ssize_t pwrite_all(int fd, const void *buf, size_t size, uint64_t off)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pwrite(fd, (const char *)buf + done, size - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static void wrote(struct vfs *v, struct mc_file *f, uint64_t end)
{
	pthread_mutex_lock(&v->lock);
	if (end > f->lst.size)
		f->lst.size = end;
	mc_realtime(&f->lst.mtime);
	f->lst.ctime = f->lst.mtime;
	mc_acct_set(v, f, f->lst.size);
	mc_file_mark_dirty(v, f);
	pthread_mutex_unlock(&v->lock);
}

ssize_t mc_file_write(struct vfs *v, struct mc_file *f, const void *buf, size_t size, uint64_t off)
{
	ssize_t n;
	int rc = mc_file_ensure(v, f);

	if (rc < 0)
		return rc;
	n = pwrite_all(f->fd, buf, size, off);
	if (is_nospc((int)n)) {
		pthread_mutex_lock(&v->lock);
		rc = mc_evict_all(v);
		pthread_mutex_unlock(&v->lock);
		if (rc > 0)
			n = pwrite_all(f->fd, buf, size, off);
	}
	if (n < 0) {
		az_err("cannot write to cache dir '%s': %s (data not accepted)", v->cache_dir,
		       strerror((int)-n));
		return n;
	}
	if (n > 0)
		wrote(v, f, off + (uint64_t)n);
	return n;
}

int mc_file_truncate(struct vfs *v, struct mc_file *f, uint64_t size)
{
	int rc;

	if (size == 0)
		return mc_file_make_empty(v, f);
	rc = mc_file_ensure(v, f);
	if (rc < 0)
		return rc;
	if (ftruncate(f->fd, (off_t)size) < 0) {
		rc = -errno;
		az_err("cannot truncate in cache dir '%s': %s", v->cache_dir, strerror(-rc));
		return rc;
	}
	pthread_mutex_lock(&v->lock);
	f->lst.size = size;
	mc_realtime(&f->lst.mtime);
	f->lst.ctime = f->lst.mtime;
	mc_acct_set(v, f, size);
	mc_file_mark_dirty(v, f);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

ssize_t mc_file_read(struct vfs *v, struct mc_file *f, void *buf, size_t size, uint64_t off)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(f->fd, (char *)buf + done, size - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}
