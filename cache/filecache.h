/* filecache.h: local whole-file copies (filecache.c). */
#ifndef AZSF_CACHE_FILECACHE_H
#define AZSF_CACHE_FILECACHE_H

#include <stddef.h>
#include <sys/types.h>

#include "vfs_int.h"

/* v->lock held: the node's file, created (empty, not whole) if missing. */
struct mc_file *mc_file_get(struct vfs *v, struct mc_node *n);
/* v->lock held: a new file object with the given id (journal replay). */
struct mc_file *mc_file_new(struct vfs *v, uint64_t id);
void mc_file_ref(struct mc_file *f);
/* v->lock held; frees the object (and its data file unless it must survive
 * for the journal) on the last reference. */
void mc_file_unref(struct vfs *v, struct mc_file *f);
/* v->lock held: cut f from its node (unlink, rename over, remote deletion):
 * never uploaded, its journal record goes; handles keep the data. */
void mc_file_detach(struct vfs *v, struct mc_file *f);
/* v->lock held: forget f's clean copy and drop it from the node (refs must
 * be the node's only). */
void mc_file_drop(struct vfs *v, struct mc_file *f);
void mc_file_data_path(const struct vfs *v, uint64_t id, char *buf, size_t len);

/* These take/assume f->data_lock as said and take v->lock themselves. */
/* data_lock exclusive: make fd hold the current content (download if not
 * whole or stale). 0 or -errno. */
int mc_file_ensure(struct vfs *v, struct mc_file *f);
/* data_lock exclusive: an empty local copy (O_TRUNC, new files). */
int mc_file_make_empty(struct vfs *v, struct mc_file *f);
/* data_lock exclusive: an empty local copy that is the share's (clean)
 * version, e.g. the file an exclusive create just published. */
int mc_file_set_empty(struct vfs *v, struct mc_file *f);
/* data_lock exclusive: write and mark dirty. */
ssize_t mc_file_write(struct vfs *v, struct mc_file *f, const void *buf, size_t size, uint64_t off);
/* data_lock exclusive: local truncate, marks dirty. */
int mc_file_truncate(struct vfs *v, struct mc_file *f, uint64_t size);
/* data_lock shared. */
ssize_t mc_file_read(struct vfs *v, struct mc_file *f, void *buf, size_t size, uint64_t off);
/* v->lock held: gen++, leave the LRU. */
void mc_file_mark_dirty(struct vfs *v, struct mc_file *f);
/* v->lock held: take st as the clean remote version of f (download, stat). */
void mc_file_set_remote(struct vfs *v, struct mc_file *f, const struct az_stat *st);
/* Does st describe the version f is based on? */
int mc_base_matches(const struct mc_base *b, const struct az_stat *st);
void mc_base_from_stat(struct mc_base *b, const struct az_stat *st, int64_t at);

#endif
