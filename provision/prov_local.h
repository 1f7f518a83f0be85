/* prov_local.h: local accounts of this node, read from ROOT/etc/passwd,
 * group and shadow (through NSS as well when ROOT is "/") and changed with
 * the shadow tools (useradd, usermod, groupadd; --prefix ROOT when ROOT is
 * not "/", so tests never touch the real /etc). */
#ifndef PROV_LOCAL_H
#define PROV_LOCAL_H

#include <stddef.h>

#include "prov_roster.h"

struct prov_local_user {
	char name[PROV_NAME_MAX];
	unsigned long uid;
	unsigned long gid;
	char home[512]; /* as in passwd: a target-system path */
	int locked;	/* account expired (shadow expire <= 1): our lock */
	int has_hash;	/* the password field holds a hash besides '!' marks */
};

/* 0 and *out filled, or -ENOENT. */
int prov_local_get(const char *root, const char *name, struct prov_local_user *out);
/* Name of the user with this uid: 0, or -ENOENT. */
int prov_local_uid_owner(const char *root, unsigned long uid, char *name, size_t namelen);
/* gid of a group name: 0, or -ENOENT. */
int prov_local_group_gid(const char *root, const char *group, unsigned long *gid);
/* Name of the group with this gid: 0, or -ENOENT. */
int prov_local_gid_owner(const char *root, unsigned long gid, char *name, size_t namelen);
/* prov_id_used_fn over ctx = root: 1 when id is a local uid or gid. */
int prov_local_id_used(void *root, unsigned long id);

/* Creates the group NAME/gid (if absent) and the user with u's uid, gid and
 * shell, home at `home` (target path); the home is made from skel only when
 * make_home is set. err names the tool and its exit status. */
int prov_local_create(const char *root, const struct prov_user *u, const char *home, int make_home,
		      char *err, size_t errlen);
/* usermod -L -e 1: no password, no key login (the account is expired). */
int prov_local_lock(const char *root, const char *name, char *err, size_t errlen);
/* Undoes prov_local_lock. */
int prov_local_unlock(const char *root, const struct prov_local_user *lu, char *err, size_t errlen);
/* Adds the user to those groups of u->groups that exist here (*added = 1
 * if it joined any); lists the missing ones in missing (comma list). */
int prov_local_add_groups(const char *root, const struct prov_user *u, char *missing,
			  size_t missinglen, int *added, char *err, size_t errlen);
/* 1 when the user is in group (by the member list in ROOT/etc/group). */
int prov_local_in_group(const char *root, const char *user, const char *group);

#endif
