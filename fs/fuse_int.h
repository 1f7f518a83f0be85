/* fuse_int.h: shared by the FUSE translation files (fuse_ops.c, fuse_file.c). */
#ifndef AZSF_FUSE_INT_H
#define AZSF_FUSE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "azsharefs/cache.h"
#include "fuse_ops.h"

/* One open file: the cache's handle plus what fstat of an unlinked file
 * needs (FUSE passes no path then). */
struct fo_file {
	struct vfs_file *fh; /* owned by the cache; valid until release */
	pthread_mutex_t lock;
	struct az_stat st; /* lock: last known attributes */
	char *path;	   /* lock: share-relative path at open (for ino) */
};

static inline struct fo_ctx *fo_ctx(void)
{
	return fuse_get_context()->private_data;
}

static inline struct fo_file *fo_file_of(const struct fuse_file_info *fi)
{
	return fi ? (struct fo_file *)(uintptr_t)fi->fh : NULL;
}

/* "/a/b" -> "a/b" ("/" -> ""). NULL stays NULL. */
static inline const char *fo_rel(const char *path)
{
	if (!path)
		return NULL;
	while (*path == '/')
		path++;
	return path;
}

void fo_fill_stat(const struct fo_ctx *x, const char *rel, const struct az_stat *a,
		  struct stat *st);
/* The caller's owner/group/mode for a new entry under rel's parent
 * (setgid directories pass their group on). */
int fo_new_owner(const char *rel, mode_t type, mode_t mode, struct vfs_want *w);

/* file handle operations (fuse_file.c) */
int fo_open(const char *path, struct fuse_file_info *fi);
int fo_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int fo_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi);
int fo_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi);
int fo_flush(const char *path, struct fuse_file_info *fi);
int fo_fsync(const char *path, int datasync, struct fuse_file_info *fi);
int fo_release(const char *path, struct fuse_file_info *fi);
int fo_mknod(const char *path, mode_t mode, dev_t rdev);
/* fstat of an open file whose path is gone */
int fo_file_getattr(struct fo_file *f, struct stat *st);
void fo_file_note_size(struct fo_file *f, uint64_t size);

#endif
