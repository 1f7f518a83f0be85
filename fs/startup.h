/* startup.h: what the mount checks and prepares before it mounts (fs/
 * internal, no FUSE): the credentials file, the share itself, the cache
 * directory and the cache's options. Every failure comes back as one line
 * for the user. */
#ifndef AZSF_STARTUP_H
#define AZSF_STARTUP_H

#include <stddef.h>

#include "azsharefs/cache.h"
#include "azsharefs/client.h"
#include "options.h"

/* Reads the connection string from path (comment and blank lines skipped,
 * lines joined with ';'). Warns loudly when the file is readable by group
 * or others. Never logs the content. 0 or -errno with err set. */
int mnt_read_conn_file(const char *path, char **out, char *err, size_t errlen);

/* Parses the connection string only to name what is wrong with it; copies
 * the account name out. 0 or -EINVAL with err set. */
int mnt_check_conn(const char *conn_str, char *account, size_t alen, char *err, size_t errlen);

/* The one line for a failed share check (rc from az_share_get_props). */
void mnt_probe_message(int rc, const char *account, const char *share, const char *endpoint,
		       const char *conn_file, char *out, size_t outlen);

/* Connects with short timeouts and reads the share's properties. On
 * success props gets the share's ETag (for the permission key store) and
 * quota (statfs needs not ask again). */
int mnt_probe_share(const char *conn_str, const struct mopt *o, struct az_share_props *props,
		    char *err, size_t errlen);

/* mkdir -p: parents 0755, the last component last_mode. */
int mnt_mkdir_p(const char *path, mode_t last_mode);

/* The cache's options from ours. */
void mnt_vfs_opts(const struct mopt *o, const char *cache_dir, struct vfs_opts *vo);

#endif
