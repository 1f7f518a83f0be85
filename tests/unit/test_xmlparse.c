/* test_xmlparse.c: fs/xmlparse.c against the recorded service bodies.
 *
 * The bodies are tests/unit/data/<fixture>.xml, extracted byte for byte (BOM
 * included) from tests/fixtures/<fixture>.json by
 * tests/unit/data/extract_bodies.py. The expected per-entry values below
 * were computed independently of the C code, with Python's xml.etree and
 * calendar.timegm over the same bodies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azsharefs/errmap.h"
#include "xmlparse.h"

#define DATA AZSF_SRCDIR "/tests/unit/data/"

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), DATA "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- collecting callback ---- */

struct got {
	size_t n;
	char *names[64];
	struct az_stat st[64];
	int stop_at; /* return stop_rc on this (1-based) call; 0 never */
	int stop_rc;
};

static int collect(void *arg, const char *name, const struct az_stat *st)
{
	struct got *g = arg;

	assert_true(g->n < 64);
	g->names[g->n] = strdup(name);
	g->st[g->n] = *st;
	g->n++;
	if (g->stop_at && (int)g->n == g->stop_at)
		return g->stop_rc;
	return 0;
}

static void got_free(struct got *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->names[i]);
	memset(g, 0, sizeof(*g));
}

static int parse_file(const char *name, struct got *g, char **marker)
{
	size_t len;
	char *body = slurp(name, &len);
	int rc;

	memset(g, 0, sizeof(*g));
	rc = az_xml_parse_list(body, len, collect, g, marker);
	free(body);
	return rc;
}

static int parse_str(const char *xml, struct got *g, char **marker)
{
	memset(g, 0, sizeof(*g));
	return az_xml_parse_list(xml, strlen(xml), collect, g, marker);
}

/* ---- full listings ---- */

struct want {
	const char *name;
	int is_dir;
	uint64_t size;
	uint64_t file_id;
	const char *etag;
	const char *perm_key;
	uint32_t attrs;
	struct timespec mtime, ctime, btime, atime;
};

/* clang-format off */
static const struct want want_extended[] = {
	{"dir0168617835858300351", 1, 0, 11529285414812647424ull, "\"0x8DB67A9E4A3F2A8\"", "14438882940201373875*11581588750433322810", AZ_FATTR_DIRECTORY, {1686178358, 614084000}, {1686178358, 614084000}, {1686178358, 614084000}, {1686178358, 614084000}},
	{"dir1168617835865403280", 1, 0, 16140971433240035328ull, "\"0x8DB67A9E4AEED84\"", "14438882940201373875*11581588750433322810", AZ_FATTR_DIRECTORY, {1686178358, 686042000}, {1686178358, 686042000}, {1686178358, 686042000}, {1686178358, 686042000}},
	{"dir2168617835872004222", 1, 0, 10376363910205800448ull, "\"0x8DB67A9E4B8D724\"", "14438882940201373875*11581588750433322810", AZ_FATTR_DIRECTORY, {1686178358, 751005200}, {1686178358, 751005200}, {1686178358, 751005200}, {1686178358, 751005200}},
	{"file0168617835878607041", 0, 1024, 14988049928633188352ull, "\"0x8DB67A9E4C335E9\"", "584053819618422708*11581588750433322810", AZ_FATTR_ARCHIVE, {1686178358, 818967300}, {1686178358, 818967300}, {1686178358, 818967300}, {1686178358, 818967300}},
	{"file1168617835885406947", 0, 1024, 12682206919419494400ull, "\"0x8DB67A9E4CD4690\"", "584053819618422708*11581588750433322810", AZ_FATTR_ARCHIVE, {1686178358, 884929600}, {1686178358, 884929600}, {1686178358, 884929600}, {1686178358, 884929600}},
	{"file2168617835892008961", 0, 1024, 17293892937846882304ull, "\"0x8DB67A9E4D75736\"", "584053819618422708*11581588750433322810", AZ_FATTR_ARCHIVE, {1686178358, 950891800}, {1686178358, 950891800}, {1686178358, 950891800}, {1686178358, 950891800}},
};
/* clang-format on */

/* clang-format off */
static const struct want want_cpp[] = {
	{"file0", 0, 1024, 14988049928633188352ull, "\"0x8DA81A520CACC6F\"", "8598604137816897901*16137673612980802019", AZ_FATTR_ARCHIVE, {1660887544, 609495900}, {1660887544, 609495900}, {1660887544, 609495900}, {1660887544, 609495900}},
	{"file1", 0, 1024, 14411589176329764864ull, "\"0x8DA81A5218046D1\"", "8598604137816897901*16137673612980802019", AZ_FATTR_ARCHIVE, {1660887545, 798830500}, {1660887545, 798830500}, {1660887545, 798830500}, {1660887545, 798830500}},
	{"file2", 0, 1024, 15564510680936611840ull, "\"0x8DA81A522359A26\"", "8598604137816897901*16137673612980802019", AZ_FATTR_ARCHIVE, {1660887546, 987165400}, {1660887546, 987165400}, {1660887546, 987165400}, {1660887546, 987165400}},
	{"file3", 0, 1024, 14123358800178053120ull, "\"0x8DA81A522EA0343\"", "8598604137816897901*16137673612980802019", AZ_FATTR_ARCHIVE, {1660887548, 169504300}, {1660887548, 169504300}, {1660887548, 169504300}, {1660887548, 169504300}},
	{"file4", 0, 1024, 15276280304784900096ull, "\"0x8DA81A523A040D9\"", "8598604137816897901*16137673612980802019", AZ_FATTR_ARCHIVE, {1660887549, 363836100}, {1660887549, 363836100}, {1660887549, 363836100}, {1660887549, 363836100}},
	{"ListFilesAndDirectoriesSinglePageTest0", 1, 0, 10376363910205800448ull, "\"0x8DA81A5209D5A56\"", "13199961128260716138*16137673612980802019", AZ_FATTR_DIRECTORY, {1660887544, 311663000}, {1660887544, 311663000}, {1660887544, 311663000}, {1660887544, 311663000}},
	{"ListFilesAndDirectoriesSinglePageTest1", 1, 0, 9799903157902376960ull, "\"0x8DA81A52152D4B2\"", "13199961128260716138*16137673612980802019", AZ_FATTR_DIRECTORY, {1660887545, 500997000}, {1660887545, 500997000}, {1660887545, 500997000}, {1660887545, 500997000}},
	{"ListFilesAndDirectoriesSinglePageTest2", 1, 0, 10952824662509223936ull, "\"0x8DA81A522082807\"", "13199961128260716138*16137673612980802019", AZ_FATTR_DIRECTORY, {1660887546, 689331900}, {1660887546, 689331900}, {1660887546, 689331900}, {1660887546, 689331900}},
	{"ListFilesAndDirectoriesSinglePageTest3", 1, 0, 9511672781750665216ull, "\"0x8DA81A522BCB833\"", "13199961128260716138*16137673612980802019", AZ_FATTR_DIRECTORY, {1660887547, 872670700}, {1660887547, 872670700}, {1660887547, 872670700}, {1660887547, 872670700}},
	{"ListFilesAndDirectoriesSinglePageTest4", 1, 0, 10664594286357512192ull, "\"0x8DA81A5237280A3\"", "13199961128260716138*16137673612980802019", AZ_FATTR_DIRECTORY, {1660887549, 64003500}, {1660887549, 64003500}, {1660887549, 64003500}, {1660887549, 64003500}},
};
/* clang-format on */

static void assert_ts(const struct timespec *got, const struct timespec *want)
{
	assert_int_equal(got->tv_sec, want->tv_sec);
	assert_int_equal(got->tv_nsec, want->tv_nsec);
}

static void check_entries(const struct got *g, const struct want *w, size_t n)
{
	size_t i;

	assert_int_equal(g->n, n);
	for (i = 0; i < n; i++) {
		const struct az_stat *st = &g->st[i];

		assert_string_equal(g->names[i], w[i].name);
		assert_int_equal(st->is_dir, w[i].is_dir);
		assert_int_equal(st->size, w[i].size);
		assert_true(st->file_id == w[i].file_id);
		assert_string_equal(st->etag, w[i].etag);
		assert_string_equal(st->perm_key, w[i].perm_key);
		assert_int_equal(st->attrs, w[i].attrs);
		assert_ts(&st->mtime, &w[i].mtime);
		assert_ts(&st->ctime, &w[i].ctime);
		assert_ts(&st->btime, &w[i].btime);
		assert_ts(&st->atime, &w[i].atime);
		assert_int_equal(st->has_owner, 0);
	}
}

static void test_list_extended(void **state)
{
	struct got g;
	char *marker = (char *)"sentinel";

	assert_int_equal(parse_file("list_include_extended.xml", &g, &marker), 0);
	check_entries(&g, want_extended, sizeof(want_extended) / sizeof(want_extended[0]));
	assert_null(marker); /* <NextMarker /> */
	got_free(&g);
}

static void test_list_timestamps_cpp(void **state)
{
	struct got g;
	char *marker = NULL;

	assert_int_equal(parse_file("list_include_timestamps_cpp.xml", &g, &marker), 0);
	check_entries(&g, want_cpp, sizeof(want_cpp) / sizeof(want_cpp[0]));
	assert_null(marker);
	got_free(&g);
}

static void test_list_plain(void **state)
{
	static const uint64_t ids[] = {
	    14988049928633188352ull, 14411589176329764864ull, 15564510680936611840ull,
	    14123358800178053120ull, 15276280304784900096ull, 10376363910205800448ull,
	    9799903157902376960ull,  10952824662509223936ull, 9511672781750665216ull,
	    10664594286357512192ull,
	};
	struct got g;
	char *marker = NULL;
	char want[64];
	size_t i;

	assert_int_equal(parse_file("list_plain.xml", &g, &marker), 0);
	assert_int_equal(g.n, 10);
	for (i = 0; i < 10; i++) {
		int dir = i >= 5;

		if (dir)
			snprintf(want, sizeof(want), "ListFilesAndDirectoriesSinglePageTest%zu",
				 i - 5);
		else
			snprintf(want, sizeof(want), "file%zu", i);
		assert_string_equal(g.names[i], want);
		assert_int_equal(g.st[i].is_dir, dir);
		assert_int_equal(g.st[i].size, dir ? 0 : 1024);
		assert_true(g.st[i].file_id == ids[i]);
		assert_string_equal(g.st[i].etag, "");
		assert_string_equal(g.st[i].perm_key, "");
		assert_int_equal(g.st[i].attrs, dir ? AZ_FATTR_DIRECTORY : 0);
		assert_int_equal(g.st[i].mtime.tv_sec, 0); /* no include=Timestamps */
	}
	assert_null(marker);
	got_free(&g);
}

static void test_list_root_and_legacy(void **state)
{
	struct got g;
	char *marker = NULL;

	assert_int_equal(parse_file("list_plain_root.xml", &g, &marker), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.names[0], "dirA");
	assert_string_equal(g.names[1], "dirB");
	assert_string_equal(g.names[2], "ListFilesAndDirectoriesSinglePageTestbase");
	assert_true(g.st[2].file_id == 13835128424026341376ull);
	assert_int_equal(g.st[0].is_dir, 1);
	got_free(&g);

	assert_int_equal(parse_file("list_plain_legacy_nock.xml", &g, &marker), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.names[0], "dir156404685613902583");
	assert_int_equal(g.st[0].is_dir, 1);
	assert_true(g.st[0].file_id == 0); /* API 2018-11-09: no FileId */
	assert_null(marker);
	got_free(&g);
}

static void test_list_paged(void **state)
{
	struct got g;
	char *marker = NULL;
	size_t i;

	assert_int_equal(parse_file("list_paged_nextmarker.xml", &g, &marker), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.names[0], "file0");
	assert_string_equal(g.names[1], "file1");
	assert_string_equal(marker, "1!8!ZmlsZTI-");
	free(marker);
	got_free(&g);

	assert_int_equal(parse_file("list_paged_page1.xml", &g, &marker), 0);
	assert_int_equal(g.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(g.st[i].is_dir, 1);
		assert_non_null(strstr(g.names[i], "pre1686178365280168617836528006203dir"));
	}
	assert_string_equal(marker, "1!76!cHJlMTY4NjE3ODM2NTI4MDE2ODYxNzgzNjUyODAwNjIwM2ZpbGUwMT"
				    "Y4NjE3ODM2NTQ3OTAyNjUx");
	free(marker);
	got_free(&g);

	marker = (char *)"sentinel";
	assert_int_equal(parse_file("list_paged_page2_marker.xml", &g, &marker), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.names[2],
			    "pre1686178365280168617836528006203file2168617836561207175");
	assert_int_equal(g.st[2].size, 1024);
	assert_int_equal(g.st[2].is_dir, 0);
	assert_null(marker); /* <Marker> echoed, <NextMarker /> empty: last page */
	got_free(&g);
}

static void test_list_encoded(void **state)
{
	struct got g;
	char *marker = NULL;

	assert_int_equal(parse_file("list_encoded.xml", &g, &marker), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.names[0], "file\xEF\xBF\xBE"); /* U+FFFE */
	assert_int_equal(g.st[0].is_dir, 0);
	assert_int_equal(g.st[0].size, 5);
	assert_true(g.st[0].file_id == 16140971433240035328ull);
	assert_string_equal(g.names[1], "subdir1\xEF\xBF\xBE");
	assert_int_equal(g.st[1].is_dir, 1);
	got_free(&g);
}

static void test_list_shares_is_not_a_dir_listing(void **state)
{
	struct got g;

	assert_int_equal(parse_file("list_shares_paged.xml", &g, NULL), -EPROTO);
	assert_int_equal(g.n, 0);
	assert_int_equal(parse_file("list_shares_prefix.xml", &g, NULL), -EPROTO);
	assert_int_equal(g.n, 0);
}

/* A page with unknown elements everywhere, distinct times per field,
 * several attributes (one unknown) and no BOM. */
static const char *const rich =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<EnumerationResults ShareName=\"s\" DirectoryPath=\"d\" NewAttr=\"x\">"
    "<FutureThing><Nested>1</Nested></FutureThing>"
    "<Entries>"
    "<File><Name>a &amp; b.txt</Name><Shiny>yes</Shiny><FileId>42</FileId>"
    "<Properties><Content-Length>18446744073709551615</Content-Length>"
    "<CreationTime>2023-06-07T22:52:45.1000000Z</CreationTime>"
    "<LastAccessTime>2023-06-07T22:52:46.2000000Z</LastAccessTime>"
    "<LastWriteTime>2023-06-07T22:52:47.3000000Z</LastWriteTime>"
    "<ChangeTime>2023-06-07T22:52:48.4000000Z</ChangeTime>"
    "<Last-Modified>Wed, 07 Jun 2023 22:52:49 GMT</Last-Modified>"
    "<Etag>\"0x1\"</Etag><Unknown>z</Unknown></Properties>"
    "<Attributes>ReadOnly | Hidden | Archive | SomethingNew</Attributes>"
    "<PermissionKey>1*2</PermissionKey></File>"
    "<Symlink><Name>ignored</Name></Symlink>"
    "<Directory><Name>sub</Name><Properties>"
    "<Last-Modified>Wed, 07 Jun 2023 22:52:45 GMT</Last-Modified></Properties></Directory>"
    "<Directory><Name>sub2</Name><Properties>"
    "<LastWriteTime>2023-06-07T22:52:47.0000000Z</LastWriteTime>"
    "<ChangeTime>2023-06-07T22:52:48.0000000Z</ChangeTime>"
    "<Last-Modified>Wed, 07 Jun 2023 22:52:49 GMT</Last-Modified></Properties></Directory>"
    "</Entries><NextMarker>m2</NextMarker><Trailer/></EnumerationResults>";

static void test_list_unknown_ignored_and_times(void **state)
{
	struct got g;
	char *marker = NULL;
	const struct az_stat *f, *d;

	assert_int_equal(parse_str(rich, &g, &marker), 0);
	assert_int_equal(g.n, 3);
	f = &g.st[0];
	d = &g.st[1];
	assert_string_equal(g.names[0], "a & b.txt");
	assert_true(f->size == UINT64_MAX);
	assert_true(f->file_id == 42);
	assert_int_equal(f->btime.tv_sec, 1686178365);
	assert_int_equal(f->btime.tv_nsec, 100000000);
	assert_int_equal(f->atime.tv_sec, 1686178366);
	assert_int_equal(f->atime.tv_nsec, 200000000);
	assert_int_equal(f->mtime.tv_sec, 1686178367);
	assert_int_equal(f->mtime.tv_nsec, 300000000);
	assert_int_equal(f->ctime.tv_sec, 1686178368);
	assert_int_equal(f->ctime.tv_nsec, 400000000);
	assert_int_equal(f->attrs, AZ_FATTR_READONLY | AZ_FATTR_HIDDEN | AZ_FATTR_ARCHIVE);
	assert_string_equal(f->etag, "\"0x1\"");
	assert_string_equal(f->perm_key, "1*2");
	/* the directory only has Last-Modified: every time falls back on it */
	assert_string_equal(g.names[1], "sub");
	assert_int_equal(d->is_dir, 1);
	assert_int_equal(d->mtime.tv_sec, 1686178365);
	assert_int_equal(d->ctime.tv_sec, 1686178365);
	assert_int_equal(d->atime.tv_sec, 1686178365);
	assert_int_equal(d->btime.tv_sec, 1686178365);
	assert_int_equal(d->attrs, AZ_FATTR_DIRECTORY);
	/* LastWriteTime beats Last-Modified; atime and btime fall back on
	 * mtime, not on the change time */
	d = &g.st[2];
	assert_string_equal(g.names[2], "sub2");
	assert_int_equal(d->mtime.tv_sec, 1686178367);
	assert_int_equal(d->ctime.tv_sec, 1686178368);
	assert_int_equal(d->atime.tv_sec, 1686178367);
	assert_int_equal(d->btime.tv_sec, 1686178367);
	assert_string_equal(marker, "m2");
	free(marker);
	got_free(&g);
}

static void test_list_callback_stop(void **state)
{
	struct got g;
	char *marker = (char *)"sentinel";
	size_t len;
	char *body = slurp("list_plain.xml", &len);

	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	g.stop_rc = 7;
	assert_int_equal(az_xml_parse_list(body, len, collect, &g, &marker), 7);
	assert_int_equal(g.n, 2);
	assert_null(marker);
	free(body);
	got_free(&g);
}

#define LIST_HEAD "<EnumerationResults><Entries>"
#define LIST_TAIL "</Entries><NextMarker /></EnumerationResults>"

static void test_list_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\xEF\xBB\xBF",
	    "not xml at all",
	    "<EnumerationResults><Entries>",			      /* truncated */
	    "<Error><Code>x</Code></Error>",			      /* wrong root */
	    "<EnumerationResults><NextMarker/></EnumerationResults>", /* no Entries */
	    LIST_HEAD "<File><FileId>1</FileId><Properties><Content-Length>1</Content-Length>"
		      "</Properties></File>" LIST_TAIL,			    /* no Name */
	    LIST_HEAD "<File><Name>a</Name><Properties/></File>" LIST_TAIL, /* no length */
	    LIST_HEAD "<File><Name>a</Name></File>" LIST_TAIL,
	    LIST_HEAD "<File><Name>a</Name><Properties><Content-Length>12a</Content-Length>"
		      "</Properties></File>" LIST_TAIL,
	    LIST_HEAD "<File><Name>a</Name><Properties><Content-Length>18446744073709551616"
		      "</Content-Length></Properties></File>" LIST_TAIL,
	    LIST_HEAD "<File><Name>a</Name><Properties><Content-Length>-1</Content-Length>"
		      "</Properties></File>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name>d</Name><Properties><LastWriteTime>yesterday"
		      "</LastWriteTime></Properties></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name>d</Name><Properties><Last-Modified>Wed, 32 Jun 2023 "
		      "22:52:45 GMT</Last-Modified></Properties></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name>d</Name><FileId>x</FileId></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name Encoded=\"true\">a%zz</Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name Encoded=\"true\">a%2</Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name Encoded=\"true\">a%00b</Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name Encoded=\"true\">a%2Fb</Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name>a/b</Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name>..</Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name>.</Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name></Name></Directory>" LIST_TAIL,
	    LIST_HEAD "<Directory><Name>d</Name><Properties><Etag>"
		      "\"0123456789012345678901234567890123456789012345678901234567890123456789"
		      "0123456789\"</Etag></Properties></Directory>" LIST_TAIL, /* etag too long */
	    /* a DTD, even a harmless one, is refused (entity expansion door) */
	    "<!DOCTYPE EnumerationResults [<!ENTITY e \"x\">]>" LIST_HEAD
	    "<Directory><Name>&e;</Name></Directory>" LIST_TAIL,
	    "<!DOCTYPE EnumerationResults SYSTEM \"http://127.0.0.1:1/x.dtd\">" LIST_HEAD LIST_TAIL,
	    LIST_HEAD "<Directory><Name>&undefined;</Name></Directory>" LIST_TAIL,
	};
	/* a valid entry first: it must not reach the callback either */
	static const char *const good_then_bad =
	    LIST_HEAD "<Directory><Name>ok</Name></Directory>"
		      "<File><Name>bad</Name><Properties/></File>" LIST_TAIL;
	struct got g;
	char *marker;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		marker = (char *)"sentinel";
		if (parse_str(bad[i], &g, &marker) != -EPROTO)
			fail_msg("case %zu not refused: %s", i, bad[i]);
		assert_int_equal(g.n, 0);
		assert_null(marker);
	}
	assert_int_equal(parse_str(good_then_bad, &g, NULL), -EPROTO);
	assert_int_equal(g.n, 0);
	assert_int_equal(az_xml_parse_list(NULL, 0, collect, &g, NULL), -EPROTO);
}

static void test_list_empty_page(void **state)
{
	struct got g;
	char *marker = NULL;

	assert_int_equal(parse_str("\xEF\xBB\xBF<EnumerationResults><Entries />"
				   "<NextMarker /></EnumerationResults>",
				   &g, &marker),
			 0);
	assert_int_equal(g.n, 0);
	assert_null(marker);
	/* no NextMarker element at all: also the last page */
	assert_int_equal(
	    parse_str("<EnumerationResults><Entries/></EnumerationResults>", &g, &marker), 0);
	assert_null(marker);
}

/* ---- error bodies ---- */

struct err_case {
	const char *file;
	long status;
	const char *code;
	int err;
	const char *msg_prefix;
};

static const struct err_case err_cases[] = {
    {"error_authentication_failed.xml", 403, "AuthenticationFailed", -EACCES,
     "Server failed to authenticate the request."},
    {"error_invalid_header_value.xml", 400, "InvalidHeaderValue", -EINVAL,
     "The value for one of the HTTP headers is not in the correct format."},
    {"error_invalid_query_parameter_value.xml", 400, "InvalidQueryParameterValue", -EINVAL,
     "Value for one of the query parameters specified in the request URI is invalid."},
    {"error_invalid_range.xml", 416, "InvalidRange", -EINVAL,
     "The range specified is invalid for the current size of the resource."},
    {"error_invalid_resource_name.xml", 400, "InvalidResourceName", -EINVAL,
     "The specifed resource name contains invalid characters."},
    {"error_lease_id_missing.xml", 412, "LeaseIdMissing", -EBUSY,
     "There is currently a lease on the file and no lease ID was specified"},
    {"error_md5_mismatch.xml", 400, "Md5Mismatch", -EIO,
     "The MD5 value specified in the request did not match"},
    {"error_out_of_range_input.xml", 400, "OutOfRangeInput", -EINVAL,
     "The file size exceeds the maximum permissible limit."},
    {"error_parent_not_found.xml", 404, "ParentNotFound", -ENOENT,
     "The specified parent path does not exist."},
    {"error_parent_not_found_file.xml", 404, "ParentNotFound", -ENOENT,
     "The specified parent path does not exist."},
    {"error_read_only_attribute.xml", 409, "ReadOnlyAttribute", -EPERM,
     "The specified resource is read-only"},
    {"error_resource_already_exists.xml", 409, "ResourceAlreadyExists", -EEXIST,
     "The specified resource already exists."},
    {"error_resource_not_found.xml", 404, "ResourceNotFound", -ENOENT,
     "The specified resource does not exist."},
    {"error_resource_not_found_delete_dir.xml", 404, "ResourceNotFound", -ENOENT,
     "The specified resource does not exist."},
    {"error_share_already_exists.xml", 409, "ShareAlreadyExists", -EEXIST,
     "The specified share already exists."},
    {"error_share_not_found.xml", 404, "ShareNotFound", -ENOENT,
     "The specified share does not exist."},
};

static void test_error_fixtures(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		char code[96], msg[512];
		size_t len;
		char *body = slurp(c->file, &len);

		assert_int_equal(
		    az_xml_parse_error(body, len, code, sizeof(code), msg, sizeof(msg)), 0);
		assert_string_equal(code, c->code);
		if (strncmp(msg, c->msg_prefix, strlen(c->msg_prefix)) != 0)
			fail_msg("%s: message %s", c->file, msg);
		assert_null(strchr(msg, '\n'));
		assert_non_null(strstr(msg, "RequestId:"));
		assert_int_equal(az_errmap(c->status, code), c->err);
		free(body);
	}
}

static void test_error_details(void **state)
{
	char code[32], msg[1024];
	size_t len;
	char *body = slurp("error_authentication_failed.xml", &len);

	assert_int_equal(az_xml_parse_error(body, len, code, sizeof(code), msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "; AuthenticationErrorDetail: Signature not valid in the "
				    "specified time frame"));
	free(body);
	body = slurp("error_invalid_header_value.xml", &len);
	assert_int_equal(az_xml_parse_error(body, len, code, sizeof(code), msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "; HeaderName: x-ms-access-tier; HeaderValue: Hot"));
	/* short buffers truncate, code may be NULL-safe with msg only */
	assert_int_equal(az_xml_parse_error(body, len, code, 5, msg, 10), 0);
	assert_string_equal(code, "Inva");
	assert_int_equal(strlen(msg), 9);
	assert_int_equal(az_xml_parse_error(body, len, NULL, 0, NULL, 0), 0);
	free(body);
}

static void test_error_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "<Error><Message>no code</Message></Error>",
	    "<Error><Code></Code></Error>",
	    "<Error><Code>X</Code>",
	    "<NotError><Code>X</Code></NotError>",
	};
	char code[32] = "junk", msg[64] = "junk";
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(az_xml_parse_error(bad[i], strlen(bad[i]), code, sizeof(code), msg,
						    sizeof(msg)),
				 -EPROTO);
		assert_string_equal(code, "");
	}
	/* Message is optional */
	assert_int_equal(az_xml_parse_error("<Error><Code>X</Code></Error>", 29, code, sizeof(code),
					    msg, sizeof(msg)),
			 0);
	assert_string_equal(code, "X");
	assert_string_equal(msg, "");
}

/* ---- range lists ---- */

static void test_ranges(void **state)
{
	struct az_range *r = NULL;
	size_t n = 99, len;
	char *body = slurp("get_range_list.xml", &len);
	const char *two = "<Ranges><Range><Start>0</Start><End>511</End></Range>"
			  "<ClearRange><Start>512</Start><End>1023</End></ClearRange>"
			  "<Range><Start>1024</Start><End>1024</End><X/></Range></Ranges>";

	assert_int_equal(az_xml_parse_ranges(body, len, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 1048576);
	assert_int_equal(r[0].end, 2097151);
	free(r);
	free(body);

	assert_int_equal(az_xml_parse_ranges(two, strlen(two), &r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, 511);
	assert_int_equal(r[1].start, 1024);
	assert_int_equal(r[1].end, 1024);
	free(r);

	assert_int_equal(az_xml_parse_ranges("<Ranges />", 10, &r, &n), 0);
	assert_int_equal(n, 0);
	free(r);
}

static void test_ranges_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "<Ranges><Range><Start>0</Start></Range></Ranges>",
	    "<Ranges><Range><End>0</End></Range></Ranges>",
	    "<Ranges><Range><Start>10</Start><End>9</End></Range></Ranges>",
	    "<Ranges><Range><Start>a</Start><End>9</End></Range></Ranges>",
	    "<Ranges><Range><Start>0</Start><End>9</End></Range>",
	    "<NotRanges/>",
	};
	struct az_range *r = (struct az_range *)1;
	size_t n = 5, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(az_xml_parse_ranges(bad[i], strlen(bad[i]), &r, &n), -EPROTO);
		assert_null(r);
		assert_int_equal(n, 0);
	}
}

/* ---- times ---- */

static void test_share_stats_xml(void **state)
{
	const char *xml = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><ShareStats>"
			  "<ShareUsageBytes>4242</ShareUsageBytes></ShareStats>";
	const char *dtd;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(az_xml_find_u64(xml, strlen(xml), "ShareUsageBytes", &v), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(az_xml_find_u64(xml, strlen(xml), "Missing", &v), -EPROTO);
	assert_int_equal(az_xml_find_u64("<a><b>", 6, "b", &v), -EPROTO);
	assert_int_equal(az_xml_find_u64("<a><b>-1</b></a>", 16, "b", &v), -EPROTO);
	/* the same rules as every reply: a DTD is refused */
	dtd = "<!DOCTYPE a [<!ENTITY n \"7\">]><a><b>&n;</b></a>";
	assert_int_equal(az_xml_find_u64(dtd, strlen(dtd), "b", &v), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_extended),
	    cmocka_unit_test(test_list_timestamps_cpp),
	    cmocka_unit_test(test_list_plain),
	    cmocka_unit_test(test_list_root_and_legacy),
	    cmocka_unit_test(test_list_paged),
	    cmocka_unit_test(test_list_encoded),
	    cmocka_unit_test(test_list_shares_is_not_a_dir_listing),
	    cmocka_unit_test(test_list_unknown_ignored_and_times),
	    cmocka_unit_test(test_list_callback_stop),
	    cmocka_unit_test(test_list_malformed),
	    cmocka_unit_test(test_list_empty_page),
	    cmocka_unit_test(test_error_fixtures),
	    cmocka_unit_test(test_error_details),
	    cmocka_unit_test(test_error_malformed),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_ranges_malformed),
	    cmocka_unit_test(test_share_stats_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
