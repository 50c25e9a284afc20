/* app.h: what both targets run once their platform is up: parse the options, load the
 * model, generate, print the stats line and the profile. */
#ifndef APP_H
#define APP_H

#include "core/app/cli.h"

/* Parses argv into o; prints the error or the usage. Returns -1 to exit with status 1,
 * 1 to exit with status 0 (-h), 0 to go on with app_run. */
int app_parse(Options *o, int argc, char **argv);
/* Runs what o asks for; returns the exit status. */
int app_run(const Options *o);
/* app_parse then app_run, for platforms whose arena is set up before parsing (kernel). */
int app_main(int argc, char **argv);

#endif
