/* auth.h: Shared Key signing (fs/ internal). */
#ifndef AZSF_AUTH_H
#define AZSF_AUTH_H

#include <stddef.h>

struct az_conn;

struct az_hdr {
	const char *name; /* any case */
	const char *value;
};

/* Builds the Authorization header value "SharedKey account:signature" for a
 * request. url_path is the path exactly as sent (percent-encoded, starting
 * with '/'; for path-style endpoints it begins with /account); query is the
 * raw query string without '?' (may be NULL). hdrs are all request headers
 * (standard ones such as Content-Length, Content-Type, Range, and every
 * x-ms-* one). Content-Length "0" signs as empty. Returns 0 or -errno. */
int az_auth_sign(const struct az_conn *cn, const char *method, const char *url_path,
		 const char *query, const struct az_hdr *hdrs, size_t nhdrs, char *out,
		 size_t outlen);

/* The string-to-sign itself (for tests and debugging); malloc()ed. */
char *az_auth_string_to_sign(const struct az_conn *cn, const char *method, const char *url_path,
			     const char *query, const struct az_hdr *hdrs, size_t nhdrs);

/* HMAC-SHA256(key_raw, msg) base64-encoded into out. */
int az_auth_hmac_b64(const unsigned char *key, int keylen, const char *msg, char *out,
		     size_t outlen);

/* RFC 1123 date for x-ms-date ("Sun, 22 Nov 2026 15:21:05 GMT"). */
void az_auth_date(char out[64]);

#endif
