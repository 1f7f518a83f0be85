/* stream.c: large files (over file_max_bytes), read and written in ranges.
 *
 * Files too large to cache whole are not copied locally when opened without
 * O_TRUNC. Reads go to backend->read with a per-handle read-ahead buffer
 * whose window doubles on sequential access (128 KiB up to 8 MiB) and
 * resets on a seek. Once the window reaches PF_FROM on a sequential read,
 * the next RA_SLOTS windows are fetched ahead in the background, one thread
 * each, so a sequential reader waits for one round trip at the start
 * instead of one per window; they cost no extra request unless the reader
 * stops early (at most RA_SLOTS windows, never past the known size), and
 * all handles of a mount hold at most PF_BUDGET fetched ahead. A
 * write or a resize through this handle marks fetches in flight stale:
 * their data is dropped when they finish. A read that lands a little ahead
 * of the last one still counts as sequential: FUSE threads may hand over
 * the kernel's read-ahead requests out of order.
 *
 * Writes are buffered per handle while contiguous (up to 4 MiB) and sent
 * with backend->write_range when the buffer is full, on a seek, before a
 * read, and in flush/fsync/release; a write past the end
 * first resizes the file (backend->setattr size). These in-place writes are
 * visible to other readers range by range: that is what writing into an
 * existing large file means on the share. Whole new large files (created
 * here, or opened with O_TRUNC) are not streamed: they are spooled in the
 * local cache and published atomically with backend->upload at close, like
 * small files (filecache.c, upload.c). In write-back mode streamed writes
 * are still sent at close (they cannot be journaled without a local copy).
 *
 * Threads: FUSE may call into one handle from several threads; s->lock
 * serialises them. No other lock is held across backend calls; v->lock is
 * taken briefly to read the path and to store new attributes. A prefetch
 * thread owns its slot's path and buffer until it sets done (under s->lock,
 * signalling s->cond); whoever then takes the slot joins the thread.
 * mc_stream_free waits for and joins every thread still running.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "azsharefs/log.h"
#include "dircache.h"
#include "stream.h"

#define RA_MIN (128u * 1024u)
#define RA_MAX (8u * 1024u * 1024u)
#define WB_MAX (4u * 1024u * 1024u)
#define PF_FROM (1024u * 1024u)
#define RA_SLOTS 2
/* What all handles of a mount may hold fetched ahead and not yet read: a
 * reader that stops early keeps its windows until it reads on or closes. */
#define PF_BUDGET (256ll * 1024 * 1024)

struct mc_stream;

/* One window fetched ahead (fields under s->lock unless noted). */
struct ra_slot {
	struct mc_stream *s;
	struct vfs *v;
	char *path; /* the thread's until done */
	char *buf;  /* the thread's until done */
	uint64_t off;
	size_t len;
	ssize_t got; /* bytes, or -errno; valid once done */
	int busy;    /* a thread was started and not yet joined */
	int done;
	int stale; /* a write or resize came after it started */
	pthread_t th;
};

struct mc_stream {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a slot finished */
	struct ra_slot pf[RA_SLOTS];
	char *ra;	   /* lock; read-ahead data */
	uint64_t ra_off;   /* lock */
	size_t ra_len;	   /* lock */
	size_t window;	   /* lock; next read-ahead size */
	uint64_t next_off; /* lock; where a sequential read continues */
	char *wb;	   /* lock; buffered writes */
	uint64_t wb_off;   /* lock */
	size_t wb_len;	   /* lock */
	uint64_t size;	   /* lock; the remote size as we know it */
};

struct mc_stream *mc_stream_new(uint64_t remote_size)
{
	struct mc_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->window = RA_MIN;
	s->size = remote_size;
	return s;
}

/* The handle's current path (malloc'd), or NULL when unlinked. */
static char *fh_path(struct vfs *v, struct vfs_file *fh)
{
	char *p = NULL;

	pthread_mutex_lock(&v->lock);
	if (fh->file->node)
		p = strdup(fh->file->node->path);
	pthread_mutex_unlock(&v->lock);
	return p;
}

static void store_attrs(struct vfs *v, struct vfs_file *fh, const struct az_stat *st)
{
	if (!st->etag[0])
		return;
	pthread_mutex_lock(&v->lock);
	if (fh->file->node)
		mc_dir_apply(v, fh->file->node, st, mc_now());
	pthread_mutex_unlock(&v->lock);
}

/* s->lock held: waits for sl's thread to finish and joins it. */
static void pf_join(struct mc_stream *s, struct ra_slot *sl)
{
	while (!sl->done)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_join(sl->th, NULL); /* it only returns after done */
	sl->busy = 0;
	free(sl->path);
	sl->path = NULL;
	__atomic_sub_fetch(&sl->v->pf_bytes, (int64_t)sl->len, __ATOMIC_RELAXED);
}

static void *pf_main(void *arg)
{
	struct ra_slot *sl = arg;
	struct vfs *v = sl->v;
	ssize_t n = v->be.read(v->be.ctx, sl->path, sl->off, sl->len, sl->buf);

	mc_note(v, n < 0 ? (int)n : 0);
	pthread_mutex_lock(&sl->s->lock);
	sl->got = n;
	sl->done = 1;
	pthread_cond_broadcast(&sl->s->cond);
	pthread_mutex_unlock(&sl->s->lock);
	return NULL;
}

/* s->lock held: a write or resize makes what is being fetched outdated. */
static void pf_stale_all(struct mc_stream *s)
{
	for (int i = 0; i < RA_SLOTS; i++)
		if (s->pf[i].busy)
			s->pf[i].stale = 1;
}

/* s->lock held: the live slot whose window holds off, or NULL. */
static struct ra_slot *pf_covering(struct mc_stream *s, uint64_t off)
{
	for (int i = 0; i < RA_SLOTS; i++) {
		struct ra_slot *sl = &s->pf[i];

		if (sl->busy && !sl->stale && off >= sl->off && off < sl->off + sl->len)
			return sl;
	}
	return NULL;
}

/* s->lock held, sl done: joins it and makes its data the read-ahead buffer
 * (when it is good), so the caller finds it there or fetches itself. */
static void pf_take(struct mc_stream *s, struct ra_slot *sl)
{
	char *t;

	pf_join(s, sl);
	if (sl->stale || sl->got <= 0)
		return;
	t = s->ra;
	s->ra = sl->buf;
	sl->buf = NULL; /* the old buffer goes: an idle handle keeps one window */
	free(t);
	s->ra_off = sl->off;
	s->ra_len = (size_t)sl->got;
}

/* s->lock held: starts one fetch of [off, off+len) in a free slot. */
static int pf_start(struct vfs *v, struct vfs_file *fh, struct mc_stream *s, struct ra_slot *sl,
		    uint64_t off, size_t len)
{
	char *nb;

	if (__atomic_add_fetch(&v->pf_bytes, (int64_t)len, __ATOMIC_RELAXED) > PF_BUDGET) {
		__atomic_sub_fetch(&v->pf_bytes, (int64_t)len, __ATOMIC_RELAXED);
		return -ENOBUFS; /* read on without fetching ahead */
	}
	sl->v = v;
	sl->len = len; /* counted in pf_bytes until pf_join */
	nb = realloc(sl->buf, len);
	sl->path = nb ? fh_path(v, fh) : NULL;
	if (!nb || !sl->path) {
		__atomic_sub_fetch(&v->pf_bytes, (int64_t)len, __ATOMIC_RELAXED);
		if (nb)
			sl->buf = nb;
		return nb ? -ESTALE : -ENOMEM;
	}
	sl->buf = nb;
	sl->s = s;
	sl->off = off;
	sl->got = 0;
	sl->done = sl->stale = 0;
	if (pthread_create(&sl->th, NULL, pf_main, sl) != 0) {
		free(sl->path);
		sl->path = NULL;
		__atomic_sub_fetch(&v->pf_bytes, (int64_t)len, __ATOMIC_RELAXED);
		return -EAGAIN;
	}
	sl->busy = 1;
	return 0;
}

/* s->lock held, after a sequential read: keeps RA_SLOTS windows past the
 * read-ahead buffer in flight (finished slots that are stale or behind the
 * buffer are reaped first). */
static void pf_schedule(struct vfs *v, struct vfs_file *fh, struct mc_stream *s)
{
	uint64_t next = s->ra_off + s->ra_len;

	if (s->window < PF_FROM || !s->ra_len)
		return;
	for (int i = 0; i < RA_SLOTS; i++) {
		struct ra_slot *sl = &s->pf[i];

		if (sl->busy && sl->off + sl->len <= s->ra_off)
			sl->stale = 1; /* the reader skipped past it */
		if (sl->busy && sl->stale && sl->done)
			pf_join(s, sl);
		if (sl->busy && !sl->stale && sl->off + sl->len > next)
			next = sl->off + sl->len;
	}
	for (int i = 0; i < RA_SLOTS && next < s->size; i++) {
		struct ra_slot *sl = &s->pf[i];
		size_t len = s->size - next < s->window ? (size_t)(s->size - next) : s->window;

		if (sl->busy)
			continue;
		if (pf_start(v, fh, s, sl, next, len) < 0)
			return;
		next += len;
	}
}

void mc_stream_free(struct mc_stream *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < RA_SLOTS; i++) {
		if (s->pf[i].busy)
			pf_join(s, &s->pf[i]);
		free(s->pf[i].buf);
	}
	pthread_mutex_unlock(&s->lock);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->ra);
	free(s->wb);
	free(s);
}

static int resize(struct vfs *v, const char *path, struct mc_stream *s, uint64_t size,
		  struct az_stat *st)
{
	struct vfs_want w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.mask = VFS_SET_SIZE;
	w.size = size;
	rc = mc_note(v, v->be.setattr(v->be.ctx, path, 0, &w, st));
	if (rc == 0)
		s->size = size;
	return rc;
}

/* s->lock held. */
static int flush_locked(struct vfs *v, struct vfs_file *fh, struct mc_stream *s)
{
	struct az_stat st;
	char *path;
	int rc = 0;

	if (!s->wb_len)
		return 0;
	path = fh_path(v, fh);
	if (!path)
		return -ESTALE;
	memset(&st, 0, sizeof(st));
	if (s->wb_off + s->wb_len > s->size)
		rc = resize(v, path, s, s->wb_off + s->wb_len, &st);
	if (rc == 0)
		rc = mc_note(v,
			     v->be.write_range(v->be.ctx, path, s->wb_off, s->wb, s->wb_len, &st));
	if (rc == 0) {
		s->wb_len = 0;
		store_attrs(v, fh, &st);
	} else {
		az_err("writing to '%s' failed: %s", path, strerror(-rc));
	}
	free(path);
	return rc;
}

int mc_stream_flush(struct vfs *v, struct vfs_file *fh)
{
	struct mc_stream *s = fh->sm;
	int rc;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	rc = flush_locked(v, fh, s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void mc_stream_resized(struct mc_stream *s, uint64_t size)
{
	pthread_mutex_lock(&s->lock);
	s->size = size;
	s->ra_len = 0;
	pf_stale_all(s);
	if (s->wb_len && s->wb_off >= size)
		s->wb_len = 0;
	else if (s->wb_len && s->wb_off + s->wb_len > size)
		s->wb_len = (size_t)(size - s->wb_off);
	pthread_mutex_unlock(&s->lock);
}

/* s->lock held: fill the read-ahead buffer at off. */
static ssize_t fetch(struct vfs *v, struct vfs_file *fh, struct mc_stream *s, uint64_t off,
		     size_t want)
{
	size_t len = want > s->window ? want : s->window;
	char *path, *nb;
	ssize_t n;

	nb = realloc(s->ra, len);
	if (!nb)
		return -ENOMEM;
	s->ra = nb;
	s->ra_len = 0;
	path = fh_path(v, fh);
	if (!path)
		return -ESTALE;
	n = v->be.read(v->be.ctx, path, off, len, s->ra);
	mc_note(v, n < 0 ? (int)n : 0);
	free(path);
	if (n < 0)
		return n;
	s->ra_off = off;
	s->ra_len = (size_t)n;
	return n;
}

/* s->lock held: does the read-ahead buffer hold the byte at off? */
static int holds(const struct mc_stream *s, uint64_t off)
{
	return s->ra_len && off >= s->ra_off && off < s->ra_off + s->ra_len;
}

/* s->lock held, off not in the buffer: takes it from a fetch ahead when one
 * holds off (waiting for it), else fetches a window at off now. */
static ssize_t fill(struct vfs *v, struct vfs_file *fh, struct mc_stream *s, uint64_t off,
		    size_t size)
{
	struct ra_slot *sl;

	/* another reader may take the slot while this one waits for it */
	while (!holds(s, off)) {
		sl = pf_covering(s, off);
		if (!sl)
			return fetch(v, fh, s, off, size);
		if (sl->done)
			pf_take(s, sl);
		else
			pthread_cond_wait(&s->cond, &s->lock);
	}
	return 0;
}

/* Serves [off, off+size) from the buffer, filling it as needed (a read may
 * span two windows); short only at the end of the file. */
ssize_t mc_stream_read(struct vfs *v, struct vfs_file *fh, void *buf, size_t size, uint64_t off)
{
	struct mc_stream *s = fh->sm;
	ssize_t rc = 0;
	size_t done = 0;
	int seq;

	pthread_mutex_lock(&s->lock);
	if (s->wb_len)
		rc = flush_locked(v, fh, s);
	if (rc < 0)
		goto out;
	/* FUSE threads may hand over the kernel's reads slightly out of order */
	seq = off >= s->next_off && off - s->next_off <= s->window;
	if (!holds(s, off) || !holds(s, off + size - 1)) {
		if (seq) {
			s->window = s->window * 2 > RA_MAX ? RA_MAX : s->window * 2;
		} else if (!pf_covering(s, off)) { /* a seek: start small again */
			s->window = RA_MIN;
			pf_stale_all(s);
		}
	}
	while (done < size) {
		uint64_t at = off + done;
		size_t have;

		if (!holds(s, at)) {
			rc = fill(v, fh, s, at, size - done);
			if (rc < 0)
				break;
		}
		have = holds(s, at) ? (size_t)(s->ra_off + s->ra_len - at) : 0;
		if (!have)
			break; /* end of file */
		if (have > size - done)
			have = size - done;
		memcpy((char *)buf + done, s->ra + (at - s->ra_off), have);
		done += have;
	}
	if (done || rc >= 0)
		rc = (ssize_t)done;
	s->next_off = off + done;
	if (seq && rc >= 0)
		pf_schedule(v, fh, s);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

ssize_t mc_stream_write(struct vfs *v, struct vfs_file *fh, const void *buf, size_t size,
			uint64_t off)
{
	struct mc_stream *s = fh->sm;
	ssize_t rc = 0;

	pthread_mutex_lock(&s->lock);
	s->ra_len = 0;
	pf_stale_all(s);
	if (s->wb_len && (off != s->wb_off + s->wb_len || s->wb_len + size > WB_MAX))
		rc = flush_locked(v, fh, s);
	if (rc < 0)
		goto out;
	if (!s->wb) {
		s->wb = malloc(WB_MAX);
		if (!s->wb) {
			rc = -ENOMEM;
			goto out;
		}
	}
	while (size > 0) {
		size_t chunk = size > WB_MAX - s->wb_len ? WB_MAX - s->wb_len : size;

		if (!s->wb_len)
			s->wb_off = off;
		memcpy(s->wb + s->wb_len, buf, chunk);
		s->wb_len += chunk;
		buf = (const char *)buf + chunk;
		off += chunk;
		size -= chunk;
		rc += (ssize_t)chunk;
		if (s->wb_len == WB_MAX) {
			int frc = flush_locked(v, fh, s);

			if (frc < 0) {
				rc = frc;
				break;
			}
		}
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
