/* azcli.h: pieces of azsf-cli shared by azcli.c (main, batch) and
 * azcli_ops.c (one function per client operation). */
#ifndef AZSF_AZCLI_H
#define AZSF_AZCLI_H

#include <stdio.h>

#include "azsharefs/client.h"

#define CLI_MAX_POS 16
#define CLI_MAX_OPT 16

struct cli_args {
	const char *pos[CLI_MAX_POS]; /* pos[0] is the operation */
	int npos;
	struct {
		const char *name; /* without the leading "--" */
		const char *value;
	} opt[CLI_MAX_OPT];
	int nopt;
};

int cli_args_parse(struct cli_args *a, int argc, char **argv);
const char *cli_opt(const struct cli_args *a, const char *name);
int cli_num(const char *s, long long *out);
int cli_split(char *line, char **words, int max);
void cli_json_str(FILE *o, const char *s);
void cli_stat_out(FILE *o, const char *name, const struct az_stat *st);
int cli_batch(struct az_client *c, const struct cli_args *a);

/* Runs one operation (argv[0] is its name); output goes to o. 0 or -errno. */
int cli_run_op(struct az_client *c, int argc, char **argv, FILE *o);
void cli_usage(FILE *o);

#endif
