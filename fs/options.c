/* options.c: command line and config file parsing for the mount.
 *
 * Owns struct mopt. Single-threaded (runs before anything else starts).
 * Design: one table (mopt_keys) lists every key we understand with its value
 * type and field; -o lists and config files both go through mopt_apply(), so
 * the two accept exactly the same keys. Options that mean something to FUSE
 * or the kernel (ro, nosuid, allow_root, ...) are gathered in fuse_opts;
 * fstab/mount(8) noise (_netdev, noauto, x-systemd.*, ...) is accepted and
 * dropped. Anything else is an error naming the option. The config file is
 * read first and the -o options are applied after it, so -o wins whatever
 * the order on the command line.
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "names.h"

#define MOPT_LINE_MAX 4096

enum mopt_type {
	MT_STR,
	MT_SECONDS,
	MT_SIZE,
	MT_INT,
	MT_MODE,
	MT_FLAG,
	MT_UID,
	MT_GID,
	MT_LOGLEVEL,
};

struct mopt_key {
	const char *name;
	enum mopt_type type;
	size_t off;
};

#define K(n, t, f)                                                                                 \
	{                                                                                          \
		n, t, offsetof(struct mopt, f)                                                     \
	}
static const struct mopt_key mopt_keys[] = {
    K("share", MT_STR, share),
    K("conn_file", MT_STR, conn_file),
    K("config", MT_STR, config),
    K("cache_dir", MT_STR, cache_dir),
    K("ca_file", MT_STR, ca_file),
    K("writeback_delay", MT_SECONDS, writeback_delay_ms),
    K("attr_timeout", MT_SECONDS, attr_timeout_ms),
    K("dir_timeout", MT_SECONDS, dir_timeout_ms),
    K("conflict_slack", MT_SECONDS, conflict_slack_ms),
    K("cache_size", MT_SIZE, cache_size),
    K("file_cache_max", MT_SIZE, file_cache_max),
    K("upload_threads", MT_INT, upload_threads),
    K("uid", MT_UID, uid),
    K("gid", MT_GID, gid),
    K("file_mode", MT_MODE, file_mode),
    K("dir_mode", MT_MODE, dir_mode),
    K("offline_writes", MT_FLAG, offline_writes),
    K("neg_timeout", MT_SECONDS, neg_timeout_ms),
    K("strict_excl", MT_FLAG, strict_excl),
    K("nocto", MT_FLAG, nocto),
    K("journal_sync", MT_SECONDS, journal_sync_ms),
    K("log_level", MT_LOGLEVEL, log_level),
    K("allow_other", MT_FLAG, allow_other),
};
#undef K

/* Handed to FUSE / the kernel as they are (libfuse mount options). */
static const char *const mopt_fuse_flags[] = {
    "nosuid",	     "suid",	   "nodev",	   "dev",     "noexec",	    "exec",
    "async",	     "sync",	   "dirsync",	   "noatime", "nodiratime", "norelatime",
    "nostrictatime", "allow_root", "auto_unmount", NULL,
};
static const char *const mopt_fuse_valued[] = {"fsname=", "max_read=", NULL};

/* Meaningless to us, accepted from fstab / mount(8) and dropped. */
static const char *const mopt_ignored[] = {
    "_netdev",
    "noauto",
    "auto",
    "user",
    "nouser",
    "users",
    "owner",
    "nofail",
    "defaults",
    "default_permissions",
    "atime",
    "relatime",
    "strictatime",
    "diratime",
    "lazytime",
    "nolazytime",
    "noallow_other_warning",
    NULL,
};
static const char *const mopt_ignored_prefix[] = {"x-", "comment=", "helper=", NULL};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void mopt_defaults(struct mopt *o)
{
	memset(o, 0, sizeof(*o));
	o->writeback_delay_ms = 0;
	o->attr_timeout_ms = 2000;
	o->dir_timeout_ms = 2000;
	o->conflict_slack_ms = 1000;
	o->neg_timeout_ms = 200;
	o->journal_sync_ms = 100;
	o->cache_size = 10ull << 30;
	o->file_cache_max = 16ull << 20;
	o->upload_threads = 16;
	o->uid = 0;
	o->gid = 0;
	o->file_mode = 0644;
	o->dir_mode = 0755;
	o->log_level = AZ_LOG_INFO;
	o->allow_other = -1;
}

void mopt_release(struct mopt *o)
{
	free(o->mountpoint);
	free(o->source);
	free(o->share);
	free(o->conn_file);
	free(o->config);
	free(o->cache_dir);
	free(o->ca_file);
	free(o->fuse_opts);
	memset(o, 0, sizeof(*o));
}

/* ---- value parsers ---- */

int mopt_parse_seconds(const char *s, long *ms)
{
	char *end = NULL;
	double v;

	if (!s || !*s || strspn(s, "0123456789.") != strlen(s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 86400.0 * 365))
		return -EINVAL;
	*ms = (long)(v * 1000.0 + 0.5);
	return 0;
}

int mopt_parse_size(const char *s, uint64_t *bytes)
{
	char *end = NULL;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

int mopt_parse_mode(const char *s, mode_t *mode)
{
	char *end = NULL;
	unsigned long v;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '7')
			return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return -EINVAL;
	*mode = (mode_t)v;
	return 0;
}

int mopt_parse_bool(const char *s, int *v)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_id(const char *s, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= 0xffffffffUL)
		return -EINVAL;
	*out = v;
	return 0;
}

int mopt_parse_uid(const char *s, uid_t *uid)
{
	unsigned long v;
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (parse_id(s, &v) == 0) {
		*uid = (uid_t)v;
		return 0;
	}
	if (!s || !*s || getpwnam_r(s, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return -EINVAL;
	*uid = res->pw_uid;
	return 0;
}

int mopt_parse_gid(const char *s, gid_t *gid)
{
	unsigned long v;
	struct group gr, *res = NULL;
	char buf[4096];

	if (parse_id(s, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	if (!s || !*s || getgrnam_r(s, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return -EINVAL;
	*gid = res->gr_gid;
	return 0;
}

static int parse_loglevel(const char *s, int *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	int i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0')) {
			*level = i;
			return 0;
		}
	}
	if (strcasecmp(s, "err") == 0 || strcasecmp(s, "warning") == 0) {
		*level = s[0] == 'e' || s[0] == 'E' ? AZ_LOG_ERR : AZ_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

/* ---- applying one option ---- */

static const char *type_expect(enum mopt_type t)
{
	switch (t) {
	case MT_STR:
		return "a non-empty value";
	case MT_SECONDS:
		return "seconds, e.g. 2 or 0.5";
	case MT_SIZE:
		return "a size, e.g. 10G, 16M, 512K or bytes";
	case MT_INT:
		return "a whole number from 1 to 256";
	case MT_MODE:
		return "an octal mode, e.g. 0644";
	case MT_FLAG:
		return "nothing, or 1/0, yes/no, true/false, on/off";
	case MT_UID:
		return "a user name or number";
	case MT_GID:
		return "a group name or number";
	default:
		return "error, warn, info or debug";
	}
}

static int set_str(char **field, const char *val)
{
	char *dup;

	if (!val || !*val)
		return -EINVAL;
	dup = strdup(val);
	if (!dup)
		return -ENOMEM;
	free(*field);
	*field = dup;
	return 0;
}

static int set_int(int *field, const char *val)
{
	char *end = NULL;
	long v;

	if (!val || !isdigit((unsigned char)*val))
		return -EINVAL;
	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || *end || v < 1 || v > 256)
		return -EINVAL;
	*field = (int)v;
	return 0;
}

static int set_value(struct mopt *o, const struct mopt_key *k, const char *val)
{
	char *base = (char *)o + k->off;

	if (k->type != MT_FLAG && !val)
		return -EINVAL;
	switch (k->type) {
	case MT_STR:
		return set_str((char **)(void *)base, val);
	case MT_SECONDS:
		return mopt_parse_seconds(val, (long *)(void *)base);
	case MT_SIZE:
		return mopt_parse_size(val, (uint64_t *)(void *)base);
	case MT_INT:
		return set_int((int *)(void *)base, val);
	case MT_MODE:
		return mopt_parse_mode(val, (mode_t *)(void *)base);
	case MT_FLAG:
		if (!val) {
			*(int *)(void *)base = 1;
			return 0;
		}
		return mopt_parse_bool(val, (int *)(void *)base);
	case MT_UID:
		return mopt_parse_uid(val, (uid_t *)(void *)base);
	case MT_GID:
		return mopt_parse_gid(val, (gid_t *)(void *)base);
	default:
		return parse_loglevel(val, (int *)(void *)base);
	}
}

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static int has_prefix_in(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strncmp(*list, s, strlen(*list)) == 0)
			return 1;
	return 0;
}

static int add_fuse_opt(struct mopt *o, const char *opt)
{
	size_t old = o->fuse_opts ? strlen(o->fuse_opts) : 0;
	size_t n = strlen(opt);
	char *p = realloc(o->fuse_opts, old + n + 2);

	if (!p)
		return -ENOMEM;
	if (old)
		p[old++] = ',';
	memcpy(p + old, opt, n + 1);
	o->fuse_opts = p;
	return 0;
}

/* Options that are not in the key table: ro/rw, FUSE's, fstab noise. */
static int apply_other(struct mopt *o, const char *opt, const char *from, char *err, size_t errlen)
{
	if (strcmp(opt, "ro") == 0 || strcmp(opt, "rw") == 0) {
		o->read_only = opt[0] == 'r' && opt[1] == 'o';
		return 0;
	}
	if (in_list(mopt_ignored, opt) || has_prefix_in(mopt_ignored_prefix, opt))
		return 0;
	if (in_list(mopt_fuse_flags, opt) || has_prefix_in(mopt_fuse_valued, opt))
		return add_fuse_opt(o, opt);
	seterr(err, errlen, "unknown option '%s' (%s); see --help", opt, from);
	return -EINVAL;
}

int mopt_apply(struct mopt *o, const char *opt, const char *from, char *err, size_t errlen)
{
	const char *eq = strchr(opt, '=');
	size_t nlen = eq ? (size_t)(eq - opt) : strlen(opt);
	const char *val = eq ? eq + 1 : NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(mopt_keys) / sizeof(mopt_keys[0]); i++) {
		const struct mopt_key *k = &mopt_keys[i];

		if (strlen(k->name) != nlen || strncmp(k->name, opt, nlen) != 0)
			continue;
		if (k->type == MT_FLAG && val == NULL) {
			rc = set_value(o, k, NULL);
		} else if (!val) {
			seterr(err, errlen, "option '%s' needs a value: %s (%s)", k->name,
			       type_expect(k->type), from);
			return -EINVAL;
		} else {
			rc = set_value(o, k, val);
		}
		if (rc == -ENOMEM) {
			seterr(err, errlen, "out of memory");
			return rc;
		}
		if (rc) {
			seterr(err, errlen, "option '%s': bad value '%s', expected %s (%s)",
			       k->name, val ? val : "", type_expect(k->type), from);
			return -EINVAL;
		}
		return 0;
	}
	return apply_other(o, opt, from, err, errlen);
}

/* ---- -o lists ---- */

static int is_config_opt(const char *s)
{
	return strncmp(s, "config=", 7) == 0 || strcmp(s, "config") == 0;
}

/* Splits "a,b=c\,d" at unescaped commas; calls mopt_apply on each. When
 * config_only is set, applies nothing but the config key. */
static int apply_list(struct mopt *o, const char *list, int config_only, char *err, size_t errlen)
{
	size_t n = strlen(list);
	char *buf = malloc(n + 1);
	size_t i, j = 0;
	int rc = 0;

	if (!buf) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i <= n && rc == 0; i++) {
		char c = list[i];

		if (c == '\\' && (list[i + 1] == ',' || list[i + 1] == '\\')) {
			buf[j++] = list[++i];
			continue;
		}
		if (c != ',' && c != '\0') {
			buf[j++] = c;
			continue;
		}
		buf[j] = '\0';
		j = 0;
		if (buf[0] == '\0')
			continue;
		if (config_only != is_config_opt(buf))
			continue;
		rc = mopt_apply(o, buf, "-o", err, errlen);
	}
	free(buf);
	return rc;
}

/* ---- config file ---- */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int config_line(struct mopt *o, char *line, const char *from, char *err, size_t errlen)
{
	char opt[MOPT_LINE_MAX];
	char *s = trim(line);
	char *eq;

	if (*s == '\0' || *s == '#')
		return 0;
	/* a '#' after white space starts a comment; inside a value it does not */
	for (char *p = s + 1; *p; p++) {
		if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			s = trim(s);
			break;
		}
	}
	eq = strchr(s, '=');
	if (eq) {
		*eq = '\0';
		snprintf(opt, sizeof(opt), "%s=%s", trim(s), trim(eq + 1));
	} else {
		snprintf(opt, sizeof(opt), "%s", s);
	}
	if (is_config_opt(opt)) {
		seterr(err, errlen, "option 'config' cannot be used inside a config file (%s)",
		       from);
		return -EINVAL;
	}
	return mopt_apply(o, opt, from, err, errlen);
}

static int read_config(struct mopt *o, const char *path, char *err, size_t errlen)
{
	char line[MOPT_LINE_MAX];
	char from[MOPT_LINE_MAX + 32];
	FILE *f = fopen(path, "re");
	int lineno = 0;
	int rc = 0;

	if (!f) {
		rc = -errno;
		seterr(err, errlen, "cannot read config '%s': %s", path, strerror(-rc));
		return -EINVAL;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			seterr(err, errlen, "config '%s' line %d: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		snprintf(from, sizeof(from), "config '%s' line %d", path, lineno);
		rc = config_line(o, line, from, err, errlen);
	}
	if (rc == 0 && ferror(f)) {
		seterr(err, errlen, "cannot read config '%s'", path);
		rc = -EINVAL;
	}
	fclose(f);
	return rc;
}

/* ---- the command line ---- */

static int set_source(struct mopt *o, const char *src, char *err, size_t errlen)
{
	const char *hash = strchr(src, '#');
	const char *name = hash ? hash + 1 : src;

	o->source = strdup(src);
	if (!o->source)
		return -ENOMEM;
	if (strcmp(src, "none") == 0 || strcmp(src, "azsharefs") == 0 || *name == '\0')
		return 0;
	if (!o->share)
		return set_str(&o->share, name);
	if (strcmp(o->share, name) != 0) {
		seterr(err, errlen, "source '%s' names share '%s' but option share='%s'", src, name,
		       o->share);
		return -EINVAL;
	}
	return 0;
}

static int check_required(struct mopt *o, char *err, size_t errlen)
{
	char why[160];

	if (!o->mountpoint) {
		seterr(err, errlen, "missing MOUNTPOINT; see --help");
		return -EINVAL;
	}
	if (!o->share) {
		seterr(err, errlen, "missing option 'share' (-o share=NAME)");
		return -EINVAL;
	}
	if (nm_check_share(o->share, why, sizeof(why)) != 0) {
		seterr(err, errlen, "option 'share': bad share name '%s': %s", o->share, why);
		return -EINVAL;
	}
	if (!o->conn_file) {
		seterr(err, errlen, "missing option 'conn_file' (-o conn_file=FILE)");
		return -EINVAL;
	}
	if (o->file_cache_max == 0) {
		seterr(err, errlen, "option 'file_cache_max' must be more than 0");
		return -EINVAL;
	}
	return 0;
}

/* One argv word that starts with '-'. Returns 1 when it consumed the next word. */
static int parse_flag(struct mopt *o, char **argv, int i, int argc, const char **lists, int *nlists,
		      char *err, size_t errlen)
{
	const char *a = argv[i];

	if (strcmp(a, "-o") == 0) {
		if (i + 1 >= argc) {
			seterr(err, errlen, "option '-o' needs a value");
			return -EINVAL;
		}
		lists[(*nlists)++] = argv[i + 1];
		return 1;
	}
	if (strncmp(a, "-o", 2) == 0)
		lists[(*nlists)++] = a + 2;
	else if (strcmp(a, "-f") == 0)
		o->foreground = 1;
	else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0)
		o->debug = o->foreground = 1;
	else if (strcmp(a, "-s") == 0)
		o->single_thread = 1;
	else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		o->show_help = 1;
	else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)
		o->show_version = 1;
	else {
		seterr(err, errlen, "unknown argument '%s'; see --help", a);
		return -EINVAL;
	}
	return 0;
}

static int split_argv(struct mopt *o, int argc, char **argv, const char **lists, int *nlists,
		      const char **pos, int *npos, char *err, size_t errlen)
{
	int only_pos = 0;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*npos >= 2) {
				seterr(err, errlen, "unexpected argument '%s'; see --help", a);
				return -EINVAL;
			}
			pos[(*npos)++] = a;
			continue;
		}
		rc = parse_flag(o, argv, i, argc, lists, nlists, err, errlen);
		if (rc < 0)
			return rc;
		i += rc;
	}
	return 0;
}

int mopt_parse(struct mopt *o, int argc, char **argv, char *err, size_t errlen)
{
	const char **lists = calloc((size_t)argc + 1, sizeof(*lists));
	const char *pos[2] = {NULL, NULL};
	int nlists = 0, npos = 0, i;
	int rc;

	if (!lists)
		return -ENOMEM;
	rc = split_argv(o, argc, argv, lists, &nlists, pos, &npos, err, errlen);
	if (rc || o->show_help || o->show_version)
		goto out;
	for (i = 0; i < nlists && rc == 0; i++)
		rc = apply_list(o, lists[i], 1, err, errlen);
	if (rc == 0 && o->config)
		rc = read_config(o, o->config, err, errlen);
	for (i = 0; i < nlists && rc == 0; i++)
		rc = apply_list(o, lists[i], 0, err, errlen);
	if (rc)
		goto out;
	if (npos == 2)
		rc = set_source(o, pos[0], err, errlen);
	if (rc == 0 && npos >= 1) {
		o->mountpoint = strdup(pos[npos - 1]);
		rc = o->mountpoint ? 0 : -ENOMEM;
	}
	if (rc == 0)
		rc = check_required(o, err, errlen);
	if (rc == 0 && o->debug)
		o->log_level = AZ_LOG_DEBUG;
out:
	free(lists);
	if (rc == -ENOMEM)
		seterr(err, errlen, "out of memory");
	return rc ? -EINVAL : 0;
}

int mopt_default_cache_dir(const char *account, const char *share, const char *mountpoint,
			   char *out, size_t outlen)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a 64 */
	int n;

	for (const unsigned char *p = (const unsigned char *)mountpoint; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	n = snprintf(out, outlen, "/var/cache/azsharefs/%s-%s-%016llx", account, share,
		     (unsigned long long)h);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}
