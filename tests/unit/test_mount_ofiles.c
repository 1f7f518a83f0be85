/* test_mount_ofiles.c: fs/ofiles.c - open handles by path and hidden name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ofiles.h"

#define H1 "d/.fuse_hidden0000000200000001"

static void test_hidden_name(void **state)
{
	(void)state;
	assert_true(of_is_hidden_name(".fuse_hidden0000000200000001"));
	assert_true(of_is_hidden_name(H1));
	assert_true(of_is_hidden_name("a/b/.fuse_hiddenX"));
	assert_false(of_is_hidden_name(".fuse_hidde"));
	assert_false(of_is_hidden_name(".fuse_hiddenX/a"));
	assert_false(of_is_hidden_name("x.fuse_hidden"));
	assert_false(of_is_hidden_name(""));
	assert_false(of_is_hidden_name(NULL));
}

static void test_unlink_hides_and_put_frees(void **state)
{
	struct of_table t;
	struct of_ent a, b, other;
	struct of_ent *e;
	char live[64];

	(void)state;
	of_init(&t);
	assert_int_equal(of_add(&t, &a, "d/f"), 0);
	assert_int_equal(of_add(&t, &b, "d/f"), 0);
	assert_int_equal(of_add(&t, &other, "d/g"), 0);
	assert_int_equal(of_count(&t, "d/f"), 2);
	assert_null(of_get_hidden(&t, H1, live, sizeof(live)));
	assert_int_equal(of_hide(&t, "d/f", H1, 1), 2);
	assert_int_equal(of_count(&t, "d/f"), 0);
	e = of_get_hidden(&t, H1, live, sizeof(live));
	assert_non_null(e);
	assert_true(e == &a || e == &b);
	assert_string_equal(live, ""); /* unlinked: handle-based */
	/* the handle is released while a request still holds it */
	assert_int_equal(of_del(&t, e), 1);
	assert_int_equal(of_put(&t, e), 0);
	/* the other handle still answers for the hidden name */
	e = of_get_hidden(&t, H1, live, sizeof(live));
	assert_non_null(e);
	assert_int_equal(of_put(&t, e), 1);
	assert_int_equal(of_del(&t, e), 0);
	assert_null(of_get_hidden(&t, H1, live, sizeof(live)));
	/* an unrelated handle is untouched */
	assert_int_equal(of_count(&t, "d/g"), 1);
	assert_int_equal(of_del(&t, &other), 0);
	of_release(&t);
}

static void test_replace_hides_live_then_detaches(void **state)
{
	struct of_table t;
	struct of_ent target, src;
	struct of_ent *e;
	char live[64];

	(void)state;
	of_init(&t);
	assert_int_equal(of_add(&t, &target, "d/f"), 0);
	assert_int_equal(of_add(&t, &src, "d/new"), 0);
	/* libfuse hides the open target of a rename first: still live */
	assert_int_equal(of_hide(&t, "d/f", H1, 0), 1);
	e = of_get_hidden(&t, H1, live, sizeof(live));
	assert_ptr_equal(e, &target);
	assert_string_equal(live, "d/f");
	of_put(&t, e);
	/* the rename that follows replaces it; the source's handle follows */
	of_renamed(&t, "d/new", "d/f");
	e = of_get_hidden(&t, H1, live, sizeof(live));
	assert_ptr_equal(e, &target);
	assert_string_equal(live, "");
	of_put(&t, e);
	assert_int_equal(of_count(&t, "d/f"), 1);
	assert_int_equal(of_count(&t, "d/new"), 0);
	of_del(&t, &target);
	of_del(&t, &src);
	of_release(&t);
}

static void test_directory_rename_moves_paths_and_hidden_names(void **state)
{
	struct of_table t;
	struct of_ent a, b, c, hidden;
	struct of_ent *e;
	char live[64];

	(void)state;
	of_init(&t);
	assert_int_equal(of_add(&t, &a, "d/x"), 0);
	assert_int_equal(of_add(&t, &b, "d/sub/y"), 0);
	assert_int_equal(of_add(&t, &c, "dd/z"), 0); /* shares a prefix, not the dir */
	assert_int_equal(of_add(&t, &hidden, "d/f"), 0);
	assert_int_equal(of_hide(&t, "d/f", H1, 1), 1);
	of_renamed(&t, "d", "e");
	assert_int_equal(of_count(&t, "e/x"), 1);
	assert_int_equal(of_count(&t, "e/sub/y"), 1);
	assert_int_equal(of_count(&t, "dd/z"), 1);
	assert_int_equal(of_count(&t, "d/x"), 0);
	assert_null(of_get_hidden(&t, H1, live, sizeof(live)));
	e = of_get_hidden(&t, "e/.fuse_hidden0000000200000001", live, sizeof(live));
	assert_ptr_equal(e, &hidden);
	of_put(&t, e);
	/* a plain unlink detaches without a hidden name */
	of_unlinked(&t, "e/x");
	assert_int_equal(of_count(&t, "e/x"), 0);
	of_del(&t, &a);
	of_del(&t, &b);
	of_del(&t, &c);
	of_del(&t, &hidden);
	of_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hidden_name),
	    cmocka_unit_test(test_unlink_hides_and_put_frees),
	    cmocka_unit_test(test_replace_hides_live_then_detaches),
	    cmocka_unit_test(test_directory_rename_moves_paths_and_hidden_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
