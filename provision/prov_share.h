/* prov_share.h: the provisioner's state on the mounted share: the roster
 * (MOUNT/.azsharefs/roster) and the lock that serialises its writers
 * (MOUNT/.azsharefs/roster.lock). */
#ifndef PROV_SHARE_H
#define PROV_SHARE_H

#include <stddef.h>

#include "prov_roster.h"
#include "prov_util.h"

#define PROV_SHARE_DIR ".azsharefs"

struct prov_lock {
	char path[PROV_PATH_MAX]; /* MOUNT/.azsharefs/roster.lock */
	char token[256];	  /* "host pid time random": what our lock file holds */
	int held;
};

/* Takes the roster lock: creates the lock file with O_CREAT|O_EXCL. A lock
 * older than stale_secs is broken (its holder is presumed dead); waits at
 * most wait_secs for a live one. err names the holder on timeout. */
int prov_share_lock(const char *mnt, unsigned long stale_secs, unsigned long wait_secs,
		    struct prov_lock *lk, char *err, size_t errlen);
/* 0 if the lock file still holds our token, -ESTALE if it was broken. */
int prov_share_lock_check(const struct prov_lock *lk);
/* Removes our lock file (only if it is still ours). */
void prov_share_unlock(struct prov_lock *lk);

/* Reads the roster; a missing roster is an empty one. */
int prov_share_roster_load(const char *mnt, struct prov_roster *r, char *err, size_t errlen);
/* Writes the roster to a temp file, fsyncs it and renames it over the old
 * one, after checking that lk is still held. */
int prov_share_roster_save(const char *mnt, const struct prov_roster *r, const struct prov_lock *lk,
			   char *err, size_t errlen);

/* Creates an empty roster under the lock when there is none yet, so that
 * later changes are renames over an existing file, which every node's
 * open() revalidates (a name that did not exist may be cached as absent
 * for a moment). *created reports whether it was needed. */
int prov_share_roster_init(const char *mnt, unsigned long stale_secs, int *created, char *err,
			   size_t errlen);

#endif
