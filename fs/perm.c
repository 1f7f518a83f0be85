/* perm.c: the permission-key map (see perm.h and docs/DESIGN.md).
 *
 * Threads: any FUSE or cache worker thread. One mutex (pm->lock) guards the
 * hash tables, the counters and the store file; it is never held across a
 * request to the share (two threads may both create the same permission;
 * the second insert is dropped, which is harmless since a key always means
 * the same SDDL). Nodes are never freed before perm_free, so a node pointer
 * read under the lock stays valid.
 * Invariants: every node is in by_key; nodes with has_owner are also in
 * by_triple. The store file holds one line per node after an identity line,
 * appended under the lock; a store whose identity differs is rewritten.
 */
#include "perm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/client.h"
#include "azsharefs/log.h"

#define PERM_BUCKETS 256
#define PERM_STORE_MAGIC "azsharefs-permkeys 1"

struct perm_node {
	char key[AZ_PERMKEY_MAX];
	int has_owner;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct perm_node *next_key;    /* pm->lock */
	struct perm_node *next_triple; /* pm->lock */
};

struct perm_map {
	struct perm_ops ops; /* read-only */
	pthread_mutex_t lock;
	struct perm_node *by_key[PERM_BUCKETS];	   /* lock */
	struct perm_node *by_triple[PERM_BUCKETS]; /* lock */
	struct perm_stats stats;		   /* lock */
	int store_fd;				   /* lock; -1 = none */
};

/* ---- SDDL ---- */

int perm_sddl_format(uid_t uid, gid_t gid, mode_t mode, char *out, size_t outlen)
{
	int n = snprintf(out, outlen,
			 "O:S-1-5-88-1-%uG:S-1-5-88-2-%uD:P(A;;FA;;;S-1-5-88-1-%u)"
			 "(A;;FR;;;S-1-5-88-3-%u)",
			 (unsigned)uid, (unsigned)gid, (unsigned)uid, (unsigned)mode);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Reads the decimal after prefix at p; the number must end the SID. */
static int sid_tail(const char *p, const char *prefix, unsigned long max, unsigned long *out)
{
	size_t n = strlen(prefix);
	char *end = NULL;
	unsigned long v;

	if (strncmp(p, prefix, n) != 0 || p[n] < '0' || p[n] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p + n, &end, 10);
	if (errno || v > max || *end == '-' || (*end >= '0' && *end <= '9'))
		return -EINVAL;
	*out = v;
	return 0;
}

/* The component "X:" at the top level of the SDDL (not inside an ACE). */
static const char *sddl_part(const char *sddl, char tag)
{
	int depth = 0;

	for (const char *p = sddl; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (depth == 0 && p[0] == tag && p[1] == ':')
			return p + 2;
	}
	return NULL;
}

/* The mode ACE: an ACE of the DACL whose SID is S-1-5-88-3-<mode>. */
static int find_mode_ace(const char *dacl, unsigned long *mode)
{
	const char *p = dacl;

	while (p) {
		const char *open = strchr(p, '(');
		const char *close = open ? strchr(open, ')') : NULL;
		const char *sid;

		if (!close)
			return -EINVAL;
		sid = close;
		while (sid > open && sid[-1] != ';')
			sid--;
		if (sid_tail(sid, "S-1-5-88-3-", 0177777, mode) == 0)
			return 0;
		p = close + 1;
		if (*p != '(')
			return -EINVAL;
	}
	return -EINVAL;
}

int perm_sddl_parse(const char *sddl, uid_t *uid, gid_t *gid, mode_t *mode)
{
	const char *o = sddl_part(sddl, 'O');
	const char *g = sddl_part(sddl, 'G');
	const char *d = sddl_part(sddl, 'D');
	unsigned long u, gg, m;
	mode_t type;

	if (!o || !g || !d)
		return -EINVAL;
	if (sid_tail(o, "S-1-5-88-1-", 0xfffffffeUL, &u) ||
	    sid_tail(g, "S-1-5-88-2-", 0xfffffffeUL, &gg))
		return -EINVAL;
	while (*d && *d != '(')
		d++;
	if (find_mode_ace(d, &m))
		return -EINVAL;
	type = (mode_t)m & S_IFMT;
	if (type != 0 && type != S_IFREG && type != S_IFDIR && type != S_IFLNK)
		return -EINVAL;
	*uid = (uid_t)u;
	*gid = (gid_t)gg;
	*mode = (mode_t)m;
	return 0;
}

/* ---- the kernel's ownership rules ---- */

int perm_may_chown(uid_t caller, uid_t file_uid, gid_t file_gid, uid_t new_uid, gid_t new_gid,
		   int in_group)
{
	if (caller == 0)
		return 0;
	if (new_uid != (uid_t)-1 && !(caller == file_uid && new_uid == file_uid))
		return -EPERM;
	if (new_gid != (gid_t)-1 && !(caller == file_uid && (in_group || new_gid == file_gid)))
		return -EPERM;
	return 0;
}

int perm_may_chmod(uid_t caller, uid_t file_uid)
{
	return caller == 0 || caller == file_uid ? 0 : -EPERM;
}

/* ---- the map ---- */

static unsigned hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h % PERM_BUCKETS;
}

static unsigned hash_triple(uid_t uid, gid_t gid, mode_t mode)
{
	uint64_t h = ((uint64_t)uid * 1000003u) ^ ((uint64_t)gid * 10007u) ^ (uint64_t)mode;

	return (unsigned)((h ^ (h >> 17)) % PERM_BUCKETS);
}

static struct perm_node *find_key(struct perm_map *pm, const char *key)
{
	struct perm_node *n = pm->by_key[hash_str(key)];

	while (n && strcmp(n->key, key) != 0)
		n = n->next_key;
	return n;
}

static struct perm_node *find_triple(struct perm_map *pm, uid_t uid, gid_t gid, mode_t mode)
{
	struct perm_node *n = pm->by_triple[hash_triple(uid, gid, mode)];

	while (n && !(n->uid == uid && n->gid == gid && n->mode == mode))
		n = n->next_triple;
	return n;
}

static void store_append(struct perm_map *pm, const struct perm_node *n)
{
	char line[AZ_PERMKEY_MAX + 64];
	int len;

	if (pm->store_fd < 0)
		return;
	if (n->has_owner)
		len = snprintf(line, sizeof(line), "o %s %u %u %o\n", n->key, (unsigned)n->uid,
			       (unsigned)n->gid, (unsigned)n->mode);
	else
		len = snprintf(line, sizeof(line), "f %s\n", n->key);
	if (len > 0 && (size_t)len < sizeof(line) && write(pm->store_fd, line, (size_t)len) != len)
		az_warn("cannot write permission key store: %s", strerror(errno));
}

/* Adds a node unless the key is known; lock held. persist: append to store. */
static int insert_locked(struct perm_map *pm, const char *key, int has_owner, uid_t uid, gid_t gid,
			 mode_t mode, int persist)
{
	struct perm_node *n;
	unsigned hk;

	if (strlen(key) >= AZ_PERMKEY_MAX || find_key(pm, key))
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snprintf(n->key, sizeof(n->key), "%s", key);
	n->has_owner = has_owner;
	n->uid = uid;
	n->gid = gid;
	n->mode = mode;
	hk = hash_str(key);
	n->next_key = pm->by_key[hk];
	pm->by_key[hk] = n;
	if (has_owner && !find_triple(pm, uid, gid, mode)) {
		unsigned ht = hash_triple(uid, gid, mode);

		n->next_triple = pm->by_triple[ht];
		pm->by_triple[ht] = n;
	}
	if (persist)
		store_append(pm, n);
	return 0;
}

/* ---- the store file ---- */

static void store_load_line(struct perm_map *pm, const char *line)
{
	char key[AZ_PERMKEY_MAX];
	unsigned u, g, m;
	char extra;

	if (sscanf(line, "o %127s %u %u %o %c", key, &u, &g, &m, &extra) == 4)
		insert_locked(pm, key, 1, (uid_t)u, (gid_t)g, (mode_t)m, 0);
	else if (sscanf(line, "f %127s %c", key, &extra) == 1)
		insert_locked(pm, key, 0, 0, 0, 0, 0);
}

static int store_open(struct perm_map *pm, const char *path, const char *ident)
{
	char header[512];
	char line[512];
	FILE *f = NULL;
	int fd, keep = 0, rc = 0;

	snprintf(header, sizeof(header), "%s %s\n", PERM_STORE_MAGIC, ident ? ident : "");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(dup(fd), "r");
	if (f && fgets(line, sizeof(line), f) && strcmp(line, header) == 0) {
		keep = 1;
		while (fgets(line, sizeof(line), f))
			store_load_line(pm, line);
	}
	if (f)
		fclose(f);
	if (!keep && (ftruncate(fd, 0) != 0 ||
		      pwrite(fd, header, strlen(header), 0) != (ssize_t)strlen(header))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (lseek(fd, 0, SEEK_END) < 0 || fcntl(fd, F_SETFL, O_APPEND) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	pm->store_fd = fd;
	return 0;
}

int perm_init(struct perm_map **out, const struct perm_ops *ops, const char *store,
	      const char *ident)
{
	struct perm_map *pm = calloc(1, sizeof(*pm));
	int rc;

	*out = NULL;
	if (!pm)
		return -ENOMEM;
	pm->ops = *ops;
	pm->store_fd = -1;
	pthread_mutex_init(&pm->lock, NULL);
	if (store) {
		rc = store_open(pm, store, ident);
		if (rc)
			az_warn("cannot use permission key store '%s': %s", store, strerror(-rc));
	}
	*out = pm;
	return 0;
}

void perm_free(struct perm_map *pm)
{
	size_t i;

	if (!pm)
		return;
	for (i = 0; i < PERM_BUCKETS; i++) {
		struct perm_node *n = pm->by_key[i];

		while (n) {
			struct perm_node *next = n->next_key;

			free(n);
			n = next;
		}
	}
	if (pm->store_fd >= 0)
		close(pm->store_fd);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

void perm_stats_get(struct perm_map *pm, struct perm_stats *out)
{
	pthread_mutex_lock(&pm->lock);
	*out = pm->stats;
	pthread_mutex_unlock(&pm->lock);
}

/* ---- lookups ---- */

int perm_key_for(struct perm_map *pm, uid_t uid, gid_t gid, mode_t mode, char key[AZ_PERMKEY_MAX])
{
	char sddl[PERM_SDDL_MAX];
	int rc;

	if (perm_key_lookup(pm, uid, gid, mode, key) == 0)
		return 0;
	rc = perm_sddl_format(uid, gid, mode, sddl, sizeof(sddl));
	if (rc)
		return rc;
	rc = pm->ops.create(pm->ops.ctx, sddl, key);
	if (rc) {
		az_err("cannot create permission for uid %u gid %u mode %o: %s", (unsigned)uid,
		       (unsigned)gid, (unsigned)mode, strerror(-rc));
		return rc;
	}
	pthread_mutex_lock(&pm->lock);
	pm->stats.creates++;
	rc = insert_locked(pm, key, 1, uid, gid, mode, 1);
	pthread_mutex_unlock(&pm->lock);
	return rc;
}

int perm_key_lookup(struct perm_map *pm, uid_t uid, gid_t gid, mode_t mode,
		    char key[AZ_PERMKEY_MAX])
{
	struct perm_node *n;

	pthread_mutex_lock(&pm->lock);
	n = find_triple(pm, uid, gid, mode);
	if (n) {
		snprintf(key, AZ_PERMKEY_MAX, "%s", n->key);
		pm->stats.hits++;
	}
	pthread_mutex_unlock(&pm->lock);
	return n ? 0 : -ENOENT;
}

int perm_learn(struct perm_map *pm, const char *key, uid_t uid, gid_t gid, mode_t mode)
{
	int rc;

	if (!key || !*key)
		return -EINVAL;
	pthread_mutex_lock(&pm->lock);
	if (!find_key(pm, key))
		pm->stats.learned++;
	rc = insert_locked(pm, key, 1, uid, gid, mode, 1);
	pthread_mutex_unlock(&pm->lock);
	return rc;
}

/* Asks the share what key means; rc 0 with *has_owner 0 for foreign keys. */
static int resolve_remote(struct perm_map *pm, const char *key, int *has_owner, uid_t *uid,
			  gid_t *gid, mode_t *mode)
{
	char *sddl = NULL;
	int rc = pm->ops.get(pm->ops.ctx, key, &sddl);

	if (rc == -ENOENT || rc == -EINVAL) {
		az_warn("permission key '%s' is unknown to the share; using mount defaults", key);
		*has_owner = 0;
		rc = 0;
	} else if (rc == 0) {
		*has_owner = sddl && perm_sddl_parse(sddl, uid, gid, mode) == 0;
		if (!*has_owner)
			az_debug(
			    "permission key '%s' is not an azsharefs owner; using mount defaults",
			    key);
	}
	free(sddl);
	return rc;
}

int perm_resolve(struct perm_map *pm, const char *key, int *has_owner, uid_t *uid, gid_t *gid,
		 mode_t *mode)
{
	struct perm_node *n;
	int rc;

	*has_owner = 0;
	if (!key || !*key)
		return 0;
	pthread_mutex_lock(&pm->lock);
	n = find_key(pm, key);
	if (n) {
		*has_owner = n->has_owner;
		*uid = n->uid;
		*gid = n->gid;
		*mode = n->mode;
		pm->stats.hits++;
	}
	pthread_mutex_unlock(&pm->lock);
	if (n)
		return 0;
	rc = resolve_remote(pm, key, has_owner, uid, gid, mode);
	if (rc) {
		az_err("cannot resolve permission key '%s': %s", key, strerror(-rc));
		return rc;
	}
	pthread_mutex_lock(&pm->lock);
	pm->stats.gets++;
	rc = insert_locked(pm, key, *has_owner, *uid, *gid, *mode, 1);
	pthread_mutex_unlock(&pm->lock);
	return rc;
}

int perm_fill_stat(struct perm_map *pm, struct az_stat *st)
{
	int has = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	mode_t mode = 0;
	int rc = perm_resolve(pm, st->perm_key, &has, &uid, &gid, &mode);

	if (rc)
		return rc;
	st->has_owner = has;
	if (!has)
		return 0;
	st->uid = uid;
	st->gid = gid;
	/* The share's own idea of the type wins over the recorded one. */
	if (st->is_dir)
		mode = (mode & ~(mode_t)S_IFMT) | S_IFDIR;
	else if ((mode & S_IFMT) != S_IFLNK)
		mode = (mode & ~(mode_t)S_IFMT) | S_IFREG;
	st->mode = mode;
	return 0;
}

/* ---- over the REST client ---- */

static int client_create(void *ctx, const char *sddl, char key[AZ_PERMKEY_MAX])
{
	return az_perm_create(ctx, sddl, key);
}

static int client_get(void *ctx, const char *key, char **sddl_out)
{
	return az_perm_get(ctx, key, sddl_out);
}

void perm_client_ops(struct az_client *c, struct perm_ops *ops)
{
	ops->ctx = c;
	ops->create = client_create;
	ops->get = client_get;
}
