/* xmlparse.h: parsing of the service's XML replies (fs/ internal).
 * libxml2 with XML_PARSE_NONET, never XML_PARSE_NOENT; a leading UTF-8 BOM is
 * accepted; unknown elements are ignored; malformed input returns -EPROTO. */
#ifndef AZSF_XMLPARSE_H
#define AZSF_XMLPARSE_H

#include <stddef.h>
#include <time.h>

#include "azsharefs/client.h"

/* One page of List Directories and Files. Names are decoded when
 * Encoded="true". next_marker is malloc()ed or NULL when empty/absent.
 * cb is called per entry in document order; a non-zero return stops. */
int az_xml_parse_list(const char *body, size_t len, az_list_cb cb, void *arg, char **next_marker);

/* <Error><Code>..</Code><Message>..</Message>...</Error>: copies Code into
 * code (may be shortened). Returns 0 or -EPROTO. */
int az_xml_parse_error(const char *body, size_t len, char *code, size_t codelen, char *msg,
		       size_t msglen);

/* Get Range List reply: <Ranges><Range><Start>..</Start><End>..</End>... */
int az_xml_parse_ranges(const char *body, size_t len, struct az_range **out, size_t *n);

/* The unsigned value of the first element called elem anywhere in the
 * document (ShareUsageBytes of Get Share Stats). -EPROTO when absent or not
 * a number. */
int az_xml_find_u64(const char *body, size_t len, const char *elem, uint64_t *out);

/* File attributes as listings (<Attributes>) and headers
 * (x-ms-file-attributes) spell them: "Archive | ReadOnly" <-> AZ_FATTR_*
 * bits ("None" = 0). Parse ignores unknown names and takes NULL as "None".
 * Format gives "None" for 0, else the names joined by " | "; -ENAMETOOLONG
 * when out is too small. */
uint32_t az_attrs_parse(const char *s);
int az_attrs_format(uint32_t attrs, char *out, size_t outlen);

/* Time helpers shared with header parsing: "2023-06-07T22:52:45.1234567Z"
 * (ISO 8601, 7 fraction digits, as in listings and x-ms-file-*-time) and
 * RFC 1123 ("Wed, 07 Jun 2023 22:52:45 GMT", as in x-ms-date). Parsers
 * return 0 or -EINVAL. */
int az_time_parse_iso(const char *s, struct timespec *out);
int az_time_parse_rfc1123(const char *s, struct timespec *out);
void az_time_format_iso(const struct timespec *t, char out[40]);
void az_time_format_rfc1123(time_t t, char out[40]);

#endif
