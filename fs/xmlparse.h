/* xmlparse.h: parsing of the service's XML replies (fs/ internal).
 * libxml2 with XML_PARSE_NONET, never XML_PARSE_NOENT; a leading UTF-8 BOM is
 * accepted; unknown elements are ignored; malformed input returns -EPROTO. */
#ifndef AZSF_XMLPARSE_H
#define AZSF_XMLPARSE_H

#include <stddef.h>

#include "azsharefs/client.h"
#include "client_fmt.h" /* times and attributes, shared with headers */

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

#endif
