/* prov_cmd_users.c: add-user, remove-user and sync-users.
 *
 * Owns no state. Single-threaded. add-user and remove-user change the
 * roster under the share lock (see prov_share.c for why that is safe across
 * nodes), then apply the entry on this node at once; sync-users only reads
 * the roster (atomic renames make a lock unnecessary) and applies every
 * entry, so the other nodes follow within a timer period.
 */
#include "prov_cmd.h"
#include "prov_home.h"
#include "prov_local.h"
#include "prov_share.h"
#include "prov_users.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "azsharefs/log.h"

static int read_keys(struct prov_user *u, const char *file)
{
	struct prov_buf text;
	char line[16400];
	const char *p;
	unsigned lineno = 0;
	int rc;

	prov_buf_init(&text);
	rc = prov_read_file(file, &text, 1 << 20);
	if (rc) {
		az_err("--ssh-key '%s': %s", file, strerror(-rc));
		goto out;
	}
	for (p = prov_buf_str(&text); *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (nl ? 1 : 0);
		len = strlen(line);
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (!prov_valid_ssh_key(line)) {
			az_err("--ssh-key '%s' line %u is not a public key line (ssh-ed25519 "
			       "AAAA... comment)",
			       file, lineno);
			rc = -EINVAL;
			goto out;
		}
		rc = prov_user_add_key(u, line, NULL);
		if (rc)
			goto out;
	}
out:
	prov_buf_release(&text);
	return rc;
}

static int build_user(const struct prov_ctx *ctx, const struct prov_add_opts *a,
		      struct prov_user *u)
{
	size_t i;
	int rc;

	if (!prov_valid_username(a->name)) {
		az_err("user name '%s' is not valid (expected [a-z_][a-z0-9_-]*, at most 32 "
		       "characters; lowercase because the share ignores case)",
		       a->name);
		return -EINVAL;
	}
	snprintf(u->name, sizeof(u->name), "%s", a->name);
	snprintf(u->shell, sizeof(u->shell), "%s", a->shell ? a->shell : ctx->cfg.shell);
	if (!prov_valid_plain_path(u->shell)) {
		az_err("--shell '%s' is not a plain absolute path", u->shell);
		return -EINVAL;
	}
	if (a->groups && a->groups[0]) {
		if (!prov_valid_group_list(a->groups) || strlen(a->groups) >= sizeof(u->groups)) {
			az_err("--groups '%s' is not a comma list of group names", a->groups);
			return -EINVAL;
		}
		snprintf(u->groups, sizeof(u->groups), "%s", a->groups);
	}
	for (i = 0; i < a->nkeys; i++) {
		rc = read_keys(u, a->ssh_keys[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Decides the uid: the roster's for a known name, --uid, or a free one. */
static int choose_uid(const struct prov_ctx *ctx, const struct prov_roster *r,
		      const struct prov_add_opts *a, struct prov_user *u)
{
	const struct prov_user *e = prov_roster_find(r, u->name);
	unsigned long want = 0;
	char other[64];

	if (a->uid && (prov_parse_ulong(a->uid, 4294967294UL, &want) || want < 1000)) {
		az_err("--uid '%s' is not a number from 1000 to 4294967294", a->uid);
		return -EINVAL;
	}
	if (e) {
		if (a->uid && want != e->uid) {
			az_err("user '%s' already has uid %lu in the roster, not %lu", u->name,
			       e->uid, want);
			return -EEXIST;
		}
		u->uid = e->uid;
	} else if (a->uid) {
		const struct prov_user *o = prov_roster_find_id(r, want);

		if (o) {
			az_err("uid %lu is already used by '%s' in the roster", want, o->name);
			return -EEXIST;
		}
		u->uid = want;
	} else if (prov_roster_alloc_uid(r, ctx->cfg.uid_min, ctx->cfg.uid_max, prov_local_id_used,
					 (void *)ctx->root, &u->uid)) {
		az_err("no free uid from %lu to %lu", ctx->cfg.uid_min, ctx->cfg.uid_max);
		return -ENOSPC;
	}
	u->gid = u->uid;
	if (!e && prov_local_uid_owner(ctx->root, u->uid, other, sizeof(other)) == 0 &&
	    strcmp(other, u->name) != 0) {
		az_err("uid %lu is taken on this node by '%s'", u->uid, other);
		return -EEXIST;
	}
	return 0;
}

/* An existing local account of that name must carry the roster's uid. */
static int check_local(const struct prov_ctx *ctx, const struct prov_user *u)
{
	struct prov_local_user lu;

	if (prov_local_get(ctx->root, u->name, &lu) != 0 || lu.uid == u->uid)
		return 0;
	az_err("local user '%s' already exists with uid %lu, but the pool uid would be %lu; "
	       "pass --uid %lu to keep the local one, or rename it",
	       u->name, lu.uid, u->uid, lu.uid);
	return -EEXIST;
}

/* lock -> load -> change -> save -> unlock. change() edits the roster and
 * says whether it changed; on error nothing is written. */
static int roster_update(const struct prov_ctx *ctx,
			 int (*change)(const struct prov_ctx *, struct prov_roster *, void *,
				       int *),
			 void *arg, struct prov_roster *r)
{
	struct prov_lock lk;
	char err[1024];
	int changed = 0;
	int rc;

	rc = prov_share_lock(ctx->mnt, ctx->cfg.lock_timeout, ctx->cfg.lock_timeout + 15, &lk, err,
			     sizeof(err));
	if (rc) {
		az_err("%s", err);
		return rc;
	}
	rc = prov_share_roster_load(ctx->mnt, r, err, sizeof(err));
	if (rc) {
		az_err("%s", err);
		goto out;
	}
	rc = change(ctx, r, arg, &changed);
	if (!rc && changed) {
		rc = prov_share_roster_save(ctx->mnt, r, &lk, err, sizeof(err));
		if (rc)
			az_err("%s", err);
	}
out:
	prov_share_unlock(&lk);
	return rc;
}

struct add_arg {
	const struct prov_add_opts *a;
	struct prov_user *u;
};

static int add_change(const struct prov_ctx *ctx, struct prov_roster *r, void *arg, int *changed)
{
	struct add_arg *x = arg;
	int existed = prov_roster_find(r, x->u->name) != NULL;
	char err[512];
	int rc;

	rc = choose_uid(ctx, r, x->a, x->u);
	if (!rc)
		rc = check_local(ctx, x->u);
	if (rc)
		return rc;
	rc = prov_roster_merge(r, x->u, changed, err, sizeof(err));
	if (rc) {
		az_err("%s", err);
		return rc;
	}
	prov_say("roster: %s %s (uid %lu)", x->u->name,
		 !existed ? "added" : (*changed ? "updated" : "unchanged"), x->u->uid);
	return 0;
}

int prov_cmd_add_user(const struct prov_common_opts *o, const struct prov_add_opts *a)
{
	struct prov_ctx ctx;
	struct prov_roster r;
	struct prov_user u;
	struct add_arg x = {a, &u};
	int rc;

	prov_roster_init(&r);
	prov_user_init(&u);
	rc = prov_ctx_load(&ctx, o);
	if (!rc)
		rc = build_user(&ctx, a, &u);
	if (!rc)
		rc = prov_ctx_share_ready(&ctx);
	if (!rc)
		rc = roster_update(&ctx, add_change, &x, &r);
	if (!rc)
		rc = prov_users_apply(&ctx, prov_roster_find(&r, u.name));
	prov_user_release(&u);
	prov_roster_release(&r);
	return rc;
}

static int remove_change(const struct prov_ctx *ctx, struct prov_roster *r, void *arg, int *changed)
{
	const char *name = arg;
	int rc = prov_roster_mark_removed(r, name, changed);

	(void)ctx;
	if (rc == -ENOENT) {
		az_err("user '%s' is not in the roster", name);
		return rc;
	}
	prov_say("roster: %s %s", name,
		 *changed ? "marked removed" : "unchanged (already removed)");
	return rc;
}

static int purge(const struct prov_ctx *ctx, const char *name)
{
	char err[1024];
	int removed = 0;
	int rc = prov_home_purge(ctx->mnt, name, &removed, err, sizeof(err));

	if (rc) {
		az_err("%s", err);
		return rc;
	}
	prov_say("notebooks: %s/notebooks/%s %s", ctx->mnt, name,
		 removed ? "deleted (--purge)" : "not present");
	return 0;
}

int prov_cmd_remove_user(const struct prov_common_opts *o, const char *name, int do_purge)
{
	struct prov_ctx ctx;
	struct prov_roster r;
	int rc;

	prov_roster_init(&r);
	rc = prov_ctx_load(&ctx, o);
	if (!rc && !prov_valid_username(name)) {
		az_err("user name '%s' is not valid", name);
		rc = -EINVAL;
	}
	if (!rc)
		rc = prov_ctx_share_ready(&ctx);
	if (!rc)
		rc = roster_update(&ctx, remove_change, (void *)name, &r);
	if (!rc)
		rc = prov_users_apply(&ctx, prov_roster_find(&r, name));
	if (!rc && do_purge)
		rc = purge(&ctx, name);
	prov_roster_release(&r);
	return rc;
}

int prov_cmd_sync_users(const struct prov_common_opts *o)
{
	struct prov_ctx ctx;
	struct prov_roster r;
	char err[1024];
	int rc;

	prov_roster_init(&r);
	rc = prov_ctx_load(&ctx, o);
	if (!rc)
		rc = prov_ctx_share_ready(&ctx);
	if (!rc) {
		rc = prov_share_roster_load(ctx.mnt, &r, err, sizeof(err));
		if (rc)
			az_err("%s", err);
	}
	if (!rc)
		rc = prov_users_sync(&ctx, &r);
	prov_roster_release(&r);
	return rc;
}
