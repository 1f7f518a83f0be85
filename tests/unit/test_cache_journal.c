/* test_cache_journal.c: journal records (format, parse, corrupt input) and
 * replay edge cases, with the in-memory fake backend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache_fake_backend.h"
#include "journal.h"

static void sample(struct jn_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->id = 42;
	snprintf(r->path, sizeof(r->path), "dir with space/new\nline \xc3\xa9t\xc3\xa9.txt");
	r->size = 1234;
	r->base.remote = 1;
	snprintf(r->base.etag, sizeof(r->base.etag), "\"0x8DC0FFEE\"");
	r->base.size = 99;
	r->base.mtime.tv_sec = 1700000000;
	r->base.mtime.tv_nsec = 123456789;
	r->has_owner = 1;
	r->mode = 0100640;
	r->uid = 1001;
	r->gid = 1002;
	r->mtime.tv_sec = 1700000001;
	r->mtime.tv_nsec = 5;
}

static void test_roundtrip(void **state)
{
	struct jn_rec a, b;
	char buf[16384];
	int n;

	(void)state;
	sample(&a);
	n = jn_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_null(strchr(strstr(buf, "path ") + 5, ' ')); /* encoded: no raw bytes */
	assert_int_equal(jn_parse(buf, (size_t)n, &b), 0);
	assert_int_equal(b.id, 42);
	assert_string_equal(b.path, a.path);
	assert_int_equal(b.size, 1234);
	assert_int_equal(b.base.remote, 1);
	assert_string_equal(b.base.etag, a.base.etag);
	assert_int_equal(b.base.size, 99);
	assert_int_equal(b.base.mtime.tv_nsec, 123456789);
	assert_int_equal(b.mode, 0100640);
	assert_int_equal(b.uid, 1001);
	assert_int_equal(b.gid, 1002);
	assert_int_equal(b.mtime.tv_sec, 1700000001);
	/* a new file: no base ETag */
	a.base.remote = 0;
	a.base.etag[0] = '\0';
	n = jn_format(&a, buf, sizeof(buf));
	assert_int_equal(jn_parse(buf, (size_t)n, &b), 0);
	assert_string_equal(b.base.etag, "");
	assert_int_equal(b.base.remote, 0);
}

/* An attributes-only record (a deferred setattr) keeps its mask; a data
 * record has none and is formatted as before. */
static void test_attrs_record(void **state)
{
	struct jn_rec a, b;
	char buf[16384];
	int n;

	(void)state;
	sample(&a);
	n = jn_format(&a, buf, sizeof(buf));
	assert_null(strstr(buf, "attrs"));
	a.attrs = VFS_SET_MTIME | VFS_SET_MODE;
	n = jn_format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "attrs 9\n"));
	assert_int_equal(jn_parse(buf, (size_t)n, &b), 0);
	assert_int_equal(b.attrs, VFS_SET_MTIME | VFS_SET_MODE);
	assert_string_equal(b.path, a.path);
	/* a bad mask is a bad record */
	memcpy(strstr(buf, "attrs 9"), "attrs x", 7);
	assert_int_equal(jn_parse(buf, (size_t)n, &b), -EINVAL);
}

static void test_parse_rejects(void **state)
{
	struct jn_rec a, b;
	char buf[16384], bad[16384];
	char *p;
	int n;

	(void)state;
	sample(&a);
	n = jn_format(&a, buf, sizeof(buf));
	/* cut before "end": a record whose write was torn */
	assert_int_equal(jn_parse(buf, (size_t)n - 4, &b), -EINVAL);
	/* wrong magic */
	memcpy(bad, buf, (size_t)n);
	bad[0] = 'X';
	assert_int_equal(jn_parse(bad, (size_t)n, &b), -EINVAL);
	/* a field missing */
	memcpy(bad, buf, (size_t)n);
	bad[n] = '\0';
	p = strstr(bad, "uid ");
	memcpy(p, "xyz ", 4);
	assert_int_equal(jn_parse(bad, (size_t)n, &b), -EINVAL);
	/* bad hex in the path */
	memcpy(bad, buf, (size_t)n);
	bad[n] = '\0';
	p = strstr(bad, "path ");
	p[5] = 'Z';
	assert_int_equal(jn_parse(bad, (size_t)n, &b), -EINVAL);
	/* a number with garbage */
	memcpy(bad, buf, (size_t)n);
	bad[n] = '\0';
	p = strstr(bad, "size 1234");
	p[6] = 'q';
	assert_int_equal(jn_parse(bad, (size_t)n, &b), -EINVAL);
	assert_int_equal(jn_parse("", 0, &b), -EINVAL);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_corrupt_record_kept(void **state)
{
	struct fx *x = *state;
	char path[4200], jdir[4200];
	struct stat sb;

	snprintf(jdir, sizeof(jdir), "%s/journal", x->dir);
	mkdir(jdir, 0700);
	snprintf(path, sizeof(path), "%s/7", jdir);
	write_text(path, "azsharefs-journal 1\nid 7\nsize 3\n"); /* torn */
	snprintf(path, sizeof(path), "%s/8.tmp.1", jdir);
	write_text(path, "half written");
	assert_int_equal(fx_start(x), 0);
	snprintf(path, sizeof(path), "%s/7", jdir);
	assert_int_equal(stat(path, &sb), 0); /* kept for a human */
	snprintf(path, sizeof(path), "%s/8.tmp.1", jdir);
	assert_int_equal(stat(path, &sb), -1); /* never renamed: removed */
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	/* new files do not reuse its id */
	assert_int_equal(fx_write_file(x->v, "f", "abc", 3), 0);
	snprintf(path, sizeof(path), "%s/data/7", x->dir);
	assert_int_equal(stat(path, &sb), -1);
}

/* A record of the journal code itself, in x->dir (no vfs running). */
static void put_record(struct fx *x, const struct jn_rec *r, const char *data)
{
	char path[4200], jdir[4200];
	struct vfs fake;

	snprintf(jdir, sizeof(jdir), "%s/journal", x->dir);
	mkdir(jdir, 0700);
	snprintf(path, sizeof(path), "%s/data", x->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/data/%llu", x->dir, (unsigned long long)r->id);
	write_text(path, data);
	memset(&fake, 0, sizeof(fake));
	fake.jn_dir = jdir;
	fake.data_dir = jdir; /* only fsynced */
	assert_int_equal(jn_write(&fake, r, -1), 0);
}

static void test_replay_uses_current_data(void **state)
{
	struct fx *x = *state;
	struct jn_rec r;
	char path[4200], *s;

	memset(&r, 0, sizeof(r));
	r.id = 3;
	snprintf(r.path, sizeof(r.path), "grown.txt");
	r.size = 4; /* the file grew after the record */
	r.mode = 0100600;
	r.has_owner = 1;
	put_record(x, &r, "four and more");
	snprintf(path, sizeof(path), "%s/data/9", x->dir);
	write_text(path, "a clean copy of an old mount");
	assert_int_equal(fx_start(x), 0);
	s = fb_get(&x->fb, "grown.txt", NULL);
	assert_string_equal(s, "four and more");
	free(s);
	snprintf(path, sizeof(path), "%s/data/9", x->dir);
	assert_int_equal(access(path, F_OK), -1); /* swept */
}

/* The upload of a record finished but the record's removal was not synced
 * before the crash (group commit): the share holds exactly the record's
 * size and mtime, so replay drops it: no upload, no conflict copy. A
 * record whose remote moved to something else still makes a conflict
 * copy (the check is not "any change"). */
static void test_replay_already_uploaded(void **state)
{
	struct fx *x = *state;
	struct fb_ent *e;
	struct jn_rec r;
	char path[4200];

	fb_put(&x->fb, "done.txt", "hello", 5);
	fb_put(&x->fb, "other.txt", "HELLO", 5);
	memset(&r, 0, sizeof(r));
	r.id = 4;
	r.size = 5;
	r.mode = 0100644;
	r.has_owner = 1;
	r.base.remote = 1;
	snprintf(r.base.etag, sizeof(r.base.etag), "\"0xDEAD\"");
	pthread_mutex_lock(&x->fb.lock);
	e = fb_find(&x->fb, "done.txt");
	r.mtime = e->mtime;
	r.mtime.tv_nsec -= r.mtime.tv_nsec % 100; /* the service keeps 100 ns */
	e->mtime = r.mtime;
	pthread_mutex_unlock(&x->fb.lock);
	snprintf(r.path, sizeof(r.path), "done.txt");
	put_record(x, &r, "hello");
	r.id = 5;
	r.mtime.tv_sec -= 60; /* other.txt: same size, another mtime */
	snprintf(r.path, sizeof(r.path), "other.txt");
	put_record(x, &r, "mine!");
	fb_reset(&x->fb);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1); /* other.txt's conflict copy */
	assert_int_equal(fb_count_prefix(&x->fb, "done.txt.conflict-"), 0);
	assert_int_equal(fb_count_prefix(&x->fb, "other.txt.conflict-"), 1);
	snprintf(path, sizeof(path), "%s/journal/4", x->dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/data/4", x->dir);
	assert_int_equal(access(path, F_OK), -1); /* swept */
	snprintf(path, sizeof(path), "%s/journal/5", x->dir);
	assert_int_equal(access(path, F_OK), -1);
}

static int synced(void *arg)
{
	struct vfs *v = arg;
	int ok;

	pthread_mutex_lock(&v->jn_lock);
	ok = v->jn_gen > 0 && v->jn_synced == v->jn_gen;
	pthread_mutex_unlock(&v->jn_lock);
	return ok;
}

static int count_records(struct fx *x)
{
	return fx_journal_records(x->dir);
}

/* Group commit: a write-back close writes its record at once (a killed
 * daemon finds it) and the syncer covers it within journal_sync_ms;
 * journal_sync=0 keeps the synchronous path. */
static void test_group_commit(void **state)
{
	struct fx *x = *state;
	int64_t t0;

	x->o.writeback_delay_ms = 60000;
	x->o.journal_sync_ms = 50;
	assert_int_equal(fx_start(x), 0);
	assert_true(jn_async(x->v));
	t0 = fb_ms();
	assert_int_equal(fx_write_file(x->v, "a", "one", 3), 0);
	assert_int_equal(fx_write_file(x->v, "b", "two", 3), 0);
	assert_int_equal(count_records(x), 2);
	assert_true(fb_wait(synced, x->v, 5000));
	assert_true(fb_ms() - t0 >= 40); /* one sync for both, after the window */
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	fx_stop(x); /* unmount uploads and removes the records */
	assert_int_equal(count_records(x), 0);
	x->o.journal_sync_ms = 0;
	assert_int_equal(fx_start(x), 0);
	assert_false(jn_async(x->v));
	assert_int_equal(fx_write_file(x->v, "c", "three", 5), 0);
	assert_int_equal(count_records(x), 1);
}

static void append_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The log: a later record of an id supersedes the earlier one, a done line
 * retires a record, a torn record (no "end": killed mid-write) is skipped
 * and the records after it still count; once everything is uploaded the
 * log is empty again. */
static void test_log_replay(void **state)
{
	struct fx *x = *state;
	char path[4200], text[16384], *s;
	struct jn_rec r;
	struct stat sb;
	int n;

	memset(&r, 0, sizeof(r));
	r.mode = 0100644;
	r.has_owner = 1;
	snprintf(path, sizeof(path), "%s/journal", x->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/data", x->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/data/3", x->dir);
	write_text(path, "new!");
	snprintf(path, sizeof(path), "%s/data/6", x->dir);
	write_text(path, "six");
	snprintf(path, sizeof(path), "%s/journal/log", x->dir);
	r.id = 3;
	r.size = 2;
	snprintf(r.path, sizeof(r.path), "old-name");
	n = jn_format(&r, text, sizeof(text));
	assert_true(n > 0);
	append_text(path, text);
	r.size = 4;
	snprintf(r.path, sizeof(r.path), "a");
	jn_format(&r, text, sizeof(text));
	append_text(path, text); /* supersedes */
	r.id = 4;
	snprintf(r.path, sizeof(r.path), "gone");
	jn_format(&r, text, sizeof(text));
	append_text(path, text);
	append_text(path, "azsharefs-done 4\n");
	r.id = 5;
	snprintf(r.path, sizeof(r.path), "torn");
	n = jn_format(&r, text, sizeof(text));
	text[n / 2] = '\0';
	append_text(path, text); /* killed mid-write */
	r.id = 6;
	r.size = 3;
	snprintf(r.path, sizeof(r.path), "b");
	jn_format(&r, text, sizeof(text));
	append_text(path, text);
	assert_int_equal(fx_journal_records(x->dir), 3);
	assert_int_equal(fx_start(x), 0);
	s = fb_get(&x->fb, "a", NULL);
	assert_string_equal(s, "new!");
	free(s);
	s = fb_get(&x->fb, "b", NULL);
	assert_string_equal(s, "six");
	free(s);
	assert_false(fb_exists(&x->fb, "old-name"));
	assert_false(fb_exists(&x->fb, "gone"));
	assert_false(fb_exists(&x->fb, "torn"));
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 2);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0); /* nothing live: truncated */
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* new records after a restart do not reuse a live id */
	assert_int_equal(fx_write_file(x->v, "c", "c", 1), 0);
	assert_int_equal(fx_journal_records(x->dir), 0);
}

/* A long mount: the log is rewritten from its live records once it is big
 * and mostly dead, and emptied once nothing in it is live. */
static void test_log_compaction(void **state)
{
	struct fx *x = *state;
	char path[4200];
	struct jn_rec r;
	struct stat sb;
	int i;

	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	memset(&r, 0, sizeof(r));
	r.mode = 0100644;
	r.has_owner = 1;
	r.id = 999999;
	snprintf(r.path, sizeof(r.path), "a-file-that-is-journaled-over-and-over");
	for (i = 0; i < 60000; i++) {
		r.size = (uint64_t)i;
		assert_int_equal(jn_write(x->v, &r, -1), 0);
	}
	snprintf(path, sizeof(path), "%s/journal/log", x->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size < (16 << 20)); /* 60,000 records written, ~20 MiB */
	assert_int_equal(fx_journal_records(x->dir), 1);
	jn_remove(x->v, r.id);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_attrs_record),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test_setup_teardown(test_corrupt_record_kept, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_replay_uses_current_data, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_replay_already_uploaded, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_group_commit, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_log_replay, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_log_compaction, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
