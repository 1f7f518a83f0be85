/* prov_creds.c: installs the storage credentials for the mount.
 *
 * Owns nothing long-lived. Invariants: the secret only ever lives in memory
 * buffers that are wiped before release and in files created 0600 (never
 * widened, never printed, never passed on a command line); error messages
 * name files and fields, never the secret's value.
 */
#include "prov_creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void buf_wipe_release(struct prov_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	prov_buf_release(b);
}

/* A named constant: checksrc reads a '=' literal inside if () as an
 * assignment. */
#define KV_SEP '='

static const char key_marker[] = "AccountKey=";
static const char sas_marker[] = "SharedAccessSignature=";
static const char b64_extra[] = "+/=";

/* Value of key in a ';'-separated connection string, copied to out. */
static int conn_field(const char *conn, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = conn;

	while (*p) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncasecmp(p, key, klen) == 0 && p[klen] == KV_SEP) {
			len -= klen + 1;
			if (len >= outlen)
				return -ENAMETOOLONG;
			memcpy(out, p + klen + 1, len);
			out[len] = '\0';
			return 0;
		}
		p += len + (end ? 1 : 0);
	}
	return -ENOENT;
}

static int is_base64(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		if (!(isalnum((unsigned char)*s) || strchr(b64_extra, *s)))
			return 0;
	}
	return n >= 16;
}

static int endpoint_of(const struct prov_config *cfg, char *out, size_t outlen)
{
	int n;

	if (cfg->endpoint[0])
		n = snprintf(out, outlen, "%s", cfg->endpoint);
	else
		n = snprintf(out, outlen, "https://%s.file.core.windows.net", cfg->account);
	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}

static int wrap_secret(const struct prov_config *cfg, const char *secret, struct prov_buf *out,
		       char *err, size_t errlen)
{
	char endpoint[600];
	const char *proto;
	int sas;

	if (endpoint_of(cfg, endpoint, sizeof(endpoint))) {
		snprintf(err, errlen, "endpoint too long");
		return -ENAMETOOLONG;
	}
	proto = strncmp(endpoint, "http://", 7) == 0 ? "http" : "https";
	if (secret[0] == '?')
		secret++;
	sas = strncmp(secret, "sv=", 3) == 0 || strstr(secret, "&sig=") != NULL;
	if (!sas && !is_base64(secret)) {
		snprintf(err, errlen,
			 "is neither a connection string, a SAS token (sv=...) "
			 "nor a base64 account key");
		return -EINVAL;
	}
	return prov_buf_addf(out,
			     "DefaultEndpointsProtocol=%s;AccountName=%s;%s=%s;"
			     "FileEndpoint=%s",
			     proto, cfg->account, sas ? "SharedAccessSignature" : "AccountKey",
			     secret, endpoint);
}

int prov_creds_conn_string(const struct prov_config *cfg, const char *secret, struct prov_buf *out,
			   char *err, size_t errlen)
{
	char name[64];
	size_t len;
	const char *p;

	while (isspace((unsigned char)*secret))
		secret++;
	len = strlen(secret);
	while (len > 0 && isspace((unsigned char)secret[len - 1]))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "is empty");
		return -EINVAL;
	}
	for (p = secret; p < secret + len; p++) {
		if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t') {
			snprintf(err, errlen, "must hold one line without spaces");
			return -EINVAL;
		}
	}
	if (!strcasestr(secret, key_marker) && !strcasestr(secret, sas_marker)) {
		struct prov_buf one;
		int rc;

		prov_buf_init(&one);
		rc = prov_buf_addn(&one, secret, len);
		if (!rc)
			rc = wrap_secret(cfg, one.data, out, err, errlen);
		buf_wipe_release(&one);
		return rc;
	}
	if (conn_field(secret, "AccountName", name, sizeof(name)) == 0 &&
	    strcmp(name, cfg->account) != 0) {
		snprintf(err, errlen, "is for account '%s', but the pool config says '%s'", name,
			 cfg->account);
		return -EINVAL;
	}
	return prov_buf_addn(out, secret, len);
}

static int read_secret(const char *src, struct prov_buf *secret, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (stat(src, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "credentials file '%s': %s", src, strerror(errno));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "credentials file '%s' is not a regular file", src);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "credentials file '%s' is readable by others (mode %04o); "
			 "make it 0600",
			 src, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	rc = prov_read_file(src, secret, 64 * 1024);
	if (rc)
		snprintf(err, errlen, "credentials file '%s': %s", src, strerror(-rc));
	return rc;
}

int prov_creds_install(const struct prov_config *cfg, const char *src, const char *dst,
		       int *changed, char *err, size_t errlen)
{
	struct prov_buf secret;
	struct prov_buf conn;
	char dir[PROV_PATH_MAX];
	char why[256];
	char *slash;
	int rc;

	*changed = 0;
	prov_buf_init(&secret);
	prov_buf_init(&conn);
	rc = read_secret(src, &secret, err, errlen);
	if (rc)
		goto out;
	if (strcmp(src, dst) == 0) {
		/* Already the installed file: only its mode matters, checked above. */
		goto out;
	}
	rc = prov_creds_conn_string(cfg, prov_buf_str(&secret), &conn, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "credentials file '%s' %s", src, why);
		goto out;
	}
	rc = prov_buf_add(&conn, "\n");
	if (rc)
		goto out;
	snprintf(dir, sizeof(dir), "%s", dst);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	rc = prov_mkdir_p(dir, 0700, NULL);
	if (!rc)
		rc = prov_install_file(dst, conn.data, conn.len, 0600, changed);
	if (rc)
		snprintf(err, errlen, "installing '%s': %s", dst, strerror(-rc));
out:
	buf_wipe_release(&secret);
	buf_wipe_release(&conn);
	return rc;
}
