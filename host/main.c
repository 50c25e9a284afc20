/* main.c: tinyllama-host: parse the options, bring up the host platform, run the core. */
#include "core/app.h"
#include "shim/host/host.h"
#include "shim/platform.h"

int main(int argc, char **argv)
{
	static Options opts;
	int r = app_parse(&opts, argc, argv);
	if (r != 0)
		plat_exit(r < 0 ? 1 : 0);
	host_platform_init(opts.arena_bytes);
	plat_exit(app_run(&opts));
}
