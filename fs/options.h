/* options.h: the mount's command line and config file (fs/ internal).
 *
 * `azsharefs [SOURCE] MOUNTPOINT [-f] [-d] [-s] [-o opt[=val],...]`, plus
 * `-o config=FILE` holding the same keys as `key = value` lines. -o wins over
 * the config file whatever their order. Unknown or malformed options stop the
 * mount with a message naming the option. No FUSE in here: the options FUSE
 * itself understands are collected in fuse_opts for main.c to hand on.
 */
#ifndef AZSF_OPTIONS_H
#define AZSF_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mopt {
	char *mountpoint; /* as given */
	char *source;	  /* fstab source argument, or NULL */
	char *share;
	char *conn_file;
	char *config;
	char *cache_dir; /* NULL: mopt_default_cache_dir() */
	char *ca_file;
	long writeback_delay_ms; /* 0 = close-to-open */
	long attr_timeout_ms;
	long dir_timeout_ms;
	long conflict_slack_ms;
	uint64_t cache_size;	 /* bytes */
	uint64_t file_cache_max; /* bytes */
	int upload_threads;
	uid_t uid; /* defaults for entries with foreign owners */
	gid_t gid;
	mode_t file_mode; /* permission bits only */
	mode_t dir_mode;
	int offline_writes;
	long neg_timeout_ms;  /* "no such name" trusted this long */
	int strict_excl;      /* every O_EXCL create exclusive on the share */
	int nocto;	      /* opens trust attributes within attr_timeout */
	long journal_sync_ms; /* group commit window of write-back closes; 0 = per close */
	int log_level;	      /* enum az_log_level */
	int foreground;
	int debug;
	int single_thread;
	int read_only;
	int allow_other; /* -1 = default (on when root) */
	int show_help;
	int show_version;
	char *fuse_opts; /* comma list for FUSE (allow_root, fsname=..), or NULL */
};

/* Fills o with the defaults (everything not parsed). */
void mopt_defaults(struct mopt *o);

/* Parses argv (argv[0] is the program). Reads -o config=FILE too. Returns 0,
 * or -EINVAL with a one-line message naming the culprit in err. After 0, if
 * show_help or show_version is set nothing else is checked. */
int mopt_parse(struct mopt *o, int argc, char **argv, char *err, size_t errlen);
void mopt_release(struct mopt *o);

/* Applies one "key" or "key=value" option as -o would (for tests and the
 * config reader). from names the origin for messages ("-o", "config 'f' line 3"). */
int mopt_apply(struct mopt *o, const char *opt, const char *from, char *err, size_t errlen);

/* Value parsers, exposed for unit tests. All return 0 or -EINVAL. */
int mopt_parse_seconds(const char *s, long *ms);     /* "2", "0.5" -> ms */
int mopt_parse_size(const char *s, uint64_t *bytes); /* "10G", "16M", "512k", "4096" */
int mopt_parse_mode(const char *s, mode_t *mode);    /* octal, <= 07777 */
int mopt_parse_bool(const char *s, int *v);	     /* 1/0 yes/no true/false on/off */
int mopt_parse_uid(const char *s, uid_t *uid);	     /* number or user name */
int mopt_parse_gid(const char *s, gid_t *gid);	     /* number or group name */

/* /var/cache/azsharefs/<account>-<share>-<16 hex of FNV-1a(mountpoint)>. */
int mopt_default_cache_dir(const char *account, const char *share, const char *mountpoint,
			   char *out, size_t outlen);

/* The --help text (without program name line). */
const char *mopt_usage(void);

#endif
