/* pendir.h: directories made in write-back mode reach the share later
 * (pendir.c). */
#ifndef AZSF_CACHE_PENDIR_H
#define AZSF_CACHE_PENDIR_H

#include "vfs_int.h"

/* Keeps the backend in v->real; in write-back mode starts the directory
 * thread and points v->be at the wrapper (ctx = v). 0 or -errno. */
int pd_start(struct vfs *v);
/* Stops the thread; pending directories stay journaled. v->be = v->real. */
void pd_stop(struct vfs *v);
/* Creates every pending directory on the share (unmount, sync). 0 or the
 * first error. */
int pd_flush_all(struct vfs *v);

#endif
