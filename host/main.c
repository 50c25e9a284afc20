/* main.c: tinyllama-host: parse the options, bring up the host platform, run the core
 * (inside perf counters with --perf-check). */
#include "core/app/app.h"
#include "core/io/console.h"
#include "core/profile/profiler.h"
#include "host/perf_check.h"
#ifdef TL_HAVE_JIT
#include "jit/tierup.h"
#endif
#include "shim/host/host.h"
#include "shim/platform.h"

int main(int argc, char **argv)
{
	host_std_streams();
	host_files_init();
	static Options opts;
	int r = app_parse(&opts, argc, argv);
	if (r != 0)
		plat_exit(r < 0 ? 1 : 0);
	host_platform_hugepages(opts.hugepages);
	host_platform_init(opts.arena_bytes);
#ifdef TL_HAVE_JIT
	if (tierup_start(&opts) < 0)
		plat_exit(1);
#else
	if (opts.tierup != TIERUP_OFF) {
		log_printf("error: --jit: this build has no JIT (LLVM 14 and clang-14 were not "
			   "found when it was built)\n");
		plat_exit(1);
	}
#endif
	if (!opts.perf_check)
		plat_exit(app_run(&opts));
	int counting = perf_check_begin() == 0;
	int status = app_run(&opts);
	if (counting)
		perf_check_end(profiler_total_cycles());
	plat_exit(status);
}
