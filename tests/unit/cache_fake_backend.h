/* cache_fake_backend.h: an in-memory share behind struct vfs_backend, for
 * the cache's unit tests (test_cache_*.c). Header-only: every test program
 * includes it once.
 *
 * It counts requests per operation (a listing counts one request per 5,000
 * entries, like the service's pages), fails on demand (fail_next[op] once,
 * or fail_all for an outage), can be "changed by another node" (fb_put on a
 * path gives it a new ETag) and can slow uploads down to observe parallel
 * workers. Thread-safe (the cache's workers call it).
 */
#ifndef AZSF_TEST_CACHE_FAKE_BACKEND_H
#define AZSF_TEST_CACHE_FAKE_BACKEND_H

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/cache.h"

#define FB_UNUSED __attribute__((unused))

enum fb_op {
	FB_STAT,
	FB_LIST,
	FB_READ,
	FB_DOWNLOAD,
	FB_UPLOAD,
	FB_WRITE_RANGE,
	FB_CREATE,
	FB_MKDIR,
	FB_UNLINK,
	FB_RMDIR,
	FB_RENAME,
	FB_SETATTR,
	FB_SYMLINK,
	FB_READLINK,
	FB_STATFS,
	FB_CREATE_EXCL, /* counts 2 requests: a temp file and a rename */
	FB_NOPS
};

struct fb_ent {
	char *path;
	int is_dir;
	char *data;
	size_t size;
	unsigned etag;
	int has_owner;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	struct fb_ent *next;
};

struct fb {
	pthread_mutex_t lock;
	struct fb_ent *ents;
	unsigned etag_seq;
	int calls[FB_NOPS];	/* requests per operation */
	int fail_next[FB_NOPS]; /* errno to fail the next call with, once */
	int fail_all;		/* errno to fail every call with (outage) */
	int upload_delay_ms;
	int list_delay_ms;
	int uploads_inflight, uploads_max;
	int read_delay_ms; /* each range read waits this long first */
	int reads_inflight, reads_max;
	char last_upload[4096];
};

static FB_UNUSED struct fb_ent *fb_find(struct fb *fb, const char *path)
{
	struct fb_ent *e;

	for (e = fb->ents; e; e = e->next)
		if (strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

static FB_UNUSED void fb_parent(const char *path, char *buf, size_t len)
{
	const char *s = strrchr(path, '/');
	size_t n = s ? (size_t)(s - path) : 0;

	if (n >= len)
		n = len - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
}

static FB_UNUSED int fb_dir_exists(struct fb *fb, const char *path)
{
	struct fb_ent *e;

	if (!path[0])
		return 1;
	e = fb_find(fb, path);
	return e && e->is_dir;
}

static FB_UNUSED int fb_parent_ok(struct fb *fb, const char *path)
{
	char pp[4096];

	fb_parent(path, pp, sizeof(pp));
	return fb_dir_exists(fb, pp);
}

static FB_UNUSED struct fb_ent *fb_add(struct fb *fb, const char *path, int is_dir)
{
	struct fb_ent *e = calloc(1, sizeof(*e));

	e->path = strdup(path);
	e->is_dir = is_dir;
	e->mode = is_dir ? (S_IFDIR | 0755) : (S_IFREG | 0644);
	e->has_owner = 1;
	e->uid = 1000;
	e->gid = 1000;
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	e->etag = ++fb->etag_seq;
	e->next = fb->ents;
	fb->ents = e;
	return e;
}

static FB_UNUSED void fb_del(struct fb *fb, struct fb_ent *d)
{
	struct fb_ent **pp = &fb->ents;

	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
	free(d->path);
	free(d->data);
	free(d);
}

static FB_UNUSED void fb_fill(const struct fb_ent *e, struct az_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->is_dir = e->is_dir;
	st->size = e->is_dir ? 0 : e->size;
	st->mtime = e->mtime;
	st->ctime = e->mtime;
	st->atime = e->mtime;
	snprintf(st->etag, sizeof(st->etag), "\"0x%08X\"", e->etag);
	st->has_owner = e->has_owner;
	st->uid = e->uid;
	st->gid = e->gid;
	st->mode = e->mode;
}

static FB_UNUSED void fb_touch(struct fb *fb, struct fb_ent *e)
{
	e->etag = ++fb->etag_seq;
}

/* ---- test-side helpers (lock taken) ---- */

static FB_UNUSED void fb_init(struct fb *fb)
{
	memset(fb, 0, sizeof(*fb));
	pthread_mutex_init(&fb->lock, NULL);
}

static FB_UNUSED void fb_free(struct fb *fb)
{
	while (fb->ents)
		fb_del(fb, fb->ents);
	pthread_mutex_destroy(&fb->lock);
}

static FB_UNUSED void fb_mkdir(struct fb *fb, const char *path)
{
	pthread_mutex_lock(&fb->lock);
	if (!fb_find(fb, path))
		fb_add(fb, path, 1);
	pthread_mutex_unlock(&fb->lock);
}

/* Creates or replaces a file ("another node writes it"). */
static FB_UNUSED void fb_put(struct fb *fb, const char *path, const void *data, size_t len)
{
	struct fb_ent *e;

	pthread_mutex_lock(&fb->lock);
	e = fb_find(fb, path);
	if (!e)
		e = fb_add(fb, path, 0);
	free(e->data);
	e->data = malloc(len ? len : 1);
	memcpy(e->data, data, len);
	e->size = len;
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	fb_touch(fb, e);
	pthread_mutex_unlock(&fb->lock);
}

/* Copy of a file's content (NUL-terminated), or NULL. */
static FB_UNUSED char *fb_get(struct fb *fb, const char *path, size_t *len)
{
	struct fb_ent *e;
	char *out = NULL;

	pthread_mutex_lock(&fb->lock);
	e = fb_find(fb, path);
	if (e && !e->is_dir) {
		out = malloc(e->size + 1);
		memcpy(out, e->data, e->size);
		out[e->size] = '\0';
		if (len)
			*len = e->size;
	}
	pthread_mutex_unlock(&fb->lock);
	return out;
}

static FB_UNUSED int fb_exists(struct fb *fb, const char *path)
{
	int r;

	pthread_mutex_lock(&fb->lock);
	r = fb_find(fb, path) != NULL;
	pthread_mutex_unlock(&fb->lock);
	return r;
}

/* Number of entries whose path starts with prefix. */
static FB_UNUSED int fb_count_prefix(struct fb *fb, const char *prefix)
{
	struct fb_ent *e;
	int n = 0;

	pthread_mutex_lock(&fb->lock);
	for (e = fb->ents; e; e = e->next)
		if (strncmp(e->path, prefix, strlen(prefix)) == 0)
			n++;
	pthread_mutex_unlock(&fb->lock);
	return n;
}

static FB_UNUSED int fb_total(struct fb *fb)
{
	int i, n = 0;

	pthread_mutex_lock(&fb->lock);
	for (i = 0; i < FB_NOPS; i++)
		n += fb->calls[i];
	pthread_mutex_unlock(&fb->lock);
	return n;
}

static FB_UNUSED int fb_calls(struct fb *fb, enum fb_op op)
{
	int n;

	pthread_mutex_lock(&fb->lock);
	n = fb->calls[op];
	pthread_mutex_unlock(&fb->lock);
	return n;
}

static FB_UNUSED void fb_reset(struct fb *fb)
{
	pthread_mutex_lock(&fb->lock);
	memset(fb->calls, 0, sizeof(fb->calls));
	fb->uploads_max = 0;
	pthread_mutex_unlock(&fb->lock);
}

static FB_UNUSED void fb_set_fail_all(struct fb *fb, int err)
{
	pthread_mutex_lock(&fb->lock);
	fb->fail_all = err;
	pthread_mutex_unlock(&fb->lock);
}

static FB_UNUSED void fb_fail_next(struct fb *fb, enum fb_op op, int err)
{
	pthread_mutex_lock(&fb->lock);
	fb->fail_next[op] = err;
	pthread_mutex_unlock(&fb->lock);
}

/* ---- the backend (lock taken by each op through fb_begin) ---- */

/* Counts the call; returns -errno to fail with (lock released) or 0 (lock held). */
static FB_UNUSED int fb_begin(struct fb *fb, enum fb_op op, int count)
{
	int err;

	pthread_mutex_lock(&fb->lock);
	fb->calls[op] += count;
	err = fb->fail_all ? fb->fail_all : fb->fail_next[op];
	fb->fail_next[op] = 0;
	if (err) {
		pthread_mutex_unlock(&fb->lock);
		return -err;
	}
	return 0;
}

static FB_UNUSED int fb_end(struct fb *fb, int rc)
{
	pthread_mutex_unlock(&fb->lock);
	return rc;
}

static FB_UNUSED int fbo_stat(void *ctx, const char *path, struct az_stat *st)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_STAT, 1);

	if (rc)
		return rc;
	e = fb_find(fb, path);
	if (!e)
		return fb_end(fb, -ENOENT);
	fb_fill(e, st);
	return fb_end(fb, 0);
}

struct fb_list_ent {
	char name[256];
	struct az_stat st;
};

/* Takes a snapshot of dir, then (after list_delay_ms) hands it out: like a
 * listing that was taken before changes made while it travelled back. */
static FB_UNUSED int fbo_list(void *ctx, const char *dir, vfs_list_cb cb, void *arg)
{
	struct fb *fb = ctx;
	struct fb_list_ent *v = NULL;
	struct fb_ent *e;
	char pp[4096];
	int n = 0, i = 0, rc, delay;

	pthread_mutex_lock(&fb->lock);
	for (e = fb->ents; e; e = e->next) {
		fb_parent(e->path, pp, sizeof(pp));
		n += strcmp(pp, dir) == 0;
	}
	pthread_mutex_unlock(&fb->lock);
	rc = fb_begin(fb, FB_LIST, n ? (n + 4999) / 5000 : 1); /* pages */
	if (rc)
		return rc;
	if (!fb_dir_exists(fb, dir))
		return fb_end(fb, fb_find(fb, dir) ? -ENOTDIR : -ENOENT);
	v = calloc((size_t)n + 1, sizeof(*v));
	for (e = fb->ents; e && i < n; e = e->next) {
		const char *name = strrchr(e->path, '/');

		fb_parent(e->path, pp, sizeof(pp));
		if (strcmp(pp, dir) != 0)
			continue;
		snprintf(v[i].name, sizeof(v[i].name), "%s", name ? name + 1 : e->path);
		fb_fill(e, &v[i].st);
		i++;
	}
	delay = fb->list_delay_ms;
	fb_end(fb, 0);
	if (delay)
		usleep((useconds_t)delay * 1000);
	for (rc = 0, n = 0; n < i && rc == 0; n++)
		rc = cb(arg, v[n].name, &v[n].st);
	free(v);
	return rc;
}

/* A request of a kind starts (enter) or ends: counts them in flight (and
 * the most at once), and the starting one waits delay_ms (a round trip). */
static FB_UNUSED void fb_inflight(struct fb *fb, int *inflight, int *max, const int *delay_ms,
				  int enter)
{
	int ms;

	pthread_mutex_lock(&fb->lock);
	*inflight += enter ? 1 : -1;
	if (*inflight > *max)
		*max = *inflight;
	ms = *delay_ms;
	pthread_mutex_unlock(&fb->lock);
	if (enter && ms)
		usleep((useconds_t)ms * 1000);
}

static FB_UNUSED void fb_read_wait(struct fb *fb, int enter)
{
	fb_inflight(fb, &fb->reads_inflight, &fb->reads_max, &fb->read_delay_ms, enter);
}

/* Lists nothing: for vfs_readdir calls made only to list a directory. */
static FB_UNUSED int fb_ignore_entry(void *arg, const char *name, const struct az_stat *st)
{
	(void)arg;
	(void)name;
	(void)st;
	return 0;
}

static FB_UNUSED ssize_t fbo_read(void *ctx, const char *path, uint64_t off, size_t len, void *buf)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc;
	size_t n;

	fb_read_wait(fb, 1);
	rc = fb_begin(fb, FB_READ, 1);
	if (rc) {
		fb_read_wait(fb, 0);
		return rc;
	}
	fb->reads_inflight--; /* fb->lock held from fb_begin */
	e = fb_find(fb, path);
	if (!e || e->is_dir)
		return fb_end(fb, e ? -EISDIR : -ENOENT);
	n = off >= e->size ? 0 : (e->size - off < len ? e->size - off : len);
	memcpy(buf, e->data + off, n);
	fb_end(fb, 0);
	return (ssize_t)n;
}

static FB_UNUSED int fbo_download(void *ctx, const char *path, int fd, struct az_stat *st)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_DOWNLOAD, 1);

	if (rc)
		return rc;
	e = fb_find(fb, path);
	if (!e || e->is_dir)
		return fb_end(fb, e ? -EISDIR : -ENOENT);
	if (e->size && pwrite(fd, e->data, e->size, 0) != (ssize_t)e->size)
		return fb_end(fb, -errno ? -errno : -EIO);
	fb_fill(e, st);
	return fb_end(fb, 0);
}

static FB_UNUSED void fb_apply_want(struct fb_ent *e, const struct vfs_want *w)
{
	if (w->mask & VFS_SET_MODE)
		e->mode = (e->mode & S_IFMT) | (w->mode & 07777);
	if (w->mask & VFS_SET_UID)
		e->uid = w->uid;
	if (w->mask & VFS_SET_GID)
		e->gid = w->gid;
	if (w->mask & VFS_SET_MTIME)
		e->mtime = w->mtime;
	if (w->mask & (VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID))
		e->has_owner = 1;
}

static FB_UNUSED void fb_upload_wait(struct fb *fb, int enter)
{
	fb_inflight(fb, &fb->uploads_inflight, &fb->uploads_max, &fb->upload_delay_ms, enter);
}

static FB_UNUSED int fbo_upload(void *ctx, const char *path, int fd, uint64_t size,
				const struct vfs_want *want, struct az_stat *st)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	char *data = malloc(size ? size : 1);
	int rc;

	if (size && pread(fd, data, size, 0) != (ssize_t)size) {
		free(data);
		return -EIO;
	}
	fb_upload_wait(fb, 1);
	fb_upload_wait(fb, 0);
	rc = fb_begin(fb, FB_UPLOAD, 1);
	if (rc || !fb_parent_ok(fb, path) || (fb_find(fb, path) && fb_find(fb, path)->is_dir)) {
		free(data);
		return rc ? rc : fb_end(fb, fb_find(fb, path) ? -EISDIR : -ENOENT);
	}
	e = fb_find(fb, path);
	if (!e)
		e = fb_add(fb, path, 0);
	free(e->data);
	e->data = data;
	e->size = size;
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	fb_apply_want(e, want);
	fb_touch(fb, e);
	snprintf(fb->last_upload, sizeof(fb->last_upload), "%s", path);
	fb_fill(e, st);
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_write_range(void *ctx, const char *path, uint64_t off, const void *buf,
				     size_t len, struct az_stat *st)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_WRITE_RANGE, 1);

	if (rc)
		return rc;
	e = fb_find(fb, path);
	if (!e || e->is_dir)
		return fb_end(fb, -ENOENT);
	if (off + len > e->size)
		return fb_end(fb, -EINVAL); /* the service cannot write past the end */
	memcpy(e->data + off, buf, len);
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	fb_touch(fb, e);
	fb_fill(e, st);
	return fb_end(fb, 0);
}

static FB_UNUSED int fb_create_ent(struct fb *fb, enum fb_op op, const char *path, int is_dir,
				   const struct vfs_want *want, struct az_stat *st)
{
	struct fb_ent *e;
	int rc = fb_begin(fb, op, 1);

	if (rc)
		return rc;
	if (!fb_parent_ok(fb, path))
		return fb_end(fb, -ENOENT);
	if (fb_find(fb, path))
		return fb_end(fb, -EEXIST);
	e = fb_add(fb, path, is_dir);
	fb_apply_want(e, want);
	if (st)
		fb_fill(e, st);
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_create(void *ctx, const char *path, const struct vfs_want *want,
				struct az_stat *st)
{
	return fb_create_ent(ctx, FB_CREATE, path, 0, want, st);
}

/* Like the service's create-then-rename-without-replace: atomic, -EEXIST
 * when the name is taken (also by a name differing only in case). */
static FB_UNUSED int fbo_create_excl(void *ctx, const char *path, const struct vfs_want *want,
				     struct az_stat *st)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_CREATE_EXCL, 2);

	if (rc)
		return rc;
	if (!fb_parent_ok(fb, path))
		return fb_end(fb, -ENOENT);
	for (e = fb->ents; e; e = e->next)
		if (strcasecmp(e->path, path) == 0)
			return fb_end(fb, -EEXIST);
	e = fb_add(fb, path, 0);
	e->data = calloc(1, 1);
	fb_apply_want(e, want);
	fb_fill(e, st);
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_mkdir(void *ctx, const char *path, const struct vfs_want *want,
			       struct az_stat *st)
{
	return fb_create_ent(ctx, FB_MKDIR, path, 1, want, st);
}

static FB_UNUSED int fb_has_children(struct fb *fb, const char *path)
{
	struct fb_ent *e;
	char pp[4096];

	for (e = fb->ents; e; e = e->next) {
		fb_parent(e->path, pp, sizeof(pp));
		if (strcmp(pp, path) == 0)
			return 1;
	}
	return 0;
}

static FB_UNUSED int fbo_unlink(void *ctx, const char *path)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_UNLINK, 1);

	if (rc)
		return rc;
	e = fb_find(fb, path);
	if (!e)
		return fb_end(fb, -ENOENT);
	if (e->is_dir)
		return fb_end(fb, -EISDIR);
	fb_del(fb, e);
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_rmdir(void *ctx, const char *path)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_RMDIR, 1);

	if (rc)
		return rc;
	e = fb_find(fb, path);
	if (!e || !e->is_dir)
		return fb_end(fb, e ? -ENOTDIR : -ENOENT);
	if (fb_has_children(fb, path))
		return fb_end(fb, -ENOTEMPTY);
	fb_del(fb, e);
	return fb_end(fb, 0);
}

/* Renames e and (for directories) everything below it. */
static FB_UNUSED void fb_move(struct fb *fb, const char *src, const char *dst)
{
	struct fb_ent *e;
	size_t sl = strlen(src);
	char buf[8192];

	for (e = fb->ents; e; e = e->next) {
		if (strcmp(e->path, src) == 0) {
			free(e->path);
			e->path = strdup(dst);
		} else if (strncmp(e->path, src, sl) == 0 && e->path[sl] == '/') {
			snprintf(buf, sizeof(buf), "%s%s", dst, e->path + sl);
			free(e->path);
			e->path = strdup(buf);
		}
	}
}

static FB_UNUSED int fbo_rename(void *ctx, const char *src, const char *dst, int is_dir,
				int noreplace)
{
	struct fb *fb = ctx;
	struct fb_ent *s, *d;
	int rc = fb_begin(fb, FB_RENAME, 1);

	if (rc)
		return rc;
	s = fb_find(fb, src);
	d = fb_find(fb, dst);
	if (!s || !fb_parent_ok(fb, dst))
		return fb_end(fb, -ENOENT);
	if (d && noreplace)
		return fb_end(fb, -EEXIST);
	if (d && d->is_dir && (!s->is_dir || fb_has_children(fb, dst)))
		return fb_end(fb, s->is_dir ? -ENOTEMPTY : -EISDIR);
	if (d)
		fb_del(fb, d);
	fb_move(fb, src, dst);
	(void)is_dir;
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_setattr(void *ctx, const char *path, int is_dir,
				 const struct vfs_want *want, struct az_stat *st)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_SETATTR, 1);

	if (rc)
		return rc;
	e = fb_find(fb, path);
	if (!e)
		return fb_end(fb, -ENOENT);
	if (want->mask & VFS_SET_SIZE) {
		e->data = realloc(e->data, want->size ? want->size : 1);
		if (want->size > e->size)
			memset(e->data + e->size, 0, want->size - e->size);
		e->size = want->size;
	}
	fb_apply_want(e, want);
	fb_touch(fb, e);
	fb_fill(e, st);
	(void)is_dir;
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_symlink(void *ctx, const char *path, const char *target,
				 const struct vfs_want *want, struct az_stat *st)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_SYMLINK, 1);

	if (rc)
		return rc;
	if (!fb_parent_ok(fb, path))
		return fb_end(fb, -ENOENT);
	if (fb_find(fb, path))
		return fb_end(fb, -EEXIST);
	e = fb_add(fb, path, 0);
	e->data = strdup(target);
	e->size = strlen(target);
	fb_apply_want(e, want);
	e->mode = S_IFLNK | 0777;
	fb_fill(e, st);
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_readlink(void *ctx, const char *path, char *buf, size_t size)
{
	struct fb *fb = ctx;
	struct fb_ent *e;
	int rc = fb_begin(fb, FB_READLINK, 1);

	if (rc)
		return rc;
	e = fb_find(fb, path);
	if (!e || !S_ISLNK(e->mode))
		return fb_end(fb, e ? -EINVAL : -ENOENT);
	snprintf(buf, size, "%.*s", (int)e->size, e->data);
	return fb_end(fb, 0);
}

static FB_UNUSED int fbo_statfs(void *ctx, uint64_t *total, uint64_t *used)
{
	struct fb *fb = ctx;
	int rc = fb_begin(fb, FB_STATFS, 1);

	if (rc)
		return rc;
	*total = 1ull << 40;
	*used = 12345;
	return fb_end(fb, 0);
}

static FB_UNUSED struct vfs_backend fb_backend(struct fb *fb)
{
	struct vfs_backend be = {
	    .ctx = fb,
	    .stat = fbo_stat,
	    .list = fbo_list,
	    .read = fbo_read,
	    .download = fbo_download,
	    .upload = fbo_upload,
	    .write_range = fbo_write_range,
	    .create = fbo_create,
	    .mkdir = fbo_mkdir,
	    .unlink = fbo_unlink,
	    .rmdir = fbo_rmdir,
	    .rename = fbo_rename,
	    .setattr = fbo_setattr,
	    .symlink = fbo_symlink,
	    .readlink = fbo_readlink,
	    .statfs = fbo_statfs,
	    .create_excl = fbo_create_excl,
	};
	return be;
}

/* ---- scratch cache dirs ---- */

static FB_UNUSED int fb_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static FB_UNUSED void fb_rmtree(const char *dir)
{
	nftw(dir, fb_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static FB_UNUSED char *fb_tmpdir(void)
{
	char tmpl[] = "/tmp/azsf-cache-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

/* Number of regular files in dir. */
static FB_UNUSED int fb_count_files(const char *dir)
{
	char cmd[4200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static FB_UNUSED int64_t fb_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls cond(arg) every 5 ms for up to timeout_ms; returns its last value. */
static FB_UNUSED int fb_wait(int (*cond)(void *), void *arg, int timeout_ms)
{
	int64_t end = fb_ms() + timeout_ms;

	while (!cond(arg)) {
		if (fb_ms() > end)
			return 0;
		usleep(5000);
	}
	return 1;
}

#endif

#ifndef AZSF_TEST_CACHE_FIXTURE
#define AZSF_TEST_CACHE_FIXTURE
#include <fcntl.h>

/* Live journal records of a cache dir: record files journal/<id> of the
 * older format plus the records in journal/log not retired by a done line
 * (a later record of an id supersedes the earlier one). */
static FB_UNUSED int fx_journal_records(const char *cache_dir)
{
	unsigned long long live[4096], id;
	char path[4200], line[512];
	size_t n = 0, i;
	int files, in_rec = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/journal", cache_dir);
	files = fb_count_files(path);
	snprintf(path, sizeof(path), "%s/journal/log", cache_dir);
	f = fopen(path, "r");
	if (f)
		files--; /* the log itself */
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "azsharefs-journal 1\n")) { /* also glued to a torn record */
			in_rec = 1;
		} else if (in_rec && sscanf(line, "id %llu", &id) == 1) {
			in_rec = 0;
			for (i = 0; i < n && live[i] != id; i++)
				;
			if (i == n && n < 4096)
				live[n++] = id;
		} else if (sscanf(line, "azsharefs-done %llu", &id) == 1) {
			for (i = 0; i < n; i++)
				if (live[i] == id)
					live[i] = live[--n];
		}
	}
	if (f)
		fclose(f);
	return files + (int)n;
}

/* A fake share, a scratch cache dir and (after fx_start) a vfs on them. */
struct fx {
	struct fb fb;
	char *dir;
	struct vfs *v;
	struct vfs_opts o;
	struct vfs_backend be;
};

static FB_UNUSED int fx_setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	fb_init(&x->fb);
	x->dir = fb_tmpdir();
	vfs_opts_defaults(&x->o);
	x->o.cache_dir = x->dir;
	x->o.upload_threads = 2;
	x->be = fb_backend(&x->fb);
	*state = x;
	return x->dir ? 0 : -1;
}

static FB_UNUSED int fx_start(struct fx *x)
{
	return vfs_init(&x->v, &x->o, &x->be);
}

static FB_UNUSED void fx_stop(struct fx *x)
{
	if (x->v)
		vfs_free(x->v);
	x->v = NULL;
}

static FB_UNUSED int fx_teardown(void **state)
{
	struct fx *x = *state;

	fx_stop(x);
	fb_free(&x->fb);
	if (x->dir)
		fb_rmtree(x->dir);
	free(x->dir);
	free(x);
	return 0;
}

/* create + write + flush + release; returns the first error. */
static FB_UNUSED int fx_write_file(struct vfs *v, const char *path, const void *data, size_t len)
{
	struct vfs_want w = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
			     .mode = S_IFREG | 0644,
			     .uid = 1000,
			     .gid = 1000};
	struct vfs_file *fh = NULL;
	ssize_t n;
	int rc, rc2;

	rc = vfs_create(v, path, O_CREAT | O_WRONLY | O_TRUNC, &w, &fh);
	if (rc < 0)
		return rc;
	n = len ? vfs_write(v, fh, data, len, 0) : 0;
	rc = n < 0 ? (int)n : (size_t)n != len ? -EIO : 0;
	rc2 = vfs_flush(v, fh);
	if (!rc)
		rc = rc2;
	rc2 = vfs_release(v, fh);
	return rc ? rc : rc2;
}

/* open + read everything + release; malloc'd, NUL-terminated, or NULL. */
static FB_UNUSED char *fx_read_file(struct vfs *v, const char *path, size_t *len)
{
	struct vfs_file *fh = NULL;
	size_t cap = 1 << 16, got = 0;
	char *buf;
	ssize_t n;

	if (vfs_open(v, path, O_RDONLY, &fh) < 0)
		return NULL;
	buf = malloc(cap + 1);
	for (;;) {
		if (got == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		n = vfs_read(v, fh, buf + got, cap - got, got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	vfs_release(v, fh);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}
#endif
