/* main.c: azsharefs, the mount command.
 *
 * Parses the command line (options.c), answers --help and --version, and
 * hands over to fo_run (fuse_run.c). Single-threaded until fo_run.
 */
#include <fuse.h>
#include <stdio.h>

#include "azsharefs/log.h"
#include "fuse_run.h"
#include "options.h"

int main(int argc, char **argv)
{
	struct mopt o;
	char err[1024];
	int rc;

	az_log_init("azsharefs", 1, AZ_LOG_INFO);
	mopt_defaults(&o);
	if (mopt_parse(&o, argc, argv, err, sizeof(err)) != 0) {
		az_err("%s", err);
		mopt_release(&o);
		return 1;
	}
	if (o.show_help) {
		fputs(mopt_usage(), stdout);
		mopt_release(&o);
		return 0;
	}
	if (o.show_version) {
		printf("azsharefs version %s\nFUSE library version %s\n", AZSF_VERSION,
		       fuse_pkgversion());
		mopt_release(&o);
		return 0;
	}
	az_log_init("azsharefs", 1, (enum az_log_level)o.log_level);
	rc = fo_run(&o, argv[0]);
	mopt_release(&o);
	return rc;
}
