/* prov_cloudinit.h: user data and an ARM template for a scale set whose
 * nodes provision themselves. No secret ever appears in either: the storage
 * key lives in Key Vault and each VM fetches it at boot with its managed
 * identity. */
#ifndef PROV_CLOUDINIT_H
#define PROV_CLOUDINIT_H

#include "prov.h"
#include "prov_config.h"
#include "prov_util.h"

struct prov_ci_params {
	const struct prov_config *cfg; /* mountpoint, cache_dir, options, users */
	const char *account;	       /* storage account (or a template placeholder) */
	const char *share;	       /* share name (or a template placeholder) */
	const char *vault;	       /* Key Vault holding the secret */
	const char *secret;	       /* secret name: a key, SAS or connection string */
	const char *package;	       /* package that ships azsharefs */
};

/* The #cloud-config text (appended to out). */
int prov_cloudinit_text(const struct prov_ci_params *p, struct prov_buf *out);

/* An ARM template (JSON) for a VM scale set whose customData is the
 * cloud-config above, with account, share, vault and secret as template
 * parameters. */
int prov_cloudinit_template(const struct prov_ci_params *p, struct prov_buf *out);

/* Appends s as a JSON string literal (with quotes). */
int prov_json_string(struct prov_buf *out, const char *s);

/* Key Vault names: 3-24 of [A-Za-z0-9-], starting with a letter. */
int prov_valid_vault_name(const char *s);
/* Key Vault secret names: 1-127 of [A-Za-z0-9-]. */
int prov_valid_secret_name(const char *s);

struct prov_ci_opts {
	const char *vault;
	const char *secret;
	const char *package;
	int template;
};

/* `azsharefs-provision cloud-init`: prints the cloud-config or, with
 * --template, the ARM template. */
int prov_cmd_cloud_init(const struct prov_common_opts *o, const struct prov_ci_opts *ci);

#endif
