/* fuse_ops.h: the FUSE high-level operations over the cache (fs/ internal). */
#ifndef AZSF_FUSE_OPS_H
#define AZSF_FUSE_OPS_H

#include <fuse.h>
#include <sys/types.h>
#include <time.h>

#include "ofiles.h"

struct vfs;

/* Shared by every FUSE thread; read-only once the loop runs, except the
 * open-file table, which has its own lock. */
struct fo_ctx {
	struct vfs *v;
	double attr_timeout; /* seconds: kernel attribute and entry cache */
	double negative_timeout;
	uid_t default_uid; /* owner of entries with foreign permission keys */
	gid_t default_gid;
	mode_t file_mode; /* their permission bits */
	mode_t dir_mode;
	int single_thread;	    /* -s: one FUSE thread */
	int req_noted;		    /* fo_req_install worked (fuse_req.c) */
	struct timespec mount_time; /* shown when the share gives no times */
	struct of_table files;	    /* open handles by path (fuse_hidden.c) */
};

/* Fills ops with the azsharefs operations. fuse_new()'s user_data must be a
 * struct fo_ctx. */
void fo_operations(struct fuse_operations *ops);

/* st_ino of an entry: a 64-bit hash of its share path, stable for as long
 * as the name is, on every node (fuse_ops.c). */
unsigned long long fo_path_ino(const char *path);

/* Reads the session's requests through a hook that notes which request
 * each thread serves (fuse_req.c). Call after fuse_mount; 0 or -errno
 * (the mount works without it, with the fallback fuse_req.c describes). */
int fo_req_install(struct fuse *f);

#endif
