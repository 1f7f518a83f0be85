/* fuse_file.c: FUSE file-handle operations -> the cache.
 *
 * fi->fh holds a struct fo_file: the cache's struct vfs_file plus its entry
 * in the open-file table (fo_ctx()->files, ofiles.c), which follows the
 * file through renames and, once libfuse hides an open file that was
 * unlinked or replaced, maps the hidden name back to the handle
 * (fuse_hidden.c). Threads: any FUSE worker. The kernel serialises release
 * after every other op on the handle; a request that reached the handle by
 * its hidden name holds a reference, and the last reference releases the
 * cache's handle.
 */
#include "fuse_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "azsharefs/log.h"

/* A handle for fh, listed under rel; on failure fh is released. */
static int file_new(struct vfs_file *fh, const char *rel, struct fuse_file_info *fi)
{
	struct fo_ctx *x = fo_ctx();
	struct fo_file *f = calloc(1, sizeof(*f));

	if (!f || of_add(&x->files, &f->ent, rel) != 0) {
		free(f);
		vfs_release(x->v, fh);
		return -ENOMEM;
	}
	f->fh = fh;
	fi->fh = (uint64_t)(uintptr_t)f;
	return 0;
}

int fo_open(const char *path, struct fuse_file_info *fi)
{
	struct fo_ctx *x = fo_ctx();
	struct vfs_file *fh = NULL;
	struct fo_target t;
	int rc = fo_target_get(&t, path, NULL);

	if (rc == 0 && !t.rel) {
		az_debug("open of '%s' refused: the file was unlinked", t.name);
		rc = -ENOENT;
	}
	if (rc == 0)
		rc = vfs_open(x->v, t.rel, fi->flags, &fh);
	if (rc == 0)
		rc = file_new(fh, t.rel, fi);
	fo_target_put(&t);
	if (rc)
		return rc;
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
	int rc = fo_check_new_name(rel);

	if (rc)
		return rc;
	fo_new_owner(rel, S_IFREG, mode, &w);
	rc = vfs_create(x->v, rel, fi->flags, &w, &fh);
	if (rc)
		return rc;
	return file_new(fh, rel, fi);
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
	rc = fo_check_new_name(rel);
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

int fo_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	return vfs_fsyncdir(fo_ctx()->v, path);
}

int fo_release(const char *path, struct fuse_file_info *fi)
{
	struct fo_ctx *x = fo_ctx();
	struct fo_file *f = fo_file_of(fi);
	int rc = 0;

	(void)path;
	if (of_del(&x->files, &f->ent) == 0) {
		rc = vfs_release(x->v, f->fh);
		free(f);
	}
	return rc; /* else a request on its hidden name releases it */
}
