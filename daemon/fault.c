/*
 * fault.c — crash points for the black-box tests (docs/RELIABILITY.md).
 *
 * With WARTA_FAULT=NAME in its environment, the daemon dies with _exit(1)
 * the first time it reaches fault_point("NAME"): no atexit handlers, no
 * flush, no store close, as close to a crash at that instant as a test can
 * place one.  Without WARTA_FAULT (always, outside the tests) a point costs
 * one comparison of a cached pointer.  Compiled into every build so that
 * the daemon under test is the daemon that ships.
 *
 * Points:
 *   after_commit   batch.c: a batch's transaction has committed; nothing of
 *                  it is notified or acknowledged yet.
 *   index_commit   store.c (fault_error): every commit of the indexes fails
 *                  as a full disk would make it, while the log's succeed.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/fault.h"
#include "daemon/log.h"

/* Die here if WARTA_FAULT names this point.  Loop thread only. */
void
fault_point(const char *name)
{
	static const char *armed;
	static bool looked;

	if (!looked) {
		armed = getenv("WARTA_FAULT");
		looked = true;
	}
	if (armed == NULL || strcmp(armed, name) != 0)
		return;
	log_warnx("fault: WARTA_FAULT=%s reached: exiting 1 now", name);
	_exit(1);
}

/* Whether WARTA_FAULT names this point: the caller then fails. */
bool
fault_error(const char *name)
{
	const char *armed = getenv("WARTA_FAULT");

	return armed != NULL && strcmp(armed, name) == 0;
}
