/* prov_config.c: parses and checks the pool config.
 *
 * Owns struct prov_config. Single-threaded. Invariants: every path stored is
 * absolute and made of plain characters (prov_valid_plain_path), so it can go
 * into a systemd unit, an fstab line or a -o list without quoting; `options`
 * never names share/conn_file/config (the provisioner owns those) nor carries
 * a secret; no value of this file is secret, so errors may quote them.
 */
#include "prov_config.h"
#include "prov_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef AZSF_MOUNT_BIN
#define AZSF_MOUNT_BIN "/usr/bin/azsharefs"
#endif

void prov_config_init(struct prov_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->credentials, sizeof(cfg->credentials), "%s/credentials", PROV_CONF_DIR);
	snprintf(cfg->mountpoint, sizeof(cfg->mountpoint), "/mnt/azsharefs");
	snprintf(cfg->cache_dir, sizeof(cfg->cache_dir), "/var/cache/azsharefs");
	snprintf(cfg->azsharefs, sizeof(cfg->azsharefs), "%s", AZSF_MOUNT_BIN);
	snprintf(cfg->shell, sizeof(cfg->shell), "/bin/bash");
	snprintf(cfg->home, sizeof(cfg->home), "/home");
	cfg->uid_min = 2000;
	cfg->uid_max = 59999;
	cfg->lock_timeout = 120;
	cfg->mount_timeout = 30;
}

static int valid_account(const char *s)
{
	size_t i;
	size_t len = strlen(s);

	if (len < 3 || len > 24)
		return 0;
	for (i = 0; i < len; i++) {
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
			return 0;
	}
	return 1;
}

/* Azure Files share names: 3-63 of [a-z0-9-], starting with a letter or a
 * digit, no "--", not ending with "-". */
static int valid_share(const char *s)
{
	size_t i;
	size_t len = strlen(s);

	if (len < 3 || len > 63 || s[0] == '-' || s[len - 1] == '-' || strstr(s, "--"))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || c == '-'))
			return 0;
	}
	return 1;
}

static int valid_endpoint(const char *s)
{
	const char *p;

	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return 0;
	for (p = s; *p; p++) {
		if (isspace((unsigned char)*p) || *p == ';' || *p == '"' || *p == '\'' ||
		    *p == '%' || *p == '\\')
			return 0;
	}
	return 1;
}

/* Extra mount options: key[=value] items of plain characters. The
 * provisioner sets share, conn_file and cache_dir itself; credentials never
 * travel in options (they would land in the unit file and in ps output). */
static int check_options(const char *s, char *err, size_t errlen)
{
	static const char *const owned[] = {"share=", "conn_file=", "config=", "cache_dir="};
	static const char *const secret[] = {"accountkey", "sharedaccesssignature",
					     "sig=", "key=", "sas="};
	static const char plain[] = "._/@+=,:-";
	const char *p;
	size_t i;

	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (!(isalnum(c) || strchr(plain, c))) {
			snprintf(err, errlen,
				 "options: character '%c' not allowed (expected "
				 "key=value items of [A-Za-z0-9._/@+:-] separated by commas)",
				 c);
			return -EINVAL;
		}
	}
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		p = strstr(s, owned[i]);
		if (p && (p == s || p[-1] == ',')) {
			snprintf(err, errlen,
				 "options: '%.*s' is set by the provisioner from "
				 "its own keys; remove it",
				 (int)strlen(owned[i]) - 1, owned[i]);
			return -EINVAL;
		}
	}
	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		if (strcasestr(s, secret[i])) {
			snprintf(err, errlen,
				 "options: credentials do not belong in options "
				 "(found '%s'); put them in the credentials file",
				 secret[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int set_str(char *dst, size_t dstlen, const char *key, const char *value, char *err,
		   size_t errlen)
{
	if (strlen(value) >= dstlen) {
		snprintf(err, errlen, "%s: value too long (at most %zu characters)", key,
			 dstlen - 1);
		return -ENAMETOOLONG;
	}
	snprintf(dst, dstlen, "%s", value);
	return 0;
}

static int set_path(char *dst, size_t dstlen, const char *key, const char *value, char *err,
		    size_t errlen)
{
	if (!prov_valid_plain_path(value)) {
		snprintf(err, errlen,
			 "%s: '%s' is not a plain absolute path (expected /... "
			 "of [A-Za-z0-9._/@+-], no '..')",
			 key, value);
		return -EINVAL;
	}
	return set_str(dst, dstlen, key, value, err, errlen);
}

static int set_num(unsigned long *dst, const char *key, const char *value, unsigned long min,
		   unsigned long max, char *err, size_t errlen)
{
	unsigned long v;

	if (prov_parse_ulong(value, max, &v) || v < min) {
		snprintf(err, errlen, "%s: '%s' is not a number from %lu to %lu", key, value, min,
			 max);
		return -EINVAL;
	}
	*dst = v;
	return 0;
}

static int set_bool(int *dst, const char *key, const char *value, char *err, size_t errlen)
{
	if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1")) {
		*dst = 1;
		return 0;
	}
	if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0")) {
		*dst = 0;
		return 0;
	}
	snprintf(err, errlen, "%s: '%s' is not yes or no", key, value);
	return -EINVAL;
}

static int set_name(struct prov_config *cfg, const char *key, const char *value, char *err,
		    size_t errlen)
{
	if (!strcmp(key, "account")) {
		if (!valid_account(value)) {
			snprintf(err, errlen,
				 "account: '%s' is not a storage account name "
				 "(3-24 lowercase letters and digits)",
				 value);
			return -EINVAL;
		}
		return set_str(cfg->account, sizeof(cfg->account), key, value, err, errlen);
	}
	if (!valid_share(value)) {
		snprintf(err, errlen,
			 "share: '%s' is not a share name (3-63 of a-z, 0-9 and "
			 "single hyphens, starting and ending with a letter or digit)",
			 value);
		return -EINVAL;
	}
	return set_str(cfg->share, sizeof(cfg->share), key, value, err, errlen);
}

int prov_config_set(struct prov_config *cfg, const char *key, const char *value, char *err,
		    size_t errlen)
{
	if (!strcmp(key, "account") || !strcmp(key, "share"))
		return set_name(cfg, key, value, err, errlen);
	if (!strcmp(key, "credentials"))
		return set_path(cfg->credentials, sizeof(cfg->credentials), key, value, err,
				errlen);
	if (!strcmp(key, "endpoint")) {
		if (value[0] && !valid_endpoint(value)) {
			snprintf(err, errlen,
				 "endpoint: '%s' is not an http(s):// URL without "
				 "spaces, quotes or ';'",
				 value);
			return -EINVAL;
		}
		return set_str(cfg->endpoint, sizeof(cfg->endpoint), key, value, err, errlen);
	}
	if (!strcmp(key, "mountpoint"))
		return set_path(cfg->mountpoint, sizeof(cfg->mountpoint), key, value, err, errlen);
	if (!strcmp(key, "cache_dir"))
		return set_path(cfg->cache_dir, sizeof(cfg->cache_dir), key, value, err, errlen);
	if (!strcmp(key, "azsharefs"))
		return set_path(cfg->azsharefs, sizeof(cfg->azsharefs), key, value, err, errlen);
	if (!strcmp(key, "shell"))
		return set_path(cfg->shell, sizeof(cfg->shell), key, value, err, errlen);
	if (!strcmp(key, "home"))
		return set_path(cfg->home, sizeof(cfg->home), key, value, err, errlen);
	if (!strcmp(key, "options")) {
		if (check_options(value, err, errlen))
			return -EINVAL;
		return set_str(cfg->options, sizeof(cfg->options), key, value, err, errlen);
	}
	if (!strcmp(key, "uid_min"))
		return set_num(&cfg->uid_min, key, value, 1000, 4000000000UL, err, errlen);
	if (!strcmp(key, "uid_max"))
		return set_num(&cfg->uid_max, key, value, 1000, 4000000000UL, err, errlen);
	if (!strcmp(key, "lock_timeout"))
		return set_num(&cfg->lock_timeout, key, value, 5, 86400, err, errlen);
	if (!strcmp(key, "mount_timeout"))
		return set_num(&cfg->mount_timeout, key, value, 1, 3600, err, errlen);
	if (!strcmp(key, "no_mount"))
		return set_bool(&cfg->no_mount, key, value, err, errlen);
	snprintf(err, errlen,
		 "unknown key '%s' (expected account, share, credentials, "
		 "endpoint, mountpoint, cache_dir, options, azsharefs, shell, home, uid_min, "
		 "uid_max, lock_timeout, mount_timeout, no_mount)",
		 key);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int parse_line(struct prov_config *cfg, char *line, char *err, size_t errlen)
{
	char *eq;
	char *key;
	char *value;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'key = value', got '%.80s'", line);
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!key[0]) {
		snprintf(err, errlen, "missing key before '='");
		return -EINVAL;
	}
	return prov_config_set(cfg, key, value, err, errlen);
}

int prov_config_parse(struct prov_config *cfg, const char *text, const char *origin, char *err,
		      size_t errlen)
{
	char line[2048];
	char why[512];
	const char *p = text;
	unsigned lineno = 0;
	int rc = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line too long", origin, lineno);
			return -EINVAL;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		why[0] = '\0';
		rc = parse_line(cfg, line, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", origin, lineno, why);
			return rc;
		}
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

int prov_config_check(const struct prov_config *cfg, char *err, size_t errlen)
{
	if (!cfg->account[0]) {
		snprintf(err, errlen, "missing required key 'account'");
		return -EINVAL;
	}
	if (!cfg->share[0]) {
		snprintf(err, errlen, "missing required key 'share'");
		return -EINVAL;
	}
	if (cfg->uid_min > cfg->uid_max) {
		snprintf(err, errlen, "uid_min %lu is above uid_max %lu", cfg->uid_min,
			 cfg->uid_max);
		return -EINVAL;
	}
	return 0;
}

int prov_config_conn_path(const struct prov_config *cfg, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s.conn", PROV_CONF_DIR, cfg->share);

	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}

int prov_config_mount_opts(const struct prov_config *cfg, const char *conn_path,
			   const char *cache_dir, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "share=%s,conn_file=%s,cache_dir=%s%s%s", cfg->share,
			 conn_path, cache_dir, cfg->options[0] ? "," : "", cfg->options);

	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}
