/*
 * test_fuzz_corpus.c — replay the fuzz corpus (tests/fuzz/corpus/event:
 * hand-made seeds and every crash ever found, as regression cases) through
 * the libFuzzer target, so it also runs under gcc in every `make test`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_event.c"

#define CORPUS	"tests/fuzz/corpus/event"

/* Every corpus file goes through the target without tripping a check. */
static void
test_event_corpus(void **state)
{
	DIR *dir = opendir(CORPUS);
	struct dirent *de;
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		char path[512];
		uint8_t buf[1 << 16];
		size_t len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", CORPUS, de->d_name);
		assert_non_null(f = fopen(path, "rb"));
		len = fread(buf, 1, sizeof buf, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(dir);
	assert_true(n >= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_corpus),
	};

	return cmocka_run_group_tests_name("fuzz_corpus", tests, NULL, NULL);
}
