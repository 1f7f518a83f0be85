/* prov_home.h: a pool user's things on disk: notebooks/NAME on the share,
 * the $HOME/notebooks/remote link to it and $HOME/.ssh/authorized_keys.
 * Existing directories, links and keys are kept, never replaced. */
#ifndef PROV_HOME_H
#define PROV_HOME_H

#include <stddef.h>

#include "prov_roster.h"

/* MOUNT/notebooks/NAME as a 0700 directory owned by the user. An existing
 * one owned by someone else is an error naming both owners. */
int prov_home_notebooks(const char *mnt, const struct prov_user *u, int *changed, char *err,
			size_t errlen);
/* home (host path) + /notebooks/remote -> target. An existing link to
 * another place, or a non-link in the way, is an error naming it. */
int prov_home_link(const char *home, const char *target, const struct prov_user *u, int *changed,
		   char *err, size_t errlen);
/* Appends the user's roster keys missing from home/.ssh/authorized_keys;
 * *added counts them. */
int prov_home_ssh_keys(const char *home, const struct prov_user *u, int *added, char *err,
		       size_t errlen);
/* Deletes MOUNT/notebooks/NAME and everything below it (remove-user
 * --purge). *removed = 0 when it did not exist. */
int prov_home_purge(const char *mnt, const char *name, int *removed, char *err, size_t errlen);

#endif
