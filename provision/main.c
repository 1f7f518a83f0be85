/* main.c: azsharefs-provision, command-line parsing and dispatch.
 *
 * Owns nothing beyond argv parsing. Single-threaded. Exit status: 0 done,
 * 1 failed (the error was printed), 2 bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "azsharefs/log.h"
#include "prov.h"
#include "prov_cloudinit.h"
#include "prov_cmd.h"

static const char usage_text[] =
    "usage: azsharefs-provision SUBCOMMAND [OPTIONS]\n"
    "  node                      set this node up: credentials, systemd units, mount, users\n"
    "  add-user NAME [--uid N] [--ssh-key FILE]... [--groups G1,G2] [--shell PATH]\n"
    "                            add a user to the pool (every node), and here\n"
    "  remove-user NAME [--purge]\n"
    "                            lock the user on every node; --purge deletes its notebooks\n"
    "  sync-users                make this node's users match the pool roster\n"
    "  cloud-init --key-vault NAME [--key-secret NAME] [--package NAME] [--template]\n"
    "                            print the #cloud-config (or an ARM template) for a scale set\n"
    "options of every subcommand:\n"
    "  --config FILE             pool config (default ROOT/etc/azsharefs/pool.conf)\n"
    "  --root DIR                work on the scratch tree DIR instead of /\n"
    "  --mountpoint DIR          the share is mounted at DIR on this machine (overrides)\n"
    "  --no-mount                DIR is a plain directory standing in for the share\n"
    "  --set KEY=VALUE           override one key of the pool config\n"
    "  -h, --help                this text\n";

enum {
	OPT_ROOT = 256,
	OPT_CONFIG,
	OPT_MOUNTPOINT,
	OPT_NO_MOUNT,
	OPT_SET,
	OPT_UID,
	OPT_SSH_KEY,
	OPT_GROUPS,
	OPT_SHELL,
	OPT_PURGE,
	OPT_VAULT,
	OPT_SECRET,
	OPT_PACKAGE,
	OPT_TEMPLATE,
};

static const struct option long_opts[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"mountpoint", required_argument, NULL, OPT_MOUNTPOINT},
    {"no-mount", no_argument, NULL, OPT_NO_MOUNT},
    {"set", required_argument, NULL, OPT_SET},
    {"uid", required_argument, NULL, OPT_UID},
    {"ssh-key", required_argument, NULL, OPT_SSH_KEY},
    {"groups", required_argument, NULL, OPT_GROUPS},
    {"shell", required_argument, NULL, OPT_SHELL},
    {"purge", no_argument, NULL, OPT_PURGE},
    {"key-vault", required_argument, NULL, OPT_VAULT},
    {"key-secret", required_argument, NULL, OPT_SECRET},
    {"package", required_argument, NULL, OPT_PACKAGE},
    {"template", no_argument, NULL, OPT_TEMPLATE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct args {
	const char *cmd;
	struct prov_common_opts common;
	struct prov_add_opts add;
	struct prov_ci_opts ci;
	int purge;
	const char *positional[4];
	int npositional;
	unsigned allowed; /* bit per option id - OPT_ROOT that the subcommand takes */
};

#define BIT(o) (1u << ((o)-OPT_ROOT))
#define COMMON_BITS                                                                                \
	(BIT(OPT_ROOT) | BIT(OPT_CONFIG) | BIT(OPT_MOUNTPOINT) | BIT(OPT_NO_MOUNT) | BIT(OPT_SET))

static unsigned allowed_for(const char *cmd, int *npos)
{
	*npos = 0;
	if (!strcmp(cmd, "node") || !strcmp(cmd, "sync-users"))
		return COMMON_BITS;
	*npos = 1;
	if (!strcmp(cmd, "add-user"))
		return COMMON_BITS | BIT(OPT_UID) | BIT(OPT_SSH_KEY) | BIT(OPT_GROUPS) |
		       BIT(OPT_SHELL);
	if (!strcmp(cmd, "remove-user"))
		return COMMON_BITS | BIT(OPT_PURGE);
	*npos = 0;
	if (!strcmp(cmd, "cloud-init"))
		return COMMON_BITS | BIT(OPT_VAULT) | BIT(OPT_SECRET) | BIT(OPT_PACKAGE) |
		       BIT(OPT_TEMPLATE);
	return 0;
}

static int take_common(struct args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_ROOT:
		a->common.root = arg;
		return 0;
	case OPT_CONFIG:
		a->common.config = arg;
		return 0;
	case OPT_MOUNTPOINT:
		a->common.mountpoint = arg;
		return 0;
	case OPT_NO_MOUNT:
		a->common.no_mount = 1;
		return 0;
	case OPT_SET:
		if (a->common.nsets >= sizeof(a->common.sets) / sizeof(a->common.sets[0]))
			return -1;
		a->common.sets[a->common.nsets++] = arg;
		return 0;
	default:
		return 1;
	}
}

static int take_opt(struct args *a, int c, const char *arg)
{
	int rc = take_common(a, c, arg);

	if (rc <= 0)
		return rc;
	switch (c) {
	case OPT_UID:
		a->add.uid = arg;
		break;
	case OPT_SSH_KEY:
		if (a->add.nkeys >= sizeof(a->add.ssh_keys) / sizeof(a->add.ssh_keys[0]))
			return -1;
		a->add.ssh_keys[a->add.nkeys++] = arg;
		break;
	case OPT_GROUPS:
		a->add.groups = arg;
		break;
	case OPT_SHELL:
		a->add.shell = arg;
		break;
	case OPT_PURGE:
		a->purge = 1;
		break;
	case OPT_VAULT:
		a->ci.vault = arg;
		break;
	case OPT_SECRET:
		a->ci.secret = arg;
		break;
	case OPT_PACKAGE:
		a->ci.package = arg;
		break;
	case OPT_TEMPLATE:
		a->ci.template = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

static const char *opt_name(int c)
{
	size_t i;

	for (i = 0; long_opts[i].name; i++) {
		if (long_opts[i].val == c)
			return long_opts[i].name;
	}
	return "?";
}

/* 0 parsed, 1 help shown, -1 usage error (printed). */
static int parse(int argc, char **argv, struct args *a)
{
	int want_pos;
	int c;

	memset(a, 0, sizeof(*a));
	a->ci.secret = "azsharefs-storage-key";
	a->ci.package = "azsharefs";
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? -1 : 1;
	}
	a->cmd = argv[1];
	a->allowed = allowed_for(a->cmd, &want_pos);
	if (!a->allowed) {
		az_err("unknown subcommand '%s' (expected node, add-user, remove-user, "
		       "sync-users or cloud-init)",
		       a->cmd);
		return -1;
	}
	optind = 1;
	for (;;) {
		c = getopt_long(argc - 1, argv + 1, "h", long_opts, NULL);
		if (c == -1)
			break;
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (c == '?' || c < OPT_ROOT || !(a->allowed & BIT(c)) ||
		    take_opt(a, c, optarg) != 0) {
			if (c != '?')
				az_err("%s: option '--%s' is not valid here (or given too often)",
				       a->cmd, opt_name(c));
			fputs(usage_text, stderr);
			return -1;
		}
	}
	while (optind < argc - 1 && a->npositional < 4)
		a->positional[a->npositional++] = argv[1 + optind++];
	if (a->npositional != want_pos) {
		az_err("%s: expected %s", a->cmd, want_pos ? "one user NAME" : "no arguments");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	int rc;

	az_log_init("azsharefs-provision", 1, AZ_LOG_INFO);
	rc = parse(argc, argv, &a);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (!strcmp(a.cmd, "node")) {
		rc = prov_cmd_node(&a.common);
	} else if (!strcmp(a.cmd, "add-user")) {
		a.add.name = a.positional[0];
		rc = prov_cmd_add_user(&a.common, &a.add);
	} else if (!strcmp(a.cmd, "remove-user")) {
		rc = prov_cmd_remove_user(&a.common, a.positional[0], a.purge);
	} else if (!strcmp(a.cmd, "sync-users")) {
		rc = prov_cmd_sync_users(&a.common);
	} else {
		rc = prov_cmd_cloud_init(&a.common, &a.ci);
	}
	return rc ? 1 : 0;
}
