/* prov.c: the context every subcommand starts from.
 *
 * Owns struct prov_ctx. Single-threaded. Path convention: values in the
 * pool config and in generated units are target-system paths (/etc/...,
 * /mnt/...); what the provisioner touches is ROOT + that path, so a scratch
 * --root tree stands for a whole node. The command-line overrides --config
 * and --mountpoint are paths on this machine, used as given: tests point
 * two simulated nodes at one shared directory or mount that way.
 */
#include "prov.h"
#include "prov_mount.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/log.h"

int prov_ctx_real_root(const struct prov_ctx *ctx)
{
	return strcmp(ctx->root, "/") == 0;
}

int prov_ctx_host(const struct prov_ctx *ctx, const char *target, char *out, size_t outlen)
{
	return prov_root_path(ctx->root, target, out, outlen);
}

static int apply_sets(struct prov_ctx *ctx, const struct prov_common_opts *o)
{
	char key[64];
	char err[512];
	size_t i;

	for (i = 0; i < o->nsets; i++) {
		const char *eq = strchr(o->sets[i], '=');

		if (!eq || eq == o->sets[i] || (size_t)(eq - o->sets[i]) >= sizeof(key)) {
			az_err("--set '%s': expected KEY=VALUE", o->sets[i]);
			return -EINVAL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->sets[i]), o->sets[i]);
		if (prov_config_set(&ctx->cfg, key, eq + 1, err, sizeof(err))) {
			az_err("--set: %s", err);
			return -EINVAL;
		}
	}
	return 0;
}

static int load_file(struct prov_ctx *ctx)
{
	struct prov_buf text;
	char err[1024];
	int rc;

	prov_buf_init(&text);
	rc = prov_read_file(ctx->config_path, &text, 1 << 20);
	if (rc) {
		az_err("cannot read pool config '%s': %s", ctx->config_path, strerror(-rc));
		goto out;
	}
	rc = prov_config_parse(&ctx->cfg, prov_buf_str(&text), ctx->config_path, err, sizeof(err));
	if (rc)
		az_err("%s", err);
out:
	prov_buf_release(&text);
	return rc;
}

static int set_root(struct prov_ctx *ctx, const char *root)
{
	struct stat st;

	if (!root || !root[0]) {
		snprintf(ctx->root, sizeof(ctx->root), "/");
		return 0;
	}
	if (root[0] != '/' || stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		az_err("--root '%s' is not an absolute path to a directory", root);
		return -EINVAL;
	}
	if (snprintf(ctx->root, sizeof(ctx->root), "%s", root) >= (int)sizeof(ctx->root))
		return -ENAMETOOLONG;
	return 0;
}

int prov_ctx_load(struct prov_ctx *ctx, const struct prov_common_opts *o)
{
	char err[512];
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	prov_config_init(&ctx->cfg);
	rc = set_root(ctx, o->root);
	if (rc)
		return rc;
	if (o->config) {
		snprintf(ctx->config_path, sizeof(ctx->config_path), "%s", o->config);
		snprintf(ctx->config_arg, sizeof(ctx->config_arg), "%s", o->config);
	} else {
		snprintf(ctx->config_arg, sizeof(ctx->config_arg), "%s", PROV_DEFAULT_CONFIG);
		rc = prov_ctx_host(ctx, PROV_DEFAULT_CONFIG, ctx->config_path,
				   sizeof(ctx->config_path));
		if (rc)
			return rc;
	}
	rc = load_file(ctx);
	if (!rc)
		rc = apply_sets(ctx, o);
	if (rc)
		return rc;
	if (o->no_mount)
		ctx->cfg.no_mount = 1;
	rc = prov_config_check(&ctx->cfg, err, sizeof(err));
	if (rc) {
		az_err("%s: %s", ctx->config_path, err);
		return rc;
	}
	if (o->mountpoint)
		rc = snprintf(ctx->mnt, sizeof(ctx->mnt), "%s", o->mountpoint) >=
			     (int)sizeof(ctx->mnt)
			 ? -ENAMETOOLONG
			 : 0;
	else
		rc = prov_ctx_host(ctx, ctx->cfg.mountpoint, ctx->mnt, sizeof(ctx->mnt));
	return rc;
}

int prov_ctx_share_ready(const struct prov_ctx *ctx)
{
	struct stat st;
	time_t deadline;
	char fstype[64];
	int announced = 0;

	if (ctx->cfg.no_mount) {
		if (stat(ctx->mnt, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		az_err("share directory '%s' does not exist (no_mount is set)", ctx->mnt);
		return -ENOENT;
	}
	deadline = time(NULL) + (time_t)ctx->cfg.mount_timeout;
	for (;;) {
		if (prov_mount_state(ctx->mnt, fstype, sizeof(fstype)) == 0) {
			if (strncmp(fstype, "fuse", 4) == 0)
				return 0;
			az_err("'%s' is mounted as %s, not as azsharefs", ctx->mnt, fstype);
			return -EINVAL;
		}
		if (time(NULL) >= deadline)
			break;
		if (!announced)
			prov_say("share: waiting up to %lus for the mount at %s",
				 ctx->cfg.mount_timeout, ctx->mnt);
		announced = 1;
		usleep(250000);
	}
	az_err("the share is not mounted at '%s' (run 'azsharefs-provision node' first, or "
	       "check 'systemctl status azsharefs-mount')",
	       ctx->mnt);
	return -ENOTCONN;
}
