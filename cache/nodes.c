/* nodes.c: the path table and directory tree of the cache.
 *
 * Owns every struct mc_node: a hash table keyed by the full share-relative
 * path (FNV-1a, chained, doubled when full) plus a tree (parent, children)
 * so a directory's entries can be walked without scanning the table.
 *
 * Threads: any, always with v->lock held (callers take it). No I/O here.
 * Invariants: every node but the root has a parent node (placeholders are
 * created as needed); a node's path is its parent's path + "/" + name; the
 * root is never removed. Removing a node detaches (orphans) its file, which
 * lives on while handles hold it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filecache.h"
#include "nodes.h"

#define MC_HIDDEN_PREFIX ".azsf~"

/* FNV-1a of a path; with fold, ASCII letters folded to lower case, so names
 * that differ only in case share a chain of the case index
 * (mc_node_case_twin). */
static inline uint64_t fnv1a(const char *p, int fold)
{
	uint64_t h = 1469598103934665603ull;

	while (*p) {
		unsigned char c = (unsigned char)*p++;

		h ^= fold && c >= 'A' && c <= 'Z' ? c + 32 : c;
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t path_hash(const char *p)
{
	return fnv1a(p, 0);
}

static uint64_t fold_hash(const char *p)
{
	return fnv1a(p, 1);
}

static struct mc_node *node_new(const char *path)
{
	struct mc_node *n = calloc(1, sizeof(*n));
	const char *slash;

	if (!n)
		return NULL;
	n->path = strdup(path);
	if (!n->path) {
		free(n);
		return NULL;
	}
	slash = strrchr(n->path, '/');
	n->name = slash ? slash + 1 : n->path;
	return n;
}

static void hash_insert(struct vfs *v, struct mc_node *n)
{
	size_t b = path_hash(n->path) & (v->nbuckets - 1);
	size_t cb = fold_hash(n->path) & (v->nbuckets - 1);

	n->hnext = v->buckets[b];
	v->buckets[b] = n;
	n->cnext = v->cbuckets[cb];
	v->cbuckets[cb] = n;
	v->nnodes++;
}

static void chain_unlink(struct mc_node **pp, struct mc_node *n, int fold)
{
	while (*pp && *pp != n)
		pp = fold ? &(*pp)->cnext : &(*pp)->hnext;
	if (*pp)
		*pp = fold ? n->cnext : n->hnext;
}

static void hash_unlink(struct vfs *v, struct mc_node *n)
{
	size_t b = path_hash(n->path) & (v->nbuckets - 1);
	size_t cb = fold_hash(n->path) & (v->nbuckets - 1);
	struct mc_node **pp = &v->buckets[b];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = n->hnext;
		v->nnodes--;
		chain_unlink(&v->cbuckets[cb], n, 1);
	}
	n->hnext = NULL;
	n->cnext = NULL;
}

static void hash_grow(struct vfs *v)
{
	size_t nb = v->nbuckets * 2, i;
	struct mc_node **nbk = calloc(nb, sizeof(*nbk)), **ncb = calloc(nb, sizeof(*ncb));

	if (!nbk || !ncb) {
		free(nbk);
		free(ncb);
		return; /* keep the old table; chains just get longer */
	}
	for (i = 0; i < v->nbuckets; i++) {
		struct mc_node *n = v->buckets[i], *next;

		for (; n; n = next) {
			size_t b = path_hash(n->path) & (nb - 1);
			size_t cb = fold_hash(n->path) & (nb - 1);

			next = n->hnext;
			n->hnext = nbk[b];
			nbk[b] = n;
			n->cnext = ncb[cb];
			ncb[cb] = n;
		}
	}
	free(v->buckets);
	free(v->cbuckets);
	v->buckets = nbk;
	v->cbuckets = ncb;
	v->nbuckets = nb;
}

static void tree_link(struct mc_node *parent, struct mc_node *n)
{
	n->parent = parent;
	n->prev = NULL;
	n->next = parent->child;
	if (parent->child)
		parent->child->prev = n;
	parent->child = n;
}

static void tree_unlink(struct mc_node *n)
{
	if (!n->parent)
		return;
	if (n->prev)
		n->prev->next = n->next;
	else
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->parent = n->prev = n->next = NULL;
}

int mc_nodes_init(struct vfs *v)
{
	v->nbuckets = 1024;
	v->buckets = calloc(v->nbuckets, sizeof(*v->buckets));
	v->cbuckets = calloc(v->nbuckets, sizeof(*v->cbuckets));
	if (!v->buckets || !v->cbuckets)
		return -ENOMEM;
	v->root = node_new("");
	if (!v->root)
		return -ENOMEM;
	hash_insert(v, v->root);
	return 0;
}

static void node_free(struct mc_node *n)
{
	free(n->link);
	free(n->path);
	free(n);
}

void mc_nodes_free(struct vfs *v)
{
	size_t i;

	for (i = 0; v->buckets && i < v->nbuckets; i++) {
		struct mc_node *n = v->buckets[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			if (n->file)
				mc_file_drop(v, n->file); /* not orphaned: journals stay */
			node_free(n);
		}
	}
	free(v->buckets);
	free(v->cbuckets);
	v->buckets = NULL;
	v->cbuckets = NULL;
	v->root = NULL;
}

struct mc_node *mc_node_find(struct vfs *v, const char *path)
{
	size_t b = path_hash(path) & (v->nbuckets - 1);
	struct mc_node *n;

	for (n = v->buckets[b]; n; n = n->hnext)
		if (strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

struct mc_node *mc_node_get(struct vfs *v, const char *path)
{
	struct mc_node *n = mc_node_find(v, path), *parent;
	char pp[4096];

	if (n)
		return n;
	if (mc_path_parent(path, pp, sizeof(pp)) < 0)
		return NULL;
	parent = mc_node_get(v, pp);
	if (!parent)
		return NULL;
	n = node_new(path);
	if (!n)
		return NULL;
	if (v->nnodes >= v->nbuckets)
		hash_grow(v);
	hash_insert(v, n);
	tree_link(parent, n);
	return n;
}

void mc_node_remove(struct vfs *v, struct mc_node *n)
{
	if (n == v->root)
		return;
	while (n->child)
		mc_node_remove(v, n->child);
	if (n->file)
		mc_file_detach(v, n->file);
	tree_unlink(n);
	hash_unlink(v, n);
	node_free(n);
}

int mc_node_prune(struct vfs *v, struct mc_node *n)
{
	struct mc_node *c = n->child, *next;

	for (; c; c = next) {
		next = c->next;
		mc_node_prune(v, c);
	}
	if (n == v->root || n->child || n->listing)
		return 0;
	if (n->file && mc_file_dirty(n->file))
		return 0; /* local data not on the share yet: keep its name */
	mc_node_remove(v, n);
	return 1;
}

static int rekey_one(struct vfs *v, struct mc_node *n, const char *newpath)
{
	char *p = strdup(newpath);
	const char *slash;

	if (!p)
		return -ENOMEM;
	hash_unlink(v, n);
	free(n->path);
	n->path = p;
	slash = strrchr(p, '/');
	n->name = slash ? slash + 1 : p;
	hash_insert(v, n);
	return 0;
}

static int rekey_children(struct vfs *v, struct mc_node *n)
{
	struct mc_node *c;
	char buf[4096];
	int rc;

	for (c = n->child; c; c = c->next) {
		if (n->path[0])
			snprintf(buf, sizeof(buf), "%s/%s", n->path, c->name);
		else
			snprintf(buf, sizeof(buf), "%s", c->name);
		rc = rekey_one(v, c, buf);
		if (rc == 0)
			rc = rekey_children(v, c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int mc_node_rekey(struct vfs *v, struct mc_node *n, const char *newpath)
{
	struct mc_node *parent;
	char pp[4096];
	int rc;

	if (mc_path_parent(newpath, pp, sizeof(pp)) < 0)
		return -ENAMETOOLONG;
	parent = mc_node_get(v, pp);
	if (!parent)
		return -ENOMEM;
	rc = rekey_one(v, n, newpath);
	if (rc < 0)
		return rc;
	tree_unlink(n);
	tree_link(parent, n);
	return rekey_children(v, n);
}

int mc_node_visible(const struct mc_node *n)
{
	return n->remote || (n->file && !n->file->orphan);
}

struct mc_node *mc_node_case_twin(struct vfs *v, struct mc_node *parent, const char *name,
				  const struct mc_node *skip)
{
	char path[4200];
	struct mc_node *c;
	int n = parent->path[0] ? snprintf(path, sizeof(path), "%s/%s", parent->path, name)
				: snprintf(path, sizeof(path), "%s", name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	for (c = v->cbuckets[fold_hash(path) & (v->nbuckets - 1)]; c; c = c->cnext) {
		if (c == skip || c->parent != parent || !mc_node_visible(c))
			continue;
		if (strcasecmp(c->name, name) == 0 && strcmp(c->name, name) != 0)
			return c;
	}
	return NULL;
}

int mc_path_parent(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return 0;
}

const char *mc_path_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int mc_path_norm(const char *in, char *out, size_t len)
{
	size_t n;

	if (!in)
		return -EINVAL;
	while (*in == '/')
		in++;
	n = strlen(in);
	while (n > 0 && in[n - 1] == '/')
		n--;
	if (n + 1 > len)
		return -ENAMETOOLONG;
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

int mc_name_hidden(const char *name)
{
	return strncmp(name, MC_HIDDEN_PREFIX, strlen(MC_HIDDEN_PREFIX)) == 0;
}
