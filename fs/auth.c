/* auth.c: Shared Key request signing ("Authorize with Shared Key", the
 * Blob/Queue/File form for version 2009-09-19 and later).
 *
 * Owns: the string-to-sign, HMAC-SHA256 over it with the decoded account
 * key, and the x-ms-date text. Stateless and thread-safe (no globals; OpenSSL's
 * one-shot HMAC() is reentrant).
 *
 * String-to-sign, one field per line:
 *   VERB, Content-Encoding, Content-Language, Content-Length ("" when 0 or
 *   absent), Content-MD5, Content-Type, Date, If-Modified-Since, If-Match,
 *   If-None-Match, If-Unmodified-Since, Range,
 *   then the canonicalized headers "name:value\n" (every x-ms-* header, names
 *   lowercased, sorted bytewise, values trimmed with folded lines unfolded to
 *   one space, a repeated header's values joined with ','),
 *   then the canonicalized resource "/" account url_path, followed for each
 *   query parameter (names lowercased and sorted, names and values
 *   URL-decoded, several values of one name sorted and joined with ',') by
 *   "\nname:value".
 * url_path is used as sent on the wire, i.e. still percent-encoded: the
 * documentation says to append "the resource's encoded URI path", and the
 * SDKs (Python: urlparse(url).path, .NET: Uri.AbsolutePath) do the same. For
 * a path-style endpoint the path starts with /account, so the resource names
 * the account twice ("/devstoreaccount1/devstoreaccount1/share/f").
 * In query values '+' decodes to a space (form encoding, as the service and
 * the SDKs parse it), so callers must send a literal '+' as %2B.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "client_fmt.h"
#include "conn.h"
#include "strbuf.h"

/* One header or query parameter after canonicalization. */
struct auth_kv {
	char *name;
	char *value;
};

static void kv_free(struct auth_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

static int kv_cmp(const void *a, const void *b)
{
	const struct auth_kv *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static char *auth_lower(const char *s, size_t n)
{
	char *out = strndup(s, n);
	size_t i;

	for (i = 0; out && out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

/* Header value trimmed, with CR/LF (line folding) and the whitespace that
 * follows it collapsed into one space. */
static char *auth_header_value(const char *v)
{
	size_t n = v ? strlen(v) : 0, i, o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n') {
			while (i + 1 < n && isspace((unsigned char)v[i + 1]))
				i++;
			out[o++] = ' ';
		} else {
			out[o++] = v[i];
		}
	}
	out[o] = '\0';
	while (o && isspace((unsigned char)out[o - 1]))
		out[--o] = '\0';
	for (i = 0; isspace((unsigned char)out[i]); i++)
		;
	memmove(out, out + i, o - i + 1);
	return out;
}

static const char *auth_find(const struct az_hdr *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (h[i].name && strcasecmp(h[i].name, name) == 0)
			return h[i].value ? h[i].value : "";
	}
	return NULL;
}

/* The 12 standard lines (VERB .. Range), each followed by '\n'. */
static void auth_std_lines(struct az_sb *b, const char *method, const struct az_hdr *h, size_t n)
{
	static const char *const std[] = {
	    "Content-Encoding",
	    "Content-Language",
	    "Content-Length",
	    "Content-MD5",
	    "Content-Type",
	    "Date",
	    "If-Modified-Since",
	    "If-Match",
	    "If-None-Match",
	    "If-Unmodified-Since",
	    "Range",
	};
	size_t i;

	az_sb_add(b, method);
	az_sb_add(b, "\n");
	for (i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		const char *v = auth_find(h, n, std[i]);
		char *t = v ? auth_header_value(v) : NULL;

		if (v && !t)
			b->oom = 1;
		if (t && !(i == 2 && strcmp(t, "0") == 0))
			az_sb_add(b, t);
		az_sb_add(b, "\n");
		free(t);
	}
}

/* Sorted x-ms-* headers; repeated names are joined with ','. */
static int auth_canon_headers(struct az_sb *b, const struct az_hdr *h, size_t n)
{
	struct auth_kv *kv = calloc(n ? n : 1, sizeof(*kv));
	size_t i, k = 0;
	int rc = -ENOMEM;

	if (!kv)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!h[i].name || strncasecmp(h[i].name, "x-ms-", 5) != 0)
			continue;
		kv[k].name = auth_lower(h[i].name, strlen(h[i].name));
		kv[k].value = auth_header_value(h[i].value);
		k++;
		if (!kv[k - 1].name || !kv[k - 1].value)
			goto out;
	}
	/* stable order for equal names: keep the given order of their values */
	for (i = 0; i < k; i++) {
		size_t j;

		for (j = i; j > 0 && strcmp(kv[j - 1].name, kv[j].name) > 0; j--) {
			struct auth_kv t = kv[j];

			kv[j] = kv[j - 1];
			kv[j - 1] = t;
		}
	}
	for (i = 0; i < k; i++) {
		int same = i > 0 && strcmp(kv[i - 1].name, kv[i].name) == 0;

		if (same) {
			b->len--; /* drop the '\n' of the previous value */
			az_sb_add(b, ",");
		} else {
			az_sb_add(b, kv[i].name);
			az_sb_add(b, ":");
		}
		az_sb_add(b, kv[i].value);
		az_sb_add(b, "\n");
	}
	rc = 0;
out:
	kv_free(kv, k);
	return rc;
}

static int auth_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* URL-decodes [s, s+n): %XX and '+' (space); a '%' not followed by two
 * hex digits stays literal. */
static char *auth_url_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		int hi = -1, lo = -1;

		if (s[i] == '%' && n - i >= 3) {
			hi = auth_hexval((unsigned char)s[i + 1]);
			lo = auth_hexval((unsigned char)s[i + 2]);
		}
		if (hi >= 0 && lo >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* Splits the raw query into decoded, lowercased-name pairs. */
static int auth_query_split(const char *q, struct auth_kv **out, size_t *nout)
{
	size_t cap = 1, k = 0;
	const char *p;
	struct auth_kv *kv;

	for (p = q; *p; p++)
		cap += *p == '&';
	kv = calloc(cap, sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	for (p = q; *p;) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		size_t nl = eq ? (size_t)(eq - p) : n;

		if (n) {
			char *name = auth_url_decode(p, nl);

			kv[k].name = name ? auth_lower(name, strlen(name)) : NULL;
			free(name);
			kv[k].value = eq ? auth_url_decode(eq + 1, n - nl - 1) : strdup("");
			k++;
			if (!kv[k - 1].name || !kv[k - 1].value) {
				kv_free(kv, k);
				return -ENOMEM;
			}
		}
		p += n;
		if (*p == '&')
			p++;
	}
	*out = kv;
	*nout = k;
	return 0;
}

/* "\nname:v1,v2" per distinct name, names and values sorted. */
static int auth_canon_query(struct az_sb *b, const char *query)
{
	struct auth_kv *kv = NULL;
	size_t n = 0, i;
	int rc;

	if (!query || !*query)
		return 0;
	rc = auth_query_split(query, &kv, &n);
	if (rc)
		return rc;
	qsort(kv, n, sizeof(*kv), kv_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(kv[i - 1].name, kv[i].name) == 0) {
			az_sb_add(b, ",");
		} else {
			az_sb_add(b, "\n");
			az_sb_add(b, kv[i].name);
			az_sb_add(b, ":");
		}
		az_sb_add(b, kv[i].value);
	}
	kv_free(kv, n);
	return 0;
}

char *az_auth_string_to_sign(const struct az_conn *cn, const char *method, const char *url_path,
			     const char *query, const struct az_hdr *hdrs, size_t nhdrs)
{
	struct az_sb b;

	if (!cn || !cn->account || !method || (nhdrs && !hdrs))
		return NULL;
	az_sb_init(&b);
	auth_std_lines(&b, method, hdrs, nhdrs);
	if (auth_canon_headers(&b, hdrs, nhdrs) != 0)
		b.oom = 1;
	az_sb_add(&b, "/");
	az_sb_add(&b, cn->account);
	az_sb_add(&b, url_path && *url_path ? url_path : "/");
	if (auth_canon_query(&b, query) != 0)
		b.oom = 1;
	return az_sb_take(&b);
}

int az_auth_hmac_b64(const unsigned char *key, int keylen, const char *msg, char *out,
		     size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!key || keylen <= 0 || !msg || !out)
		return -EINVAL;
	if (outlen < 4 * ((32 + 2) / 3) + 1)
		return -ERANGE;
	if (!HMAC(EVP_sha256(), key, keylen, (const unsigned char *)msg, strlen(msg), md, &mdlen))
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	return 0;
}

int az_auth_sign(const struct az_conn *cn, const char *method, const char *url_path,
		 const char *query, const struct az_hdr *hdrs, size_t nhdrs, char *out,
		 size_t outlen)
{
	char sig[64];
	char *sts = NULL;
	int rc, n;

	if (!cn || !cn->key_raw || cn->key_raw_len <= 0 || !out)
		return -EINVAL;
	sts = az_auth_string_to_sign(cn, method, url_path, query, hdrs, nhdrs);
	if (!sts)
		return method ? -ENOMEM : -EINVAL;
	rc = az_auth_hmac_b64(cn->key_raw, cn->key_raw_len, sts, sig, sizeof(sig));
	if (rc)
		goto out;
	n = snprintf(out, outlen, "SharedKey %s:%s", cn->account, sig);
	if (n < 0 || (size_t)n >= outlen)
		rc = -ERANGE;
out:
	free(sts);
	return rc;
}

void az_auth_date(char out[64])
{
	az_time_format_rfc1123(time(NULL), out);
}
