/* prov_creds.h: turns the secret the node was given (a connection string, an
 * account key or a SAS token) into the root-only connection-string file the
 * mount reads with conn_file=. */
#ifndef PROV_CREDS_H
#define PROV_CREDS_H

#include <stddef.h>

#include "prov_config.h"
#include "prov_util.h"

/* Builds the connection string from secret (file contents, trimmed): kept
 * as is when it already is one (its AccountName must match cfg->account),
 * else a SAS token ("sv=..." or "?sv=...") or a base64 account key is wrapped
 * with AccountName and FileEndpoint. err never quotes the secret. */
int prov_creds_conn_string(const struct prov_config *cfg, const char *secret, struct prov_buf *out,
			   char *err, size_t errlen);

/* Reads the credentials file (host path src, which must not be readable by
 * group or others) and installs the connection string at host path dst,
 * mode 0600, in a 0700 directory. *changed tells whether dst was written. */
int prov_creds_install(const struct prov_config *cfg, const char *src, const char *dst,
		       int *changed, char *err, size_t errlen);

#endif
