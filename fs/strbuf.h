/* strbuf.h: the growable string of the REST client (fs/ internal),
 * implemented in http_util.c; auth.c builds its string-to-sign with it. */
#ifndef AZSF_STRBUF_H
#define AZSF_STRBUF_H

#include <stddef.h>

struct az_sb {
	char *s; /* NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
	int oom; /* sticky: an append failed */
};
void az_sb_init(struct az_sb *b);
void az_sb_release(struct az_sb *b);
void az_sb_add(struct az_sb *b, const char *s);
void az_sb_addn(struct az_sb *b, const char *s, size_t n);
void az_sb_addf(struct az_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Percent-encodes s (RFC 3986 unreserved kept; '/' kept when keep_slash). */
void az_sb_add_enc(struct az_sb *b, const char *s, int keep_slash);
/* Returns the string (ownership passes to the caller) or NULL on oom. */
char *az_sb_take(struct az_sb *b);

#endif
