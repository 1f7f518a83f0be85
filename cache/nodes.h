/* nodes.h: the path table and directory tree of the cache (nodes.c). */
#ifndef AZSF_CACHE_NODES_H
#define AZSF_CACHE_NODES_H

#include <stddef.h>

#include "vfs_int.h"

int mc_nodes_init(struct vfs *v);
void mc_nodes_free(struct vfs *v);
/* All with v->lock held. */
struct mc_node *mc_node_find(struct vfs *v, const char *path);
/* Finds or creates path and its parents (as placeholders). NULL = ENOMEM. */
struct mc_node *mc_node_get(struct vfs *v, const char *path);
/* Removes n and its subtree; their files are orphaned (mc_file_detach). */
void mc_node_remove(struct vfs *v, struct mc_node *n);
/* Removes n's subtree where no local state (file) remains; returns 1 if n
 * itself went away. */
int mc_node_prune(struct vfs *v, struct mc_node *n);
/* Moves n (and subtree) to newpath, which must not exist. 0 or -ENOMEM. */
int mc_node_rekey(struct vfs *v, struct mc_node *n, const char *newpath);
/* Exists for the caller: on the share or as local content. */
int mc_node_visible(const struct mc_node *n);
/* A visible sibling under parent whose name equals name ignoring ASCII case
 * but not exactly, other than skip; NULL if none. */
struct mc_node *mc_node_case_twin(struct vfs *v, struct mc_node *parent, const char *name,
				  const struct mc_node *skip);

/* Path helpers (no lock). */
/* Writes the parent path of path into buf ("" for top-level names). */
int mc_path_parent(const char *path, char *buf, size_t len);
const char *mc_path_name(const char *path);
/* Strips leading '/' and trailing '/'; returns -EINVAL/-ENAMETOOLONG. */
int mc_path_norm(const char *in, char *out, size_t len);
int mc_name_hidden(const char *name);

#endif
