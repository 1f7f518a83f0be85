/* prov_node.c: `azsharefs-provision node`, run at first boot and every boot.
 *
 * Owns no state. Single-threaded. Steps, each idempotent and reported as
 * written/unchanged: install the credentials root-only, create the
 * mountpoint and cache dir, write and enable the systemd units, get the
 * share mounted (through systemd when it runs, else by starting azsharefs
 * directly in the background), then sync users from the roster.
 */
#include "prov_cmd.h"
#include "prov_creds.h"
#include "prov_mount.h"
#include "prov_share.h"
#include "prov_systemd.h"
#include "prov_users.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"

static int install_creds(const struct prov_ctx *ctx, int *changed)
{
	char conn[600];
	char src[PROV_PATH_MAX];
	char dst[PROV_PATH_MAX];
	char err[1024];
	int rc;

	rc = prov_config_conn_path(&ctx->cfg, conn, sizeof(conn));
	if (!rc)
		rc = prov_ctx_host(ctx, ctx->cfg.credentials, src, sizeof(src));
	if (!rc)
		rc = prov_ctx_host(ctx, conn, dst, sizeof(dst));
	if (rc)
		return rc;
	rc = prov_creds_install(&ctx->cfg, src, dst, changed, err, sizeof(err));
	if (rc) {
		az_err("%s", err);
		return rc;
	}
	prov_say("credentials: %s %s (root only, 0600)", dst, *changed ? "installed" : "unchanged");
	return 0;
}

static int make_dirs(const struct prov_ctx *ctx)
{
	char cache[PROV_PATH_MAX];
	int created = 0;
	int rc;

	rc = prov_mkdir_p(ctx->mnt, 0755, &created);
	if (rc) {
		az_err("cannot create mountpoint '%s': %s", ctx->mnt, strerror(-rc));
		return rc;
	}
	if (created)
		prov_say("mountpoint: %s created", ctx->mnt);
	rc = prov_ctx_host(ctx, ctx->cfg.cache_dir, cache, sizeof(cache));
	if (!rc)
		rc = prov_mkdir_p(cache, 0700, &created);
	if (rc) {
		az_err("cannot create cache dir '%s': %s", cache, strerror(-rc));
		return rc;
	}
	if (created)
		prov_say("cache: %s created", cache);
	return 0;
}

static int clear_dead_mount(const char *mnt)
{
	const char *argv[] = {"fusermount3", "-u", "-z", mnt, NULL};

	if (!prov_mount_is_dead(mnt))
		return 0;
	if (prov_run(argv) != 0) {
		az_err("'%s' is a dead mount and fusermount3 -u -z failed", mnt);
		return -EBUSY;
	}
	prov_say("mount: cleared a dead mount at %s", mnt);
	return 0;
}

/* Host paths the direct mount needs, made under ROOT. */
static int direct_paths(const struct prov_ctx *ctx, char *opts, size_t optslen,
			struct prov_mount_req *req, char *log, char *pidfile, char *bin)
{
	char conn[600];
	char conn_host[PROV_PATH_MAX];
	char cache_host[PROV_PATH_MAX];
	char dir[PROV_PATH_MAX];
	int rc;

	rc = prov_config_conn_path(&ctx->cfg, conn, sizeof(conn));
	if (!rc)
		rc = prov_ctx_host(ctx, conn, conn_host, sizeof(conn_host));
	if (!rc)
		rc = prov_ctx_host(ctx, ctx->cfg.cache_dir, cache_host, sizeof(cache_host));
	if (!rc)
		rc = prov_config_mount_opts(&ctx->cfg, conn_host, cache_host, opts, optslen);
	if (!rc)
		rc = prov_ctx_host(ctx, "/var/log/azsharefs", dir, sizeof(dir));
	if (!rc)
		rc = prov_mkdir_p(dir, 0700, NULL);
	if (!rc)
		rc = prov_path_join(log, PROV_PATH_MAX, dir, "mount.log");
	if (!rc)
		rc = prov_ctx_host(ctx, "/run/azsharefs", dir, sizeof(dir));
	if (!rc)
		rc = prov_mkdir_p(dir, 0755, NULL);
	if (!rc)
		rc = prov_path_join(pidfile, PROV_PATH_MAX, dir, "mount.pid");
	/* Programs are this machine's: a --root tree holds a node's data, not
	 * its binaries, so the mount program is not looked up under ROOT. */
	snprintf(bin, PROV_PATH_MAX, "%s", ctx->cfg.azsharefs);
	req->binary = bin;
	req->mnt = ctx->mnt;
	req->opts = opts;
	req->log = log;
	req->pidfile = pidfile;
	req->timeout = ctx->cfg.mount_timeout;
	return rc;
}

static int mount_direct(const struct prov_ctx *ctx, int creds_changed)
{
	char opts[2400];
	char log[PROV_PATH_MAX];
	char pidfile[PROV_PATH_MAX];
	char bin[PROV_PATH_MAX];
	struct prov_mount_req req;
	char fstype[64];
	char err[1024];
	pid_t pid = -1;
	int rc;

	if (prov_mount_state(ctx->mnt, fstype, sizeof(fstype)) == 0 &&
	    !prov_mount_is_dead(ctx->mnt)) {
		if (strncmp(fstype, "fuse", 4) != 0) {
			az_err("'%s' is already mounted as %s; unmount it first", ctx->mnt, fstype);
			return -EBUSY;
		}
		prov_say("mount: %s unchanged (already mounted)%s", ctx->mnt,
			 creds_changed ? "; remount to use the new credentials" : "");
		return 0;
	}
	rc = clear_dead_mount(ctx->mnt);
	if (!rc)
		rc = direct_paths(ctx, opts, sizeof(opts), &req, log, pidfile, bin);
	if (rc)
		return rc;
	if (access(bin, X_OK) < 0) {
		az_err("mount program '%s' is not executable (set 'azsharefs =' in '%s')", bin,
		       ctx->config_path);
		return -ENOENT;
	}
	rc = prov_mount_spawn(&req, &pid, err, sizeof(err));
	if (rc) {
		az_err("mount: %s", err);
		return rc;
	}
	prov_say("mount: share %s mounted at %s (pid %ld, log %s)", ctx->cfg.share, ctx->mnt,
		 (long)pid, log);
	return 0;
}

static int get_mounted(const struct prov_ctx *ctx, int units_changed, int mount_changed,
		       int creds_changed)
{
	char probe[PROV_PATH_MAX];
	int rc;

	if (prov_systemd_running(ctx)) {
		rc = prov_systemd_start(units_changed, mount_changed || creds_changed);
		return rc ? rc : prov_ctx_share_ready(ctx);
	}
	prov_ctx_host(ctx, "/run/systemd/system", probe, sizeof(probe));
	prov_say("systemd: not running (no %s); units are enabled for the next boot, "
		 "mounting directly",
		 probe);
	if (ctx->cfg.no_mount) {
		prov_say("mount: skipped (no_mount); %s stands in for the share", ctx->mnt);
		return 0;
	}
	return mount_direct(ctx, creds_changed);
}

static int sync_now(const struct prov_ctx *ctx)
{
	struct prov_roster r;
	char err[1024];
	int created = 0;
	int rc;

	prov_roster_init(&r);
	rc = prov_share_roster_init(ctx->mnt, ctx->cfg.lock_timeout, &created, err, sizeof(err));
	if (!rc && created)
		prov_say("roster: created an empty roster in %s/" PROV_SHARE_DIR, ctx->mnt);
	if (!rc)
		rc = prov_share_roster_load(ctx->mnt, &r, err, sizeof(err));
	if (rc)
		az_err("%s", err);
	else
		rc = prov_users_sync(ctx, &r);
	prov_roster_release(&r);
	return rc;
}

static int self_path(char *out, size_t outlen)
{
	ssize_t n = readlink("/proc/self/exe", out, outlen - 1);

	if (n < 0)
		return -errno;
	out[n] = '\0';
	return 0;
}

int prov_cmd_node(const struct prov_common_opts *o)
{
	struct prov_ctx ctx;
	char self[PROV_PATH_MAX];
	int creds_changed = 0;
	int mount_changed = 0;
	int units_changed = 0;
	int rc;

	rc = prov_ctx_load(&ctx, o);
	if (rc)
		return rc;
	prov_say("node: pool config %s (account %s, share %s, mountpoint %s)", ctx.config_path,
		 ctx.cfg.account, ctx.cfg.share, ctx.mnt);
	rc = install_creds(&ctx, &creds_changed);
	if (!rc)
		rc = make_dirs(&ctx);
	if (!rc)
		rc = self_path(self, sizeof(self));
	if (!rc)
		rc = prov_systemd_install(&ctx, self, &mount_changed, &units_changed);
	if (!rc)
		rc = get_mounted(&ctx, units_changed, mount_changed, creds_changed);
	if (!rc)
		rc = sync_now(&ctx);
	if (!rc)
		prov_say("node: done");
	return rc;
}
