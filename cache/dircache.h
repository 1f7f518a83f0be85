/* dircache.h: cached directory listings (dircache.c). */
#ifndef AZSF_CACHE_DIRCACHE_H
#define AZSF_CACHE_DIRCACHE_H

#include "vfs_int.h"

#define MC_LIST_PAGE 5000 /* entries per listing page of the service */
/* A directory of fewer entries lists in at most two pages: no more requests
 * than the two HEADs (file, then directory) that tell a name is absent. */
#define MC_LIST_CHEAP (2 * MC_LIST_PAGE)

/* v->lock held on entry and exit (dropped during the request): lists dir
 * (all pages) and caches every entry; one listing per directory at a time,
 * concurrent callers wait for it. 0 or -errno (-ENOENT: no such dir). */
int mc_dir_list(struct vfs *v, const char *dir);
/* v->lock held: when d's listing answered (its "no such name" counts from
 * then: a big listing outlasts neg_timeout); 0 if never listed. */
int64_t mc_listing_done(const struct mc_node *d);
/* Applies one remote entry to the cache (v->lock held). */
void mc_dir_apply(struct vfs *v, struct mc_node *n, const struct az_stat *st, int64_t at);

#endif
