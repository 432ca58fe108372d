/*
 * log.h — the daemon's logging.
 *
 * Lines go to stderr, one message a line (control characters blanked).
 * Under journald (JOURNAL_STREAM names stderr) each line starts with its
 * syslog priority "<N>"; on a terminal or in a file it starts with the
 * local time and the level.  log_warn() and fatal() append strerror(errno);
 * the "x" variants do not.
 */
#ifndef WARTA_LOG_H
#define WARTA_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A rate limit for one kind of line (an ingest reject reason, an auth
 * refusal): at most one a second, the others counted.  Zeroed is ready.
 */
struct rlog {
	int64_t		sec;
	uint64_t	suppressed;
};

/* Whether a line of rl's kind may go out at now_ms; if not, it is counted. */
bool log_rate_pass(struct rlog *rl, int64_t now_ms);
/* How many of rl's lines were held back in a second before now_ms's
 * (0 when none, or that second is not over); the count starts again. */
uint64_t log_rate_held(struct rlog *rl, int64_t now_ms);

void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
