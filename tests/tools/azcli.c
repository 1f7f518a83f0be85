/* azcli.c: azsf-cli, a command-line driver of every REST client operation
 * (include/azsharefs/client.h), for the integration tests and for poking a
 * share by hand.
 *
 *   azsf-cli --conn-file F --share S [--ca-file F] [--max-conns N]
 *            [--retry-budget-ms N] [--op-timeout-ms N] [--connect-timeout-ms N]
 *            [--stats] [-v] OP ARGS...
 *
 * Results are printed one JSON object per line (stat fields, keys, ...);
 * failures print "azsf-cli: OP: message" on stderr and the exit status is
 * the errno (EACCES = 13, ENOENT = 2, ...). `batch [--jobs N]` reads one
 * OP ARGS line per stdin line (words split on blanks, "double quotes" group)
 * and runs them on N threads sharing one client; each result is one line
 * {"line": i, "rc": -errno|0, "out": "..."}. --stats prints the client's
 * request/retry counters on stderr at exit. Run `azsf-cli help` for the
 * operations.
 *
 * Threads: batch workers share the client (thread-safe) and take lines by an
 * atomic index; output lines are written under out_lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azcli.h"
#include "azsharefs/client.h"
#include "azsharefs/log.h"

#define MAX_WORDS 32

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- arguments ---- */

static const char *const flag_names[] = {"--dir", "--replace", "--keep-mtime", NULL};

static int is_flag(const char *s)
{
	for (int i = 0; flag_names[i]; i++) {
		if (strcmp(s, flag_names[i]) == 0)
			return 1;
	}
	return 0;
}

int cli_args_parse(struct cli_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0 || strcmp(argv[i], "--") == 0) {
			if (a->npos >= CLI_MAX_POS)
				return -E2BIG;
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (a->nopt >= CLI_MAX_OPT)
			return -E2BIG;
		a->opt[a->nopt].name = argv[i] + 2;
		if (is_flag(argv[i])) {
			a->opt[a->nopt++].value = "1";
			continue;
		}
		if (i + 1 >= argc)
			return -EINVAL;
		a->opt[a->nopt++].value = argv[++i];
	}
	return 0;
}

const char *cli_opt(const struct cli_args *a, const char *name)
{
	for (int i = a->nopt - 1; i >= 0; i--) {
		if (strcmp(a->opt[i].name, name) == 0)
			return a->opt[i].value;
	}
	return NULL;
}

int cli_num(const char *s, long long *out)
{
	char *end = NULL;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

/* ---- output ---- */

void cli_json_str(FILE *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', o);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(o, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(o, "\\u%04x", *p);
		else
			fputc(*p, o);
	}
	fputc('"', o);
}

static void ts_out(FILE *o, const char *name, const struct timespec *t)
{
	fprintf(o, ", \"%s\": %lld.%09ld", name, (long long)t->tv_sec, t->tv_nsec);
}

void cli_stat_out(FILE *o, const char *name, const struct az_stat *st)
{
	fputc('{', o);
	if (name) {
		fputs("\"name\": ", o);
		cli_json_str(o, name);
		fputs(", ", o);
	}
	fprintf(o, "\"is_dir\": %d, \"size\": %llu, \"etag\": ", st->is_dir,
		(unsigned long long)st->size);
	cli_json_str(o, st->etag);
	fputs(", \"perm_key\": ", o);
	cli_json_str(o, st->perm_key);
	fprintf(o, ", \"attrs\": %u, \"file_id\": %llu", st->attrs,
		(unsigned long long)st->file_id);
	ts_out(o, "mtime", &st->mtime);
	ts_out(o, "ctime", &st->ctime);
	ts_out(o, "btime", &st->btime);
	fputs("}\n", o);
}

/* ---- batch ---- */

/* Splits line into words (blanks separate, "..." groups, \" and \\ escape
 * inside quotes). Modifies line. Returns the count or -EINVAL. */
int cli_split(char *line, char **words, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *w;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			return n;
		if (n >= max)
			return -EINVAL;
		w = p;
		words[n++] = w;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			if (*p != '"') {
				*w++ = *p++;
				continue;
			}
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				*w++ = *p++;
			}
			if (*p != '"')
				return -EINVAL;
			p++;
		}
		if (*p)
			p++;
		*w = '\0';
	}
}

struct batch {
	struct az_client *c;
	char **lines;
	size_t n;
	atomic_size_t next;
	atomic_int failures;
};

static void batch_one(struct batch *b, size_t i)
{
	char *words[MAX_WORDS];
	char *buf = NULL, *line = strdup(b->lines[i]);
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	int n, rc;

	if (!line || !o) {
		rc = -ENOMEM;
		goto out;
	}
	n = cli_split(line, words, MAX_WORDS);
	rc = n < 0 ? n : (n == 0 ? 0 : cli_run_op(b->c, n, words, o));
out:
	if (o)
		fclose(o);
	if (rc < 0)
		atomic_fetch_add(&b->failures, 1);
	pthread_mutex_lock(&out_lock);
	printf("{\"line\": %zu, \"rc\": %d, \"out\": ", i, rc);
	cli_json_str(stdout, buf ? buf : "");
	printf("}\n");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	free(buf);
	free(line);
}

static void *batch_worker(void *arg)
{
	struct batch *b = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&b->next, 1);

		if (i >= b->n)
			return NULL;
		batch_one(b, i);
	}
}

static int read_lines(FILE *in, char ***out, size_t *n)
{
	char *line = NULL;
	size_t cap = 0, have = 0;
	char **v = NULL;

	while (getline(&line, &cap, in) >= 0) {
		char **nv = realloc(v, (have + 1) * sizeof(*v));

		if (!nv)
			break;
		v = nv;
		v[have++] = line;
		line = NULL;
		cap = 0;
	}
	free(line);
	*out = v;
	*n = have;
	return 0;
}

int cli_batch(struct az_client *c, const struct cli_args *a)
{
	struct batch b;
	pthread_t th[64];
	long long jobs = 1;
	int started = 0;

	memset(&b, 0, sizeof(b));
	b.c = c;
	if (cli_opt(a, "jobs") && (cli_num(cli_opt(a, "jobs"), &jobs) < 0 || jobs < 1 || jobs > 64))
		return -EINVAL;
	read_lines(stdin, &b.lines, &b.n);
	for (long long j = 0; j < jobs; j++) {
		if (pthread_create(&th[started], NULL, batch_worker, &b) == 0)
			started++;
	}
	if (started == 0)
		batch_worker(&b);
	for (int j = 0; j < started; j++)
		pthread_join(th[j], NULL);
	for (size_t i = 0; i < b.n; i++)
		free(b.lines[i]);
	free(b.lines);
	return atomic_load(&b.failures) ? -EIO : 0;
}

/* ---- main ---- */

static char *read_conn_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

static int global_opts(int argc, char **argv, struct az_client_opts *o, const char **conn_file,
		       int *stats, int *verbose)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *k = argv[i];
		long long v = 0;

		if (strcmp(k, "--stats") == 0 || strcmp(k, "-v") == 0) {
			*(k[1] == 'v' ? verbose : stats) = 1;
			continue;
		}
		if (strcmp(k, "--quiet") == 0) {
			o->quiet = 1;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		const char *val = argv[++i];
		if (strcmp(k, "--conn-file") == 0)
			*conn_file = val;
		else if (strcmp(k, "--share") == 0)
			o->share = val;
		else if (strcmp(k, "--ca-file") == 0)
			o->ca_file = val;
		else if (cli_num(val, &v) < 0)
			return -1;
		else if (strcmp(k, "--max-conns") == 0)
			o->max_conns = (int)v;
		else if (strcmp(k, "--retry-budget-ms") == 0)
			o->retry_budget_ms = (long)v;
		else if (strcmp(k, "--op-timeout-ms") == 0)
			o->op_timeout_ms = (long)v;
		else if (strcmp(k, "--connect-timeout-ms") == 0)
			o->connect_timeout_ms = (long)v;
		else
			return -1;
	}
	return i;
}

int main(int argc, char **argv)
{
	struct az_client_opts o;
	struct az_client *c = NULL;
	const char *conn_file = NULL;
	char *conn = NULL;
	int stats = 0, verbose = 0, first, rc;

	memset(&o, 0, sizeof(o));
	first = global_opts(argc, argv, &o, &conn_file, &stats, &verbose);
	if (first > 0 && first < argc && strcmp(argv[first], "help") == 0) {
		cli_usage(stdout);
		return 0;
	}
	if (first < 0 || first >= argc || !conn_file || !o.share) {
		cli_usage(stderr);
		return 2;
	}
	az_log_init("azsf-cli", 1, verbose ? AZ_LOG_DEBUG : AZ_LOG_WARN);
	conn = read_conn_file(conn_file);
	if (!conn) {
		fprintf(stderr, "azsf-cli: cannot read connection file '%s': %s\n", conn_file,
			strerror(errno ? errno : EIO));
		return 2;
	}
	o.conn_str = conn;
	rc = az_client_init(&c, &o);
	if (rc == 0)
		rc = cli_run_op(c, argc - first, argv + first, stdout);
	if (rc < 0)
		fprintf(stderr, "azsf-cli: %s: %s\n", argv[first], strerror(-rc));
	if (c && stats) {
		struct az_client_stats s;

		az_client_stats_get(c, &s);
		fprintf(stderr, "stats: requests=%llu retries=%llu\n",
			(unsigned long long)s.requests, (unsigned long long)s.retries);
	}
	az_client_free(c);
	free(conn);
	return rc < 0 ? (-rc > 255 ? 255 : -rc) : 0;
}
