/* fuse_file.c: FUSE file-handle operations -> the cache.
 *
 * fi->fh holds a struct fo_file: the cache's struct vfs_file plus the last
 * attributes seen, for fstat of a file unlinked while open (FUSE passes no
 * path then; hard_remove is on and the cache keeps such data). Threads: any
 * FUSE worker; f->lock guards f->st and f->path. The kernel serialises
 * release after every other op on the handle.
 */
#include "fuse_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azsharefs/log.h"
#include "names.h"

static struct fo_file *file_new(struct vfs_file *fh, const char *rel)
{
	struct fo_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->fh = fh;
	f->path = strdup(rel);
	if (!f->path) {
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

static void file_free(struct fo_file *f)
{
	pthread_mutex_destroy(&f->lock);
	free(f->path);
	free(f);
}

int fo_file_getattr(struct fo_file *f, struct stat *st)
{
	struct az_stat a;
	char *path;

	pthread_mutex_lock(&f->lock);
	a = f->st;
	path = strdup(f->path);
	pthread_mutex_unlock(&f->lock);
	fo_fill_stat(fo_ctx(), path ? path : "", &a, st);
	free(path);
	return 0;
}

void fo_file_note_size(struct fo_file *f, uint64_t size)
{
	pthread_mutex_lock(&f->lock);
	f->st.size = size;
	clock_gettime(CLOCK_REALTIME, &f->st.mtime);
	pthread_mutex_unlock(&f->lock);
}

/* Attributes for a fresh handle (best effort: used only for fstat after
 * unlink). */
static void file_prime(struct fo_file *f, const char *rel)
{
	struct az_stat a;

	if (vfs_getattr(fo_ctx()->v, rel, &a) == 0)
		f->st = a;
}

int fo_open(const char *path, struct fuse_file_info *fi)
{
	struct fo_ctx *x = fo_ctx();
	const char *rel = fo_rel(path);
	struct vfs_file *fh = NULL;
	struct fo_file *f;
	int rc = vfs_open(x->v, rel, fi->flags, &fh);

	if (rc)
		return rc;
	f = file_new(fh, rel);
	if (!f) {
		vfs_release(x->v, fh);
		return -ENOMEM;
	}
	file_prime(f, rel);
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = vfs_file_unchanged(fh) > 0;
	/* Close-to-open: the data may have changed on another node; the
	 * kernel's cached size and attributes must not outlive this open (it
	 * would cut a file another node grew). Not with -s: the one thread
	 * would wait on pages locked for a read only it can answer. */
	if (!fi->keep_cache && !x->single_thread)
		fuse_invalidate_path(fuse_get_context()->fuse, path);
	return 0;
}

int fo_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fo_ctx *x = fo_ctx();
	const char *rel = fo_rel(path);
	struct vfs_file *fh = NULL;
	struct vfs_want w;
	struct fo_file *f;
	int rc = nm_check_path(rel);

	if (rc)
		return rc;
	fo_new_owner(rel, S_IFREG, mode, &w);
	rc = vfs_create(x->v, rel, fi->flags, &w, &fh);
	if (rc)
		return rc;
	f = file_new(fh, rel);
	if (!f) {
		vfs_release(x->v, fh);
		return -ENOMEM;
	}
	file_prime(f, rel);
	fi->fh = (uint64_t)(uintptr_t)f;
	return 0;
}

int fo_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct fo_ctx *x = fo_ctx();
	const char *rel = fo_rel(path);
	struct vfs_file *fh = NULL;
	struct vfs_want w;
	int rc;

	(void)rdev;
	if (!S_ISREG(mode)) {
		az_info("mknod '%s' refused: the share holds no device nodes, FIFOs or sockets",
			rel);
		return -EPERM;
	}
	rc = nm_check_path(rel);
	if (rc)
		return rc;
	fo_new_owner(rel, S_IFREG, mode, &w);
	rc = vfs_create(x->v, rel, O_CREAT | O_EXCL | O_WRONLY, &w, &fh);
	if (rc)
		return rc;
	rc = vfs_flush(x->v, fh);
	if (vfs_release(x->v, fh) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

int fo_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fo_file *f = fo_file_of(fi);
	ssize_t n;

	(void)path;
	if (off < 0)
		return -EINVAL;
	n = vfs_read(fo_ctx()->v, f->fh, buf, size, (uint64_t)off);
	return (int)n;
}

int fo_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fo_file *f = fo_file_of(fi);
	ssize_t n;

	(void)path;
	if (off < 0)
		return -EINVAL;
	n = vfs_write(fo_ctx()->v, f->fh, buf, size, (uint64_t)off);
	if (n > 0) {
		pthread_mutex_lock(&f->lock);
		if ((uint64_t)off + (uint64_t)n > f->st.size)
			f->st.size = (uint64_t)off + (uint64_t)n;
		clock_gettime(CLOCK_REALTIME, &f->st.mtime);
		pthread_mutex_unlock(&f->lock);
	}
	return (int)n;
}

int fo_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	return vfs_flush(fo_ctx()->v, fo_file_of(fi)->fh);
}

int fo_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync; /* data and metadata go up together */
	return vfs_fsync(fo_ctx()->v, fo_file_of(fi)->fh);
}

int fo_release(const char *path, struct fuse_file_info *fi)
{
	struct fo_file *f = fo_file_of(fi);
	int rc;

	(void)path;
	rc = vfs_release(fo_ctx()->v, f->fh);
	file_free(f);
	return rc;
}
