/* stream.c: large files (over file_max_bytes), read and written in ranges.
 *
 * Files too large to cache whole are not copied locally when opened without
 * O_TRUNC. Reads go to backend->read with a per-handle read-ahead buffer
 * whose window doubles on sequential access (128 KiB up to 8 MiB) and
 * resets on a seek. Writes are buffered per handle while contiguous (up to
 * 4 MiB) and sent with backend->write_range when the buffer is full, on a
 * seek, before a read, and in flush/fsync/release; a write past the end
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
 * taken briefly to read the path and to store new attributes.
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

struct mc_stream {
	pthread_mutex_t lock;
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
	s->window = RA_MIN;
	s->size = remote_size;
	return s;
}

void mc_stream_free(struct mc_stream *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->ra);
	free(s->wb);
	free(s);
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

ssize_t mc_stream_read(struct vfs *v, struct vfs_file *fh, void *buf, size_t size, uint64_t off)
{
	struct mc_stream *s = fh->sm;
	ssize_t n = 0;
	size_t have;

	pthread_mutex_lock(&s->lock);
	if (s->wb_len)
		n = flush_locked(v, fh, s);
	if (n < 0)
		goto out;
	if (!(s->ra_len && off >= s->ra_off && off + size <= s->ra_off + s->ra_len)) {
		if (off == s->next_off)
			s->window = s->window * 2 > RA_MAX ? RA_MAX : s->window * 2;
		else
			s->window = RA_MIN;
		n = fetch(v, fh, s, off, size);
		if (n < 0)
			goto out;
	}
	have = off >= s->ra_off && off < s->ra_off + s->ra_len
		   ? (size_t)(s->ra_off + s->ra_len - off)
		   : 0;
	n = (ssize_t)(have < size ? have : size);
	if (n > 0)
		memcpy(buf, s->ra + (off - s->ra_off), (size_t)n);
	s->next_off = off + (uint64_t)n;
out:
	pthread_mutex_unlock(&s->lock);
	return n;
}

ssize_t mc_stream_write(struct vfs *v, struct vfs_file *fh, const void *buf, size_t size,
			uint64_t off)
{
	struct mc_stream *s = fh->sm;
	ssize_t rc = 0;

	pthread_mutex_lock(&s->lock);
	s->ra_len = 0;
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
