/* azcli_ops.c: the operations of azsf-cli, one small function each, all
 * through the public client API (include/azsharefs/client.h). Stateless;
 * safe on the batch threads (output goes to the FILE given).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azcli.h"

typedef int (*op_fn)(struct az_client *c, const struct cli_args *a, FILE *o);

static int need(const struct cli_args *a, int npos)
{
	return a->npos == npos + 1 ? 0 : -EINVAL;
}

static int parse_time(const char *s, struct timespec *t)
{
	char *end = NULL;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || *end || d < 0)
		return -EINVAL;
	t->tv_sec = (time_t)d;
	t->tv_nsec = 0;
	if (strchr(s, '.')) {
		const char *f = strchr(s, '.') + 1;
		long ns = 0;
		int digits = 0;

		for (; *f && digits < 9; f++, digits++)
			ns = ns * 10 + (*f - '0');
		for (; digits < 9; digits++)
			ns *= 10;
		t->tv_nsec = ns;
	}
	return 0;
}

static int smb_opts(const struct cli_args *a, struct az_smb *smb)
{
	const char *v;
	long long n;

	memset(smb, 0, sizeof(*smb));
	smb->perm_key = cli_opt(a, "perm-key");
	smb->perm_sddl = cli_opt(a, "perm-sddl");
	v = cli_opt(a, "attrs");
	if (v) {
		if (cli_num(v, &n) < 0)
			return -EINVAL;
		smb->set_attrs = 1;
		smb->attrs = (uint32_t)n;
	}
	v = cli_opt(a, "mtime");
	if (v && parse_time(v, &smb->mtime) < 0)
		return -EINVAL;
	smb->set_mtime = v != NULL;
	v = cli_opt(a, "btime");
	if (v && parse_time(v, &smb->btime) < 0)
		return -EINVAL;
	smb->set_btime = v != NULL;
	v = cli_opt(a, "ctime");
	if (v && parse_time(v, &smb->ctime) < 0)
		return -EINVAL;
	smb->set_ctime = v != NULL;
	return 0;
}

static int read_local(const char *path, char **buf, size_t *len)
{
	struct stat sb;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	*buf = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto out;
	}
	*len = (size_t)sb.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		rc = -ENOMEM;
		goto out;
	}
	while (done < *len) {
		ssize_t n = read(fd, *buf + done, *len - done);

		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto out;
		}
		done += (size_t)n;
	}
out:
	close(fd);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* ---- share and permissions ---- */

static int op_share_create(struct az_client *c, const struct cli_args *a, FILE *o)
{
	long long q = 0;

	if (a->npos > 2 || (a->npos == 2 && cli_num(a->pos[1], &q) < 0))
		return -EINVAL;
	(void)o;
	return az_share_create(c, (uint64_t)q);
}

static int op_share_props(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_share_props p;
	int rc = need(a, 0);

	if (rc == 0)
		rc = az_share_get_props(c, &p);
	if (rc == 0) {
		fprintf(o, "{\"quota_gib\": %llu, \"etag\": ", (unsigned long long)p.quota_gib);
		cli_json_str(o, p.etag);
		fputs("}\n", o);
	}
	return rc;
}

static int op_share_usage(struct az_client *c, const struct cli_args *a, FILE *o)
{
	uint64_t u = 0;
	int rc = need(a, 0);

	if (rc == 0)
		rc = az_share_get_usage(c, &u);
	if (rc == 0)
		fprintf(o, "{\"usage_bytes\": %llu}\n", (unsigned long long)u);
	return rc;
}

static int op_share_delete(struct az_client *c, const struct cli_args *a, FILE *o)
{
	(void)o;
	return need(a, 0) ? -EINVAL : az_share_delete(c);
}

static int op_perm_create(struct az_client *c, const struct cli_args *a, FILE *o)
{
	char key[AZ_PERMKEY_MAX];
	int rc = need(a, 1);

	if (rc == 0)
		rc = az_perm_create(c, a->pos[1], key);
	if (rc == 0) {
		fputs("{\"key\": ", o);
		cli_json_str(o, key);
		fputs("}\n", o);
	}
	return rc;
}

static int op_perm_get(struct az_client *c, const struct cli_args *a, FILE *o)
{
	char *sddl = NULL;
	int rc = need(a, 1);

	if (rc == 0)
		rc = az_perm_get(c, a->pos[1], &sddl);
	if (rc == 0) {
		fputs("{\"sddl\": ", o);
		cli_json_str(o, sddl);
		fputs("}\n", o);
	}
	free(sddl);
	return rc;
}

/* ---- directories ---- */

/* PATH [SMB] -> fn (create or set properties) -> the entry's stat. */
static int op_dir_smb(struct az_client *c, const struct cli_args *a, FILE *o,
		      int (*fn)(struct az_client *, const char *, const struct az_smb *,
				struct az_stat *))
{
	struct az_smb smb;
	struct az_stat st;
	int rc = need(a, 1);

	if (rc == 0)
		rc = smb_opts(a, &smb);
	if (rc == 0)
		rc = fn(c, a->pos[1], &smb, &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	return rc;
}

static int op_mkdir(struct az_client *c, const struct cli_args *a, FILE *o)
{
	return op_dir_smb(c, a, o, az_dir_create);
}

static int op_dir_props(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_stat st;
	int rc = need(a, 1);

	if (rc == 0)
		rc = az_dir_get_props(c, a->pos[1], &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	return rc;
}

static int op_dir_set(struct az_client *c, const struct cli_args *a, FILE *o)
{
	return op_dir_smb(c, a, o, az_dir_set_props);
}

static int op_rmdir(struct az_client *c, const struct cli_args *a, FILE *o)
{
	(void)o;
	return need(a, 1) ? -EINVAL : az_dir_delete(c, a->pos[1]);
}

/* NAME=VALUE words from pos[2] on -> a NULL-terminated kv array. */
static int meta_kv(const struct cli_args *a, char **copy, const char **kv)
{
	int p = 0;

	for (int i = 2; i < a->npos; i++, p++) {
		char *eq;

		copy[p] = strdup(a->pos[i]);
		if (!copy[p])
			return -ENOMEM;
		eq = strchr(copy[p], '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		kv[2 * p] = copy[p];
		kv[2 * p + 1] = eq + 1;
	}
	kv[2 * p] = NULL;
	return 0;
}

static int op_meta(struct az_client *c, const struct cli_args *a, FILE *o, int dir)
{
	char *copy[CLI_MAX_POS] = {0};
	const char *kv[2 * CLI_MAX_POS + 1];
	int rc = a->npos >= 2 ? meta_kv(a, copy, kv) : -EINVAL;

	(void)o;
	if (rc == 0 && dir)
		rc = az_dir_set_metadata(c, a->pos[1], kv);
	else if (rc == 0)
		rc = az_file_set_metadata(c, a->pos[1], kv, cli_opt(a, "lease"));
	for (int i = 0; i < CLI_MAX_POS; i++)
		free(copy[i]);
	return rc;
}

static int op_dir_meta(struct az_client *c, const struct cli_args *a, FILE *o)
{
	return op_meta(c, a, o, 1);
}

static int op_file_meta(struct az_client *c, const struct cli_args *a, FILE *o)
{
	return op_meta(c, a, o, 0);
}

static int list_cb(void *arg, const char *name, const struct az_stat *st)
{
	cli_stat_out(arg, name, st);
	return 0;
}

static int op_ls(struct az_client *c, const struct cli_args *a, FILE *o)
{
	long long max = 0;

	if (a->npos > 2 || (cli_opt(a, "max") && cli_num(cli_opt(a, "max"), &max) < 0))
		return -EINVAL;
	return az_dir_list(c, a->npos == 2 ? a->pos[1] : "", cli_opt(a, "prefix"), (int)max,
			   list_cb, o);
}

/* ---- files ---- */

static int op_create(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_smb smb;
	struct az_stat st;
	const char *bf = cli_opt(a, "body-file");
	char *body = NULL;
	size_t blen = 0;
	long long size = 0;
	int rc = need(a, 2);

	if (rc == 0 && (cli_num(a->pos[2], &size) < 0 || size < 0))
		rc = -EINVAL;
	if (rc == 0)
		rc = smb_opts(a, &smb);
	if (rc == 0 && bf)
		rc = read_local(bf, &body, &blen);
	if (rc == 0)
		rc = az_file_create(c, a->pos[1], (uint64_t)size, body, blen, &smb,
				    cli_opt(a, "lease"), &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	free(body);
	return rc;
}

static int op_props(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_stat st;
	int rc = need(a, 1);

	if (rc == 0)
		rc = az_file_get_props(c, a->pos[1], &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int op_read(struct az_client *c, const struct cli_args *a, FILE *o)
{
	const char *out = cli_opt(a, "out");
	struct az_stat st;
	long long off = 0, len = 0;
	size_t got = 0;
	char *buf = NULL;
	int fd, rc = need(a, 3);

	if (rc == 0 && (cli_num(a->pos[2], &off) < 0 || cli_num(a->pos[3], &len) < 0 || off < 0 ||
			len < 0 || len > (1LL << 30)))
		rc = -EINVAL;
	if (rc == 0) {
		buf = malloc(len ? (size_t)len : 1);
		if (!buf)
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = az_file_read(c, a->pos[1], (uint64_t)off, (size_t)len, buf, &got, &st);
	if (rc == 0 && out) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		rc = fd < 0 ? -errno : write_all(fd, buf, got);
		if (fd >= 0)
			close(fd);
		if (rc == 0)
			fprintf(o, "{\"got\": %zu, \"size\": %llu}\n", got,
				(unsigned long long)st.size);
	} else if (rc == 0) {
		fwrite(buf, 1, got, o);
	}
	free(buf);
	return rc;
}

static int op_download(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_stat st;
	int fd, rc = need(a, 2);

	if (rc < 0)
		return rc;
	fd = open(a->pos[2], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = az_file_download(c, a->pos[1], fd, &st);
	close(fd);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	return rc;
}

/* --known-size N: the size the caller knows, for replies that lack one. */
static int known_size(const struct cli_args *a, struct az_stat *st)
{
	long long n = 0;

	memset(st, 0, sizeof(*st));
	if (cli_opt(a, "known-size") && (cli_num(cli_opt(a, "known-size"), &n) < 0 || n < 0))
		return -EINVAL;
	st->size = (uint64_t)n;
	return 0;
}

static int op_put_range(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_stat st;
	unsigned flags = cli_opt(a, "keep-mtime") ? AZ_PUT_KEEP_MTIME : 0;
	char *buf = NULL;
	size_t len = 0;
	long long off = 0;
	int rc = need(a, 3);

	if (rc == 0 && (cli_num(a->pos[2], &off) < 0 || off < 0))
		rc = -EINVAL;
	if (rc == 0)
		rc = known_size(a, &st);
	if (rc == 0)
		rc = read_local(a->pos[3], &buf, &len);
	if (rc == 0)
		rc = az_file_put_range_ex(c, a->pos[1], (uint64_t)off, buf, len,
					  cli_opt(a, "lease"), flags, &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	free(buf);
	return rc;
}

static int op_clear_range(struct az_client *c, const struct cli_args *a, FILE *o)
{
	long long off = 0, len = 0;

	(void)o;
	if (need(a, 3) < 0 || cli_num(a->pos[2], &off) < 0 || cli_num(a->pos[3], &len) < 0 ||
	    off < 0 || len < 0)
		return -EINVAL;
	return az_file_clear_range(c, a->pos[1], (uint64_t)off, (uint64_t)len, cli_opt(a, "lease"));
}

static int op_set_props(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_smb smb;
	struct az_stat st;
	long long size = -1;
	int rc = need(a, 1);

	if (rc == 0 && cli_opt(a, "size") && cli_num(cli_opt(a, "size"), &size) < 0)
		rc = -EINVAL;
	if (rc == 0)
		rc = smb_opts(a, &smb);
	if (rc == 0)
		rc = known_size(a, &st);
	if (rc == 0)
		rc = az_file_set_props(c, a->pos[1], size, &smb, cli_opt(a, "lease"), &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	return rc;
}

static int op_rm(struct az_client *c, const struct cli_args *a, FILE *o)
{
	(void)o;
	return need(a, 1) ? -EINVAL : az_file_delete(c, a->pos[1], cli_opt(a, "lease"));
}

static int op_ranges(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_range *r = NULL;
	size_t n = 0;
	int rc = need(a, 1);

	if (rc == 0)
		rc = az_file_list_ranges(c, a->pos[1], &r, &n);
	if (rc == 0) {
		fputs("{\"ranges\": [", o);
		for (size_t i = 0; i < n; i++)
			fprintf(o, "%s[%llu, %llu]", i ? ", " : "", (unsigned long long)r[i].start,
				(unsigned long long)r[i].end);
		fputs("]}\n", o);
	}
	free(r);
	return rc;
}

static int op_rename(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_stat st;
	int rc = need(a, 2);

	if (rc == 0)
		rc = known_size(a, &st);
	if (rc == 0)
		rc = az_rename_ex(c, a->pos[1], a->pos[2], cli_opt(a, "dir") != NULL,
				  cli_opt(a, "replace") != NULL, cli_opt(a, "src-lease"),
				  cli_opt(a, "dst-lease"), &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	return rc;
}

static int op_lease(struct az_client *c, const struct cli_args *a, FILE *o)
{
	static const char *const names[] = {"acquire", "release", "change", "break"};
	char out[AZ_LEASE_ID_MAX] = "";
	int act = -1, rc;

	if (need(a, 2) < 0)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (strcmp(a->pos[2], names[i]) == 0)
			act = i;
	}
	if (act < 0)
		return -EINVAL;
	rc = az_file_lease(c, a->pos[1], (enum az_lease_action)act, cli_opt(a, "lease"),
			   cli_opt(a, "proposed"), out);
	if (rc == 0) {
		fputs("{\"lease\": ", o);
		cli_json_str(o, out);
		fputs("}\n", o);
	}
	return rc;
}

/* The backend's publishing scheme: one create with body up to 4 MiB,
 * otherwise create + 4 MiB put ranges (last-write time kept when given). */
static int op_upload(struct az_client *c, const struct cli_args *a, FILE *o)
{
	struct az_smb smb;
	struct az_stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc = need(a, 2);

	if (rc == 0)
		rc = smb_opts(a, &smb);
	if (rc == 0)
		rc = read_local(a->pos[1], &buf, &len);
	if (rc == 0 && len <= AZ_MAX_RANGE)
		rc = az_file_create(c, a->pos[2], len, buf, len, &smb, NULL, &st);
	else if (rc == 0)
		rc = az_file_create(c, a->pos[2], len, NULL, 0, &smb, NULL, NULL);
	for (size_t off = 0; rc == 0 && len > AZ_MAX_RANGE && off < len; off += AZ_MAX_RANGE) {
		size_t n = len - off < AZ_MAX_RANGE ? len - off : AZ_MAX_RANGE;

		rc = az_file_put_range_ex(c, a->pos[2], off, buf + off, n, NULL,
					  smb.set_mtime ? AZ_PUT_KEEP_MTIME : 0, NULL);
	}
	if (rc == 0 && len > AZ_MAX_RANGE)
		rc = az_file_get_props(c, a->pos[2], &st);
	if (rc == 0)
		cli_stat_out(o, NULL, &st);
	free(buf);
	return rc;
}

static const struct {
	const char *name;
	op_fn fn;
	const char *usage;
} ops[] = {
    {"share-create", op_share_create, "[QUOTA_GIB]"},
    {"share-props", op_share_props, ""},
    {"share-usage", op_share_usage, ""},
    {"share-delete", op_share_delete, ""},
    {"perm-create", op_perm_create, "SDDL"},
    {"perm-get", op_perm_get, "KEY"},
    {"mkdir", op_mkdir, "PATH [SMB]"},
    {"dir-props", op_dir_props, "PATH"},
    {"dir-set", op_dir_set, "PATH [SMB]"},
    {"rmdir", op_rmdir, "PATH"},
    {"dir-meta", op_dir_meta, "PATH NAME=VALUE..."},
    {"ls", op_ls, "[PATH] [--prefix P] [--max N]"},
    {"create", op_create, "PATH SIZE [--body-file F] [--lease ID] [SMB]"},
    {"props", op_props, "PATH"},
    {"read", op_read, "PATH OFF LEN [--out FILE]"},
    {"download", op_download, "PATH LOCAL"},
    {"put-range", op_put_range, "PATH OFF LOCAL [--lease ID] [--keep-mtime] [--known-size N]"},
    {"clear-range", op_clear_range, "PATH OFF LEN [--lease ID]"},
    {"set-props", op_set_props, "PATH [--size N] [--known-size N] [--lease ID] [SMB]"},
    {"file-meta", op_file_meta, "PATH NAME=VALUE... [--lease ID]"},
    {"rm", op_rm, "PATH [--lease ID]"},
    {"ranges", op_ranges, "PATH"},
    {"rename", op_rename,
     "SRC DST [--dir] [--replace] [--src-lease ID] [--dst-lease ID] [--known-size N]"},
    {"lease", op_lease, "PATH acquire|release|change|break [--lease ID] [--proposed ID]"},
    {"upload", op_upload, "LOCAL PATH [SMB]"},
};

void cli_usage(FILE *o)
{
	fputs("usage: azsf-cli --conn-file F --share S [--ca-file F] [--max-conns N]\n"
	      "       [--retry-budget-ms N] [--op-timeout-ms N] [--connect-timeout-ms N]\n"
	      "       [--stats] [--quiet] [-v] OP ARGS...\n"
	      "SMB options: --perm-key K --perm-sddl S --attrs BITS --mtime|--btime|--ctime "
	      "SECS[.NANOS]\noperations:\n",
	      o);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		fprintf(o, "  %s %s\n", ops[i].name, ops[i].usage);
	fputs("  batch [--jobs N]   (one operation per stdin line)\n", o);
}

int cli_run_op(struct az_client *c, int argc, char **argv, FILE *o)
{
	struct cli_args a;
	int rc = cli_args_parse(&a, argc, argv);

	if (rc < 0 || a.npos < 1)
		return -EINVAL;
	if (strcmp(a.pos[0], "batch") == 0)
		return cli_batch(c, &a);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(a.pos[0], ops[i].name) == 0)
			return ops[i].fn(c, &a, o);
	}
	fprintf(stderr, "azsf-cli: unknown operation '%s'\n", a.pos[0]);
	return -EINVAL;
}
