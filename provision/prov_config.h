/* prov_config.h: the pool config (/etc/azsharefs/pool.conf), a `key = value`
 * file. It names where the secret is but never holds it. */
#ifndef PROV_CONFIG_H
#define PROV_CONFIG_H

#include <stddef.h>

#define PROV_DEFAULT_CONFIG "/etc/azsharefs/pool.conf"
#define PROV_CONF_DIR "/etc/azsharefs"

struct prov_config {
	char account[32];      /* storage account name */
	char share[64];	       /* Azure Files share name */
	char credentials[512]; /* file holding a connection string, key or SAS */
	char endpoint[512];    /* FileEndpoint URL; default https://ACCOUNT.file.core.windows.net */
	char mountpoint[512];  /* where the share is mounted (target-system path) */
	char cache_dir[512];   /* the mount's cache_dir */
	char options[1024];    /* extra -o options for the mount, comma list */
	char azsharefs[512];   /* the mount binary */
	char shell[256];       /* login shell of users added without one */
	char home[512];	       /* parent of users' homes */
	unsigned long uid_min; /* lowest uid add-user picks */
	unsigned long uid_max; /* highest uid add-user picks */
	unsigned long lock_timeout;  /* seconds after which a roster lock is stale */
	unsigned long mount_timeout; /* seconds to wait for the mount to appear */
	int no_mount;		     /* 1: the mountpoint is a plain directory (tests) */
};

/* Fills in the defaults. */
void prov_config_init(struct prov_config *cfg);

/* Applies one `key = value` pair. err names what was wrong. */
int prov_config_set(struct prov_config *cfg, const char *key, const char *value, char *err,
		    size_t errlen);

/* Parses a whole config text; origin (a file name) prefixes errors with
 * "origin:LINE: ". Blank lines and lines starting with # are skipped. */
int prov_config_parse(struct prov_config *cfg, const char *text, const char *origin, char *err,
		      size_t errlen);

/* Checks the combination once everything is applied (required keys, the
 * uid range). */
int prov_config_check(const struct prov_config *cfg, char *err, size_t errlen);

/* Path (target system) of the installed connection-string file:
 * /etc/azsharefs/SHARE.conn. */
int prov_config_conn_path(const struct prov_config *cfg, char *out, size_t outlen);

/* The full -o option list the mount gets: share=..,conn_file=..,cache_dir=..
 * followed by the configured extra options. conn_path and cache_dir are
 * passed in because a direct mount under --root uses host paths. */
int prov_config_mount_opts(const struct prov_config *cfg, const char *conn_path,
			   const char *cache_dir, char *out, size_t outlen);

#endif
