/* backend.h: struct vfs_backend over the REST client (fs/ internal).
 *
 * The cache (include/azsharefs/cache.h) reaches the share only through the
 * function table azb_ops() fills. This module owns the upload strategy
 * (one Create File with body up to 4 MiB; larger files through a hidden
 * temp name, parallel Put Range and a replacing rename), the symlink format
 * (Minshall+French, as the kernel SMB client's mfsymlinks), the POSIX view
 * of permission keys (through perm.h) and the statfs cache.
 */
#ifndef AZSF_BACKEND_H
#define AZSF_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "azsharefs/cache.h"

struct az_client;
struct perm_map;

struct azb_opts {
	int put_threads;    /* parallel Put Range per large upload, 0 = 4 */
	long statfs_ttl_ms; /* usage (Get Share Stats) re-read after, 0 = 5000 */
	long quota_ttl_ms;  /* quota (Get Share Properties) re-read after, 0 = 300000 */
	int quota_known;    /* quota_gib is the share's quota as of azb_init */
	uint64_t quota_gib; /* (the mount's start-up check read it) */
	uid_t default_uid;  /* for entries with foreign owners, when a */
	gid_t default_gid;  /* chmod/chown needs the rest of the triple */
	mode_t default_file_mode;
	mode_t default_dir_mode;
};

struct azb;

int azb_init(struct azb **out, struct az_client *c, struct perm_map *pm,
	     const struct azb_opts *opts);
void azb_free(struct azb *b);
/* Fills be with this backend's functions (be->ctx = b). */
void azb_ops(struct azb *b, struct vfs_backend *be);

/* ---- pieces exposed for unit tests ---- */

#define AZB_SYMLINK_SIZE 1067 /* 5 + 5 + 33 + 1024 */
#define AZB_SYMLINK_MAXLEN 1024
#define AZB_TEMP_PREFIX ".azsf~"

/* Writes the 1067-byte symlink file body for target into out. 0 or
 * -ENAMETOOLONG (target over 1024 bytes) / -EINVAL (empty). */
int azb_symlink_format(const char *target, char out[AZB_SYMLINK_SIZE]);
/* Parses a symlink body; copies the target (NUL-terminated, truncated to
 * size - 1) into buf. 0, or -EINVAL when buf is not a valid symlink file. */
int azb_symlink_parse(const char *body, size_t len, char *buf, size_t size);

/* "<dir>/.azsf~<16 hex>" (or ".azsf~<16 hex>" at the root) beside path. */
int azb_temp_name(const char *path, char *out, size_t outlen);

/* 1 when buf[0..len) is all zero bytes (such ranges need no Put Range). */
int azb_all_zero(const void *buf, size_t len);

#endif
