/* http.h: one signed, retried HTTP exchange with the file service (fs/ internal).
 *
 * http.c owns the curl handle pool, signing, retries and error mapping;
 * http_util.c holds the pure helpers (URL encoding, backoff, the string
 * builder of strbuf.h, header lookup) that the unit tests reach without a network;
 * client_parse.c turns reply headers into struct az_stat and does the
 * small JSON of the permission API (attribute and time values are parsed
 * by client_fmt.c, which listings share).
 */
#ifndef AZSF_HTTP_H
#define AZSF_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "azsharefs/client.h"
#include "strbuf.h"

struct az_conn;
struct az_http;

/* Percent-encodes in into out; returns the length, or -ENAMETOOLONG when
 * out is too small (out is then undefined). */
int az_url_encode(const char *in, int keep_slash, char *out, size_t outlen);

/* Full-jitter exponential backoff: a delay in [0, min(cap, base * 2^attempt)]
 * drawn from rnd. attempt counts from 0. */
long az_backoff_ms(int attempt, long base_ms, long cap_ms, uint64_t rnd);

/* Retry-After value ("120" seconds or an RFC 1123 date, now = epoch seconds)
 * in milliseconds; -1 when absent or unparsable. */
long az_retry_after_ms(const char *value, long long now);

/* ---- reply headers ---- */
struct az_hdrs {
	char **kv;  /* name0, value0, name1, value1, ... (values trimmed) */
	size_t n;   /* pairs */
	size_t cap; /* pairs allocated */
};
void az_hdrs_release(struct az_hdrs *h);
void az_hdrs_clear(struct az_hdrs *h);
/* Adds one raw header line "Name: value\r\n"; other lines are ignored.
 * Returns 0 or -ENOMEM. */
int az_hdrs_add_line(struct az_hdrs *h, const char *line, size_t len);
/* Case-insensitive lookup; NULL when absent. */
const char *az_hdrs_get(const struct az_hdrs *h, const char *name);

/* ---- reply parsing (client_parse.c) ---- */
/* Fills st (zeroed first) from x-ms-file-* / ETag headers; the size from
 * Content-Range ("bytes a-b/SIZE") when present, else from Content-Length
 * when size_from_cl (HEAD and whole GET replies; a PUT reply's
 * Content-Length is its own empty body). is_dir: 1 directory, 0 file, -1
 * decide from the attributes / x-ms-type. Returns 0 or -EPROTO when a
 * present header is malformed. */
int az_stat_from_hdrs(const struct az_hdrs *h, int is_dir, int size_from_cl, struct az_stat *st);
/* Updates st in place from a reply that describes only part of the entry
 * (Put Range: ETag and last-write time): each of ETag, the x-ms-file-*
 * times, permission key, attributes and file id replaces st's value when
 * its header is present; everything else (size, is_dir, atime) is kept.
 * 0, or -EPROTO when a present header is malformed (st then unchanged). */
int az_stat_update_from_hdrs(const struct az_hdrs *h, struct az_stat *st);
/* JSON {"permission": "...", "format": "sddl"} building and parsing. */
char *az_perm_json_build(const char *sddl);
/* Extracts the string value of key from a JSON object; *out malloc()ed.
 * Returns 0, -ENOENT when the key is absent, -EPROTO on malformed JSON. */
int az_json_get_string(const char *json, size_t len, const char *key, char **out);

/* ---- one request ---- */
enum az_body_dst {
	AZ_DST_MEM = 0, /* growable buffer (resp->body) */
	AZ_DST_BUF,	/* caller buffer req->out_buf of req->out_cap bytes */
	AZ_DST_FD,	/* pwrite() to req->out_fd from offset 0 */
};

#define AZ_REQ_MAX_HDRS 24

struct az_req {
	const char *method; /* GET HEAD PUT DELETE */
	const char *op;	    /* for messages: "create file" */
	const char *path;   /* share-relative, for messages and the URL; "" root */
	int share_level;    /* URL is the share itself (path ignored) */
	const char *query;  /* encoded query without '?', or NULL */
	struct az_hdr hdrs[AZ_REQ_MAX_HDRS];
	size_t nhdrs;
	const void *body; /* request body, resent on every attempt */
	size_t body_len;
	enum az_body_dst dst;
	void *out_buf;
	size_t out_cap;
	int out_fd;
	long accept_status; /* a non-2xx status treated as success (e.g. 416) */
	/* Lost-reply rule: when an earlier attempt may have reached the service
	 * (its reply was lost) and this attempt fails with exactly this status
	 * and code, the call counts as done and resp->lost_ok is set. */
	long lost_ok_status;
	const char *lost_ok_code;
	int quiet; /* log failures at debug level only */
};

struct az_resp {
	long status;
	char code[96]; /* x-ms-error-code, or the XML <Code> */
	struct az_hdrs hdrs;
	char *body; /* AZ_DST_MEM replies and error bodies */
	size_t body_len;
	uint64_t written; /* bytes delivered to out_buf / out_fd */
	int ambiguous;	  /* an earlier attempt may have reached the service */
	int lost_ok;	  /* the lost-reply rule matched */
	int attempts;
};

void az_req_init(struct az_req *r, const char *method, const char *op, const char *path);
/* Adds a request header (strings must outlive the call). -E2BIG when full. */
int az_req_hdr(struct az_req *r, const char *name, const char *value);
void az_resp_release(struct az_resp *r);

struct az_http_opts {
	const struct az_conn *conn; /* kept by pointer */
	const char *share;
	const char *ca_file;
	long connect_timeout_ms;
	long op_timeout_ms;
	long retry_budget_ms;
	int max_conns;
	int quiet; /* every request as if req->quiet */
};

int az_http_init(struct az_http **out, const struct az_http_opts *o);
void az_http_free(struct az_http *h);
/* Runs req with retries; 0 on a 2xx (or accept_status / lost-reply rule),
 * else a negative errno (logged once, redacted). resp is always filled as
 * far as it got; release it in every case. */
int az_http_do(struct az_http *h, struct az_req *req, struct az_resp *resp);
void az_http_stats(struct az_http *h, uint64_t *requests, uint64_t *retries);
/* The full URL of a share path (encoded, without SAS); malloc()ed. Used as
 * the rename source. with_sas appends the SAS query when there is one. */
char *az_http_url(struct az_http *h, const char *path, int with_sas);

#endif
