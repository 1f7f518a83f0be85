/* test_prov_roster.c: roster parse/format/merge and uid allocation
 * (provision/prov_roster.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "prov_roster.h"

#define KEY_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyA alice@laptop"
#define KEY_B "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQKeyB alice@desk"
#define KEY_OPT "from=\"10.0.0.0/8\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyC bob"

static const char sample[] = "# comment line\n"
			     "alice\t2000\t2000\t/bin/bash\tactive\t-\t" KEY_A "\t" KEY_B "\n"
			     "\n"
			     "bob\t2001\t2001\t/bin/sh\tremoved\tdocker,video\t" KEY_OPT "\n"
			     "carol\t2005\t2005\t/bin/bash\tactive\t-\r\n";

static void test_parse_fields(void **state)
{
	struct prov_roster r;
	struct prov_user *u;
	char err[256] = "";

	(void)state;
	prov_roster_init(&r);
	assert_int_equal(prov_roster_parse(&r, sample, err, sizeof(err)), 0);
	assert_int_equal(r.n, 3);
	u = prov_roster_find(&r, "alice");
	assert_non_null(u);
	assert_int_equal(u->uid, 2000);
	assert_int_equal(u->gid, 2000);
	assert_string_equal(u->shell, "/bin/bash");
	assert_int_equal(u->state, PROV_USER_ACTIVE);
	assert_string_equal(u->groups, "");
	assert_int_equal(u->nkeys, 2);
	assert_string_equal(u->keys[1], KEY_B);
	u = prov_roster_find(&r, "bob");
	assert_int_equal(u->state, PROV_USER_REMOVED);
	assert_string_equal(u->groups, "docker,video");
	assert_string_equal(u->keys[0], KEY_OPT);
	assert_int_equal(prov_roster_find(&r, "carol")->nkeys, 0);
	assert_null(prov_roster_find(&r, "dave"));
	assert_ptr_equal(prov_roster_find_id(&r, 2001), prov_roster_find(&r, "bob"));
	assert_null(prov_roster_find_id(&r, 2002));
	prov_roster_release(&r);
}

static void test_format_round_trip(void **state)
{
	struct prov_roster r;
	struct prov_roster again;
	struct prov_buf text;
	struct prov_buf text2;
	char err[256] = "";

	(void)state;
	prov_roster_init(&r);
	prov_roster_init(&again);
	prov_buf_init(&text);
	prov_buf_init(&text2);
	assert_int_equal(prov_roster_parse(&r, sample, err, sizeof(err)), 0);
	assert_int_equal(prov_roster_format(&r, &text), 0);
	assert_non_null(
	    strstr(text.data, "alice\t2000\t2000\t/bin/bash\tactive\t-\t" KEY_A "\t" KEY_B "\n"));
	assert_non_null(strstr(text.data, "bob\t2001\t2001\t/bin/sh\tremoved\tdocker,video\t"));
	assert_non_null(strstr(text.data, "carol\t2005\t2005\t/bin/bash\tactive\t-\n"));
	assert_int_equal(text.data[0], '#');
	assert_true(prov_roster_complete(text.data));
	assert_non_null(strstr(text.data, "\n" PROV_ROSTER_END));
	/* Any cut loses the end line. */
	text.data[text.len - 1] = '\0';
	assert_false(prov_roster_complete(text.data));
	text.data[text.len - 1] = '\n';
	assert_false(prov_roster_complete(""));
	assert_false(prov_roster_complete("x# end of roster\n"));
	assert_true(prov_roster_complete(PROV_ROSTER_END));
	assert_int_equal(prov_roster_parse(&again, text.data, err, sizeof(err)), 0);
	assert_int_equal(prov_roster_format(&again, &text2), 0);
	assert_string_equal(text.data, text2.data);
	prov_buf_release(&text);
	prov_buf_release(&text2);
	prov_roster_release(&r);
	prov_roster_release(&again);
}

static void test_parse_rejects_damage(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"alice\t2000\t2000\t/bin/bash\tactive\n", "line 1: expected at least 6"},
	    {"# x\nAlice\t2000\t2000\t/bin/bash\tactive\t-\n", "line 2: bad user name 'Alice'"},
	    {"alice\tx\t2000\t/bin/bash\tactive\t-\n", "bad uid/gid"},
	    {"alice\t2000\t2000\tbash\tactive\t-\n", "bad shell"},
	    {"alice\t2000\t2000\t/bin/bash\tgone\t-\n", "bad state 'gone'"},
	    {"alice\t2000\t2000\t/bin/bash\tactive\tBad!\n", "bad group list"},
	    {"alice\t2000\t2000\t/bin/bash\tactive\t-\tnot a key\n", "ssh key 1 of 'alice'"},
	    {"a\t2000\t2000\t/bin/sh\tactive\t-\na\t2001\t2001\t/bin/sh\tactive\t-\n",
	     "line 2: user 'a' appears twice"},
	    {"a\t2000\t2000\t/bin/sh\tactive\t-\nb\t2000\t2000\t/bin/sh\tactive\t-\n",
	     "line 2: uid/gid 2000/2000 of 'b' is already used by 'a'"},
	    {"a\t2000\t2000\t/bin/sh\tactive\t-\nb\t2001\t2000\t/bin/sh\tactive\t-\n",
	     "already used by 'a'"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prov_roster r;
		char err[256] = "";

		prov_roster_init(&r);
		assert_int_not_equal(prov_roster_parse(&r, cases[i].text, err, sizeof(err)), 0);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want);
		prov_roster_release(&r);
	}
}

static void make_user(struct prov_user *u, const char *name, unsigned long uid, const char *key)
{
	prov_user_init(u);
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(u->shell, sizeof(u->shell), "/bin/bash");
	u->uid = uid;
	u->gid = uid;
	if (key)
		assert_int_equal(prov_user_add_key(u, key, NULL), 0);
}

static void test_merge(void **state)
{
	struct prov_roster r;
	struct prov_user u;
	char err[256] = "";
	int changed = -1;

	(void)state;
	prov_roster_init(&r);
	assert_int_equal(prov_roster_parse(&r, sample, err, sizeof(err)), 0);

	/* New user. */
	make_user(&u, "dave", 2010, KEY_A);
	assert_int_equal(prov_roster_merge(&r, &u, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(r.n, 4);
	assert_int_equal(prov_roster_find(&r, "dave")->uid, 2010);
	/* The same again: nothing changes. */
	assert_int_equal(prov_roster_merge(&r, &u, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 0);
	prov_user_release(&u);

	/* Known user, one known and one new key: keys are a union. */
	make_user(&u, "alice", 2000, KEY_B);
	assert_int_equal(prov_user_add_key(&u, KEY_OPT, NULL), 0);
	assert_int_equal(prov_roster_merge(&r, &u, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(prov_roster_find(&r, "alice")->nkeys, 3);
	prov_user_release(&u);

	/* A removed user comes back active with its uid and groups kept. */
	make_user(&u, "bob", 2001, NULL);
	snprintf(u.shell, sizeof(u.shell), "/bin/sh");
	assert_int_equal(prov_user_add_groups(&u, "video,audio", NULL), 0);
	assert_int_equal(prov_roster_merge(&r, &u, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(prov_roster_find(&r, "bob")->state, PROV_USER_ACTIVE);
	assert_string_equal(prov_roster_find(&r, "bob")->groups, "docker,video,audio");
	prov_user_release(&u);

	/* Conflicts: a known name with another uid, a new name on a taken uid. */
	make_user(&u, "alice", 2999, NULL);
	assert_int_equal(prov_roster_merge(&r, &u, &changed, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "'alice' already has uid 2000"));
	assert_non_null(strstr(err, "not 2999"));
	prov_user_release(&u);
	make_user(&u, "erin", 2005, NULL);
	assert_int_equal(prov_roster_merge(&r, &u, &changed, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "already used by 'carol'"));
	assert_null(prov_roster_find(&r, "erin"));
	prov_user_release(&u);
	prov_roster_release(&r);
}

static void test_mark_removed(void **state)
{
	struct prov_roster r;
	char err[256] = "";
	int changed = -1;

	(void)state;
	prov_roster_init(&r);
	assert_int_equal(prov_roster_parse(&r, sample, err, sizeof(err)), 0);
	assert_int_equal(prov_roster_mark_removed(&r, "alice", &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(prov_roster_find(&r, "alice")->state, PROV_USER_REMOVED);
	assert_int_equal(prov_roster_mark_removed(&r, "alice", &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(prov_roster_mark_removed(&r, "zed", &changed), -ENOENT);
	prov_roster_release(&r);
}

/* Locally used ids for the allocation test: 2002 and 2003. */
static int used_locally(void *ctx, unsigned long id)
{
	int *calls = ctx;

	(*calls)++;
	return id == 2002 || id == 2003;
}

static void test_alloc_uid(void **state)
{
	struct prov_roster r;
	char err[256] = "";
	unsigned long uid = 0;
	int calls = 0;

	(void)state;
	prov_roster_init(&r);
	assert_int_equal(prov_roster_alloc_uid(&r, 2000, 2100, NULL, NULL, &uid), 0);
	assert_int_equal(uid, 2000);
	assert_int_equal(prov_roster_parse(&r, sample, err, sizeof(err)), 0);
	/* 2000, 2001 in the roster (removed bob still holds 2001), 2002-2003
	 * local, 2004 free. */
	assert_int_equal(prov_roster_alloc_uid(&r, 2000, 2100, used_locally, &calls, &uid), 0);
	assert_int_equal(uid, 2004);
	assert_true(calls >= 3);
	assert_int_equal(prov_roster_alloc_uid(&r, 2005, 2100, used_locally, &calls, &uid), 0);
	assert_int_equal(uid, 2006);
	assert_int_equal(prov_roster_alloc_uid(&r, 2000, 2003, used_locally, &calls, &uid),
			 -ENOSPC);
	assert_int_equal(prov_roster_alloc_uid(&r, 4294967290UL, 4294967295UL, NULL, NULL, &uid),
			 0);
	assert_int_equal(uid, 4294967290UL);
	prov_roster_release(&r);
}

static void test_key_and_group_checks(void **state)
{
	struct prov_user u;
	int added = -1;

	(void)state;
	assert_true(prov_valid_ssh_key(KEY_A));
	assert_true(prov_valid_ssh_key(KEY_OPT));
	assert_true(prov_valid_ssh_key("ecdsa-sha2-nistp256 AAAAE2Vj x"));
	assert_false(prov_valid_ssh_key(""));
	assert_false(prov_valid_ssh_key("AAAAC3Nza no type"));
	assert_false(prov_valid_ssh_key("ssh-ed25519 AAAA\tx"));
	assert_false(prov_valid_ssh_key("xssh-ed25519 AAAA"));
	assert_true(prov_valid_group_list("sudo"));
	assert_true(prov_valid_group_list("sudo,docker"));
	assert_false(prov_valid_group_list("sudo,"));
	assert_false(prov_valid_group_list(",sudo"));
	assert_false(prov_valid_group_list("a,,b"));
	assert_false(prov_valid_group_list("Sudo"));
	prov_user_init(&u);
	assert_int_equal(prov_user_add_groups(&u, "a,b", &added), 0);
	assert_int_equal(added, 1);
	assert_int_equal(prov_user_add_groups(&u, "b,a", &added), 0);
	assert_int_equal(added, 0);
	assert_int_equal(prov_user_add_groups(&u, "ab,c", &added), 0);
	assert_string_equal(u.groups, "a,b,ab,c");
	prov_user_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_fields),	 cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_parse_rejects_damage), cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_mark_removed),	 cmocka_unit_test(test_alloc_uid),
	    cmocka_unit_test(test_key_and_group_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
