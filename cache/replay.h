/* replay.h: uploading a previous mount's journal at vfs_init (replay.c). */
#ifndef AZSF_CACHE_REPLAY_H
#define AZSF_CACHE_REPLAY_H

#include <stdint.h>

#include "vfs_int.h"

/* The largest id used by a data file or journal record (0 if none). */
uint64_t mc_replay_max_id(struct vfs *v);
/* Uploads every journal record; 0, or the error that must fail the mount. */
int mc_replay(struct vfs *v);

#endif
