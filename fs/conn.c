/* conn.c: Azure Storage connection strings -> struct az_conn.
 *
 * Owns: parsing "Key=Value;Key=Value" text into the account name, the account
 * key (kept both as given and base64-decoded), the SAS token and the file
 * endpoint URL. No threads, no global state; the result is read-only after
 * az_conn_parse() returns, so any number of threads may share it.
 *
 * Invariants of a parsed struct az_conn:
 * - account is 3-24 lowercase letters or digits (the service's rule);
 * - key_raw/key_raw_len are set exactly when key is, sas has no leading '?';
 * - endpoint is "<http|https>://host[:port][/path]" with no trailing '/', and
 *   the URL of a share is always endpoint + "/" + share. When the host is an
 *   IP address or "localhost" (emulator style) and no path was given, the
 *   path "/<account>" is appended, because such hosts carry the account as
 *   the first path segment;
 * - path_style is 1 when the endpoint has a path (the account is the first
 *   path segment), 0 for host-style endpoints such as
 *   https://acct.file.core.windows.net or devstoreaccount1.file.localhost:N.
 * Error messages name the key that was wrong and never echo a value that may
 * be secret (AccountKey, SharedAccessSignature, or unknown text).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "conn.h"

#define CONN_DEFAULT_SUFFIX "core.windows.net"
#define B64_PAD '='

/* The raw key/value fields found in the text, before validation. */
struct conn_fields {
	char *name, *key, *sas, *endpoint, *proto, *suffix;
	int dev; /* UseDevelopmentStorage=true */
};

static void conn_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

static void conn_free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void conn_fields_release(struct conn_fields *f)
{
	free(f->name);
	conn_free_secret(f->key);
	conn_free_secret(f->sas);
	free(f->endpoint);
	free(f->proto);
	free(f->suffix);
	memset(f, 0, sizeof(*f));
}

/* Copies [s, s+n) without surrounding whitespace; NULL on oom. */
static char *conn_trimdup(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict standard base64 (padding required, no whitespace). Returns the
 * decoded length or -EINVAL; *out is malloc()ed. */
static int conn_b64_decode(const char *in, unsigned char **out)
{
	size_t len = strlen(in), i, o = 0;
	size_t pad = 0;
	unsigned char *buf = NULL;

	*out = NULL;
	if (len == 0 || len % 4 != 0 || len > 4096)
		return -EINVAL;
	if (in[len - 1] == B64_PAD)
		pad = in[len - 2] == B64_PAD ? 2 : 1;
	buf = malloc(len / 4 * 3);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < len; i += 4) {
		int v[4], k, last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			int padded = last && k >= 4 - (int)pad;

			v[k] = padded ? (in[i + k] == '=' ? 0 : -1) : b64_val(in[i + k]);
			if (v[k] < 0) {
				OPENSSL_cleanse(buf, len / 4 * 3);
				free(buf);
				return -EINVAL;
			}
		}
		buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		buf[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		buf[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*out = buf;
	return (int)(o - pad);
}

static int conn_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && strncasecmp(key, name, klen) == 0;
}

/* Keys of other services, accepted and ignored. */
static int conn_ignored_key(const char *key, size_t klen)
{
	static const char *const ignored[] = {
	    "BlobEndpoint",	      "QueueEndpoint",
	    "TableEndpoint",	      "BlobSecondaryEndpoint",
	    "QueueSecondaryEndpoint", "TableSecondaryEndpoint",
	    "FileSecondaryEndpoint",  "DevelopmentStorageProxyUri",
	};
	size_t i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		if (conn_is(key, klen, ignored[i]))
			return 1;
	}
	return 0;
}

/* Names an unknown key in the message only when it looks like a key name
 * (letters only, short), so a pasted secret is never echoed. */
static void conn_err_unknown(const char *key, size_t klen, char *err, size_t errlen)
{
	size_t i;
	int plain = klen > 0 && klen <= 40;

	for (i = 0; plain && i < klen; i++) {
		if (!isalpha((unsigned char)key[i]))
			plain = 0;
	}
	if (plain && err && errlen)
		snprintf(err, errlen, "unknown connection string key '%.*s'", (int)klen, key);
	else
		conn_err(err, errlen, "unknown connection string key");
}

/* The field a known key fills, or NULL (label gets the canonical name). */
static char **conn_slot(struct conn_fields *f, const char *key, size_t klen, const char **label)
{
	struct {
		const char *name;
		char **slot;
	} keys[] = {
	    {"AccountName", &f->name},
	    {"AccountKey", &f->key},
	    {"SharedAccessSignature", &f->sas},
	    {"FileEndpoint", &f->endpoint},
	    {"DefaultEndpointsProtocol", &f->proto},
	    {"EndpointSuffix", &f->suffix},
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (conn_is(key, klen, keys[i].name)) {
			*label = keys[i].name;
			return keys[i].slot;
		}
	}
	return NULL;
}

static int conn_dev_flag(struct conn_fields *f, const char *v, size_t n, char *err, size_t errlen)
{
	char *val = conn_trimdup(v, n);
	int rc = 0;

	if (!val)
		return -ENOMEM;
	if (strcasecmp(val, "true") == 0) {
		f->dev = 1;
	} else if (strcasecmp(val, "false") != 0) {
		conn_err(err, errlen, "UseDevelopmentStorage must be true or false");
		rc = -EINVAL;
	}
	free(val);
	return rc;
}

/* Stores one "Key=Value" segment into f. */
static int conn_take(struct conn_fields *f, const char *seg, size_t n, char *err, size_t errlen)
{
	const char *eq = memchr(seg, '=', n);
	const char *key = seg;
	const char *label = NULL;
	size_t klen, vlen;
	char **slot;

	if (!eq) {
		conn_err(err, errlen, "connection string segment without '=' (expected Key=Value)");
		return -EINVAL;
	}
	klen = (size_t)(eq - seg);
	vlen = (size_t)(seg + n - eq - 1);
	while (klen && isspace((unsigned char)*key)) {
		key++;
		klen--;
	}
	while (klen && isspace((unsigned char)key[klen - 1]))
		klen--;
	if (conn_is(key, klen, "UseDevelopmentStorage"))
		return conn_dev_flag(f, eq + 1, vlen, err, errlen);
	if (conn_ignored_key(key, klen))
		return 0;
	slot = conn_slot(f, key, klen, &label);
	if (!slot) {
		conn_err_unknown(key, klen, err, errlen);
		return -EINVAL;
	}
	if (*slot) {
		if (err && errlen)
			snprintf(err, errlen, "%s given twice", label);
		return -EINVAL;
	}
	*slot = conn_trimdup(eq + 1, vlen);
	return *slot ? 0 : -ENOMEM;
}

static int conn_split(struct conn_fields *f, const char *text, char *err, size_t errlen)
{
	const char *p = text;
	int rc = 0;

	while (rc == 0 && *p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		size_t i;
		int blank = 1;

		for (i = 0; i < n; i++) {
			if (!isspace((unsigned char)p[i]))
				blank = 0;
		}
		if (!blank)
			rc = conn_take(f, p, n, err, errlen);
		p += n;
		if (*p == ';')
			p++;
	}
	return rc;
}

static int conn_valid_account(const char *a)
{
	size_t i, n = strlen(a);

	if (n < 3 || n > 24)
		return 0;
	for (i = 0; i < n; i++) {
		if (!(islower((unsigned char)a[i]) || isdigit((unsigned char)a[i])))
			return 0;
	}
	return 1;
}

/* Host part of "scheme://host[:port]/..." into host (port stripped, IPv6
 * brackets removed). Returns the offset of the path ('/' or end). */
static size_t conn_host(const char *url, size_t scheme_len, char *host, size_t hostlen)
{
	const char *h = url + scheme_len;
	size_t n = strcspn(h, "/");
	size_t hl;

	if (n && h[0] == '[') {
		const char *rb = memchr(h, ']', n);

		hl = rb ? (size_t)(rb - h - 1) : n - 1;
		h++;
	} else {
		const char *colon = memchr(h, ':', n);

		hl = colon ? (size_t)(colon - h) : n;
	}
	if (hl >= hostlen)
		hl = hostlen - 1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	return scheme_len + n;
}

static int conn_host_is_local(const char *host)
{
	unsigned char buf[16];

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static size_t conn_scheme_len(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return 8;
	if (strncasecmp(url, "http://", 7) == 0)
		return 7;
	return 0;
}

/* Checks FileEndpoint's shape; returns the offset of its path or 0. */
static size_t conn_endpoint_check(char *ep, char *host, size_t hostlen, char *err, size_t errlen)
{
	size_t slen = conn_scheme_len(ep), len, path_at;

	if (!slen) {
		conn_err(err, errlen, "FileEndpoint must start with http:// or https://");
		return 0;
	}
	if (strpbrk(ep, "?# \t\r\n@\\")) {
		conn_err(err, errlen,
			 "FileEndpoint must be a plain URL (no query, fragment, "
			 "user info or spaces)");
		return 0;
	}
	len = strlen(ep);
	while (len > slen && ep[len - 1] == '/')
		ep[--len] = '\0';
	path_at = conn_host(ep, slen, host, hostlen);
	if (!host[0]) {
		conn_err(err, errlen, "FileEndpoint has no host");
		return 0;
	}
	return path_at;
}

/* Takes ownership of ep: validates it, trims trailing '/', decides
 * path_style (appending "/account" to a bare IP or localhost endpoint). */
static int conn_endpoint(struct az_conn *c, char *ep, char *err, size_t errlen)
{
	char host[256];
	size_t path_at = conn_endpoint_check(ep, host, sizeof(host), err, errlen);

	if (!path_at) {
		free(ep);
		return -EINVAL;
	}
	if (ep[path_at] == '/') {
		c->path_style = 1;
	} else if (conn_host_is_local(host)) {
		char *full = NULL;

		if (asprintf(&full, "%s/%s", ep, c->account) < 0) {
			free(ep);
			return -ENOMEM;
		}
		free(ep);
		ep = full;
		c->path_style = 1;
	}
	c->endpoint = ep;
	return 0;
}

static int conn_build_endpoint(struct az_conn *c, struct conn_fields *f, char *err, size_t errlen)
{
	const char *proto = f->proto ? f->proto : "https";
	const char *suffix = f->suffix ? f->suffix : CONN_DEFAULT_SUFFIX;
	char *ep = NULL;

	if (f->endpoint) {
		ep = f->endpoint;
		f->endpoint = NULL;
		return conn_endpoint(c, ep, err, errlen);
	}
	if (f->dev) {
		ep = strdup(AZ_DEV_FILE_ENDPOINT);
		return ep ? conn_endpoint(c, ep, err, errlen) : -ENOMEM;
	}
	if (strcasecmp(proto, "http") != 0 && strcasecmp(proto, "https") != 0) {
		conn_err(err, errlen, "DefaultEndpointsProtocol must be http or https");
		return -EINVAL;
	}
	while (*suffix == '.')
		suffix++;
	if (!*suffix || strpbrk(suffix, "/?#@:\\ \t")) {
		conn_err(err, errlen, "EndpointSuffix must be a domain such as core.windows.net");
		return -EINVAL;
	}
	if (asprintf(&ep, "%s://%s.file.%s", strcasecmp(proto, "http") == 0 ? "http" : "https",
		     c->account, suffix) < 0)
		return -ENOMEM;
	return conn_endpoint(c, ep, err, errlen);
}

/* Drops the leading '?' of a SAS in place and checks it is signed. */
static int conn_sas(char *sas, char *err, size_t errlen)
{
	const char *s = sas;
	int has_sig;

	while (*s == '?')
		s++;
	if (!*s) {
		conn_err(err, errlen, "SharedAccessSignature is empty");
		return -EINVAL;
	}
	has_sig = strncmp(s, "sig=", 4) == 0 || strstr(s, "&sig=") != NULL;
	if (!has_sig) {
		conn_err(err, errlen, "SharedAccessSignature has no sig= parameter");
		return -EINVAL;
	}
	memmove(sas, s, strlen(s) + 1);
	return 0;
}

/* Moves the credentials from f to c, decoding the key. */
static int conn_credentials(struct az_conn *c, struct conn_fields *f, char *err, size_t errlen)
{
	int n, rc;

	if (f->key && !*f->key) {
		conn_err(err, errlen, "AccountKey is empty");
		return -EINVAL;
	}
	if (f->sas) {
		rc = conn_sas(f->sas, err, errlen);
		if (rc)
			return rc;
	}
	if (!f->key && !f->sas) {
		conn_err(err, errlen, "AccountKey or SharedAccessSignature missing");
		return -EINVAL;
	}
	if (f->key) {
		n = conn_b64_decode(f->key, &c->key_raw);
		if (n == -ENOMEM)
			return n;
		if (n <= 0) {
			conn_err(err, errlen, "AccountKey is not base64");
			return -EINVAL;
		}
		c->key_raw_len = n;
		c->key = f->key;
		f->key = NULL;
	}
	c->sas = f->sas;
	f->sas = NULL;
	return 0;
}

static int conn_apply_dev(struct conn_fields *f)
{
	if (!f->dev)
		return 0;
	if (!f->name) {
		f->name = strdup(AZ_DEV_ACCOUNT);
		if (!f->name)
			return -ENOMEM;
	}
	if (!f->key && !f->sas) {
		f->key = strdup(AZ_DEV_KEY);
		if (!f->key)
			return -ENOMEM;
	}
	return 0;
}

int az_conn_parse(struct az_conn *out, const char *text, char *err, size_t errlen)
{
	struct conn_fields f;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	conn_err(err, errlen, "");
	if (!text) {
		conn_err(err, errlen, "connection string missing");
		return -EINVAL;
	}
	rc = conn_split(&f, text, err, errlen);
	if (rc == 0)
		rc = conn_apply_dev(&f);
	if (rc)
		goto out;
	rc = -EINVAL;
	if (!f.name || !*f.name) {
		conn_err(err, errlen, "AccountName missing");
		goto out;
	}
	if (!conn_valid_account(f.name)) {
		conn_err(err, errlen, "AccountName must be 3-24 lowercase letters or digits");
		goto out;
	}
	out->account = f.name;
	f.name = NULL;
	rc = conn_credentials(out, &f, err, errlen);
	if (rc == 0)
		rc = conn_build_endpoint(out, &f, err, errlen);
out:
	conn_fields_release(&f);
	if (rc) {
		if (rc == -ENOMEM)
			conn_err(err, errlen, "out of memory parsing the connection string");
		az_conn_release(out);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	return 0;
}

void az_conn_release(struct az_conn *c)
{
	if (!c)
		return;
	free(c->account);
	conn_free_secret(c->key);
	if (c->key_raw) {
		OPENSSL_cleanse(c->key_raw, (size_t)c->key_raw_len);
		free(c->key_raw);
	}
	conn_free_secret(c->sas);
	free(c->endpoint);
	memset(c, 0, sizeof(*c));
}
