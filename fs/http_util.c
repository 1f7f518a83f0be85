/* http_util.c: pure helpers of the HTTP layer (no curl, no I/O).
 *
 * The growable string builder (strbuf.h), RFC 3986 percent-encoding, the backoff
 * formula, Retry-After parsing and the reply-header list. Everything here is
 * reentrant and unit-tested in tests/unit/test_http.c.
 */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_fmt.h"

void az_sb_init(struct az_sb *b)
{
	memset(b, 0, sizeof(*b));
}

void az_sb_release(struct az_sb *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

static int sb_reserve(struct az_sb *b, size_t extra)
{
	size_t want;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	want = b->cap ? b->cap : 64;
	while (want < b->len + extra + 1)
		want *= 2;
	p = realloc(b->s, want);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->s = p;
	b->cap = want;
	return 0;
}

void az_sb_addn(struct az_sb *b, const char *s, size_t n)
{
	if (sb_reserve(b, n) < 0)
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void az_sb_add(struct az_sb *b, const char *s)
{
	az_sb_addn(b, s, strlen(s));
}

void az_sb_addf(struct az_sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_reserve(b, (size_t)n) < 0) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

void az_sb_add_enc(struct az_sb *b, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		char e[3];

		if (unreserved(*p) || (keep_slash && *p == '/')) {
			az_sb_addn(b, (const char *)p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		az_sb_addn(b, e, 3);
	}
}

char *az_sb_take(struct az_sb *b)
{
	char *s;

	if (b->oom) {
		az_sb_release(b);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	s = b->s;
	memset(b, 0, sizeof(*b));
	return s;
}

int az_url_encode(const char *in, int keep_slash, char *out, size_t outlen)
{
	struct az_sb b;
	int rc;

	az_sb_init(&b);
	az_sb_add_enc(&b, in, keep_slash);
	if (b.oom) {
		rc = -ENOMEM;
		goto out;
	}
	if (b.len + 1 > outlen) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	memcpy(out, b.s ? b.s : "", b.len + 1);
	rc = (int)b.len;
out:
	az_sb_release(&b);
	return rc;
}

long az_backoff_ms(int attempt, long base_ms, long cap_ms, uint64_t rnd)
{
	long ceil = base_ms;
	int i;

	if (base_ms <= 0 || cap_ms <= 0)
		return 0;
	for (i = 0; i < attempt && ceil < cap_ms; i++)
		ceil *= 2;
	if (ceil > cap_ms)
		ceil = cap_ms;
	return (long)(rnd % (uint64_t)(ceil + 1));
}

long az_retry_after_ms(const char *value, long long now)
{
	struct timespec ts;
	char *end = NULL;
	long long secs;

	if (!value)
		return -1;
	while (*value == ' ')
		value++;
	if (isdigit((unsigned char)*value)) {
		errno = 0;
		secs = strtoll(value, &end, 10);
		if (errno || (*end && *end != ' ') || secs > 86400)
			return -1;
		return (long)(secs * 1000);
	}
	if (az_time_parse_rfc1123(value, &ts) < 0)
		return -1;
	if ((long long)ts.tv_sec <= now)
		return 0;
	secs = (long long)ts.tv_sec - now;
	return secs > 86400 ? -1 : (long)(secs * 1000);
}

/* ---- reply headers ---- */

void az_hdrs_clear(struct az_hdrs *h)
{
	size_t i;

	for (i = 0; i < 2 * h->n; i++)
		free(h->kv[i]);
	h->n = 0;
}

void az_hdrs_release(struct az_hdrs *h)
{
	az_hdrs_clear(h);
	free(h->kv);
	memset(h, 0, sizeof(*h));
}

static char *dup_trim(const char *s, size_t n)
{
	char *out;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

int az_hdrs_add_line(struct az_hdrs *h, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	char *name = NULL;
	char *value = NULL;
	int rc = 0;

	if (!colon || colon == line)
		return 0; /* status line, blank line or junk */
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 32;
		char **kv = realloc(h->kv, ncap * 2 * sizeof(*kv));

		if (!kv)
			return -ENOMEM;
		h->kv = kv;
		h->cap = ncap;
	}
	name = dup_trim(line, (size_t)(colon - line));
	value = dup_trim(colon + 1, len - (size_t)(colon + 1 - line));
	if (!name || !value) {
		rc = -ENOMEM;
		goto out;
	}
	h->kv[2 * h->n] = name;
	h->kv[2 * h->n + 1] = value;
	h->n++;
	name = NULL;
	value = NULL;
out:
	free(name);
	free(value);
	return rc;
}

const char *az_hdrs_get(const struct az_hdrs *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (strcasecmp(h->kv[2 * i], name) == 0)
			return h->kv[2 * i + 1];
	}
	return NULL;
}
