/* perm.h: POSIX owner/group/mode <-> SDDL <-> permission keys (fs/ internal).
 *
 * docs/DESIGN.md: each (uid, gid, mode) is one SDDL string in the form of the
 * Linux cifs client's idsfromsid/modefromsid (NFS well-known SIDs),
 *   O:S-1-5-88-1-<uid>G:S-1-5-88-2-<gid>D:P(A;;FA;;;S-1-5-88-1-<uid>)
 *   (A;;FR;;;S-1-5-88-3-<mode>)
 * with <mode> decimal, type bits included. The map learns the key of a
 * triple from the first create/set reply that carried its SDDL inline (or
 * creates the permission once, perm_key_for) and resolves a key it has not
 * seen once; both directions are cached in memory and, when a store path is
 * given, in a file in the cache directory. Thread-safe.
 */
#ifndef AZSF_PERM_H
#define AZSF_PERM_H

#include <stddef.h>
#include <sys/types.h>

#include "azsharefs/stat.h"

struct az_client;

/* How the map reaches the share (the REST client, or a fake in tests). */
struct perm_ops {
	void *ctx;
	int (*create)(void *ctx, const char *sddl, char key[AZ_PERMKEY_MAX]);
	int (*get)(void *ctx, const char *key, char **sddl_out); /* free() it */
};
/* ops over az_perm_create / az_perm_get. */
void perm_client_ops(struct az_client *c, struct perm_ops *ops);

struct perm_map;

/* store: file to persist the map in (or NULL); ident: a string naming the
 * share's identity (the store is discarded when it differs). */
int perm_init(struct perm_map **out, const struct perm_ops *ops, const char *store,
	      const char *ident);
void perm_free(struct perm_map *pm);

/* The key for a triple, creating the permission on the share if needed. */
int perm_key_for(struct perm_map *pm, uid_t uid, gid_t gid, mode_t mode, char key[AZ_PERMKEY_MAX]);
/* The key for a triple when the map knows one: 0, else -ENOENT. Never asks
 * the share (the caller then sends the SDDL inline and perm_learn()s the
 * key the reply carries: a new owner costs no extra request). */
int perm_key_lookup(struct perm_map *pm, uid_t uid, gid_t gid, mode_t mode,
		    char key[AZ_PERMKEY_MAX]);
/* Records that key stands for (uid, gid, mode), as a create/set reply for
 * an inline SDDL of that triple said. Persisted like created keys. */
int perm_learn(struct perm_map *pm, const char *key, uid_t uid, gid_t gid, mode_t mode);
/* What a key means. *has_owner = 0 for keys that are not ours (foreign
 * SDDL, or a key the share does not know). */
int perm_resolve(struct perm_map *pm, const char *key, int *has_owner, uid_t *uid, gid_t *gid,
		 mode_t *mode);
/* Fills st->has_owner/uid/gid/mode from st->perm_key (empty key: foreign). */
int perm_fill_stat(struct perm_map *pm, struct az_stat *st);

struct perm_stats {
	unsigned long creates, gets, hits, learned;
};
void perm_stats_get(struct perm_map *pm, struct perm_stats *out);

/* Pure SDDL helpers. format: 0 or -ENAMETOOLONG. parse: 0, or -EINVAL when
 * the SDDL is not one of ours. PERM_SDDL_MAX holds any triple's SDDL. */
#define PERM_SDDL_MAX 256
int perm_sddl_format(uid_t uid, gid_t gid, mode_t mode, char *out, size_t outlen);
int perm_sddl_parse(const char *sddl, uid_t *uid, gid_t *gid, mode_t *mode);

/* The kernel's rules for chown/chgrp and chmod (fs/attr.c chown_ok,
 * chgrp_ok, inode_owner_or_capable), for the caller: 0 or -EPERM.
 * new_uid/new_gid (uid_t)-1 = unchanged; in_group = caller is a member of
 * new_gid. */
int perm_may_chown(uid_t caller, uid_t file_uid, gid_t file_gid, uid_t new_uid, gid_t new_gid,
		   int in_group);
int perm_may_chmod(uid_t caller, uid_t file_uid);

#endif
