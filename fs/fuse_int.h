/* fuse_int.h: shared by the FUSE translation files (fuse_ops.c, fuse_file.c). */
#ifndef AZSF_FUSE_INT_H
#define AZSF_FUSE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "azsharefs/cache.h"
#include "fuse_ops.h"

/* One open file: the cache's handle and its entry in the open-file table
 * (fo_ctx()->files), which also counts references: the handle's own, and
 * one per request that reached it through a hidden name. */
struct fo_file {
	struct vfs_file *fh; /* owned by the cache; released with the last reference */
	struct of_ent ent;
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
int fo_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi);
int fo_release(const char *path, struct fuse_file_info *fi);
int fo_mknod(const char *path, mode_t mode, dev_t rdev);

/* Drops a reference taken by fo_target_get (the last one releases). */
void fo_file_put(struct fo_file *f);
/* The attributes of an open file whose data is no longer at a path. */
int fo_file_attrs(struct fo_file *f, struct az_stat *a);

/* What a request names, resolved (fuse_hidden.c): a path on the share, or
 * an open file's handle when the name is one libfuse gave an unlinked or
 * replaced open file (".fuse_hidden..."), which never reaches the share. */
struct fo_target {
	const char *name;    /* the request's path, share-relative (for st_ino) */
	const char *rel;     /* path-based: the share path; NULL = handle-based */
	struct fo_file *f;   /* the open file (fi, or the hidden name's) or NULL */
	struct fo_file *ref; /* a reference fo_target_put drops */
	char live[4096];     /* storage for rel */
};
/* 0, or -ENOENT for a hidden name no open file has. */
int fo_target_get(struct fo_target *t, const char *path, struct fuse_file_info *fi);
void fo_target_put(struct fo_target *t);
/* Attributes of what t names. */
int fo_target_attrs(const struct fo_target *t, struct az_stat *a);
/* nm_check_path, and hidden names are reserved (-EINVAL). */
int fo_check_new_name(const char *rel);
/* rename(from, ".fuse_hidden...") from libfuse: see fuse_hidden.c. */
int fo_hidden_rename(const char *from, const char *to);

/* Which request this thread serves, for a rename onto a hidden name
 * (fuse_req.c). */
enum fo_hide {
	FO_HIDE_UNLINK,	 /* libfuse hides a file being unlinked */
	FO_HIDE_REPLACE, /* libfuse hides the target of a rename first */
	FO_HIDE_USER,	 /* the caller itself asked for that name */
	FO_HIDE_UNKNOWN	 /* no note of the request */
};
enum fo_hide fo_req_hide_kind(const char *hidden_name);

#endif
