/* prov_users.h: makes this node's accounts match roster entries. */
#ifndef PROV_USERS_H
#define PROV_USERS_H

#include "prov.h"
#include "prov_roster.h"

enum prov_action {
	PROV_ACT_CREATE,   /* active in the roster, absent here: create */
	PROV_ACT_ENSURE,   /* active and present with the right uid: check links, keys */
	PROV_ACT_UNLOCK,   /* active again but locked here: unlock, then ensure */
	PROV_ACT_LOCK,	   /* removed in the roster, still usable here: lock */
	PROV_ACT_NONE,	   /* removed and already locked or absent */
	PROV_ACT_CONFLICT, /* same name with another uid, or the uid taken by another name */
};

/* What a node holds for one roster name. */
struct prov_local_view {
	int exists;
	unsigned long uid;
	int locked;
	int uid_taken; /* (when !exists) the roster uid belongs to another local user */
};

/* Pure decision, unit-tested. */
enum prov_action prov_users_decide(const struct prov_user *u, const struct prov_local_view *v);

/* Applies one roster entry here and prints one line about it. make_dir:
 * also create notebooks/NAME on the share (add-user, sync-users). */
int prov_users_apply(const struct prov_ctx *ctx, const struct prov_user *u);

/* Applies every entry; keeps going past a failing user. Prints a summary.
 * Returns 0, or the first error. */
int prov_users_sync(const struct prov_ctx *ctx, const struct prov_roster *r);

#endif
