/* attrcache.h: attribute lookups (attrcache.c). */
#ifndef AZSF_CACHE_ATTRCACHE_H
#define AZSF_CACHE_ATTRCACHE_H

#include "vfs_int.h"

/* v->lock held (may be dropped and retaken to list the parent): the node
 * for path if it exists, from the attribute cache, then a fresh listing of
 * the parent, else one listing of the parent. 0 or -errno (-ENOENT). A "no
 * such name" older than neg_timeout_ms is asked again (a listing of the
 * parent, or a HEAD in a directory over one page). While the share is
 * unreachable, stale attributes and stale negative answers are used. */
int mc_lookup(struct vfs *v, const char *path, struct mc_node **out);
/* v->lock held: what the caller should see for n (local view for files
 * with local changes), owner defaults filled. */
void mc_node_attrs(const struct vfs *v, const struct mc_node *n, struct az_stat *st);
/* v->lock held: does n's file carry changes the share lacks (or is it being
 * written)? Then the local view is the truth. */
int mc_node_local(const struct mc_node *n);
/* No lock held: HEAD of path, and the node updated from the answer. */
int mc_revalidate(struct vfs *v, const char *path, struct az_stat *st);

/* v->lock held: forget what is cached about path and its parent's listing. */
void mc_invalidate(struct vfs *v, const char *path);

#endif
