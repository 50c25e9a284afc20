/* cmdline.c: splits the multiboot command line into argv with the shell's quoting rules:
 * blanks separate words; '...' is literal; in "..." a backslash escapes only $ ` " \ and
 * newline; outside quotes a backslash escapes any character; adjacent parts join.
 * The loader puts the kernel image's path first (QEMU and GRUB do): that word is dropped
 * and argv[0] is "tinyllama", as the host's argv[0] names the program. */
#include "kernel/kernel.h"
#include "kernel/param.h"

static char cmdline_words[CMDLINE_MAX + 1];
static char cmdline_argv0[] = "tinyllama";

static int cmdline_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_split(const char *line, char **argv, int max)
{
	char *out = cmdline_words;
	const char *p = line;
	int argc = 1, words = 0;
	argv[0] = cmdline_argv0;
	for (;;) {
		while (cmdline_blank(*p))
			p++;
		if (!*p)
			break;
		char *word = out;
		while (*p && !cmdline_blank(*p)) {
			if (*p == '\'') {
				for (p++; *p && *p != '\''; p++)
					*out++ = *p;
				if (*p)
					p++;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1] == '\n')
						p++;
					else if (*p == '\\' && (p[1] == '$' || p[1] == '`' ||
								p[1] == '"' || p[1] == '\\'))
						*out++ = *++p;
					else
						*out++ = *p;
				}
				if (*p)
					p++;
			} else if (*p == '\\' && p[1]) {
				if (p[1] != '\n')
					*out++ = p[1];
				p += 2;
			} else {
				*out++ = *p++;
			}
		}
		*out++ = 0;
		if (words++ == 0)
			continue; /* the kernel image's path */
		if (argc == max - 1) {
			kprintf("kernel: more than %d arguments: the rest are dropped\n", max - 2);
			break;
		}
		argv[argc++] = word;
	}
	argv[argc] = NULL;
	return argc;
}
