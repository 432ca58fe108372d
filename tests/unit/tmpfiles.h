/*
 * tmpfiles.h — temp files for a unit test: test_write() makes one,
 * test_unlink_all() (from a teardown) removes every one made since.
 * Static, for the one test file that includes it after cmocka.h.
 */
#ifndef WARTA_TMPFILES_H
#define WARTA_TMPFILES_H

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/xmalloc.h"

static char	*test_paths[64];
static size_t	 test_npaths;

/* Remove the test's temp files. */
static void
test_unlink_all(void)
{
	for (size_t i = 0; i < test_npaths; i++) {
		unlink(test_paths[i]);
		free(test_paths[i]);
	}
	test_npaths = 0;
}

/* Write text to a new temp file of mode; its path lives until
 * test_unlink_all(). */
static const char *
test_write(const char *text, mode_t mode)
{
	char	*path;
	size_t	 len = strlen(text);
	int	 fd;

	xasprintf(&path, "%s/warta_unit.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	assert_true(test_npaths < sizeof test_paths / sizeof test_paths[0]);
	test_paths[test_npaths++] = path;
	return path;
}

#endif
