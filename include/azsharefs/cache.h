/* cache.h: the local cache and namespace core ("vfs", implementation in cache/).
 *
 * The FUSE layer (fs/fuse_ops.c) is a thin translation onto these calls. The
 * cache owns all local state: attribute and directory caches, whole-file
 * copies of small files, the journal of dirty data, the write-back workers,
 * conflict copies and eviction. It reaches the share only through struct
 * vfs_backend (implemented in fs/backend.c over the REST client, and by a fake
 * in tests/unit). No curl and no FUSE in cache/.
 *
 * Paths are share-relative without a leading '/'; "" is the root. All
 * functions return 0 (or a byte count where said) or a negative errno.
 */
#ifndef AZSHAREFS_CACHE_H
#define AZSHAREFS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "azsharefs/stat.h"

/* ---- the remote, as the cache sees it ---- */

/* What to set on create/upload/setattr. */
struct vfs_want {
	unsigned mask; /* VFS_SET_* */
	uid_t uid;
	gid_t gid;
	mode_t mode; /* with type bits */
	struct timespec mtime;
	uint64_t size;
};
#define VFS_SET_MODE 0x1u
#define VFS_SET_UID 0x2u
#define VFS_SET_GID 0x4u
#define VFS_SET_MTIME 0x8u
#define VFS_SET_SIZE 0x10u
/* Not a change: want->size is the entry's current size as the caller knows
 * it and, unless VFS_SET_MTIME is set, want->mtime its current last-write
 * time. A backend whose reply lacks the size (Set File Properties) reports
 * this size instead of asking the share; when the reply's last-write time
 * differs from want->mtime the file changed meanwhile and the backend asks
 * the share after all (and reports the version as unknown, etag ""). */
#define VFS_KNOWN_SIZE 0x20u

typedef int (*vfs_list_cb)(void *arg, const char *name, const struct az_stat *st);

struct vfs_backend {
	void *ctx;
	/* HEAD of a file or directory (type unknown to the caller). */
	int (*stat)(void *ctx, const char *path, struct az_stat *st);
	/* Whole listing of a directory, all pages. */
	int (*list)(void *ctx, const char *dir, vfs_list_cb cb, void *arg);
	/* Ranged read; returns bytes read (short at EOF) or -errno. */
	ssize_t (*read)(void *ctx, const char *path, uint64_t off, size_t len, void *buf);
	/* Whole file into fd (pwrite from 0); st = the version that was read. */
	int (*download)(void *ctx, const char *path, int fd, struct az_stat *st);
	/* Publish fd[0..size) as path, atomically for other readers (one Create
	 * File with body up to 4 MiB; else a hidden temp file, parallel ranges
	 * and a replacing rename). want carries mode/uid/gid/mtime. st = result. */
	int (*upload)(void *ctx, const char *path, int fd, uint64_t size,
		      const struct vfs_want *want, struct az_stat *st);
	/* In-place range write of an existing file (large, streamed files).
	 * st is in/out: when st->etag is not empty on entry, st holds the file's
	 * attributes as the caller knows them (e.g. from the resize just before)
	 * and the backend only updates what the write changed (ETag, mtime, the
	 * size when the write ends past it) instead of asking the share. */
	int (*write_range)(void *ctx, const char *path, uint64_t off, const void *buf, size_t len,
			   struct az_stat *st);
	int (*create)(void *ctx, const char *path, const struct vfs_want *want,
		      struct az_stat *st); /* empty file */
	int (*mkdir)(void *ctx, const char *path, const struct vfs_want *want, struct az_stat *st);
	int (*unlink)(void *ctx, const char *path);
	int (*rmdir)(void *ctx, const char *path);
	/* Atomic rename; noreplace = fail with -EEXIST if dst exists. */
	int (*rename)(void *ctx, const char *src, const char *dst, int is_dir, int noreplace);
	/* Sets the fields in want->mask (size = resize; see VFS_KNOWN_SIZE). */
	int (*setattr)(void *ctx, const char *path, int is_dir, const struct vfs_want *want,
		       struct az_stat *st);
	int (*symlink)(void *ctx, const char *path, const char *target, const struct vfs_want *want,
		       struct az_stat *st);
	int (*readlink)(void *ctx, const char *path, char *buf, size_t size);
	int (*statfs)(void *ctx, uint64_t *total_bytes, uint64_t *used_bytes);
	/* Exclusive create (O_EXCL across nodes): publishes an empty file with
	 * want's mode/uid/gid (and mtime if set) as path only if no entry of
	 * that name exists on the share, atomically; -EEXIST otherwise (also
	 * for a name that differs only in case). st = the new file. NULL = not
	 * supported: O_EXCL is then exclusive on this node only. */
	int (*create_excl)(void *ctx, const char *path, const struct vfs_want *want,
			   struct az_stat *st);
};

/* ---- the cache ---- */

struct vfs_opts {
	const char *cache_dir;	  /* required; created 0700; one mount per dir */
	long writeback_delay_ms;  /* 0 = close-to-open (upload in flush/fsync) */
	long attr_timeout_ms;	  /* attribute cache validity */
	long dir_timeout_ms;	  /* directory listing validity */
	uint64_t cache_max_bytes; /* LRU cap on clean data (dirty never evicted) */
	uint64_t file_max_bytes;  /* files up to this are cached whole */
	int upload_threads;	  /* parallel background uploads */
	long conflict_slack_ms;	  /* reuse a server validation this recent as the
				     conflict check (docs/DESIGN.md) */
	int offline_writes;	  /* 1 = queue writes while the share is down */
	/* Defaults for entries whose owner is unknown (has_owner == 0). */
	uid_t default_uid;
	gid_t default_gid;
	mode_t default_file_mode;
	mode_t default_dir_mode;
	/* "No such name" from the share (a listing without it, a 404) is
	 * trusted this long (at most dir_timeout_ms; names this node removed
	 * itself: attr_timeout_ms); after that a lookup that misses asks again
	 * (one listing of the directory, or a HEAD), so a name created on
	 * another node is seen within this window. 0 = always ask. Default 200
	 * (vfs_opts_defaults). */
	long neg_timeout_ms;
	/* O_CREAT|O_EXCL: 1 = every such create takes the name on the share
	 * before open returns (backend->create_excl, two requests more);
	 * 0 (default) = only lock files (names ending in ".lock" or ".lck",
	 * git's and most tools' convention) do; other names are exclusive on
	 * this node and checked against the share's listing, and a name that
	 * appeared on the share meanwhile turns the upload into a conflict copy
	 * (nothing is lost). */
	int strict_excl;
	/* 1 = an open of a cached file whose attributes were validated within
	 * attr_timeout serves the copy without asking the share, as write-back
	 * mode always does (NFS's nocto); closes still upload before they
	 * return. 0 (default) = close-to-open: every open asks. */
	int nocto;
	/* Write-back closes: 0 = each close waits until its journal record and
	 * data are on disk (fdatasync, fsync, two directory fsyncs); N > 0
	 * (default 100) = a close writes them (the kernel holds them; a killed
	 * daemon loses nothing) and one syncfs() of the cache's filesystem
	 * makes everything written meanwhile durable at most N ms later (group
	 * commit). A power cut can then lose the last N ms of write-back closes
	 * (never an fsync(): that always uploads). docs/DESIGN.md. */
	long journal_sync_ms;
};
void vfs_opts_defaults(struct vfs_opts *o);

struct vfs;
struct vfs_file;

/* Takes the cache dir lock (-EBUSY if another mount holds it), then uploads
 * every journaled dirty file before returning. */
int vfs_init(struct vfs **out, const struct vfs_opts *opts, const struct vfs_backend *be);
/* Uploads everything accepted so far, waits for workers, frees. */
int vfs_sync_all(struct vfs *v);
void vfs_free(struct vfs *v);

int vfs_getattr(struct vfs *v, const char *path, struct az_stat *st);
/* Whole directory; cb gets each entry with attributes (no request per entry).
 * Entries this node has not uploaded yet are included. */
int vfs_readdir(struct vfs *v, const char *path, vfs_list_cb cb, void *arg);

/* flags are open(2) flags. create makes the file (O_EXCL honoured). */
int vfs_open(struct vfs *v, const char *path, int flags, struct vfs_file **fh);
int vfs_create(struct vfs *v, const char *path, int flags, const struct vfs_want *want,
	       struct vfs_file **fh);
/* Did the data change since this node last cached it? For FUSE keep_cache. */
int vfs_file_unchanged(struct vfs_file *fh);
ssize_t vfs_read(struct vfs *v, struct vfs_file *fh, void *buf, size_t size, uint64_t off);
ssize_t vfs_write(struct vfs *v, struct vfs_file *fh, const void *buf, size_t size, uint64_t off);
int vfs_flush(struct vfs *v, struct vfs_file *fh); /* every close() */
int vfs_fsync(struct vfs *v, struct vfs_file *fh); /* always uploads */
int vfs_release(struct vfs *v, struct vfs_file *fh);

/* fh may be NULL (path-based) or the open file (ftruncate, futimens). */
int vfs_setattr(struct vfs *v, const char *path, struct vfs_file *fh, const struct vfs_want *want,
		struct az_stat *st);
int vfs_unlink(struct vfs *v, const char *path);
int vfs_mkdir(struct vfs *v, const char *path, const struct vfs_want *want, struct az_stat *st);
int vfs_rmdir(struct vfs *v, const char *path);
#define VFS_RENAME_NOREPLACE 0x1u
int vfs_rename(struct vfs *v, const char *from, const char *to, unsigned flags);
int vfs_symlink(struct vfs *v, const char *target, const char *path, const struct vfs_want *want,
		struct az_stat *st);
int vfs_readlink(struct vfs *v, const char *path, char *buf, size_t size);
int vfs_statfs(struct vfs *v, uint64_t *total_bytes, uint64_t *used_bytes);
/* fsync of a directory: in write-back mode a directory made here and not yet
 * on the share (and those above it) is made there now. */
int vfs_fsyncdir(struct vfs *v, const char *path);

#endif
