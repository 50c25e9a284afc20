/* host.h: what host/main.c and the tests call to bring the host platform up, and what the
 * host shim's files share. */
#ifndef HOST_H
#define HOST_H

#include <stddef.h>

/* Maps an arena of arena_bytes (reserved, touched lazily) and calibrates the TSC. */
void host_platform_init(size_t arena_bytes);
/* Before host_platform_init: back the arena with 2 MB pages (--hugepages). */
void host_platform_hugepages(int on);
/* First thing in main: a closed stdin, stdout or stderr is reopened on /dev/null (stdout
 * read-only, so that output to it fails and is reported) before any file can take its place. */
void host_std_streams(void);
/* Then: signal handlers for the files (SIGBUS on a mapped file; SIGPIPE, SIGINT, SIGTERM
 * and SIGHUP remove unfinished output files) and SIGXFSZ ignored (a file-size limit makes
 * writes fail, which is reported, instead of killing the run). */
void host_files_init(void);
/* Removes the temporary files of outputs still open; async-signal-safe. */
void host_files_discard(void);

#endif
