/* xmlparse.c: the service's XML replies (listings, errors, range lists,
 * share stats) and the value formats listings share with reply headers (times, file
 * attributes).
 *
 * Owns: libxml2 use for the client. Documents are parsed with
 * XML_PARSE_NONET | XML_PARSE_NOBLANKS (never XML_PARSE_NOENT, no DTD
 * loading); a document that carries a DTD at all is refused, since the
 * service never sends one and it is the door to entity tricks. A leading
 * UTF-8 BOM (which the service sends) is skipped. xmlInitParser() runs once
 * (pthread_once) so concurrent callers are safe; all state is per call.
 *
 * Invariants: a reply that is not well-formed, has the wrong root element,
 * lacks a required element (Entries; Name of an entry; Content-Length of a
 * file; Code of an error; Start/End of a range) or has a malformed value
 * (time, number, percent-encoding, an entry name that is empty, ".", ".." or
 * holds '/' or NUL) gives -EPROTO, and then no entry of that page has been
 * passed to the callback: a page is parsed completely before the first
 * callback. Unknown elements are ignored.
 *
 * Times: mtime = LastWriteTime (else Last-Modified), ctime = ChangeTime
 * (else mtime), atime = LastAccessTime (else mtime), btime = CreationTime
 * (else mtime). A listing without include=Timestamps leaves them all 0.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "xmlparse.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

/* Parses body into *doc and checks the root element's name (any root when
 * root_name is NULL). */
static int xml_open(const char *body, size_t len, const char *root_name, xmlDocPtr *doc,
		    xmlNodePtr *root)
{
	const int opts =
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

	*doc = NULL;
	*root = NULL;
	pthread_once(&xml_once, xml_init);
	if (!body)
		return -EPROTO;
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
		body += 3;
		len -= 3;
	}
	if (len == 0 || len > INT_MAX)
		return -EPROTO;
	*doc = xmlReadMemory(body, (int)len, NULL, NULL, opts);
	if (!*doc)
		return -EPROTO;
	*root = xmlDocGetRootElement(*doc);
	if ((*doc)->intSubset || (*doc)->extSubset || !*root ||
	    (root_name && xmlStrcmp((*root)->name, (const xmlChar *)root_name) != 0)) {
		xmlFreeDoc(*doc);
		*doc = NULL;
		*root = NULL;
		return -EPROTO;
	}
	return 0;
}

static int xml_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

static xmlNodePtr xml_child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr c;

	for (c = parent ? parent->children : NULL; c; c = c->next) {
		if (xml_is(c, name))
			return c;
	}
	return NULL;
}

/* The text of n, malloc()ed ("" for an empty element); NULL on oom. */
static char *xml_text(xmlNodePtr n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *out = strdup(t ? (const char *)t : "");

	xmlFree(t);
	return out;
}

/* Copies the text of n into buf; -EPROTO when it does not fit. */
static int xml_text_buf(xmlNodePtr n, char *buf, size_t buflen)
{
	char *t = xml_text(n);
	int rc = 0;

	if (!t)
		return -ENOMEM;
	if (strlen(t) >= buflen)
		rc = -EPROTO;
	else
		memcpy(buf, t, strlen(t) + 1);
	free(t);
	return rc;
}

static int xml_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EPROTO;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (!isdigit((unsigned char)*s) || v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -EPROTO;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int xml_u64(xmlNodePtr n, uint64_t *out)
{
	char buf[32];
	int rc = xml_text_buf(n, buf, sizeof(buf));

	return rc ? (rc == -ENOMEM ? rc : -EPROTO) : xml_parse_u64(buf, out);
}

/* ---- listing ---- */

struct xml_entry {
	char *name;
	struct az_stat st;
};

/* Which optional time fields a Properties element carried. */
struct xml_times {
	int has_mtime, has_ctime, has_atime, has_btime, has_lastmod;
	struct timespec lastmod;
};

static int xml_time_of(xmlNodePtr n, int rfc1123, struct timespec *out)
{
	char buf[64];
	int rc = xml_text_buf(n, buf, sizeof(buf));

	if (rc)
		return rc == -ENOMEM ? rc : -EPROTO;
	rc = rfc1123 ? az_time_parse_rfc1123(buf, out) : az_time_parse_iso(buf, out);
	return rc ? -EPROTO : 0;
}

/* One child of <Properties>. */
static int xml_property(xmlNodePtr c, struct az_stat *st, struct xml_times *t)
{
	if (xml_is(c, "Content-Length"))
		return xml_u64(c, &st->size);
	if (xml_is(c, "CreationTime")) {
		t->has_btime = 1;
		return xml_time_of(c, 0, &st->btime);
	}
	if (xml_is(c, "LastAccessTime")) {
		t->has_atime = 1;
		return xml_time_of(c, 0, &st->atime);
	}
	if (xml_is(c, "LastWriteTime")) {
		t->has_mtime = 1;
		return xml_time_of(c, 0, &st->mtime);
	}
	if (xml_is(c, "ChangeTime")) {
		t->has_ctime = 1;
		return xml_time_of(c, 0, &st->ctime);
	}
	if (xml_is(c, "Last-Modified")) {
		t->has_lastmod = 1;
		return xml_time_of(c, 1, &t->lastmod);
	}
	if (xml_is(c, "Etag"))
		return xml_text_buf(c, st->etag, sizeof(st->etag));
	return 0; /* unknown property */
}

static int xml_properties(xmlNodePtr props, int is_dir, struct az_stat *st)
{
	struct xml_times t;
	xmlNodePtr c;
	int rc;

	memset(&t, 0, sizeof(t));
	if (!is_dir && !xml_child(props, "Content-Length"))
		return -EPROTO;
	for (c = props ? props->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		rc = xml_property(c, st, &t);
		if (rc)
			return rc;
	}
	if (is_dir)
		st->size = 0;
	if (!t.has_mtime && t.has_lastmod)
		st->mtime = t.lastmod;
	if (!t.has_ctime)
		st->ctime = st->mtime;
	if (!t.has_atime)
		st->atime = st->mtime;
	if (!t.has_btime)
		st->btime = st->mtime;
	return 0;
}

static int xml_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Strict in-place percent-decoding; *len gets the decoded length. */
static int xml_pct_decode(char *s, size_t *len)
{
	size_t i, o = 0, n = strlen(s);

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = n - i >= 3 ? xml_hex((unsigned char)s[i + 1]) : -1;
			int lo = hi >= 0 ? xml_hex((unsigned char)s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -EPROTO;
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	*len = o;
	return 0;
}

static int xml_attr_true(xmlNodePtr n, const char *attr)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	int yes = v && strcasecmp((const char *)v, "true") == 0;

	xmlFree(v);
	return yes;
}

/* The entry's <Name>, decoded when Encoded="true", and checked. */
static int xml_entry_name(xmlNodePtr entry, char **out)
{
	xmlNodePtr n = xml_child(entry, "Name");
	char *name;
	size_t len;

	*out = NULL;
	if (!n)
		return -EPROTO;
	name = xml_text(n);
	if (!name)
		return -ENOMEM;
	len = strlen(name);
	if (xml_attr_true(n, "Encoded") && xml_pct_decode(name, &len)) {
		free(name);
		return -EPROTO;
	}
	if (len == 0 || len != strlen(name) || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		free(name);
		return -EPROTO;
	}
	*out = name;
	return 0;
}

static int xml_entry(xmlNodePtr n, int is_dir, struct xml_entry *e)
{
	xmlNodePtr c;
	int rc;

	memset(e, 0, sizeof(*e));
	e->st.is_dir = is_dir;
	rc = xml_entry_name(n, &e->name);
	if (rc)
		return rc;
	rc = xml_properties(xml_child(n, "Properties"), is_dir, &e->st);
	c = xml_child(n, "FileId");
	if (rc == 0 && c)
		rc = xml_u64(c, &e->st.file_id);
	c = xml_child(n, "PermissionKey");
	if (rc == 0 && c)
		rc = xml_text_buf(c, e->st.perm_key, sizeof(e->st.perm_key));
	c = xml_child(n, "Attributes");
	if (rc == 0 && c) {
		char *a = xml_text(c);

		if (!a)
			return -ENOMEM;
		e->st.attrs = az_attrs_parse(a);
		free(a);
	}
	if (is_dir)
		e->st.attrs |= AZ_FATTR_DIRECTORY;
	return rc;
}

static void xml_entries_free(struct xml_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* All File/Directory children of <Entries>, in document order. */
static int xml_entries(xmlNodePtr entries, struct xml_entry **out, size_t *nout)
{
	struct xml_entry *v = NULL;
	size_t n = 0, cap = 0;
	xmlNodePtr c;
	int rc = 0;

	for (c = entries->children; c && rc == 0; c = c->next) {
		int is_dir = xml_is(c, "Directory");

		if (!is_dir && !xml_is(c, "File"))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct xml_entry *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		rc = xml_entry(c, is_dir, &v[n]);
		n++;
	}
	if (rc) {
		xml_entries_free(v, n);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int xml_next_marker(xmlNodePtr root, char **next_marker)
{
	xmlNodePtr m = xml_child(root, "NextMarker");
	char *t;

	if (!m)
		return 0;
	t = xml_text(m);
	if (!t)
		return -ENOMEM;
	if (*t)
		*next_marker = t;
	else
		free(t);
	return 0;
}

int az_xml_parse_list(const char *body, size_t len, az_list_cb cb, void *arg, char **next_marker)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root = NULL, entries;
	struct xml_entry *v = NULL;
	char *marker = NULL;
	size_t n = 0, i;
	int rc;

	if (next_marker)
		*next_marker = NULL;
	rc = xml_open(body, len, "EnumerationResults", &doc, &root);
	if (rc)
		goto out;
	entries = xml_child(root, "Entries");
	rc = entries ? xml_entries(entries, &v, &n) : -EPROTO;
	if (rc == 0)
		rc = xml_next_marker(root, &marker);
	for (i = 0; rc == 0 && cb && i < n; i++)
		rc = cb(arg, v[i].name, &v[i].st);
	if (rc == 0 && next_marker) {
		*next_marker = marker;
		marker = NULL;
	}
out:
	free(marker);
	xml_entries_free(v, n);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- errors ---- */

/* Message text on one line, then "; Name: value" for each detail element
 * (AuthenticationErrorDetail, HeaderName, ...). */
static void xml_error_msg(xmlNodePtr root, char *msg, size_t msglen)
{
	xmlNodePtr m = xml_child(root, "Message"), c;
	size_t used;
	char *p, *t;

	msg[0] = '\0';
	t = m ? xml_text(m) : NULL;
	if (t)
		snprintf(msg, msglen, "%s", t);
	free(t);
	for (c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || xml_is(c, "Code") || xml_is(c, "Message"))
			continue;
		t = xml_text(c);
		used = strlen(msg);
		if (t && *t && used + 1 < msglen)
			snprintf(msg + used, msglen - used, "%s%s: %s", used ? "; " : "",
				 (const char *)c->name, t);
		free(t);
	}
	for (p = msg; *p; p++) {
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	}
}

int az_xml_parse_error(const char *body, size_t len, char *code, size_t codelen, char *msg,
		       size_t msglen)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root = NULL, c;
	char *t = NULL;
	int rc;

	if (code && codelen)
		code[0] = '\0';
	if (msg && msglen)
		msg[0] = '\0';
	rc = xml_open(body, len, "Error", &doc, &root);
	if (rc)
		return rc;
	c = xml_child(root, "Code");
	t = c ? xml_text(c) : NULL;
	if (!t || !*t) {
		rc = c && !t ? -ENOMEM : -EPROTO;
		goto out;
	}
	if (code && codelen)
		snprintf(code, codelen, "%s", t);
	if (msg && msglen)
		xml_error_msg(root, msg, msglen);
out:
	free(t);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- range lists ---- */

static int xml_range(xmlNodePtr r, struct az_range *out)
{
	xmlNodePtr s = xml_child(r, "Start"), e = xml_child(r, "End");
	int rc;

	if (!s || !e)
		return -EPROTO;
	rc = xml_u64(s, &out->start);
	if (rc == 0)
		rc = xml_u64(e, &out->end);
	if (rc == 0 && out->end < out->start)
		rc = -EPROTO;
	return rc;
}

int az_xml_parse_ranges(const char *body, size_t len, struct az_range **out, size_t *n)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root = NULL, c;
	struct az_range *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = xml_open(body, len, "Ranges", &doc, &root);
	for (c = root ? root->children : NULL; rc == 0 && c; c = c->next) {
		if (!xml_is(c, "Range"))
			continue; /* ClearRange and unknown elements */
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct az_range *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		rc = xml_range(c, &v[cnt]);
		cnt++;
	}
	xmlFreeDoc(doc);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- single values (Get Share Stats) ---- */

/* The first element called name, depth first. */
static xmlNodePtr xml_find(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next) {
		xmlNodePtr hit;

		if (xml_is(n, name))
			return n;
		hit = xml_find(n->children, name);
		if (hit)
			return hit;
	}
	return NULL;
}

int az_xml_find_u64(const char *body, size_t len, const char *elem, uint64_t *out)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root = NULL, n;
	char *t = NULL;
	size_t tl;
	int rc;

	rc = xml_open(body, len, NULL, &doc, &root);
	if (rc)
		return rc;
	n = xml_find(root, elem);
	t = n ? xml_text(n) : NULL;
	if (!t) {
		rc = n ? -ENOMEM : -EPROTO;
		goto out;
	}
	tl = strlen(t);
	while (tl && t[tl - 1] == ' ')
		t[--tl] = '\0';
	rc = xml_parse_u64(t, out);
out:
	free(t);
	xmlFreeDoc(doc);
	return rc;
}
