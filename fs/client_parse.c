/* client_parse.c: reply headers -> struct az_stat (attribute and time
 * values through client_fmt.c, as listings) and the tiny JSON of the permission
 * API (no I/O, no curl).
 *
 * The JSON reader handles exactly what Create/Get Permission exchange: one
 * object whose values are strings (with every JSON escape, \uXXXX surrogate
 * pairs included) and, to be safe, nested values it skips. Depth is capped;
 * malformed input is -EPROTO, never a crash. Reentrant; unit-tested in
 * tests/unit/test_http.c.
 */
#include "http.h"

#include <errno.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_int.h"
#include "client_fmt.h"

static int parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EPROTO;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EPROTO;
	while (*end == ' ')
		end++;
	if (*end)
		return -EPROTO;
	*out = (uint64_t)v;
	return 0;
}

/* "bytes 0-1/10" -> 10; "bytes *\/10" -> 10. */
static int content_range_size(const char *s, uint64_t *size)
{
	const char *slash = strrchr(s, '/');

	if (strncasecmp(s, "bytes ", 6) != 0 || !slash || slash[1] == '*')
		return -EPROTO;
	return parse_u64(slash + 1, size);
}

static int hdr_time(const struct az_hdrs *h, const char *name, struct timespec *out)
{
	const char *v = az_hdrs_get(h, name);

	if (!v)
		return 0;
	return az_time_parse_iso(v, out) < 0 ? -EPROTO : 0;
}

static int stat_size(const struct az_hdrs *h, int size_from_cl, struct az_stat *st)
{
	const char *cr = az_hdrs_get(h, "Content-Range");
	const char *cl = az_hdrs_get(h, "Content-Length");

	if (cr)
		return content_range_size(cr, &st->size);
	if (size_from_cl && cl)
		return parse_u64(cl, &st->size);
	return 0;
}

int az_stat_from_hdrs(const struct az_hdrs *h, int is_dir, int size_from_cl, struct az_stat *st)
{
	const char *v;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = hdr_time(h, "x-ms-file-last-write-time", &st->mtime);
	if (rc == 0)
		rc = hdr_time(h, "x-ms-file-change-time", &st->ctime);
	if (rc == 0)
		rc = hdr_time(h, "x-ms-file-creation-time", &st->btime);
	if (rc < 0)
		return rc;
	st->atime = st->mtime;
	v = az_hdrs_get(h, "ETag");
	if (v && snprintf(st->etag, sizeof(st->etag), "%s", v) >= (int)sizeof(st->etag))
		return -EPROTO;
	v = az_hdrs_get(h, "x-ms-file-permission-key");
	if (v && snprintf(st->perm_key, sizeof(st->perm_key), "%s", v) >= (int)sizeof(st->perm_key))
		return -EPROTO;
	v = az_hdrs_get(h, "x-ms-file-attributes");
	if (v)
		st->attrs = az_attrs_parse(v);
	v = az_hdrs_get(h, "x-ms-file-id");
	if (v && parse_u64(v, &st->file_id) < 0)
		return -EPROTO;
	if (is_dir < 0) {
		v = az_hdrs_get(h, "x-ms-type");
		is_dir = (st->attrs & AZ_FATTR_DIRECTORY) || (v && strcasecmp(v, "Directory") == 0);
	}
	st->is_dir = is_dir ? 1 : 0;
	if (st->is_dir)
		return 0;
	return stat_size(h, size_from_cl, st);
}

int az_stat_update_from_hdrs(const struct az_hdrs *h, struct az_stat *st)
{
	struct az_stat got;
	int rc = az_stat_from_hdrs(h, st->is_dir, 0, &got);

	if (rc < 0)
		return rc;
	if (az_hdrs_get(h, "x-ms-file-last-write-time"))
		st->mtime = got.mtime;
	if (az_hdrs_get(h, "x-ms-file-change-time"))
		st->ctime = got.ctime;
	if (az_hdrs_get(h, "x-ms-file-creation-time"))
		st->btime = got.btime;
	if (az_hdrs_get(h, "ETag"))
		memcpy(st->etag, got.etag, sizeof(st->etag));
	if (az_hdrs_get(h, "x-ms-file-permission-key"))
		memcpy(st->perm_key, got.perm_key, sizeof(st->perm_key));
	if (az_hdrs_get(h, "x-ms-file-attributes"))
		st->attrs = got.attrs;
	if (az_hdrs_get(h, "x-ms-file-id"))
		st->file_id = got.file_id;
	return 0;
}

/* ---- JSON ---- */

static void json_add_escaped(struct az_sb *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		switch (*p) {
		case '"':
			az_sb_add(b, "\\\"");
			break;
		case '\\':
			az_sb_add(b, "\\\\");
			break;
		case '\n':
			az_sb_add(b, "\\n");
			break;
		case '\r':
			az_sb_add(b, "\\r");
			break;
		case '\t':
			az_sb_add(b, "\\t");
			break;
		default:
			if (*p < 0x20)
				az_sb_addf(b, "\\u%04x", *p);
			else
				az_sb_addn(b, (const char *)p, 1);
		}
	}
}

char *az_perm_json_build(const char *sddl)
{
	struct az_sb b;

	az_sb_init(&b);
	az_sb_add(&b, "{\"permission\": \"");
	json_add_escaped(&b, sddl);
	az_sb_add(&b, "\", \"format\": \"sddl\"}");
	return az_sb_take(&b);
}

struct json_rd {
	const char *p;
	const char *end;
};

static void json_ws(struct json_rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (end - p < 4)
		return -EPROTO;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EPROTO;
	}
	*out = v;
	return 0;
}

static void utf8_put(struct az_sb *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	az_sb_addn(b, u, n);
}

/* \uXXXX (and its low surrogate when it is a high one); r->p is after 'u'. */
static int json_unicode(struct json_rd *r, struct az_sb *b)
{
	unsigned cp, lo;

	if (hex4(r->p, r->end, &cp) < 0)
		return -EPROTO;
	r->p += 4;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return -EPROTO;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, r->end, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
			return -EPROTO;
		r->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp == 0)
		return -EPROTO; /* cannot live in a C string */
	utf8_put(b, cp);
	return 0;
}

static int json_escape(struct json_rd *r, struct az_sb *b)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	char c;

	if (r->p >= r->end)
		return -EPROTO;
	c = *r->p++;
	if (c == 'u')
		return json_unicode(r, b);
	hit = strchr(from, c);
	if (!hit || c == '\0')
		return -EPROTO;
	az_sb_addn(b, &to[hit - from], 1);
	return 0;
}

/* Reads a string at r->p (which is at '"') into b (b may be NULL: skip). */
static int json_string(struct json_rd *r, struct az_sb *b)
{
	struct az_sb tmp;
	int rc = 0;

	az_sb_init(&tmp);
	if (r->p >= r->end || *r->p != '"')
		return -EPROTO;
	r->p++;
	for (;;) {
		unsigned char c;

		if (r->p >= r->end) {
			rc = -EPROTO;
			break;
		}
		c = (unsigned char)*r->p++;
		if (c == '"')
			break;
		if (c < 0x20) {
			rc = -EPROTO;
			break;
		}
		if (c == '\\') {
			rc = json_escape(r, &tmp);
			if (rc < 0)
				break;
			continue;
		}
		az_sb_addn(&tmp, (const char *)&c, 1);
	}
	if (rc == 0 && tmp.oom)
		rc = -ENOMEM;
	if (rc == 0 && b)
		az_sb_addn(b, tmp.s ? tmp.s : "", tmp.len);
	az_sb_release(&tmp);
	return rc;
}

static int json_skip_value(struct json_rd *r, int depth);

static int json_skip_container(struct json_rd *r, int depth)
{
	char close = *r->p == '{' ? '}' : ']';
	int obj = close == '}';
	int first = 1;

	r->p++;
	for (;;) {
		json_ws(r);
		if (r->p < r->end && *r->p == close && first) {
			r->p++;
			return 0;
		}
		if (obj) {
			if (json_string(r, NULL) < 0)
				return -EPROTO;
			json_ws(r);
			if (r->p >= r->end || *r->p != ':')
				return -EPROTO;
			r->p++;
		}
		if (json_skip_value(r, depth + 1) < 0)
			return -EPROTO;
		json_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			first = 0;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		return -EPROTO;
	}
}

static int json_skip_value(struct json_rd *r, int depth)
{
	const char *start;

	if (depth > 32)
		return -EPROTO;
	json_ws(r);
	if (r->p >= r->end)
		return -EPROTO;
	if (*r->p == '"')
		return json_string(r, NULL);
	if (*r->p == '{' || *r->p == '[')
		return json_skip_container(r, depth);
	start = r->p;
	while (r->p < r->end && strchr("+-.0123456789eEtruefalsn", *r->p) && *r->p)
		r->p++;
	return r->p == start ? -EPROTO : 0;
}

int az_json_get_string(const char *json, size_t len, const char *key, char **out)
{
	struct json_rd r = {json, json + len};
	struct az_sb name, val;
	int rc = -ENOENT;
	int found = 0;

	az_sb_init(&name);
	az_sb_init(&val);
	*out = NULL;
	json_ws(&r);
	if (r.p >= r.end || *r.p != '{')
		return -EPROTO;
	r.p++;
	json_ws(&r);
	if (r.p < r.end && *r.p == '}')
		goto out;
	for (;;) {
		az_sb_release(&name);
		json_ws(&r);
		if (json_string(&r, &name) < 0)
			goto bad;
		json_ws(&r);
		if (r.p >= r.end || *r.p != ':')
			goto bad;
		r.p++;
		json_ws(&r);
		if (!found && name.s && strcmp(name.s, key) == 0 && r.p < r.end && *r.p == '"') {
			if (json_string(&r, &val) < 0)
				goto bad;
			found = 1;
		} else if (json_skip_value(&r, 1) < 0) {
			goto bad;
		}
		json_ws(&r);
		if (r.p < r.end && *r.p == ',') {
			r.p++;
			continue;
		}
		if (r.p < r.end && *r.p == '}')
			break;
		goto bad;
	}
	if (!found)
		goto out;
	if (val.oom) {
		rc = -ENOMEM;
		goto out;
	}
	*out = az_sb_take(&val);
	rc = *out ? 0 : -ENOMEM;
	goto out;
bad:
	rc = -EPROTO;
out:
	az_sb_release(&name);
	az_sb_release(&val);
	return rc;
}

void az_lease_id_new(char out[AZ_LEASE_ID_MAX])
{
	unsigned char b[16];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		for (i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(rand() & 0xFF);
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	snprintf(out, AZ_LEASE_ID_MAX,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}
