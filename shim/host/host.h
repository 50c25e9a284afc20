/* host.h: what host/main.c and the tests call to bring the host platform up. */
#ifndef HOST_H
#define HOST_H

#include <stddef.h>

/* Maps an arena of arena_bytes (reserved, touched lazily) and calibrates the TSC. */
void host_platform_init(size_t arena_bytes);
/* Before host_platform_init: back the arena with 2 MB pages (--hugepages). */
void host_platform_hugepages(int on);

#endif
