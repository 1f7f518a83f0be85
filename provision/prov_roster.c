/* prov_roster.c: parse, format and change the pool roster in memory.
 *
 * Owns struct prov_roster and struct prov_user. No I/O here: loading,
 * locking and saving on the share is prov_share.c. Single-threaded.
 * Invariants of a roster built by these functions: names unique, every uid
 * and gid belongs to one name only, every field free of tabs and newlines
 * (so format(parse(x)) round-trips).
 */
#include "prov_roster.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROSTER_HEADER                                                                              \
	"# azsharefs roster: one user per line, tab-separated fields:\n"                           \
	"# name uid gid shell state(active|removed) groups(comma list or -) ssh-keys...\n"

void prov_user_init(struct prov_user *u)
{
	memset(u, 0, sizeof(*u));
}

void prov_user_release(struct prov_user *u)
{
	size_t i;

	for (i = 0; i < u->nkeys; i++)
		free(u->keys[i]);
	free(u->keys);
	prov_user_init(u);
}

int prov_valid_ssh_key(const char *line)
{
	static const char *const types[] = {"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"};
	const char *p;
	size_t i;

	if (!line[0] || strlen(line) > 16384)
		return 0;
	for (p = line; *p; p++) {
		if (*p == '\t' || !isprint((unsigned char)*p))
			return 0;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		p = strstr(line, types[i]);
		if (p && (p == line || p[-1] == ' '))
			return 1;
	}
	return 0;
}

int prov_valid_group_list(const char *list)
{
	char name[PROV_NAME_MAX];
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0 || len >= sizeof(name))
			return 0;
		memcpy(name, p, len);
		name[len] = '\0';
		if (!prov_valid_username(name))
			return 0;
		p += len + (end ? 1 : 0);
		if (end && !*p)
			return 0;
	}
	return 1;
}

int prov_user_add_key(struct prov_user *u, const char *key, int *added)
{
	char **keys;
	char *copy;
	size_t i;

	if (added)
		*added = 0;
	for (i = 0; i < u->nkeys; i++) {
		if (strcmp(u->keys[i], key) == 0)
			return 0;
	}
	copy = strdup(key);
	if (!copy)
		return -ENOMEM;
	keys = realloc(u->keys, (u->nkeys + 1) * sizeof(*keys));
	if (!keys) {
		free(copy);
		return -ENOMEM;
	}
	keys[u->nkeys++] = copy;
	u->keys = keys;
	if (added)
		*added = 1;
	return 0;
}

static int list_has(const char *list, const char *name, size_t len)
{
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if (l == len && strncmp(p, name, len) == 0)
			return 1;
		p += l + (end ? 1 : 0);
	}
	return 0;
}

int prov_user_add_groups(struct prov_user *u, const char *list, int *added)
{
	const char *p = list;
	size_t cur;

	if (added)
		*added = 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len && !list_has(u->groups, p, len)) {
			cur = strlen(u->groups);
			if (cur + len + 2 > sizeof(u->groups))
				return -ENAMETOOLONG;
			if (cur)
				u->groups[cur++] = ',';
			memcpy(u->groups + cur, p, len);
			u->groups[cur + len] = '\0';
			if (added)
				*added = 1;
		}
		p += len + (end ? 1 : 0);
	}
	return 0;
}

void prov_roster_init(struct prov_roster *r)
{
	r->users = NULL;
	r->n = 0;
	r->cap = 0;
}

void prov_roster_release(struct prov_roster *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		prov_user_release(&r->users[i]);
	free(r->users);
	prov_roster_init(r);
}

struct prov_user *prov_roster_find(const struct prov_roster *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->users[i].name, name) == 0)
			return &r->users[i];
	}
	return NULL;
}

struct prov_user *prov_roster_find_id(const struct prov_roster *r, unsigned long id)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->users[i].uid == id || r->users[i].gid == id)
			return &r->users[i];
	}
	return NULL;
}

/* Takes ownership of u's contents (u is left empty). */
static int roster_append(struct prov_roster *r, struct prov_user *u)
{
	struct prov_user *users;
	size_t cap;

	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 16;
		users = realloc(r->users, cap * sizeof(*users));
		if (!users)
			return -ENOMEM;
		r->users = users;
		r->cap = cap;
	}
	r->users[r->n++] = *u;
	prov_user_init(u);
	return 0;
}

/* Splits line (modified in place) at tabs into at most max fields. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		fields[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

static int parse_fields(struct prov_user *u, char **f, size_t nf, char *err, size_t errlen)
{
	size_t i;
	int rc;

	if (nf < 6) {
		snprintf(err, errlen,
			 "expected at least 6 tab-separated fields "
			 "(name uid gid shell state groups), got %zu",
			 nf);
		return -EINVAL;
	}
	if (!prov_valid_username(f[0])) {
		snprintf(err, errlen, "bad user name '%.40s'", f[0]);
		return -EINVAL;
	}
	snprintf(u->name, sizeof(u->name), "%s", f[0]);
	if (prov_parse_ulong(f[1], 4294967294UL, &u->uid) ||
	    prov_parse_ulong(f[2], 4294967294UL, &u->gid)) {
		snprintf(err, errlen, "bad uid/gid '%.20s'/'%.20s' for '%s'", f[1], f[2], u->name);
		return -EINVAL;
	}
	if (!prov_valid_plain_path(f[3]) || strlen(f[3]) >= sizeof(u->shell)) {
		snprintf(err, errlen, "bad shell '%.60s' for '%s'", f[3], u->name);
		return -EINVAL;
	}
	snprintf(u->shell, sizeof(u->shell), "%s", f[3]);
	if (strcmp(f[4], "active") == 0) {
		u->state = PROV_USER_ACTIVE;
	} else if (strcmp(f[4], "removed") == 0) {
		u->state = PROV_USER_REMOVED;
	} else {
		snprintf(err, errlen, "bad state '%.20s' for '%s' (expected active or removed)",
			 f[4], u->name);
		return -EINVAL;
	}
	if (strcmp(f[5], "-") != 0) {
		if (!prov_valid_group_list(f[5]) || strlen(f[5]) >= sizeof(u->groups)) {
			snprintf(err, errlen, "bad group list '%.60s' for '%s'", f[5], u->name);
			return -EINVAL;
		}
		snprintf(u->groups, sizeof(u->groups), "%s", f[5]);
	}
	for (i = 6; i < nf; i++) {
		if (!prov_valid_ssh_key(f[i])) {
			snprintf(err, errlen, "ssh key %zu of '%s' is not an authorized_keys line",
				 i - 5, u->name);
			return -EINVAL;
		}
		rc = prov_user_add_key(u, f[i], NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_unique(const struct prov_roster *r, const struct prov_user *u, char *err,
			size_t errlen)
{
	const struct prov_user *o;

	if (prov_roster_find(r, u->name)) {
		snprintf(err, errlen, "user '%s' appears twice", u->name);
		return -EEXIST;
	}
	o = prov_roster_find_id(r, u->uid);
	if (!o && u->gid != u->uid)
		o = prov_roster_find_id(r, u->gid);
	if (o) {
		snprintf(err, errlen, "uid/gid %lu/%lu of '%s' is already used by '%s'", u->uid,
			 u->gid, u->name, o->name);
		return -EEXIST;
	}
	return 0;
}

static int parse_line(struct prov_roster *r, char *line, char *err, size_t errlen)
{
	struct prov_user u;
	char *fields[64];
	size_t nf;
	int rc;

	prov_user_init(&u);
	nf = split_tabs(line, fields, sizeof(fields) / sizeof(fields[0]));
	rc = parse_fields(&u, fields, nf, err, errlen);
	if (!rc)
		rc = check_unique(r, &u, err, errlen);
	if (!rc)
		rc = roster_append(r, &u);
	prov_user_release(&u);
	return rc;
}

int prov_roster_parse(struct prov_roster *r, const char *text, char *err, size_t errlen)
{
	struct prov_buf line;
	char why[256];
	const char *p = text;
	unsigned lineno = 0;
	int rc = 0;

	prov_buf_init(&line);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		prov_buf_reset(&line);
		rc = prov_buf_addn(&line, p, len);
		if (rc)
			goto out;
		if (line.len && line.data[line.len - 1] == '\r')
			line.data[--line.len] = '\0';
		p += len + (nl ? 1 : 0);
		if (line.len == 0 || line.data[0] == '#')
			continue;
		rc = parse_line(r, line.data, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "roster line %u: %s", lineno, why);
			goto out;
		}
	}
out:
	prov_buf_release(&line);
	return rc;
}

int prov_roster_format(const struct prov_roster *r, struct prov_buf *out)
{
	const struct prov_user *u;
	size_t i;
	size_t k;
	int rc;

	rc = prov_buf_add(out, ROSTER_HEADER);
	for (i = 0; !rc && i < r->n; i++) {
		u = &r->users[i];
		rc = prov_buf_addf(out, "%s\t%lu\t%lu\t%s\t%s\t%s", u->name, u->uid, u->gid,
				   u->shell, u->state == PROV_USER_ACTIVE ? "active" : "removed",
				   u->groups[0] ? u->groups : "-");
		for (k = 0; !rc && k < u->nkeys; k++)
			rc = prov_buf_addf(out, "\t%s", u->keys[k]);
		if (!rc)
			rc = prov_buf_add(out, "\n");
	}
	if (!rc)
		rc = prov_buf_add(out, PROV_ROSTER_END);
	return rc;
}

int prov_roster_complete(const char *text)
{
	size_t len = strlen(text);
	size_t end = strlen(PROV_ROSTER_END);

	if (len < end || strcmp(text + len - end, PROV_ROSTER_END) != 0)
		return 0;
	return len == end || text[len - end - 1] == '\n';
}

static int merge_into(struct prov_user *e, const struct prov_user *u, int *changed, char *err,
		      size_t errlen)
{
	size_t k;
	int added;
	int rc;

	if (e->uid != u->uid || e->gid != u->gid) {
		snprintf(err, errlen,
			 "user '%s' already has uid %lu (gid %lu) in the roster, "
			 "not %lu (gid %lu)",
			 e->name, e->uid, e->gid, u->uid, u->gid);
		return -EEXIST;
	}
	if (e->state != PROV_USER_ACTIVE) {
		e->state = PROV_USER_ACTIVE;
		*changed = 1;
	}
	if (u->shell[0] && strcmp(e->shell, u->shell) != 0) {
		snprintf(e->shell, sizeof(e->shell), "%s", u->shell);
		*changed = 1;
	}
	rc = prov_user_add_groups(e, u->groups, &added);
	if (rc)
		return rc;
	*changed |= added;
	for (k = 0; k < u->nkeys; k++) {
		rc = prov_user_add_key(e, u->keys[k], &added);
		if (rc)
			return rc;
		*changed |= added;
	}
	return 0;
}

static int user_copy(struct prov_user *dst, const struct prov_user *src)
{
	size_t k;
	int rc = 0;

	prov_user_init(dst);
	memcpy(dst->name, src->name, sizeof(dst->name));
	memcpy(dst->shell, src->shell, sizeof(dst->shell));
	memcpy(dst->groups, src->groups, sizeof(dst->groups));
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->state = src->state;
	for (k = 0; !rc && k < src->nkeys; k++)
		rc = prov_user_add_key(dst, src->keys[k], NULL);
	return rc;
}

int prov_roster_merge(struct prov_roster *r, const struct prov_user *u, int *changed, char *err,
		      size_t errlen)
{
	struct prov_user *e = prov_roster_find(r, u->name);
	struct prov_user copy;
	int rc;

	*changed = 0;
	if (e)
		return merge_into(e, u, changed, err, errlen);
	rc = check_unique(r, u, err, errlen);
	if (rc)
		return rc;
	rc = user_copy(&copy, u);
	if (!rc) {
		copy.state = PROV_USER_ACTIVE;
		rc = roster_append(r, &copy);
	}
	prov_user_release(&copy);
	if (!rc)
		*changed = 1;
	return rc;
}

int prov_roster_mark_removed(struct prov_roster *r, const char *name, int *changed)
{
	struct prov_user *e = prov_roster_find(r, name);

	*changed = 0;
	if (!e)
		return -ENOENT;
	if (e->state != PROV_USER_REMOVED) {
		e->state = PROV_USER_REMOVED;
		*changed = 1;
	}
	return 0;
}

int prov_roster_alloc_uid(const struct prov_roster *r, unsigned long min, unsigned long max,
			  prov_id_used_fn used, void *ctx, unsigned long *out)
{
	unsigned long id;

	for (id = min; id <= max && id >= min; id++) {
		if (prov_roster_find_id(r, id))
			continue;
		if (used && used(ctx, id))
			continue;
		*out = id;
		return 0;
	}
	return -ENOSPC;
}
