/* fileops.h: handles shared by fileops.c and fileattr.c. */
#ifndef AZSF_CACHE_FILEOPS_H
#define AZSF_CACHE_FILEOPS_H

#include "vfs_int.h"

/* v->lock held: a handle on f (takes a reference, counts the open). */
struct vfs_file *mc_fh_new(struct mc_file *f, int flags);
/* v->lock held: undo mc_fh_new and free fh. */
void mc_fh_drop(struct vfs *v, struct vfs_file *fh);
/* No lock held: a dirty file nobody has open got changed (setattr): upload
 * it now (close-to-open) or journal and queue it (write-back). */
int mc_persist(struct vfs *v, struct mc_file *f);

/* v->lock held: -EEXIST (logged) if path's parent has a visible entry whose
 * name differs from path's only in case (skip excepted). */
int mc_check_case(struct vfs *v, const char *path, const struct mc_node *skip);

/* v->lock held (may be dropped to list): the parent of path, which must be
 * an existing directory (-ENOENT, -ENOTDIR). */
int mc_parent_dir(struct vfs *v, const char *path, struct mc_node **out);

#endif
