/* ofiles.h: the mount's table of open files by path (fs/ internal, no FUSE).
 *
 * Each open file handle is one entry with the share path it is open under
 * and, once libfuse has hidden it (unlink or rename over a file that is
 * still open: libfuse renames the node to ".fuse_hiddenXXXXXXXXYYYYYYYY"),
 * that hidden name. The FUSE layer keeps the table in step with
 * namespace changes so a request for a hidden name can be answered from
 * the handle (see fuse_hidden.c).
 */
#ifndef AZSF_OFILES_H
#define AZSF_OFILES_H

#include <pthread.h>
#include <stddef.h>

/* libfuse's prefix for the names it gives open files it hides. */
#define OF_HIDDEN_PREFIX ".fuse_hidden"

/* One open handle. Embedded in the owner's struct; fields belong to the
 * table (t->lock). */
struct of_ent {
	struct of_ent *prev, *next;
	char *path;    /* share path the data lives under; NULL = unlinked */
	char *hidden;  /* libfuse's hidden name for the node, or NULL */
	unsigned refs; /* the handle's own reference + of_get_hidden's */
};

struct of_table {
	pthread_mutex_t lock;
	struct of_ent head; /* lock: circular list of entries */
};

void of_init(struct of_table *t);
/* Entries still in the table are not freed (their owners do that). */
void of_release(struct of_table *t);

/* Is the last component of rel one of libfuse's hidden names? */
int of_is_hidden_name(const char *rel);

/* A new handle on path: e gets refs 1 and is listed. -ENOMEM. */
int of_add(struct of_table *t, struct of_ent *e, const char *path);
/* The handle is gone: unlists e and drops its reference. Returns the
 * references left (0: the owner frees now; else the last of_put does). */
unsigned of_del(struct of_table *t, struct of_ent *e);
/* Drops a reference taken by of_get_hidden; returns the references left. */
unsigned of_put(struct of_table *t, struct of_ent *e);

/* libfuse hid the open file at path under the name hidden. unlinked = the
 * data is gone from the share (unlink), else it still lives at path until
 * the rename that follows replaces it (of_renamed). Returns how many
 * handles were hidden. */
int of_hide(struct of_table *t, const char *path, const char *hidden, int unlinked);
/* path was removed from the share: handles on it keep their data only. */
void of_unlinked(struct of_table *t, const char *path);
/* from was renamed to to (file or directory): handles on to are detached
 * (replaced), handles on from or below it, and hidden names below it,
 * follow. */
void of_renamed(struct of_table *t, const char *from, const char *to);

/* An entry hidden under the name hidden, with a reference (of_put it), or
 * NULL. live gets the path its data still lives under ("" if unlinked). */
struct of_ent *of_get_hidden(struct of_table *t, const char *hidden, char *live, size_t cap);

/* live gets the path e's data still lives under ("" if unlinked). */
void of_live(struct of_table *t, struct of_ent *e, char *live, size_t cap);
/* How many handles are open on path (not hidden). */
int of_count(struct of_table *t, const char *path);

#endif
