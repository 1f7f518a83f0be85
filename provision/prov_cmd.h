/* prov_cmd.h: the subcommands of azsharefs-provision. Each prints short
 * progress lines, reports errors through log.h and returns 0 or -errno. */
#ifndef PROV_CMD_H
#define PROV_CMD_H

#include <stddef.h>

#include "prov.h"

struct prov_add_opts {
	const char *name;
	const char *uid;	  /* --uid N, NULL: pick a free one */
	const char *ssh_keys[16]; /* --ssh-key FILE (public keys, one per line) */
	size_t nkeys;
	const char *groups; /* --groups a,b */
	const char *shell;  /* --shell PATH */
};

int prov_cmd_node(const struct prov_common_opts *o);
int prov_cmd_add_user(const struct prov_common_opts *o, const struct prov_add_opts *a);
int prov_cmd_remove_user(const struct prov_common_opts *o, const char *name, int purge);
int prov_cmd_sync_users(const struct prov_common_opts *o);

#endif
