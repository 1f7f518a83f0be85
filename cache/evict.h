/* evict.h: accounting of local data and LRU eviction of clean copies. */
#ifndef AZSF_CACHE_EVICT_H
#define AZSF_CACHE_EVICT_H

#include <stdint.h>

#include "vfs_int.h"

/* All with v->lock held. */
/* Puts f on the LRU tail if it may be evicted (whole, clean, unopened,
 * attached), otherwise takes it off. */
void mc_lru_update(struct vfs *v, struct mc_file *f);
void mc_lru_remove(struct vfs *v, struct mc_file *f);
/* f's local data is now bytes long. */
void mc_acct_set(struct vfs *v, struct mc_file *f, uint64_t bytes);
/* Evicts clean copies, oldest first, until data_bytes <= cap - need. */
void mc_evict(struct vfs *v, uint64_t need);
/* Evicts every clean copy it can (the local disk is full). Returns the
 * number evicted. */
int mc_evict_all(struct vfs *v);

#endif
