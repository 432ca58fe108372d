/*
 * replay.c — a plain-C driver for the libFuzzer targets: feed every file of
 * the corpus directories named on the command line to
 * LLVMFuzzerTestOneInput(), so that each corpus (seeds and every crash
 * ever found) also runs under gcc, and under ASan and UBSan with
 * SANITIZE=1, in every `make test`.  Linked with one tests/fuzz/fuzz_NAME.c.
 *
 *   fuzz_NAME DIR...
 *
 * A target reports a broken property by aborting.  Prints one line,
 * "fuzz_NAME: N inputs replayed", and exits 0; exits 1 when a directory
 * cannot be read or holds no input, since a corpus that is not replayed
 * proves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char replay_path[4096];	/* the input being replayed */

/* A target aborted or crashed: name the input, then die of the signal. */
static void
replay_crashed(int sig)
{
	static const char msg[] = "replay: crashed on input ";
	size_t n = strlen(replay_path);

	/* Nothing to do if stderr is gone: die of the signal all the same. */
	if (write(STDERR_FILENO, msg, sizeof msg - 1) != -1 &&
	    write(STDERR_FILENO, replay_path, n) != -1)
		(void)!write(STDERR_FILENO, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read a whole file into a buffer of exactly its size (so ASan sees any
 * over-read); NULL on error. */
static uint8_t *
replay_read(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *buf;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fstat(fileno(f), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return NULL;
	}
	*len = (size_t)sb.st_size;
	buf = malloc(*len ? *len : 1);
	if (buf == NULL || fread(buf, 1, *len, f) != *len) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* Replay one directory, in name order; the inputs replayed, or -1. */
static int
replay_dir(const char *dir)
{
	struct dirent **names;
	int n, count = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = replay_path;
		uint8_t *buf;
		size_t len;

		if (names[i]->d_name[0] == '.') {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof replay_path, "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if ((buf = replay_read(path, &len)) == NULL) {
			fprintf(stderr, "replay: %s: cannot read\n", path);
			count = -1;
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		if (count >= 0)
			count++;
	}
	free(names);
	return count;
}

/* Replay every directory given. */
int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	int total = 0;

	name = name ? name + 1 : argv[0];
	signal(SIGABRT, replay_crashed);
	signal(SIGSEGV, replay_crashed);
	signal(SIGBUS, replay_crashed);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR...\n", name);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		int n = replay_dir(argv[i]);

		if (n <= 0) {
			fprintf(stderr, "%s: %s: %s\n", name, argv[i],
			    n == 0 ? "no inputs" : "not replayed");
			return 1;
		}
		total += n;
	}
	printf("%s: %d inputs replayed\n", name, total);
	return 0;
}
