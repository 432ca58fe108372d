/*
 * log.c — stderr logging with journald priorities.
 */
#include "daemon/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level = LOG_LVL_INFO;
static int log_journal;
static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
/* syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int log_prio[] = { 3, 4, 6, 7 };

/*
 * Whether stderr is the journal's stream: JOURNAL_STREAM holds its
 * "DEVICE:INODE", as systemd.exec(5) says to check, so that a wartad
 * started with stderr redirected by a process that inherited the variable
 * still writes readable lines.
 */
static int
log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* Decide the line format once: journald gets "<N>" prefixes. */
void
log_init(enum log_level level)
{
	log_level = level;
	log_journal = log_stderr_is_journal();
}

/* Blank out control characters, so that one message is one line and a
 * value from the network cannot forge a line of its own. */
static void
log_one_line(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

/* Change the verbosity (config reload, -v). */
void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* The current verbosity. */
enum log_level
log_get_level(void)
{
	return log_level;
}

/* Map a level name to its value. */
int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof log_names / sizeof log_names[0]; i++)
		if (strcmp(name, log_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

/* The name of a level. */
const char *
log_level_name(enum log_level level)
{
	return log_names[level];
}

/* At most one line a second of rl's kind; the others are counted. */
bool
log_rate_pass(struct rlog *rl, int64_t now_ms)
{
	if (rl->sec == now_ms / 1000) {
		rl->suppressed++;
		return false;
	}
	rl->sec = now_ms / 1000;
	return true;
}

/* The count of lines held back once their second has passed. */
uint64_t
log_rate_held(struct rlog *rl, int64_t now_ms)
{
	uint64_t n = rl->suppressed;

	if (n == 0 || rl->sec == now_ms / 1000)
		return 0;
	rl->suppressed = 0;
	return n;
}

/* Format and write one line; err is an errno value to append, or 0. */
static void
log_vwrite(enum log_level level, int err, const char *fmt, va_list ap)
{
	char msg[2048];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	log_one_line(msg);
	pthread_mutex_lock(&log_mtx);
	if (log_journal)
		fprintf(stderr, "<%d>", log_prio[level]);
	else {
		struct timeval tv;
		struct tm tm;
		char ts[32];

		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %-5s ", ts, (long)tv.tv_usec / 1000,
		    log_names[level]);
	}
	if (err)
		fprintf(stderr, "%s: %s\n", msg, strerror(err));
	else
		fprintf(stderr, "%s\n", msg);
	fflush(stderr);
	pthread_mutex_unlock(&log_mtx);
}

#define LOG_BODY(level, err) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_vwrite(level, err, fmt, ap);	\
	va_end(ap);				\
} while (0)

/* A warning with strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOG_LVL_WARN, err);
	errno = err;
}

/* A warning. */
void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARN, 0);
}

/* An error the daemon survives. */
void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
}

/* Normal operation. */
void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, 0);
}

/* Detail for debugging. */
void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, 0);
}

/* A broken invariant, with strerror(errno): log and exit. */
void
fatal(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOG_LVL_ERROR, err);
	exit(1);
}

/* A broken invariant: log and exit. */
void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
	exit(1);
}
