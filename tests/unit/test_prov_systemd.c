/* test_prov_systemd.c: generated unit texts (provision/prov_systemd.c).
 * systemd-analyze verify runs on real generated files in
 * tests/provision/test_units_cloudinit.py; this checks the content. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "prov_systemd.h"

static void config(struct prov_config *c)
{
	char err[256];

	prov_config_init(c);
	assert_int_equal(prov_config_set(c, "account", "acct1", err, sizeof(err)), 0);
	assert_int_equal(prov_config_set(c, "share", "pool", err, sizeof(err)), 0);
	assert_int_equal(prov_config_set(c, "options", "writeback_delay=5", err, sizeof(err)), 0);
}

/* 1 when text has line as a whole line. */
static int has_line(const char *text, const char *line)
{
	size_t len = strlen(line);
	const char *p = text;

	for (;;) {
		p = strstr(p, line);
		if (!p)
			return 0;
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return 1;
		p += len;
	}
}

static void test_mount_unit(void **state)
{
	struct prov_config c;
	struct prov_buf b;

	(void)state;
	config(&c);
	prov_buf_init(&b);
	assert_int_equal(prov_unit_mount_text(&c, &b), 0);
	assert_true(has_line(b.data, "[Unit]"));
	assert_true(has_line(b.data, "Wants=network-online.target"));
	assert_true(has_line(b.data, "After=network-online.target"));
	assert_true(has_line(b.data, "[Service]"));
	assert_true(has_line(b.data, "Restart=on-failure"));
	assert_true(has_line(b.data, "StartLimitIntervalSec=0"));
	assert_true(has_line(b.data, "ExecStartPre=-/usr/bin/fusermount3 -u -z /mnt/azsharefs"));
	assert_true(has_line(b.data, "ExecStart=" AZSF_MOUNT_BIN " /mnt/azsharefs -f -o "
				     "share=pool,conn_file=/etc/azsharefs/pool.conn,"
				     "cache_dir=/var/cache/azsharefs,writeback_delay=5"));
	assert_true(has_line(b.data, "[Install]"));
	assert_true(has_line(b.data, "WantedBy=remote-fs.target"));
	/* Only paths in the unit: never credentials. */
	assert_null(strstr(b.data, "AccountKey"));
	assert_null(strstr(b.data, "sig="));
	prov_buf_release(&b);
}

static void test_sync_unit_and_timer(void **state)
{
	struct prov_buf b;

	(void)state;
	prov_buf_init(&b);
	assert_int_equal(
	    prov_unit_sync_text("/usr/sbin/azsharefs-provision", "/etc/azsharefs/pool.conf", &b),
	    0);
	assert_true(has_line(b.data, "Type=oneshot"));
	assert_true(has_line(b.data, "ExecStart=/usr/sbin/azsharefs-provision sync-users "
				     "--config /etc/azsharefs/pool.conf"));
	assert_true(has_line(b.data, "After=" PROV_UNIT_MOUNT));
	assert_true(has_line(b.data, "Wants=" PROV_UNIT_MOUNT));
	prov_buf_release(&b);
	prov_buf_init(&b);
	assert_int_equal(prov_unit_timer_text(&b), 0);
	assert_true(has_line(b.data, "[Timer]"));
	assert_true(has_line(b.data, "OnCalendar=minutely"));
	assert_true(has_line(b.data, "OnBootSec=15s"));
	assert_true(has_line(b.data, "Unit=" PROV_UNIT_SYNC));
	assert_true(has_line(b.data, "WantedBy=timers.target"));
	prov_buf_release(&b);
}

static void test_texts_are_stable(void **state)
{
	struct prov_config c;
	struct prov_buf a;
	struct prov_buf b;

	(void)state;
	config(&c);
	prov_buf_init(&a);
	prov_buf_init(&b);
	assert_int_equal(prov_unit_mount_text(&c, &a), 0);
	assert_int_equal(prov_unit_mount_text(&c, &b), 0);
	/* Same config, same bytes: what makes `node` report "unchanged". */
	assert_string_equal(a.data, b.data);
	prov_buf_release(&b);
	prov_buf_init(&b);
	assert_int_equal(prov_config_set(&c, "mountpoint", "/srv/other", NULL, 0), 0);
	assert_int_equal(prov_unit_mount_text(&c, &b), 0);
	assert_string_not_equal(a.data, b.data);
	assert_true(has_line(b.data, "ExecStartPre=/usr/bin/mkdir -p /srv/other "
				     "/var/cache/azsharefs"));
	prov_buf_release(&a);
	prov_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mount_unit),
	    cmocka_unit_test(test_sync_unit_and_timer),
	    cmocka_unit_test(test_texts_are_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
