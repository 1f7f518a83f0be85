/* test_prov_cloudinit.c: cloud-config and ARM template text
 * (provision/prov_cloudinit.c, prov_template.c). The cloud-init schema
 * check and a JSON parse run in tests/provision; this checks content. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "prov_cloudinit.h"

static struct prov_config cfg;

static int setup(void **state)
{
	char err[256];

	(void)state;
	prov_config_init(&cfg);
	if (prov_config_set(&cfg, "account", "acct1", err, sizeof(err)) ||
	    prov_config_set(&cfg, "share", "pool", err, sizeof(err)) ||
	    prov_config_set(&cfg, "options", "writeback_delay=5", err, sizeof(err)))
		return -1;
	return 0;
}

static void params(struct prov_ci_params *p)
{
	p->cfg = &cfg;
	p->account = "acct1";
	p->share = "pool";
	p->vault = "poolvault";
	p->secret = "storage-key";
	p->package = "azsharefs";
}

static void test_cloud_config(void **state)
{
	struct prov_ci_params p;
	struct prov_buf b;

	(void)state;
	params(&p);
	prov_buf_init(&b);
	assert_int_equal(prov_cloudinit_text(&p, &b), 0);
	assert_memory_equal(b.data, "#cloud-config\n", 14);
	assert_non_null(strstr(b.data, "packages:\n  - azsharefs\n"));
	assert_non_null(strstr(b.data, "  - path: /etc/azsharefs/pool.conf\n"));
	assert_non_null(strstr(b.data, "      account = acct1\n      share = pool\n"));
	assert_non_null(strstr(b.data, "      credentials = /run/azsharefs/credentials\n"));
	assert_non_null(strstr(b.data, "      options = writeback_delay=5\n"));
	assert_non_null(strstr(b.data, "/var/lib/cloud/scripts/per-boot/azsharefs-node\n"));
	assert_non_null(strstr(b.data, "    permissions: '0700'\n"));
	assert_non_null(strstr(b.data, "      vault='poolvault'\n"));
	assert_non_null(strstr(b.data, "      secret='storage-key'\n"));
	assert_non_null(strstr(b.data, "exec azsharefs-provision node\n"));
	/* The token goes to curl through stdin, not argv. */
	assert_non_null(strstr(b.data, "curl -sf --max-time 20 -K -"));
	assert_null(strstr(b.data, "-H \"Authorization"));
	/* Tabs are not valid YAML indentation. */
	assert_null(strchr(b.data, '\t'));
	assert_null(strstr(b.data, "AccountKey="));
	prov_buf_release(&b);
}

static void test_template(void **state)
{
	struct prov_ci_params p;
	struct prov_buf b;
	const char *vmss;
	const char *customdata;

	(void)state;
	params(&p);
	prov_buf_init(&b);
	assert_int_equal(prov_cloudinit_template(&p, &b), 0);
	assert_int_equal(b.data[0], '{');
	assert_non_null(strstr(b.data, "\"storageAccountName\": {\"type\": \"string\", "
				       "\"defaultValue\": \"acct1\"}"));
	assert_non_null(strstr(b.data, "\"keyVaultName\": {\"type\": \"string\", "
				       "\"defaultValue\": \"poolvault\""));
	/* The key goes into the vault, the VMs get an identity and the role. */
	assert_non_null(strstr(b.data, "\"type\": \"Microsoft.KeyVault/vaults/secrets\""));
	assert_non_null(strstr(b.data, "listKeys("));
	assert_non_null(strstr(b.data, "\"identity\": {\"type\": \"SystemAssigned\"}"));
	assert_non_null(strstr(b.data, "4633458b-17de-408a-b874-0445c86b69e6"));
	/* Nothing after the scale set resource carries the key: no extension,
	 * no commandToExecute, no settings. */
	vmss = strstr(b.data, "\"type\": \"Microsoft.Compute/virtualMachineScaleSets\"");
	assert_non_null(vmss);
	assert_null(strstr(vmss, "listKeys"));
	assert_null(strstr(b.data, "commandToExecute"));
	assert_null(strstr(b.data, "extensionProfile"));
	customdata = strstr(vmss, "\"customData\": \"[base64(variables('cloudInit'))]\"");
	assert_non_null(customdata);
	/* The embedded cloud-config uses placeholders the template replaces. */
	assert_non_null(strstr(b.data, "\"cloudInitTemplate\": \"#cloud-config\\n"));
	assert_non_null(strstr(b.data, "vault='@@KEY_VAULT@@'"));
	assert_non_null(strstr(b.data, "'@@KEY_VAULT@@', parameters('keyVaultName')"));
	prov_buf_release(&b);
}

static void test_json_string(void **state)
{
	struct prov_buf b;

	(void)state;
	prov_buf_init(&b);
	assert_int_equal(prov_json_string(&b, "a\"b\\c\nd\te"), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\u0009e\"");
	prov_buf_release(&b);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(prov_valid_vault_name("poolvault"));
	assert_true(prov_valid_vault_name("Pool-Vault-1"));
	assert_false(prov_valid_vault_name("1vault"));
	assert_false(prov_valid_vault_name("ab"));
	assert_false(prov_valid_vault_name("vault;rm"));
	assert_false(prov_valid_vault_name("a234567890123456789012345"));
	assert_true(prov_valid_secret_name("storage-key"));
	assert_false(prov_valid_secret_name(""));
	assert_false(prov_valid_secret_name("a'b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cloud_config),
	    cmocka_unit_test(test_template),
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
