/* fuse_ops.h: the FUSE high-level operations over the cache (fs/ internal). */
#ifndef AZSF_FUSE_OPS_H
#define AZSF_FUSE_OPS_H

#include <fuse.h>
#include <sys/types.h>
#include <time.h>

struct vfs;

/* Shared by every FUSE thread; read-only once the loop runs. */
struct fo_ctx {
	struct vfs *v;
	double attr_timeout; /* seconds: kernel attribute and entry cache */
	double negative_timeout;
	uid_t default_uid; /* owner of entries with foreign permission keys */
	gid_t default_gid;
	mode_t file_mode; /* their permission bits */
	mode_t dir_mode;
	int single_thread;	    /* -s: one FUSE thread */
	struct timespec mount_time; /* shown when the share gives no times */
};

/* Fills ops with the azsharefs operations. fuse_new()'s user_data must be a
 * struct fo_ctx. */
void fo_operations(struct fuse_operations *ops);

/* What st_ino is for an entry without a FileId: a 64-bit hash of its path. */
unsigned long long fo_path_ino(const char *path);

#endif
