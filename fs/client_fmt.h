/* client_fmt.h: value formats shared by reply headers and listings (fs/
 * internal; implemented in client_fmt.c). */
#ifndef AZSF_CLIENT_FMT_H
#define AZSF_CLIENT_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* File attributes as listings (<Attributes>) and headers
 * (x-ms-file-attributes) spell them: "Archive | ReadOnly" <-> AZ_FATTR_*
 * bits ("None" = 0). Parse ignores unknown names and takes NULL as "None".
 * Format gives "None" for 0, else the names joined by " | "; -ENAMETOOLONG
 * when out is too small. */
uint32_t az_attrs_parse(const char *s);
int az_attrs_format(uint32_t attrs, char *out, size_t outlen);

/* Times: "2023-06-07T22:52:45.1234567Z" (ISO 8601, 7 fraction digits, as
 * in listings and x-ms-file-*-time) and RFC 1123 ("Wed, 07 Jun 2023 22:52:45 GMT", as in
 * x-ms-date). Parsers return 0 or -EINVAL. */
int az_time_parse_iso(const char *s, struct timespec *out);
int az_time_parse_rfc1123(const char *s, struct timespec *out);
void az_time_format_iso(const struct timespec *t, char out[40]);
void az_time_format_rfc1123(time_t t, char out[40]);

#endif
