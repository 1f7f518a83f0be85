/* stat.h: what the share knows about one file or directory, in POSIX terms.
 *
 * Shared by the REST client (fs/), the backend adapter (fs/backend.c) and the
 * cache (cache/). No curl, no FUSE here.
 */
#ifndef AZSHAREFS_STAT_H
#define AZSHAREFS_STAT_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define AZ_ETAG_MAX 80
#define AZ_PERMKEY_MAX 128
#define AZ_LEASE_ID_MAX 40

/* Azure file attributes (x-ms-file-attributes), as bits. */
#define AZ_FATTR_READONLY 0x01u
#define AZ_FATTR_HIDDEN 0x02u
#define AZ_FATTR_SYSTEM 0x04u
#define AZ_FATTR_DIRECTORY 0x10u
#define AZ_FATTR_ARCHIVE 0x20u
#define AZ_FATTR_TEMPORARY 0x100u
#define AZ_FATTR_OFFLINE 0x1000u
#define AZ_FATTR_NOT_CONTENT_INDEXED 0x2000u
#define AZ_FATTR_NO_SCRUB_DATA 0x20000u

/* One entry's attributes. From a listing (include=Timestamps,ETag,
 * Attributes,PermissionKey), a HEAD, or a create/set reply. */
struct az_stat {
	int is_dir;		       /* 1 for a directory */
	uint64_t size;		       /* Content-Length; 0 for directories */
	struct timespec mtime;	       /* x-ms-file-last-write-time / LastWriteTime */
	struct timespec ctime;	       /* x-ms-file-change-time / ChangeTime */
	struct timespec btime;	       /* x-ms-file-creation-time / CreationTime */
	struct timespec atime;	       /* LastAccessTime, or mtime when absent */
	char etag[AZ_ETAG_MAX];	       /* as the service sends it, quotes kept; "" unknown */
	char perm_key[AZ_PERMKEY_MAX]; /* x-ms-file-permission-key / PermissionKey; "" unknown */
	uint32_t attrs;		       /* AZ_FATTR_* */
	uint64_t file_id;	       /* x-ms-file-id / FileId; 0 unknown */

	/* POSIX view, filled by fs/backend.c from perm_key (see docs/DESIGN.md);
	 * has_owner = 0 when the key is not one of ours (mount defaults apply). */
	int has_owner;
	uid_t uid;
	gid_t gid;
	mode_t mode; /* includes S_IFREG / S_IFDIR / S_IFLNK */
};

#endif
