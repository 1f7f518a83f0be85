/* upload.h: publishing a dirty file, with the conflict check (upload.c). */
#ifndef AZSF_CACHE_UPLOAD_H
#define AZSF_CACHE_UPLOAD_H

#include "vfs_int.h"

#define MC_UP_NS_HELD 0x1u   /* caller holds v->ns_lock (shared or exclusive) */
#define MC_UP_LOCK_HELD 0x2u /* caller holds f->up_lock */

/* Uploads f if dirty (no v->lock held): checks the remote version against
 * f->base unless validated within conflict_slack_ms, writes a conflict copy
 * instead if it moved, and on success marks f clean and drops its journal
 * record. 0 = f is clean (or orphaned), else -errno (f stays dirty). */
int mc_upload(struct vfs *v, struct mc_file *f, unsigned flags);
/* Upload failed or cannot happen now: journal f (if not yet) so no data is
 * lost, and queue a background retry for transport errors. Caller holds
 * f->up_lock. */
void mc_upload_failed(struct vfs *v, struct mc_file *f, int rc);
/* "dir/name.conflict-<host>-<YYYYmmddTHHMMSS>" for path, now. */
int mc_conflict_name(const struct vfs *v, const char *path, int seq, char *buf, size_t len);

#endif
