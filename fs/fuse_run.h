/* fuse_run.h: the mount's life cycle (fs/ internal). */
#ifndef AZSF_FUSE_RUN_H
#define AZSF_FUSE_RUN_H

#include "options.h"

/* Checks, daemonizes (unless -f), mounts, serves until unmounted or
 * signalled, uploads everything accepted, and returns the exit status. */
int fo_run(struct mopt *o, const char *prog);

#endif
