/* test_prov_users.c: what sync does for each roster/local combination
 * (provision/prov_users.c). The effects are tested end to end in
 * tests/provision. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "prov_users.h"

static void test_decide_table(void **state)
{
	static const struct {
		enum prov_user_state state;
		struct prov_local_view v;
		enum prov_action want;
	} rows[] = {
	    /* active in the roster */
	    {PROV_USER_ACTIVE, {0, 0, 0, 0}, PROV_ACT_CREATE},
	    {PROV_USER_ACTIVE, {0, 0, 0, 1}, PROV_ACT_CONFLICT},
	    {PROV_USER_ACTIVE, {1, 2000, 0, 0}, PROV_ACT_ENSURE},
	    {PROV_USER_ACTIVE, {1, 2000, 1, 0}, PROV_ACT_UNLOCK},
	    {PROV_USER_ACTIVE, {1, 1001, 0, 0}, PROV_ACT_CONFLICT},
	    /* removed in the roster */
	    {PROV_USER_REMOVED, {0, 0, 0, 0}, PROV_ACT_NONE},
	    {PROV_USER_REMOVED, {0, 0, 0, 1}, PROV_ACT_NONE},
	    {PROV_USER_REMOVED, {1, 2000, 0, 0}, PROV_ACT_LOCK},
	    {PROV_USER_REMOVED, {1, 2000, 1, 0}, PROV_ACT_NONE},
	    /* never lock a different local account that shares the name */
	    {PROV_USER_REMOVED, {1, 1001, 0, 0}, PROV_ACT_CONFLICT},
	};
	struct prov_user u;
	size_t i;

	(void)state;
	prov_user_init(&u);
	memcpy(u.name, "alice", 6);
	u.uid = 2000;
	u.gid = 2000;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		u.state = rows[i].state;
		if (prov_users_decide(&u, &rows[i].v) != rows[i].want)
			fail_msg("row %zu: got %d, want %d", i, prov_users_decide(&u, &rows[i].v),
				 rows[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decide_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
