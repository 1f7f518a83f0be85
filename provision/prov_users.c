/* prov_users.c: applies roster entries to this node.
 *
 * Owns no state. Single-threaded. For an active user: the local account
 * with the roster's uid and gid (identical on every node, so file owners on
 * the share mean the same person everywhere), notebooks/NAME on the share,
 * the $HOME/notebooks/remote link and the ssh keys. For a removed user: the
 * account is locked, data stays. Every step is idempotent and says what it
 * changed; a user whose name or uid clashes with a local account is
 * reported and skipped, never "fixed" by touching the other account.
 */
#include "prov_users.h"
#include "prov_home.h"
#include "prov_local.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"

enum prov_action prov_users_decide(const struct prov_user *u, const struct prov_local_view *v)
{
	if (v->exists && v->uid != u->uid)
		return PROV_ACT_CONFLICT;
	if (u->state == PROV_USER_REMOVED) {
		if (!v->exists || v->locked)
			return PROV_ACT_NONE;
		return PROV_ACT_LOCK;
	}
	if (!v->exists)
		return v->uid_taken ? PROV_ACT_CONFLICT : PROV_ACT_CREATE;
	return v->locked ? PROV_ACT_UNLOCK : PROV_ACT_ENSURE;
}

/* Collects "what changed" phrases for the one line per user. */
struct change_line {
	char text[1024];
	size_t len;
};

static void note(struct change_line *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct change_line *c, const char *fmt, ...)
{
	size_t room;
	va_list ap;
	int n;

	if (c->len >= sizeof(c->text) - 3)
		return;
	if (c->len) {
		c->text[c->len++] = ',';
		c->text[c->len++] = ' ';
	}
	room = sizeof(c->text) - c->len;
	va_start(ap, fmt);
	n = vsnprintf(c->text + c->len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->len += (size_t)n < room ? (size_t)n : room - 1;
}

static int create_account(const struct prov_ctx *ctx, const struct prov_user *u,
			  struct change_line *c, char *err, size_t errlen)
{
	char home[600];
	char host[PROV_PATH_MAX];
	struct stat st;
	int exists;
	int rc;

	snprintf(home, sizeof(home), "%s/%s", ctx->cfg.home, u->name);
	rc = prov_ctx_host(ctx, home, host, sizeof(host));
	if (rc)
		return rc;
	exists = lstat(host, &st) == 0;
	if (exists && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "home '%s' exists and is not a directory", host);
		return -ENOTDIR;
	}
	rc = prov_local_create(ctx->root, u, home, !exists, err, errlen);
	if (rc)
		return rc;
	note(c, "created with uid %lu", u->uid);
	if (exists)
		note(c, "kept existing home %s", host);
	return 0;
}

static int ensure_groups(const struct prov_ctx *ctx, const struct prov_user *u,
			 struct change_line *c, char *err, size_t errlen)
{
	char missing[256];
	int added = 0;
	int rc;

	if (!u->groups[0])
		return 0;
	rc = prov_local_add_groups(ctx->root, u, missing, sizeof(missing), &added, err, errlen);
	if (rc)
		return rc;
	if (added)
		note(c, "joined groups %s", u->groups);
	if (missing[0])
		az_warn("user '%s': groups not on this node, skipped: %s", u->name, missing);
	return 0;
}

/* An existing account may have no home yet (it was made elsewhere, or the
 * home was removed): make an empty one, never touch an existing one. */
static int ensure_home(const char *home, const struct prov_user *u, struct change_line *c,
		       char *err, size_t errlen)
{
	char parent[PROV_PATH_MAX];
	struct stat st;
	char *slash;
	int rc;

	if (lstat(home, &st) == 0)
		return 0;
	snprintf(parent, sizeof(parent), "%s", home);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	rc = prov_mkdir_p(parent, 0755, NULL);
	if (!rc && mkdir(home, 0750) < 0)
		rc = -errno;
	if (!rc && (chown(home, (uid_t)u->uid, (gid_t)u->gid) < 0 || chmod(home, 0750) < 0))
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "cannot create home '%s': %s", home, strerror(-rc));
		return rc;
	}
	note(c, "created missing home %s", home);
	return 0;
}

static int ensure_files(const struct prov_ctx *ctx, const struct prov_user *u,
			struct change_line *c, char *err, size_t errlen)
{
	struct prov_local_user lu;
	char home[PROV_PATH_MAX];
	char target[PROV_PATH_MAX];
	int changed = 0;
	int added = 0;
	int rc;

	rc = prov_local_get(ctx->root, u->name, &lu);
	if (rc) {
		snprintf(err, errlen, "local user '%s' vanished", u->name);
		return rc;
	}
	rc = prov_home_notebooks(ctx->mnt, u, &changed, err, errlen);
	if (rc)
		return rc;
	if (changed)
		note(c, "notebooks dir created on the share");
	if (snprintf(target, sizeof(target), "%s/notebooks/%s", ctx->mnt, u->name) >=
	    (int)sizeof(target))
		return -ENAMETOOLONG;
	if (lu.home[0] != '/' || !lu.home[1]) {
		snprintf(err, errlen,
			 "local user '%s' has home '%s'; expected an absolute path "
			 "below /",
			 u->name, lu.home);
		return -EINVAL;
	}
	rc = prov_ctx_host(ctx, lu.home, home, sizeof(home));
	if (!rc)
		rc = ensure_home(home, u, c, err, errlen);
	if (!rc)
		rc = prov_home_link(home, target, u, &changed, err, errlen);
	if (rc)
		return rc;
	if (changed)
		note(c, "linked %s/notebooks/remote", home);
	rc = prov_home_ssh_keys(home, u, &added, err, errlen);
	if (rc)
		return rc;
	if (added)
		note(c, "%d ssh key%s installed", added, added == 1 ? "" : "s");
	return 0;
}

static void view_of(const struct prov_ctx *ctx, const struct prov_user *u,
		    struct prov_local_view *v, struct prov_local_user *lu, char *other,
		    size_t otherlen)
{
	memset(v, 0, sizeof(*v));
	other[0] = '\0';
	if (prov_local_get(ctx->root, u->name, lu) == 0) {
		v->exists = 1;
		v->uid = lu->uid;
		v->locked = lu->locked;
		return;
	}
	if (prov_local_uid_owner(ctx->root, u->uid, other, otherlen) == 0)
		v->uid_taken = 1;
}

static int apply_action(const struct prov_ctx *ctx, const struct prov_user *u, enum prov_action act,
			const struct prov_local_user *lu, struct change_line *c, char *err,
			size_t errlen)
{
	int rc = 0;

	switch (act) {
	case PROV_ACT_LOCK:
		rc = prov_local_lock(ctx->root, u->name, err, errlen);
		if (!rc)
			note(c, "locked (removed from the pool; data kept)");
		return rc;
	case PROV_ACT_NONE:
		return 0;
	case PROV_ACT_UNLOCK:
		rc = prov_local_unlock(ctx->root, lu, err, errlen);
		if (!rc)
			note(c, "unlocked");
		break;
	case PROV_ACT_CREATE:
		rc = create_account(ctx, u, c, err, errlen);
		break;
	default:
		break;
	}
	if (!rc)
		rc = ensure_groups(ctx, u, c, err, errlen);
	if (!rc)
		rc = ensure_files(ctx, u, c, err, errlen);
	return rc;
}

int prov_users_apply(const struct prov_ctx *ctx, const struct prov_user *u)
{
	struct prov_local_view v;
	struct prov_local_user lu;
	struct change_line c;
	enum prov_action act;
	char other[64];
	char err[1024] = "";
	int rc;

	memset(&c, 0, sizeof(c));
	view_of(ctx, u, &v, &lu, other, sizeof(other));
	act = prov_users_decide(u, &v);
	if (act == PROV_ACT_CONFLICT) {
		if (v.exists)
			az_err("user '%s': the local account has uid %lu, the roster says uid %lu; "
			       "skipped",
			       u->name, v.uid, u->uid);
		else
			az_err("user '%s': uid %lu is taken on this node by '%s'; skipped", u->name,
			       u->uid, other);
		return -EEXIST;
	}
	rc = apply_action(ctx, u, act, &lu, &c, err, sizeof(err));
	if (rc) {
		if (c.len)
			prov_say("user %s: %s", u->name, c.text);
		az_err("user '%s': %s", u->name, err);
		return rc;
	}
	if (c.len)
		prov_say("user %s: %s", u->name, c.text);
	else if (u->state == PROV_USER_REMOVED)
		prov_say("user %s: unchanged (removed, %s)", u->name,
			 v.exists ? "locked" : "not present here");
	else
		prov_say("user %s: unchanged", u->name);
	return 0;
}

int prov_users_sync(const struct prov_ctx *ctx, const struct prov_roster *r)
{
	size_t i;
	size_t failed = 0;
	int first = 0;
	int rc;

	for (i = 0; i < r->n; i++) {
		rc = prov_users_apply(ctx, &r->users[i]);
		if (rc) {
			failed++;
			if (!first)
				first = rc;
		}
	}
	prov_say("sync-users: %zu user(s) in the roster, %zu failed", r->n, failed);
	return first;
}
