/*
 * fault.h — fault points for the tests (fault.c).
 */
#ifndef WARTA_FAULT_H
#define WARTA_FAULT_H

#include <stdbool.h>

/* Die with _exit(1) here if WARTA_FAULT names this point (loop thread). */
void	fault_point(const char *name);

/* Whether WARTA_FAULT names this point: the caller fails as if the
 * operation had (any thread; reads the environment each time). */
bool	fault_error(const char *name);

#endif
