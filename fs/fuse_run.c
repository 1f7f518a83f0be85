/* fuse_run.c: the mount's life: checks, daemon, FUSE session, unmount.
 *
 * Order matters:
 * 1. Everything that can fail with a clear message runs in the foreground
 *    process first: options (main.c), the credentials file, the share
 *    itself (one Get Share Properties), the cache directory.
 * 2. Unless -f, the process forks before any thread exists; the parent
 *    waits on a pipe and exits with the child's verdict (0 once the mount
 *    is up, 1 with the error already printed), so mount(8) and systemd see
 *    a failure as a failure, never as a mount that answers EIO.
 * 3. The child builds the client, the permission map, the backend and the
 *    cache (vfs_init replays the journal before anything is served), then
 *    fuse_new + fuse_mount, reports success, detaches from the terminal
 *    and logs to syslog.
 * 4. SIGTERM/SIGINT/SIGHUP or an unmount end the loop; fuse_destroy runs
 *    the destroy op (vfs_sync_all: every accepted byte is uploaded), then
 *    everything is freed.
 * Threads: the FUSE loop's workers and the cache's; this file's own code
 * runs on the main thread only.
 */
#include "fuse_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/cache.h"
#include "azsharefs/client.h"
#include "azsharefs/log.h"
#include "backend.h"
#include "fuse_ops.h"
#include "names.h"
#include "perm.h"
#include "startup.h"

struct run {
	struct mopt *o;
	char mnt[PATH_MAX]; /* realpath of the mountpoint */
	char account[256];
	struct az_share_props share; /* from the start-up check */
	char cache_dir[PATH_MAX];
	char *conn_str;
	int notify_fd; /* daemon: pipe to the waiting parent, or -1 */
	struct az_client *c;
	struct perm_map *pm;
	struct azb *b;
	struct vfs_backend be;
	struct vfs *v;
	struct fo_ctx fx;
	struct fuse *f;
	int mounted;
	int signals; /* our signal handlers are installed */
	int served;  /* the loop ran */
};

/* ---- 1: checks in the foreground ---- */

static int check_mountpoint(struct run *r)
{
	struct stat sb;

	if (!realpath(r->o->mountpoint, r->mnt) || stat(r->mnt, &sb) != 0) {
		az_err("mountpoint '%s': %s", r->o->mountpoint, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		az_err("mountpoint '%s' is not a directory", r->o->mountpoint);
		return -1;
	}
	return 0;
}

static int preflight(struct run *r)
{
	char err[512];
	int rc;

	if (check_mountpoint(r))
		return -1;
	rc = mnt_read_conn_file(r->o->conn_file, &r->conn_str, err, sizeof(err));
	if (rc == 0)
		rc = mnt_check_conn(r->conn_str, r->account, sizeof(r->account), err, sizeof(err));
	if (rc == 0)
		rc = mnt_probe_share(r->conn_str, r->o, &r->share, err, sizeof(err));
	if (rc) {
		az_err("%s", err);
		return -1;
	}
	if (r->o->cache_dir)
		snprintf(r->cache_dir, sizeof(r->cache_dir), "%s", r->o->cache_dir);
	else if (mopt_default_cache_dir(r->account, r->o->share, r->mnt, r->cache_dir,
					sizeof(r->cache_dir)) != 0)
		return -1;
	rc = mnt_mkdir_p(r->cache_dir, 0700);
	if (rc) {
		az_err("cache_dir '%s': %s", r->cache_dir, strerror(-rc));
		return -1;
	}
	return 0;
}

/* ---- 2: the daemon ---- */

/* Returns in the child (or with -f); the parent exits here. */
static int daemon_start(struct run *r)
{
	int p[2];
	pid_t pid;
	char status = 1;

	r->notify_fd = -1;
	if (r->o->foreground)
		return 0;
	if (pipe2(p, O_CLOEXEC) != 0) {
		az_err("cannot start the daemon: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		az_err("cannot start the daemon: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &status, 1) != 1)
			status = 1; /* the child died before it could say */
		_exit(status);
	}
	close(p[0]);
	setsid();
	r->notify_fd = p[1];
	return 0;
}

static void daemon_ready(struct run *r, int ok)
{
	char status = ok ? 0 : 1;
	int null;

	if (r->notify_fd < 0)
		return;
	if (ok) {
		if (chdir("/") != 0)
			az_warn("chdir /: %s", strerror(errno));
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
		az_log_set_foreground(0);
	}
	if (write(r->notify_fd, &status, 1) != 1)
		az_warn("cannot report to the parent process");
	close(r->notify_fd);
	r->notify_fd = -1;
}

/* ---- 3: client, cache, FUSE ---- */

static int build_stack(struct run *r)
{
	struct az_client_opts co = {.conn_str = r->conn_str,
				    .share = r->o->share,
				    .ca_file = r->o->ca_file,
				    .max_conns = 32};
	struct azb_opts bo = {.put_threads = 4,
			      .default_uid = r->o->uid,
			      .default_gid = r->o->gid,
			      .default_file_mode = r->o->file_mode,
			      .default_dir_mode = r->o->dir_mode,
			      .quota_known = 1,
			      .quota_gib = r->share.quota_gib};
	struct perm_ops po;
	struct vfs_opts vo;
	char store[PATH_MAX + 16], ident[1024];
	int rc = az_client_init(&r->c, &co);

	if (rc) {
		az_err("cannot set up the REST client: %s", strerror(-rc));
		return -1;
	}
	nm_set_allow_trailing_dot(1); /* the client keeps them (client.h) */
	perm_client_ops(r->c, &po);
	snprintf(store, sizeof(store), "%s/permkeys", r->cache_dir);
	snprintf(ident, sizeof(ident), "%s/%s/%s", r->account, r->o->share, r->share.etag);
	if (perm_init(&r->pm, &po, store, ident) != 0 || azb_init(&r->b, r->c, r->pm, &bo) != 0) {
		az_err("out of memory");
		return -1;
	}
	azb_ops(r->b, &r->be);
	mnt_vfs_opts(r->o, r->cache_dir, &vo);
	rc = vfs_init(&r->v, &vo, &r->be);
	if (rc) {
		if (rc != -EBUSY) /* the cache names the lock holder itself */
			az_err("cannot open the cache in '%s': %s", r->cache_dir, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Appends s to the -o string with ',' and '\' escaped. */
static void opt_add(char *buf, size_t cap, const char *s, int escape)
{
	size_t o = strlen(buf);

	if (o && o + 1 < cap)
		buf[o++] = ',';
	for (; *s && o + 2 < cap; s++) {
		if (escape && (*s == ',' || *s == '\\'))
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
}

static void fuse_option_string(struct run *r, char *buf, size_t cap)
{
	const char *src =
	    r->o->source && strcmp(r->o->source, "none") != 0 ? r->o->source : r->o->share;
	char fsname[1024];
	int allow_other = r->o->allow_other == 1 || (r->o->allow_other < 0 && geteuid() == 0);

	buf[0] = '\0';
	snprintf(fsname, sizeof(fsname), "fsname=%s", src);
	opt_add(buf, cap, fsname, 1);
	opt_add(buf, cap, "subtype=azsharefs", 0);
	opt_add(buf, cap, "default_permissions", 0);
	if (allow_other)
		opt_add(buf, cap, "allow_other", 0);
	if (r->o->read_only)
		opt_add(buf, cap, "ro", 0);
	if (r->o->fuse_opts)
		opt_add(buf, cap, r->o->fuse_opts, 0);
}

static int start_fuse(struct run *r, const char *prog)
{
	static struct fuse_operations ops;
	char optstr[4096];
	char *argv[5];
	int argc = 0;
	struct fuse_args args;

	fuse_option_string(r, optstr, sizeof(optstr));
	argv[argc++] = (char *)prog;
	if (r->o->debug)
		argv[argc++] = (char *)"-d";
	argv[argc++] = (char *)"-o";
	argv[argc++] = optstr;
	argv[argc] = NULL;
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	fo_operations(&ops);
	r->fx.v = r->v;
	r->fx.attr_timeout = (double)r->o->attr_timeout_ms / 1000.0;
	r->fx.negative_timeout = 0; /* the cache keeps negative entries itself */
	r->fx.default_uid = r->o->uid;
	r->fx.default_gid = r->o->gid;
	r->fx.file_mode = r->o->file_mode;
	r->fx.dir_mode = r->o->dir_mode;
	r->fx.single_thread = r->o->single_thread;
	clock_gettime(CLOCK_REALTIME, &r->fx.mount_time);
	r->f = fuse_new(&args, &ops, sizeof(ops), &r->fx);
	fuse_opt_free_args(&args); /* fuse_new may have copied them */
	if (!r->f) {
		az_err("cannot set up FUSE (options '%s')", optstr);
		return -1;
	}
	if (fuse_mount(r->f, r->mnt) != 0) {
		az_err("cannot mount on '%s' (is /dev/fuse usable, the mountpoint free?)", r->mnt);
		return -1;
	}
	r->mounted = 1;
	/* a failure is logged; the mount works without (hard_remove then) */
	r->fx.req_noted = fo_req_install(r->f) == 0;
	if (fuse_set_signal_handlers(fuse_get_session(r->f)) != 0) {
		az_err("cannot install signal handlers");
		return -1;
	}
	r->signals = 1;
	return 0;
}

/* ---- 4: teardown ---- */

static void teardown(struct run *r)
{
	/* Upload first, still mounted and with our signal handlers on: a stop
	 * (SIGTERM, systemctl stop) then waits for the data, and a second
	 * signal cannot cut the uploads short. */
	if (r->v) {
		int rc;

		if (r->served)
			az_info("uploading everything accepted so far");
		rc = vfs_sync_all(r->v);
		if (rc)
			az_err("some data stays in the journal for the next mount: %s",
			       strerror(-rc));
	}
	if (r->f) {
		if (r->signals)
			fuse_remove_signal_handlers(fuse_get_session(r->f));
		if (r->mounted)
			fuse_unmount(r->f);
		fuse_destroy(r->f); /* runs fo_destroy: vfs_sync_all again, a no-op */
	}
	vfs_free(r->v);
	of_release(&r->fx.files);
	azb_free(r->b);
	perm_free(r->pm);
	az_client_free(r->c);
	if (r->conn_str) {
		memset(r->conn_str, 0, strlen(r->conn_str));
		free(r->conn_str);
	}
}

int fo_run(struct mopt *o, const char *prog)
{
	struct run r;
	int rc = 1;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.notify_fd = -1;
	of_init(&r.fx.files);
	if (preflight(&r) || daemon_start(&r))
		goto out;
	if (build_stack(&r) || start_fuse(&r, prog)) {
		daemon_ready(&r, 0);
		goto out;
	}
	az_info("mounted share '%s' of account '%s' on '%s' (cache '%s')", o->share, r.account,
		r.mnt, r.cache_dir);
	daemon_ready(&r, 1);
	r.served = 1;
	if (o->single_thread)
		rc = fuse_loop(r.f);
	else
		rc = fuse_loop_mt(r.f, 0);
	if (rc < 0)
		az_err("FUSE loop ended: %s", strerror(-rc));
	rc = rc < 0 ? 1 : 0;
	az_info("unmounting '%s'", r.mnt);
out:
	teardown(&r);
	return rc;
}
