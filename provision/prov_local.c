/* prov_local.c: reads and changes this node's local accounts.
 *
 * Owns no state. Single-threaded (fgetpwent and friends are not reentrant).
 * With ROOT "/" lookups go through NSS (getpwnam...) so directory users
 * count as taken ids; otherwise ROOT/etc/{passwd,group,shadow} are parsed.
 * Changes always go through the shadow tools, never by editing files, so
 * their locking (/etc/.pwd.lock) and nscd invalidation apply.
 */
#include "prov_local.h"
#include "prov_util.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>

static int is_real_root(const char *root)
{
	return !root || !root[0] || strcmp(root, "/") == 0;
}

static FILE *open_db(const char *root, const char *file)
{
	char path[PROV_PATH_MAX];

	if (prov_root_path(root, file, path, sizeof(path)))
		return NULL;
	return fopen(path, "re");
}

static void fill_from_pw(struct prov_local_user *out, const struct passwd *pw)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->home, sizeof(out->home), "%s", pw->pw_dir);
}

static void fill_shadow(const char *root, struct prov_local_user *out)
{
	struct spwd *sp;
	FILE *f = open_db(root, "/etc/shadow");
	const char *h;

	if (!f)
		return;
	for (sp = fgetspent(f); sp; sp = fgetspent(f)) {
		if (strcmp(sp->sp_namp, out->name) != 0)
			continue;
		out->locked = sp->sp_expire >= 0 && sp->sp_expire <= 1;
		h = sp->sp_pwdp ? sp->sp_pwdp : "";
		while (*h == '!')
			h++;
		out->has_hash = h[0] != '\0' && h[0] != '*';
		break;
	}
	fclose(f);
}

int prov_local_get(const char *root, const char *name, struct prov_local_user *out)
{
	struct passwd *pw = NULL;
	FILE *f;

	if (is_real_root(root)) {
		pw = getpwnam(name);
		if (!pw)
			return -ENOENT;
		fill_from_pw(out, pw);
		fill_shadow(root, out);
		return 0;
	}
	f = open_db(root, "/etc/passwd");
	if (!f)
		return -ENOENT;
	for (pw = fgetpwent(f); pw; pw = fgetpwent(f)) {
		if (strcmp(pw->pw_name, name) == 0) {
			fill_from_pw(out, pw);
			break;
		}
	}
	fclose(f);
	if (!pw)
		return -ENOENT;
	fill_shadow(root, out);
	return 0;
}

int prov_local_uid_owner(const char *root, unsigned long uid, char *name, size_t namelen)
{
	struct passwd *pw = NULL;
	FILE *f;
	int rc = -ENOENT;

	if (is_real_root(root)) {
		pw = getpwuid((uid_t)uid);
		if (pw)
			snprintf(name, namelen, "%s", pw->pw_name);
		return pw ? 0 : -ENOENT;
	}
	f = open_db(root, "/etc/passwd");
	if (!f)
		return -ENOENT;
	for (pw = fgetpwent(f); pw; pw = fgetpwent(f)) {
		if (pw->pw_uid == (uid_t)uid) {
			snprintf(name, namelen, "%s", pw->pw_name);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Finds a group by name (when name) or by gid. */
static int find_group(const char *root, const char *name, unsigned long gid, char *outname,
		      size_t outlen, unsigned long *outgid)
{
	struct group *gr = NULL;
	FILE *f;

	if (is_real_root(root)) {
		gr = name ? getgrnam(name) : getgrgid((gid_t)gid);
	} else {
		f = open_db(root, "/etc/group");
		if (!f)
			return -ENOENT;
		for (gr = fgetgrent(f); gr; gr = fgetgrent(f)) {
			if (name ? strcmp(gr->gr_name, name) == 0 : gr->gr_gid == (gid_t)gid)
				break;
		}
		if (gr) {
			if (outname)
				snprintf(outname, outlen, "%s", gr->gr_name);
			if (outgid)
				*outgid = gr->gr_gid;
		}
		fclose(f);
		return gr ? 0 : -ENOENT;
	}
	if (!gr)
		return -ENOENT;
	if (outname)
		snprintf(outname, outlen, "%s", gr->gr_name);
	if (outgid)
		*outgid = gr->gr_gid;
	return 0;
}

int prov_local_group_gid(const char *root, const char *group, unsigned long *gid)
{
	return find_group(root, group, 0, NULL, 0, gid);
}

int prov_local_gid_owner(const char *root, unsigned long gid, char *name, size_t namelen)
{
	return find_group(root, NULL, gid, name, namelen, NULL);
}

int prov_local_id_used(void *root, unsigned long id)
{
	char name[64];

	return prov_local_uid_owner(root, id, name, sizeof(name)) == 0 ||
	       prov_local_gid_owner(root, id, name, sizeof(name)) == 0;
}

int prov_local_in_group(const char *root, const char *user, const char *group)
{
	struct group *gr = NULL;
	FILE *f = NULL;
	int found = 0;
	size_t i;

	if (is_real_root(root)) {
		gr = getgrnam(group);
	} else {
		f = open_db(root, "/etc/group");
		for (gr = f ? fgetgrent(f) : NULL; gr; gr = fgetgrent(f)) {
			if (strcmp(gr->gr_name, group) == 0)
				break;
		}
	}
	for (i = 0; gr && gr->gr_mem && gr->gr_mem[i]; i++) {
		if (strcmp(gr->gr_mem[i], user) == 0)
			found = 1;
	}
	if (f)
		fclose(f);
	return found;
}

/* Runs `tool [--prefix ROOT] rest...` (rest NULL-terminated). */
static int run_tool(const char *root, const char *tool, const char *const *rest, char *err,
		    size_t errlen)
{
	const char *argv[24];
	size_t n = 0;
	size_t i;
	int rc;

	argv[n++] = tool;
	if (!is_real_root(root)) {
		argv[n++] = "--prefix";
		argv[n++] = root;
	}
	for (i = 0; rest[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = rest[i];
	argv[n] = NULL;
	rc = prov_run(argv);
	if (rc == 0)
		return 0;
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", tool, strerror(-rc));
	else
		snprintf(err, errlen, "%s exited with status %d", tool, rc);
	return rc < 0 ? rc : -EIO;
}

static int ensure_group(const char *root, const struct prov_user *u, char *err, size_t errlen)
{
	char gid[24];
	char other[64];
	unsigned long have;
	const char *rest[] = {"-g", gid, u->name, NULL};

	if (prov_local_group_gid(root, u->name, &have) == 0) {
		if (have == u->gid)
			return 0;
		snprintf(err, errlen, "local group '%s' has gid %lu, the roster says %lu", u->name,
			 have, u->gid);
		return -EEXIST;
	}
	if (prov_local_gid_owner(root, u->gid, other, sizeof(other)) == 0) {
		snprintf(err, errlen, "gid %lu of '%s' is taken here by group '%s'", u->gid,
			 u->name, other);
		return -EEXIST;
	}
	snprintf(gid, sizeof(gid), "%lu", u->gid);
	return run_tool(root, "groupadd", rest, err, errlen);
}

int prov_local_create(const char *root, const struct prov_user *u, const char *home, int make_home,
		      char *err, size_t errlen)
{
	char uid[24];
	char gid[24];
	const char *rest[] = {"-u",
			      uid,
			      "-g",
			      gid,
			      "-s",
			      u->shell,
			      "-d",
			      home,
			      make_home ? "-m" : "-M",
			      "-c",
			      "azsharefs pool user",
			      u->name,
			      NULL};
	int rc;

	rc = ensure_group(root, u, err, errlen);
	if (rc)
		return rc;
	snprintf(uid, sizeof(uid), "%lu", u->uid);
	snprintf(gid, sizeof(gid), "%lu", u->gid);
	return run_tool(root, "useradd", rest, err, errlen);
}

int prov_local_lock(const char *root, const char *name, char *err, size_t errlen)
{
	const char *rest[] = {"-L", "-e", "1", name, NULL};

	return run_tool(root, "usermod", rest, err, errlen);
}

int prov_local_unlock(const char *root, const struct prov_local_user *lu, char *err, size_t errlen)
{
	const char *expire[] = {"-e", "", lu->name, NULL};
	const char *unlock[] = {"-U", lu->name, NULL};
	int rc;

	rc = run_tool(root, "usermod", expire, err, errlen);
	/* usermod -U refuses to leave an account without any password: only
	 * undo the '!' when a real hash sits behind it. */
	if (!rc && lu->has_hash)
		rc = run_tool(root, "usermod", unlock, err, errlen);
	return rc;
}

int prov_local_add_groups(const char *root, const struct prov_user *u, char *missing,
			  size_t missinglen, int *added, char *err, size_t errlen)
{
	char name[PROV_NAME_MAX];
	char list[256] = "";
	const char *rest[] = {"-a", "-G", list, u->name, NULL};
	const char *p = u->groups;
	unsigned long gid;
	size_t used = 0;

	missing[0] = '\0';
	*added = 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		p += len + (end ? 1 : 0);
		if (prov_local_group_gid(root, name, &gid) != 0) {
			size_t ml = strlen(missing);

			snprintf(missing + ml, missinglen - ml, "%s%s", ml ? "," : "", name);
			continue;
		}
		if (prov_local_in_group(root, u->name, name))
			continue;
		if (used + strlen(name) + 2 > sizeof(list))
			break;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? "," : "",
					 name);
	}
	if (!list[0])
		return 0;
	*added = 1;
	return run_tool(root, "usermod", rest, err, errlen);
}
