/* attrdefer.h: deferred utimens of freshly uploaded files (attrdefer.c). */
#ifndef AZSF_CACHE_ATTRDEFER_H
#define AZSF_CACHE_ATTRDEFER_H

#include "vfs_int.h"

/* How long a change may wait, and how recent the file's upload must be
 * for a first change to wait: min(attr_timeout_ms, 1000); 0 = never. */
long mc_attrs_window_ms(const struct vfs *v);
/* v->lock held: may w be deferred on n's file f? Only an mtime change,
 * of a clean, closed, whole copy this node uploaded within the window (or
 * whose change already waits). */
int mc_attrs_deferrable(const struct vfs *v, const struct mc_node *n, const struct mc_file *f,
			const struct vfs_want *w);
/* No lock held: folds w into f's pending change, journals it and queues
 * it for the window's end. 0; 1 = no longer deferrable (the caller sends
 * it now); -errno when the journal failed and sending it now failed too
 * (then it is retried in the background). */
int mc_attrs_defer(struct vfs *v, struct mc_file *f, const struct vfs_want *w);
/* f->up_lock held, no other lock: sends f's pending change (one setattr),
 * unless f became dirty (its upload carries it), orphaned (dropped) or
 * stale (the share's version moved on: dropped, logged). 0 when nothing
 * is pending any more; -errno on a transport error (still pending). */
int mc_attrs_apply(struct vfs *v, struct mc_file *f);
/* v->lock held: st (the share's view of f) with f's pending change on top. */
void mc_attrs_overlay(const struct mc_file *f, struct az_stat *st);
/* v->lock held: fields of f's pending change that w does not set, added
 * to w (an immediate setattr then carries them); not the mtime when w
 * resizes (the resize is newer and moves the mtime itself). */
void mc_attrs_merge(const struct mc_file *f, struct vfs_want *w);
/* f->up_lock held, no other lock: the pending change went with a request
 * (or is void): forget it and its journal record. */
void mc_attrs_done(struct vfs *v, struct mc_file *f);

#endif
