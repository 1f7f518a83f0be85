/* prov_roster.h: the pool's user roster, kept on the share at
 * MOUNT/.azsharefs/roster. One line per user, fields separated by tabs:
 *
 *   name  uid  gid  shell  state  groups  ssh-key...
 *
 * state is "active" or "removed"; groups is a comma list or "-"; every
 * further field is one authorized_keys line. Lines starting with # and
 * blank lines are comments. A removed user keeps its line so its uid is
 * never handed out again (files on the share still carry it). */
#ifndef PROV_ROSTER_H
#define PROV_ROSTER_H

#include <stddef.h>

#include "prov_util.h"

#define PROV_NAME_MAX 33

enum prov_user_state {
	PROV_USER_ACTIVE = 0,
	PROV_USER_REMOVED = 1,
};

struct prov_user {
	char name[PROV_NAME_MAX];
	unsigned long uid;
	unsigned long gid;
	char shell[256];
	enum prov_user_state state;
	char groups[256]; /* comma list, "" for none */
	char **keys;	  /* authorized_keys lines, no tabs or newlines */
	size_t nkeys;
};

struct prov_roster {
	struct prov_user *users;
	size_t n;
	size_t cap;
};

void prov_user_init(struct prov_user *u);
void prov_user_release(struct prov_user *u);
/* Adds key unless already present. *added (may be NULL) reports which. */
int prov_user_add_key(struct prov_user *u, const char *key, int *added);
/* Adds the groups of a comma list not yet in u->groups. */
int prov_user_add_groups(struct prov_user *u, const char *list, int *added);

/* One authorized_keys line: printable, no tab, carries a known key type. */
int prov_valid_ssh_key(const char *line);
/* A comma list of valid group names. */
int prov_valid_group_list(const char *list);

void prov_roster_init(struct prov_roster *r);
void prov_roster_release(struct prov_roster *r);

/* The last line prov_roster_format writes. A text without it was cut short
 * (a torn read); it is never acted on. */
#define PROV_ROSTER_END "# end of roster\n"
/* 1 when text ends with PROV_ROSTER_END. */
int prov_roster_complete(const char *text);

/* Parses text into an empty roster. A malformed line, a duplicate name or
 * a duplicate uid is an error naming the line: a damaged roster is never
 * acted on. */
int prov_roster_parse(struct prov_roster *r, const char *text, char *err, size_t errlen);
/* Appends the roster text (with its header comment) to out. */
int prov_roster_format(const struct prov_roster *r, struct prov_buf *out);

struct prov_user *prov_roster_find(const struct prov_roster *r, const char *name);
/* The entry whose uid or gid is id, NULL if none. */
struct prov_user *prov_roster_find_id(const struct prov_roster *r, unsigned long id);

/* Adds u, or folds it into the entry of the same name: that entry becomes
 * active, gains u's keys and groups, takes u's shell. The uid must match an
 * existing entry's, and a new entry's uid/gid must be free in the roster.
 * *changed tells whether the roster differs afterwards. */
int prov_roster_merge(struct prov_roster *r, const struct prov_user *u, int *changed, char *err,
		      size_t errlen);

/* Marks name removed. -ENOENT if absent; *changed = 0 if already removed. */
int prov_roster_mark_removed(struct prov_roster *r, const char *name, int *changed);

/* Callback: 1 when id is taken on this machine (as a uid or a gid). */
typedef int (*prov_id_used_fn)(void *ctx, unsigned long id);

/* Lowest id in [min, max] not used as a uid or gid in the roster nor, per
 * used(), locally. -ENOSPC when the range is full. */
int prov_roster_alloc_uid(const struct prov_roster *r, unsigned long min, unsigned long max,
			  prov_id_used_fn used, void *ctx, unsigned long *out);

#endif
