/* prov.h: what every subcommand shares: the scratch root, the loaded pool
 * config and where the share is mounted on this machine. */
#ifndef PROV_H
#define PROV_H

#include <stddef.h>

#include "prov_config.h"
#include "prov_util.h"

struct prov_ctx {
	char root[PROV_PATH_MAX];	 /* "/" or the --root scratch tree */
	char config_path[PROV_PATH_MAX]; /* host path of the pool config */
	char config_arg[PROV_PATH_MAX];	 /* the same as the target system names it */
	struct prov_config cfg;
	char mnt[PROV_PATH_MAX]; /* host path of the share (--mountpoint or ROOT+mountpoint) */
};

/* Options every subcommand takes. */
struct prov_common_opts {
	const char *root;	/* --root DIR, NULL for "/" */
	const char *config;	/* --config FILE (a path on this machine) */
	const char *mountpoint; /* --mountpoint DIR (a path on this machine) */
	int no_mount;		/* --no-mount */
	const char *sets[32];	/* --set KEY=VALUE, applied after the file */
	size_t nsets;
};

/* Loads the config (ROOT/etc/azsharefs/pool.conf unless --config) and
 * applies the overrides. A missing default config is an error naming it.
 * Prints the error itself. */
int prov_ctx_load(struct prov_ctx *ctx, const struct prov_common_opts *o);

/* out = ROOT + target (a path as the target system names it). */
int prov_ctx_host(const struct prov_ctx *ctx, const char *target, char *out, size_t outlen);

/* 1 when ROOT is "/" (the real system). */
int prov_ctx_real_root(const struct prov_ctx *ctx);

/* Makes sure the share is there before touching it: with no_mount the
 * directory must exist; otherwise waits up to mount_timeout seconds for a
 * FUSE mount at ctx->mnt. Prints the error itself. */
int prov_ctx_share_ready(const struct prov_ctx *ctx);

#endif
