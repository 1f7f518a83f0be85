/* prov_cloudinit.c: the #cloud-config a scale-set node boots with.
 *
 * Secret handling (the choice): user data is not a safe place for a key (any
 * process on the VM can read it back from the instance metadata service,
 * and it is kept in the VM model). So the storage key, a SAS or a whole
 * connection string sits in Key Vault, and a per-boot script asks the
 * instance metadata service for a token of the VM's managed identity, reads
 * the secret with it and writes it to a 0600 file under /run. The token is
 * handed to curl on stdin (-K -), the secret flows from curl to python on a
 * pipe: neither is ever on a command line. `azsharefs-provision node` then
 * installs it root-only for the mount. If Key Vault cannot be reached on a
 * later boot, the node keeps the credentials installed at an earlier boot.
 *
 * Owns no state. Single-threaded. The ARM template is prov_template.c.
 */
#include "prov_cloudinit.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "azsharefs/log.h"

#define CI_CREDS "/run/azsharefs/credentials"
#define CI_SCRIPT "/var/lib/cloud/scripts/per-boot/azsharefs-node"

int prov_valid_vault_name(const char *s)
{
	size_t len = strlen(s);
	size_t i;

	if (len < 3 || len > 24 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 0; i < len; i++) {
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	}
	return 1;
}

int prov_valid_secret_name(const char *s)
{
	size_t len = strlen(s);
	size_t i;

	if (len < 1 || len > 127)
		return 0;
	for (i = 0; i < len; i++) {
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	}
	return 1;
}

/* The pool config the node gets, every key explicit. */
static int pool_conf(const struct prov_ci_params *p, struct prov_buf *out)
{
	const struct prov_config *c = p->cfg;
	int rc;

	rc = prov_buf_addf(out,
			   "      # azsharefs pool config, written by cloud-init; no secret here\n"
			   "      account = %s\n"
			   "      share = %s\n"
			   "      credentials = " CI_CREDS "\n",
			   p->account, p->share);
	if (!rc && c->endpoint[0])
		rc = prov_buf_addf(out, "      endpoint = %s\n", c->endpoint);
	if (!rc && c->options[0])
		rc = prov_buf_addf(out, "      options = %s\n", c->options);
	if (!rc)
		rc = prov_buf_addf(out,
				   "      mountpoint = %s\n"
				   "      cache_dir = %s\n"
				   "      azsharefs = %s\n"
				   "      shell = %s\n"
				   "      home = %s\n"
				   "      uid_min = %lu\n"
				   "      uid_max = %lu\n"
				   "      lock_timeout = %lu\n"
				   "      mount_timeout = %lu\n",
				   c->mountpoint, c->cache_dir, c->azsharefs, c->shell, c->home,
				   c->uid_min, c->uid_max, c->lock_timeout, c->mount_timeout);
	return rc;
}

/* The per-boot script: fetch the secret, then run `node`. */
static int boot_script(const struct prov_ci_params *p, struct prov_buf *out)
{
	int rc;

	rc = prov_buf_addf(
	    out,
	    "      #!/bin/sh\n"
	    "      # Runs at first boot and at every boot after (cloud-init "
	    "scripts-per-boot).\n"
	    "      # Fetches the storage credentials from Key Vault with this VM's\n"
	    "      # managed identity into a root-only file, then provisions the node.\n"
	    "      set -u\n"
	    "      umask 077\n"
	    "      vault='%s'\n"
	    "      secret='%s'\n"
	    "      conn=/etc/azsharefs/%s.conn\n",
	    p->vault, p->secret, p->share);
	if (rc)
		return rc;
	return prov_buf_add(
	    out,
	    "      creds=" CI_CREDS "\n"
	    "      imds='http://169.254.169.254/metadata/identity/oauth2/token"
	    "?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net'\n"
	    "      mkdir -p /run/azsharefs\n"
	    "      fetch() {\n"
	    "        token=$(curl -sf --max-time 10 -H Metadata:true \"$imds\" |\n"
	    "          python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
	    ") || return 1\n"
	    "        # The token reaches curl on stdin (-K -), never on a command line.\n"
	    "        printf 'header = \"Authorization: Bearer %s\"\\n' \"$token\" |\n"
	    "          curl -sf --max-time 20 -K - \\\n"
	    "            \"https://$vault.vault.azure.net/secrets/$secret?api-version=7.4\" |\n"
	    "          python3 -c 'import json, os, sys\n"
	    "      v = json.load(sys.stdin)[\"value\"].strip()\n"
	    "      fd = os.open(sys.argv[1] + \".tmp\", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "
	    "0o600)\n"
	    "      os.write(fd, (v + \"\\n\").encode())\n"
	    "      os.close(fd)\n"
	    "      os.replace(sys.argv[1] + \".tmp\", sys.argv[1])' \"$creds\"\n"
	    "      }\n"
	    "      i=0\n"
	    "      until fetch; do\n"
	    "        i=$((i + 1))\n"
	    "        if [ \"$i\" -ge 60 ]; then\n"
	    "          echo \"azsharefs: cannot read secret $secret from Key Vault $vault\" >&2\n"
	    "          break\n"
	    "        fi\n"
	    "        sleep 10\n"
	    "      done\n"
	    "      unset token\n"
	    "      if [ -s \"$creds\" ]; then\n"
	    "        exec azsharefs-provision node\n"
	    "      fi\n"
	    "      # Key Vault unreachable: keep the credentials installed at an earlier boot.\n"
	    "      exec azsharefs-provision node --set credentials=\"$conn\"\n");
}

int prov_cloudinit_text(const struct prov_ci_params *p, struct prov_buf *out)
{
	int rc;

	rc = prov_buf_addf(out,
			   "#cloud-config\n"
			   "# azsharefs pool node, generated by azsharefs-provision cloud-init.\n"
			   "# No secret in here: user data can be read back by any process on the\n"
			   "# VM. The storage key is Key Vault secret '%s' in vault '%s', fetched\n"
			   "# at every boot with the VM's managed identity (give it the role\n"
			   "# \"Key Vault Secrets User\" on the vault).\n"
			   "package_update: true\n"
			   "packages:\n"
			   "  - %s\n"
			   "  - curl\n"
			   "  - python3\n"
			   "write_files:\n"
			   "  - path: /etc/azsharefs/pool.conf\n"
			   "    owner: root:root\n"
			   "    permissions: '0644'\n"
			   "    content: |\n",
			   p->secret, p->vault, p->package);
	if (!rc)
		rc = pool_conf(p, out);
	if (!rc)
		rc = prov_buf_add(out, "  - path: " CI_SCRIPT "\n"
				       "    owner: root:root\n"
				       "    permissions: '0700'\n"
				       "    content: |\n");
	if (!rc)
		rc = boot_script(p, out);
	return rc;
}

int prov_json_string(struct prov_buf *out, const char *s)
{
	int rc = prov_buf_add(out, "\"");

	for (; !rc && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = prov_buf_addf(out, "\\%c", c);
		else if (c == '\n')
			rc = prov_buf_add(out, "\\n");
		else if (c < 0x20)
			rc = prov_buf_addf(out, "\\u%04x", c);
		else
			rc = prov_buf_addn(out, (const char *)&c, 1);
	}
	if (!rc)
		rc = prov_buf_add(out, "\"");
	return rc;
}

static int check_ci_opts(const struct prov_ci_opts *ci)
{
	if (!ci->vault || !prov_valid_vault_name(ci->vault)) {
		az_err("--key-vault '%s': expected the Key Vault name (3-24 of letters, digits and "
		       "'-', starting with a letter) that holds the storage key",
		       ci->vault ? ci->vault : "");
		return -EINVAL;
	}
	if (!prov_valid_secret_name(ci->secret)) {
		az_err("--key-secret '%s': expected a secret name (letters, digits and '-')",
		       ci->secret);
		return -EINVAL;
	}
	if (!prov_valid_username(ci->package)) {
		az_err("--package '%s' is not a package name", ci->package);
		return -EINVAL;
	}
	return 0;
}

int prov_cmd_cloud_init(const struct prov_common_opts *o, const struct prov_ci_opts *ci)
{
	struct prov_ci_params p;
	struct prov_ctx ctx;
	struct prov_buf out;
	int rc;

	prov_buf_init(&out);
	rc = check_ci_opts(ci);
	if (!rc)
		rc = prov_ctx_load(&ctx, o);
	if (rc)
		goto done;
	p.cfg = &ctx.cfg;
	p.account = ctx.cfg.account;
	p.share = ctx.cfg.share;
	p.vault = ci->vault;
	p.secret = ci->secret;
	p.package = ci->package;
	rc = ci->template ? prov_cloudinit_template(&p, &out) : prov_cloudinit_text(&p, &out);
	if (rc) {
		az_err("cannot generate the %s: %s", ci->template ? "template" : "cloud-config",
		       strerror(-rc));
		goto done;
	}
	fputs(prov_buf_str(&out), stdout);
	if (fflush(stdout) != 0)
		rc = -EIO;
done:
	prov_buf_release(&out);
	return rc;
}
