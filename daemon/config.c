/*
 * config.c — wartad's configuration: defaults, the INI file and the flags
 * (PROTOCOL.md sections 9 and 10).
 *
 * The file is read with inih through our own line reader, which counts
 * lines (inih 55 as packaged does not pass line numbers to the handler) and
 * takes away what inih would otherwise accept silently:
 *
 *   - indented lines are not continuations (inih's multi-line values):
 *     leading blanks are dropped, so "  garbage" is a syntax error;
 *   - a comment is a line starting with '#' or ';', or the rest of a line
 *     from a '#' or ';' that follows a blank ("key = value ; comment");
 *     inih alone would keep " # comment" inside the value;
 *   - a line longer than inih's buffer is an error, not two lines;
 *   - section lines are checked here: "[store] junk", "[store" and long
 *     names that inih would cut at 50 bytes are errors;
 *   - a NUL byte in a line is an error.
 *
 * Keys may appear once per file, except [ingest] connect, whose endpoints
 * accumulate over its lines (so a long list can be split).  "key: value"
 * is accepted as inih accepts it.  Paths are used as written (relative to
 * the working directory).
 *
 * Keys beyond PROTOCOL.md section 10, our extensions:
 *
 *   [store]  batch_max = 16384      events per LMDB transaction, 1..1000000
 *   [ingest] hwm = 1000000          ingest SUB receive high-water mark,
 *                                   0 (unlimited)..2147483647
 *   [notify] hwm = 100000           notify XPUB send high-water mark, same
 *
 * Checks across keys, at the end of the file: max_map_size_mb is 0 or at
 * least map_size_mb; [ingest] curve = yes needs [security] secret_key_file;
 * every [webhook NAME] has a url.
 */
#include "daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "daemon/log.h"
#include "daemon/xmalloc.h"

#define CONFIG_MB_MAX		16777216ULL	/* 16 TiB */
#define CONFIG_COUNT_MAX	((uint64_t)INT64_MAX)
#define CONFIG_HWM_MAX		((uint64_t)INT_MAX)
#define CONFIG_IPC_PATH_MAX	107		/* sun_path less its NUL */

enum config_type {
	CONFIG_DIR,		/* non-empty string */
	CONFIG_FILE,		/* string, "" unsets it */
	CONFIG_ENDPOINT,	/* one libzmq endpoint */
	CONFIG_ENDPOINTS,	/* space-separated endpoints, accumulating */
	CONFIG_LISTEN,		/* HOST:PORT, "" off */
	CONFIG_UINT,		/* whole decimal number in [min, max] */
	CONFIG_BOOL,
	CONFIG_LEVEL		/* enum log_level */
};

/* One key of one section, and where it lands in struct config. */
struct config_key {
	const char		*section;
	const char		*name;
	enum config_type	 type;
	size_t			 off;
	uint64_t		 min;
	uint64_t		 max;
};

#define CONFIG_OFF(f)	offsetof(struct config, f)

static const struct config_key config_keys[] = {
	{ "store", "path", CONFIG_DIR, CONFIG_OFF(data_dir), 0, 0 },
	{ "store", "map_size_mb", CONFIG_UINT, CONFIG_OFF(map_size_mb),
	  1, CONFIG_MB_MAX },
	{ "store", "max_map_size_mb", CONFIG_UINT,
	  CONFIG_OFF(max_map_size_mb), 0, CONFIG_MB_MAX },
	{ "store", "sync", CONFIG_BOOL, CONFIG_OFF(sync), 0, 0 },
	{ "store", "max_events", CONFIG_UINT, CONFIG_OFF(max_events),
	  0, CONFIG_COUNT_MAX },
	{ "store", "max_age_days", CONFIG_UINT, CONFIG_OFF(max_age_days),
	  0, 36500 },
	{ "store", "max_rejects", CONFIG_UINT, CONFIG_OFF(max_rejects),
	  0, CONFIG_COUNT_MAX },
	{ "store", "batch_max", CONFIG_UINT, CONFIG_OFF(batch_max),
	  1, 1000000 },

	{ "ingest", "bind", CONFIG_ENDPOINT, CONFIG_OFF(ingest_bind), 0, 0 },
	{ "ingest", "connect", CONFIG_ENDPOINTS, CONFIG_OFF(ingest_connect),
	  0, 0 },
	{ "ingest", "max_event_bytes", CONFIG_UINT,
	  CONFIG_OFF(max_event_bytes), 64, 16777216 },
	{ "ingest", "curve", CONFIG_BOOL, CONFIG_OFF(ingest_curve), 0, 0 },
	{ "ingest", "hwm", CONFIG_UINT, CONFIG_OFF(ingest_hwm),
	  0, CONFIG_HWM_MAX },

	{ "notify", "bind", CONFIG_ENDPOINT, CONFIG_OFF(notify_bind), 0, 0 },
	{ "notify", "heartbeat_ms", CONFIG_UINT, CONFIG_OFF(heartbeat_ms),
	  10, 3600000 },
	{ "notify", "hwm", CONFIG_UINT, CONFIG_OFF(notify_hwm),
	  0, CONFIG_HWM_MAX },

	{ "api", "bind", CONFIG_ENDPOINT, CONFIG_OFF(api_bind), 0, 0 },

	{ "http", "listen", CONFIG_LISTEN, CONFIG_OFF(http_listen), 0, 0 },

	{ "security", "secret_key_file", CONFIG_FILE,
	  CONFIG_OFF(secret_key_file), 0, 0 },
	{ "security", "public_key_file", CONFIG_FILE,
	  CONFIG_OFF(public_key_file), 0, 0 },
	{ "security", "clients_file", CONFIG_FILE, CONFIG_OFF(clients_file),
	  0, 0 },
	{ "security", "allow_plaintext", CONFIG_BOOL,
	  CONFIG_OFF(allow_plaintext), 0, 0 },

	{ "log", "level", CONFIG_LEVEL, CONFIG_OFF(log_level), 0, 0 },
};
#define CONFIG_NKEYS	(sizeof config_keys / sizeof config_keys[0])

static const char *const config_sections[] = {
	"store", "ingest", "notify", "api", "http", "security", "log"
};
#define CONFIG_NSECTIONS (sizeof config_sections / sizeof config_sections[0])

#define CONFIG_SECTIONS_HINT \
	"store, ingest, notify, api, http, security, log or webhook NAME"
#define CONFIG_BOOL_HINT	"yes, no, true, false, 1, 0"
#define CONFIG_LEVEL_HINT	"error, warn, info, debug"
#define CONFIG_ENDPOINT_HINT \
	"tcp://HOST:PORT, ipc://PATH or inproc://NAME"

/* Lines where one [webhook NAME] and its keys were seen in this file. */
struct config_hook_lines {
	unsigned	 section;
	unsigned	 url;
	unsigned	 prefix;
	unsigned	 secret;
};

/* The state of one config_load(). */
struct config_parse {
	struct config	*cfg;
	const char	*path;
	FILE		*fp;
	char		*line;		/* getline() buffer */
	size_t		 linesize;
	unsigned	 lineno;
	char		*cause;		/* the first error */

	const char	*section;	/* current section, NULL before one */
	size_t		 hook;		/* current webhook, if "webhook" */

	unsigned	 key_line[CONFIG_NKEYS];
	size_t		 hook_base;	/* first webhook of this file */
	struct config_hook_lines *hook_lines;	/* from hook_base on */
};

static char	*config_vxasprintf(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));
static int	 config_error_at(struct config_parse *, unsigned,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	 config_error(struct config_parse *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 config_flag_error(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* vasprintf that cannot fail. */
static char *
config_vxasprintf(const char *fmt, va_list ap)
{
	va_list	 ap2;
	char	*s;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("config: bad format");
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* Record the first error, "file:line: message"; returns 0 for inih. */
static int
config_error_at(struct config_parse *st, unsigned lineno, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	if (st->cause != NULL)
		return 0;
	va_start(ap, fmt);
	msg = config_vxasprintf(fmt, ap);
	va_end(ap);
	xasprintf(&st->cause, "%s:%u: %s", st->path, lineno, msg);
	free(msg);
	return 0;
}

/* Record the first error on the current line. */
static int
config_error(struct config_parse *st, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (st->cause != NULL)
		return 0;
	va_start(ap, fmt);
	msg = config_vxasprintf(fmt, ap);
	va_end(ap);
	config_error_at(st, st->lineno, "%s", msg);
	free(msg);
	return 0;
}

/* Set *cause for a bad flag; returns -1. */
static int
config_flag_error(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	*cause = config_vxasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

/* Replace an owned string. */
static void
config_set_string(char **dst, const char *s)
{
	free(*dst);
	*dst = s == NULL ? NULL : xstrdup(s);
}

/* Free a NULL-terminated string array. */
static void
config_free_strings(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* Fill *cfg with the defaults. */
void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);

	cfg->data_dir = xstrdup("./warta-data");
	cfg->map_size_mb = 1024;
	cfg->max_map_size_mb = 0;
	cfg->sync = true;
	cfg->max_events = 0;
	cfg->max_age_days = 0;
	cfg->max_rejects = 10000;
	cfg->batch_max = 16384;

	cfg->ingest_bind = xstrdup("tcp://127.0.0.1:7401");
	cfg->ingest_connect = xcalloc(1, sizeof *cfg->ingest_connect);
	cfg->max_event_bytes = 65536;
	cfg->ingest_curve = false;
	cfg->ingest_hwm = 1000000;

	cfg->notify_bind = xstrdup("tcp://127.0.0.1:7402");
	cfg->heartbeat_ms = 1000;
	cfg->notify_hwm = 100000;

	cfg->api_bind = xstrdup("tcp://127.0.0.1:7403");

	cfg->http_listen = xstrdup("127.0.0.1:7404");

	cfg->allow_plaintext = false;

	cfg->log_level = LOG_LVL_INFO;
}

/* Free every string and array of *cfg and zero it. */
void
config_free(struct config *cfg)
{
	free(cfg->data_dir);
	free(cfg->ingest_bind);
	config_free_strings(cfg->ingest_connect);
	free(cfg->notify_bind);
	free(cfg->api_bind);
	free(cfg->http_listen);
	free(cfg->secret_key_file);
	free(cfg->public_key_file);
	free(cfg->clients_file);
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		free(cfg->webhooks[i].name);
		free(cfg->webhooks[i].url);
		free(cfg->webhooks[i].prefix);
		free(cfg->webhooks[i].secret);
	}
	free(cfg->webhooks);
	free(cfg->config_file);
	memset(cfg, 0, sizeof *cfg);
}

/* Whether c may appear in an endpoint, URL or listen address. */
static int
config_graph(int c)
{
	return c > ' ' && c < 0x7f;
}

/* Why s (after a scheme) is not HOST:PORT, or NULL when it is. */
static const char *
config_hostport_why(const char *s, int allow_star)
{
	const char	*host, *host_end, *port, *p;
	unsigned long	 n;

	for (p = s; *p != '\0'; p++) {
		if (!config_graph((unsigned char)*p))
			return "it holds a blank or a control character";
	}
	if (*s == '[') {
		host = s + 1;
		host_end = strchr(host, ']');
		if (host_end == NULL)
			return "the IPv6 address has no closing ']'";
		if (host_end == host)
			return "the host is empty";
		for (p = host; p < host_end; p++) {
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.' && *p != '%' &&
			    !isalnum((unsigned char)*p))
				return "the IPv6 address is malformed";
		}
		if (strchr(host, ':') == NULL || strchr(host, ':') > host_end)
			return "the IPv6 address is malformed";
		if (host_end[1] != ':')
			return "':PORT' must follow the IPv6 address";
		port = host_end + 2;
	} else {
		host = s;
		host_end = strrchr(s, ':');
		if (host_end == NULL)
			return "there is no ':PORT'";
		if (host_end == host)
			return "the host is empty";
		if (memchr(host, ':', (size_t)(host_end - host)) != NULL)
			return "an IPv6 address needs brackets, [::1]:PORT";
		if (host_end - host == 1 && *host == '*') {
			if (!allow_star)
				return "the host '*' is not allowed here";
		} else {
			for (p = host; p < host_end; p++) {
				if (!isalnum((unsigned char)*p) && *p != '.' &&
				    *p != '-' && *p != '_')
					return "the host holds a character "
					    "other than letters, digits, "
					    "'.', '-', '_'";
			}
		}
		port = host_end + 1;
	}

	if (*port == '\0')
		return "the port is missing";
	n = 0;
	for (p = port; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return "the port is not a number from 1 to 65535";
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 65535)
			return "the port is not a number from 1 to 65535";
	}
	if (n == 0)
		return "the port is not a number from 1 to 65535";
	return NULL;
}

/* Why s is not a libzmq endpoint we accept, or NULL when it is one. */
static const char *
config_endpoint_why(const char *s)
{
	const char	*p;
	int		 ipc = 0;

	if (strncmp(s, "tcp://", 6) == 0)
		return config_hostport_why(s + 6, 1);
	if (strncmp(s, "ipc://", 6) == 0) {
		p = s + 6;
		ipc = 1;
	} else if (strncmp(s, "inproc://", 9) == 0)
		p = s + 9;
	else
		return "expected " CONFIG_ENDPOINT_HINT;
	if (*p == '\0')
		return "the path or name is empty";
	for (const char *q = p; *q != '\0'; q++) {
		if (!config_graph((unsigned char)*q))
			return "it holds a blank or a control character";
	}
	if (ipc && strlen(p) > CONFIG_IPC_PATH_MAX)
		return "the ipc path is longer than 107 bytes";
	return NULL;
}

/* Check that s is an endpoint libzmq can bind.  0 or -1. */
int
config_endpoint_valid(const char *s)
{
	return s != NULL && config_endpoint_why(s) == NULL ? 0 : -1;
}

/* Why s is not an http:// or https:// URL with a host, or NULL. */
static const char *
config_url_why(const char *s)
{
	const char	*host;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return "is not an http:// or https:// URL";
	if (*host == '\0' || strchr("/?#:", *host) != NULL)
		return "has no host";
	for (const char *p = s; *p != '\0'; p++) {
		if (!config_graph((unsigned char)*p))
			return "holds a blank or a control character";
	}
	return NULL;
}

/*
 * Parse a whole decimal number in [min, max].  Returns NULL, or the end of
 * a message: "is not a whole number", "is too large (at most N)"...
 */
static char *
config_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	 v = 0;
	char		*why;

	if (*s == '\0')
		return xstrdup("is not a whole number");
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return xstrdup("is not a whole number");
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max) {
		xasprintf(&why, "is too large (at most %llu)",
		    (unsigned long long)max);
		return why;
	}
	if (v < min) {
		xasprintf(&why, "is too small (at least %llu)",
		    (unsigned long long)min);
		return why;
	}
	*out = v;
	return NULL;
}

/* Parse a boolean: yes/no/true/false/1/0, any case.  0 or -1. */
static int
config_parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

/* Set [ingest] connect from one line: replace on its first line in this
 * file, append on the next ones. */
static int
config_load_endpoints(struct config_parse *st, const char *label,
    char ***dst, int first, const char *value)
{
	char		**v = *dst;
	size_t		  n = 0;
	char		 *copy, *tok, *save = NULL;
	const char	 *why;

	if (first) {
		config_free_strings(v);
		v = NULL;
	} else {
		while (v != NULL && v[n] != NULL)
			n++;
	}
	copy = xstrdup(value);
	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if ((why = config_endpoint_why(tok)) != NULL) {
			config_error(st, "%s: '%s' is not a valid endpoint: %s",
			    label, tok, why);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(v[i], tok) == 0) {
				config_error(st, "%s: '%s' is listed twice",
				    label, tok);
				break;
			}
		}
		if (st->cause != NULL)
			break;
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrdup(tok);
		v[n] = NULL;
	}
	free(copy);
	if (v == NULL)
		v = xcalloc(1, sizeof *v);
	*dst = v;
	return st->cause == NULL;
}

/* One key of a known section: look it up, check it, store it. */
static int
config_load_key(struct config_parse *st, const char *name, const char *value)
{
	const struct config_key	*k = NULL;
	char			 label[128], known[256], *why;
	const char		*cwhy;
	void			*field;
	size_t			 i;
	int			 level;
	uint64_t		 u = 0;
	bool			 b;

	snprintf(label, sizeof label, "[%s] %s", st->section, name);
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].section, st->section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			k = &config_keys[i];
			break;
		}
	}
	if (k == NULL) {
		known[0] = '\0';
		for (size_t j = 0, len = 0; j < CONFIG_NKEYS; j++) {
			if (strcmp(config_keys[j].section, st->section) != 0 ||
			    len >= sizeof known)
				continue;
			len += (size_t)snprintf(known + len, sizeof known - len,
			    "%s%s", len != 0 ? ", " : "", config_keys[j].name);
		}
		return config_error(st, "%s: unknown key (expected %s)", label,
		    known);
	}
	if (st->key_line[i] != 0 && k->type != CONFIG_ENDPOINTS) {
		return config_error(st, "%s: set twice (first on line %u)",
		    label, st->key_line[i]);
	}
	field = (char *)st->cfg + k->off;

	switch (k->type) {
	case CONFIG_DIR:
		if (*value == '\0')
			return config_error(st, "%s: is empty, expected a "
			    "directory", label);
		config_set_string(field, value);
		break;
	case CONFIG_FILE:
		config_set_string(field, *value == '\0' ? NULL : value);
		break;
	case CONFIG_ENDPOINT:
		if ((cwhy = config_endpoint_why(value)) != NULL)
			return config_error(st, "%s: '%s' is not a valid "
			    "endpoint: %s", label, value, cwhy);
		config_set_string(field, value);
		break;
	case CONFIG_ENDPOINTS:
		if (!config_load_endpoints(st, label, field,
		    st->key_line[i] == 0, value))
			return 0;
		break;
	case CONFIG_LISTEN:
		if (*value != '\0' &&
		    (cwhy = config_hostport_why(value, 0)) != NULL)
			return config_error(st, "%s: '%s' is not HOST:PORT "
			    "(or empty for off): %s", label, value, cwhy);
		config_set_string(field, value);
		break;
	case CONFIG_UINT:
		if ((why = config_parse_uint(value, k->min, k->max, &u)) !=
		    NULL) {
			config_error(st, "%s: '%s' %s", label, value, why);
			free(why);
			return 0;
		}
		*(uint64_t *)field = u;
		break;
	case CONFIG_BOOL:
		if (config_parse_bool(value, &b) != 0)
			return config_error(st, "%s: '%s' is not one of "
			    CONFIG_BOOL_HINT, label, value);
		*(bool *)field = b;
		break;
	case CONFIG_LEVEL:
		if ((level = log_level_parse(value)) < 0)
			return config_error(st, "%s: '%s' is not one of "
			    CONFIG_LEVEL_HINT, label, value);
		*(int *)field = level;
		break;
	}
	st->key_line[i] = st->lineno;
	return 1;
}

/* One key of a [webhook NAME] section. */
static int
config_load_webhook_key(struct config_parse *st, const char *name,
    const char *value)
{
	struct webhook_cfg	 *wh = &st->cfg->webhooks[st->hook];
	struct config_hook_lines *hl = &st->hook_lines[st->hook - st->hook_base];
	unsigned		 *line;
	char			**field;
	const char		 *why;

	if (strcmp(name, "url") == 0) {
		line = &hl->url;
		field = &wh->url;
	} else if (strcmp(name, "prefix") == 0) {
		line = &hl->prefix;
		field = &wh->prefix;
	} else if (strcmp(name, "secret") == 0) {
		line = &hl->secret;
		field = &wh->secret;
	} else {
		return config_error(st, "[webhook %s] %s: unknown key "
		    "(expected url, prefix, secret)", wh->name, name);
	}
	if (*line != 0) {
		return config_error(st, "[webhook %s] %s: set twice (first on "
		    "line %u)", wh->name, name, *line);
	}
	if (field == &wh->url && (why = config_url_why(value)) != NULL) {
		return config_error(st, "[webhook %s] url: '%s' %s", wh->name,
		    value, why);
	}
	if (field == &wh->secret && *value == '\0') {
		return config_error(st, "[webhook %s] secret: is empty "
		    "(leave it out for unsigned deliveries)", wh->name);
	}
	config_set_string(field, value);
	*line = st->lineno;
	return 1;
}

/* inih's handler: one "name = value" of the current line. */
static int
config_load_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_parse	*st = arg;

	if (st->cause != NULL)
		return 0;
	if (*name == '\0')
		return config_error(st, "no key before '=' (value '%s')",
		    value);
	if (st->section == NULL) {
		return config_error(st, "%s: key before any section (expected "
		    "a [section] line first)", name);
	}
	if (strcmp(st->section, "webhook") == 0)
		return config_load_webhook_key(st, name, value);
	return config_load_key(st, name, value);
}

/* A "[webhook NAME]" line: start a new webhook. */
static void
config_load_webhook(struct config_parse *st, const char *name)
{
	struct config		*cfg = st->cfg;
	struct webhook_cfg	*wh;
	size_t			 n;

	if (*name == '\0') {
		config_error(st, "[webhook] needs a name: [webhook NAME]");
		return;
	}
	for (const char *p = name; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_') {
			config_error(st, "[webhook %s]: a webhook name holds "
			    "only letters, digits, '.', '-' and '_'", name);
			return;
		}
	}
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		if (strcmp(cfg->webhooks[i].name, name) != 0)
			continue;
		if (i >= st->hook_base)
			config_error(st, "[webhook %s]: defined twice (first "
			    "on line %u)", name,
			    st->hook_lines[i - st->hook_base].section);
		else
			config_error(st, "[webhook %s]: defined twice", name);
		return;
	}

	cfg->webhooks = xreallocarray(cfg->webhooks, cfg->nwebhooks + 1,
	    sizeof *cfg->webhooks);
	wh = &cfg->webhooks[cfg->nwebhooks];
	memset(wh, 0, sizeof *wh);
	wh->name = xstrdup(name);
	wh->prefix = xstrdup("");
	st->hook = cfg->nwebhooks++;

	n = cfg->nwebhooks - st->hook_base;
	st->hook_lines = xreallocarray(st->hook_lines, n,
	    sizeof *st->hook_lines);
	memset(&st->hook_lines[n - 1], 0, sizeof *st->hook_lines);
	st->hook_lines[n - 1].section = st->lineno;
	st->section = "webhook";
}

/* A "[section]" line (comment and blanks already cut off). */
static void
config_load_section(struct config_parse *st, char *line)
{
	char	*name, *end;
	size_t	 i;

	end = strchr(line, ']');
	if (end == NULL || end[1] != '\0') {
		config_error(st, "'%s' is not a [section] line", line);
		return;
	}
	*end = '\0';
	name = line + 1;
	while (isspace((unsigned char)*name))
		name++;
	while (end > name && isspace((unsigned char)end[-1]))
		*--end = '\0';

	if (strncmp(name, "webhook", 7) == 0 &&
	    (name[7] == '\0' || isspace((unsigned char)name[7]))) {
		name += 7;
		while (isspace((unsigned char)*name))
			name++;
		config_load_webhook(st, name);
		return;
	}
	for (i = 0; i < CONFIG_NSECTIONS; i++) {
		if (strcmp(name, config_sections[i]) == 0) {
			st->section = config_sections[i];
			return;
		}
	}
	config_error(st, "unknown section [%s] (expected " CONFIG_SECTIONS_HINT
	    ")", name);
}

/*
 * inih's reader: hand inih one line per call, so its line count is ours,
 * with comments, blank lines and section lines already dealt with (given
 * as empty lines) and anything inih would misread turned into an error.
 * Returns NULL at the end of the file or after an error, which stops inih.
 */
static char *
config_load_reader(char *str, int num, void *arg)
{
	struct config_parse	*st = arg;
	ssize_t			 len;
	char			*p, *end, *sep;

	if (st->cause != NULL)
		return NULL;
	errno = 0;
	if ((len = getline(&st->line, &st->linesize, st->fp)) == -1) {
		if (ferror(st->fp)) {
			xasprintf(&st->cause, "%s: %s", st->path,
			    strerror(errno != 0 ? errno : EIO));
		}
		return NULL;
	}
	st->lineno++;
	if (memchr(st->line, '\0', (size_t)len) != NULL) {
		config_error(st, "the line holds a NUL byte");
		return NULL;
	}

	p = st->line;
	if (st->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (isspace((unsigned char)*p))
		p++;
	/* A comment: '#' or ';' starting the line or following a blank. */
	for (end = p; *end != '\0'; end++) {
		if ((*end == '#' || *end == ';') &&
		    (end == p || isspace((unsigned char)end[-1])))
			break;
	}
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';

	str[0] = '\0';
	if (*p == '\0')
		return str;
	if (*p == '[') {
		config_load_section(st, p);
		return st->cause != NULL ? NULL : str;
	}
	/* "key: value" is inih's; "tcp://host:1" alone is no key. */
	sep = strpbrk(p, "=:");
	if (sep == NULL || (sep[0] == ':' && sep[1] == '/' && sep[2] == '/')) {
		config_error(st, "'%s' is not a 'key = value' line", p);
		return NULL;
	}
	if ((size_t)(end - p) >= (size_t)num) {
		config_error(st, "the line is longer than %d characters",
		    num - 1);
		return NULL;
	}
	memcpy(str, p, (size_t)(end - p) + 1);
	return str;
}

/* Checks across keys once the whole file is read. */
static void
config_load_finish(struct config_parse *st)
{
	struct config	*cfg = st->cfg;
	unsigned	 line;
	size_t		 i;

	for (i = st->hook_base; i < cfg->nwebhooks; i++) {
		if (cfg->webhooks[i].url == NULL) {
			config_error_at(st,
			    st->hook_lines[i - st->hook_base].section,
			    "[webhook %s]: url is missing",
			    cfg->webhooks[i].name);
			return;
		}
	}

	if (cfg->max_map_size_mb != 0 &&
	    cfg->max_map_size_mb < cfg->map_size_mb) {
		for (i = 0; i < CONFIG_NKEYS; i++) {
			if (strcmp(config_keys[i].name, "max_map_size_mb") == 0)
				break;
		}
		line = st->key_line[i];
		config_error_at(st, line != 0 ? line : st->lineno,
		    "[store] max_map_size_mb: %llu is below map_size_mb %llu "
		    "(expected 0 for no growth, or at least map_size_mb)",
		    (unsigned long long)cfg->max_map_size_mb,
		    (unsigned long long)cfg->map_size_mb);
		return;
	}

	if (cfg->ingest_curve && cfg->secret_key_file == NULL) {
		for (i = 0; i < CONFIG_NKEYS; i++) {
			if (strcmp(config_keys[i].name, "curve") == 0)
				break;
		}
		line = st->key_line[i];
		config_error_at(st, line != 0 ? line : st->lineno,
		    "[ingest] curve: yes needs [security] secret_key_file");
	}
}

/* Read an INI stream, named path in messages, into *cfg; closes fp. */
static int
config_load_stream(struct config *cfg, const char *path, FILE *fp,
    char **cause)
{
	struct config_parse	 st;
	int			 rc;

	memset(&st, 0, sizeof st);
	st.cfg = cfg;
	st.path = path;
	st.hook_base = cfg->nwebhooks;
	st.fp = fp;
	*cause = NULL;

	rc = ini_parse_stream(config_load_reader, &st, config_load_handler,
	    &st);
	fclose(st.fp);
	free(st.line);

	if (st.cause == NULL && rc > 0)
		config_error_at(&st, (unsigned)rc, "syntax error");
	else if (st.cause == NULL && rc < 0)
		config_error_at(&st, st.lineno, "inih failed (%d)", rc);
	if (st.cause == NULL)
		config_load_finish(&st);
	free(st.hook_lines);

	if (st.cause != NULL) {
		*cause = st.cause;
		return -1;
	}
	return 0;
}

/* Read an INI file into *cfg. */
int
config_load(struct config *cfg, const char *path, char **cause)
{
	FILE	*fp;

	if ((fp = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	return config_load_stream(cfg, path, fp, cause);
}

/* Read INI text from memory into *cfg, as config_load() reads a file. */
int
config_load_buffer(struct config *cfg, const char *name, const void *buf,
    size_t len, char **cause)
{
	FILE	*fp;

	/* fmemopen() may refuse a size of 0: read one blank line then. */
	if ((fp = fmemopen(len ? (void *)buf : "\n", len ? len : 1, "r")) ==
	    NULL) {
		xasprintf(cause, "%s: %s", name, strerror(errno));
		return -1;
	}
	return config_load_stream(cfg, name, fp, cause);
}

enum {
	CONFIG_OPT_DATA = 256,
	CONFIG_OPT_INGEST,
	CONFIG_OPT_NOTIFY,
	CONFIG_OPT_API,
	CONFIG_OPT_LOG_LEVEL
};

static const struct option config_options[] = {
	{ "config",	required_argument,	NULL, 'c' },
	{ "data",	required_argument,	NULL, CONFIG_OPT_DATA },
	{ "ingest",	required_argument,	NULL, CONFIG_OPT_INGEST },
	{ "notify",	required_argument,	NULL, CONFIG_OPT_NOTIFY },
	{ "api",	required_argument,	NULL, CONFIG_OPT_API },
	{ "log-level",	required_argument,	NULL, CONFIG_OPT_LOG_LEVEL },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* Print the usage on f. */
static void
config_usage(FILE *f)
{
	fputs("usage: wartad [-hnVv] [-c FILE] [--data DIR] [--ingest EP] "
	    "[--notify EP]\n"
	    "              [--api EP] [--log-level LEVEL]\n"
	    "  -c, --config FILE  read the INI file FILE; flags win over it\n"
	    "  --data DIR         store directory (./warta-data)\n"
	    "  --ingest EP        ingest SUB endpoint (tcp://127.0.0.1:7401)\n"
	    "  --notify EP        notify XPUB endpoint (tcp://127.0.0.1:7402)\n"
	    "  --api EP           api ROUTER endpoint (tcp://127.0.0.1:7403)\n"
	    "  --log-level LEVEL  error, warn, info or debug (info)\n"
	    "  -n                 check the configuration and exit\n"
	    "  -v                 one log level more verbose; repeatable\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n"
	    "An EP is tcp://HOST:PORT, ipc://PATH or inproc://NAME.\n", f);
}

/* The name a flag was given as, for messages: "-c" or "--config". */
static const char *
config_flag_name(int val, const char *arg, char *buf, size_t size)
{
	const struct option	*o;

	if (arg != NULL && strncmp(arg, "--", 2) == 0) {
		for (o = config_options; o->name != NULL; o++) {
			if (o->val == val) {
				snprintf(buf, size, "--%s", o->name);
				return buf;
			}
		}
	}
	snprintf(buf, size, "-%c", val);
	return buf;
}

/* The metavariable of a flag's value, for messages. */
static const char *
config_flag_meta(int val)
{
	switch (val) {
	case 'c':
		return "FILE";
	case CONFIG_OPT_DATA:
		return "DIR";
	case CONFIG_OPT_LOG_LEVEL:
		return "LEVEL";
	default:
		return "EP";
	}
}

/* Parse argv into *cfg: -c FILE first, then the other flags over it. */
int
config_from_args(struct config *cfg, int argc, char **argv, char **cause)
{
	const char	*file = NULL, *data = NULL, *why, *arg;
	const char	*ingest = NULL, *notify = NULL, *api = NULL;
	char		 name[32];
	int		 ch, level = -1, verbose = 0;

	*cause = NULL;
	if (cfg->data_dir == NULL)
		config_defaults(cfg);

	/* glibc: optind 0 resets getopt fully, clusters included. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:nvhV", config_options,
	    NULL)) != -1) {
		arg = optind > 0 && optind <= argc ? argv[optind - 1] : NULL;
		switch (ch) {
		case 'c':
			if (*optarg == '\0')
				return config_flag_error(cause, "%s: the file "
				    "name is empty", config_flag_name(ch, arg,
				    name, sizeof name));
			file = optarg;
			break;
		case CONFIG_OPT_DATA:
			if (*optarg == '\0')
				return config_flag_error(cause, "--data: the "
				    "directory is empty");
			data = optarg;
			break;
		case CONFIG_OPT_INGEST:
		case CONFIG_OPT_NOTIFY:
		case CONFIG_OPT_API:
			if ((why = config_endpoint_why(optarg)) != NULL)
				return config_flag_error(cause, "%s: '%s' is "
				    "not a valid endpoint: %s",
				    config_flag_name(ch, "--", name,
				    sizeof name), optarg, why);
			if (ch == CONFIG_OPT_INGEST)
				ingest = optarg;
			else if (ch == CONFIG_OPT_NOTIFY)
				notify = optarg;
			else
				api = optarg;
			break;
		case CONFIG_OPT_LOG_LEVEL:
			if ((level = log_level_parse(optarg)) < 0)
				return config_flag_error(cause, "--log-level: "
				    "'%s' is not one of " CONFIG_LEVEL_HINT,
				    optarg);
			break;
		case 'n':
			cfg->check_only = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			config_usage(stdout);
			fflush(stdout);
			return 1;
		case 'V':
			printf("wartad %s\n", WARTA_VERSION);
			fflush(stdout);
			return 1;
		case ':':
			return config_flag_error(cause, "%s: missing %s",
			    config_flag_name(optopt, arg, name, sizeof name),
			    config_flag_meta(optopt));
		default:
			if (arg != NULL && strncmp(arg, "--", 2) == 0) {
				if (optopt != 0)
					return config_flag_error(cause,
					    "%s: takes no value",
					    config_flag_name(optopt, arg, name,
					    sizeof name));
				return config_flag_error(cause, "%.*s: unknown "
				    "flag (see --help)",
				    (int)strcspn(arg, "="), arg);
			}
			return config_flag_error(cause, "-%c: unknown flag "
			    "(see --help)", optopt);
		}
	}
	if (optind < argc)
		return config_flag_error(cause, "'%s': unexpected argument "
		    "(see --help)", argv[optind]);

	if (file != NULL) {
		config_set_string(&cfg->config_file, file);
		if (config_load(cfg, file, cause) != 0)
			return -1;
	}
	if (data != NULL)
		config_set_string(&cfg->data_dir, data);
	if (ingest != NULL)
		config_set_string(&cfg->ingest_bind, ingest);
	if (notify != NULL)
		config_set_string(&cfg->notify_bind, notify);
	if (api != NULL)
		config_set_string(&cfg->api_bind, api);
	if (level >= 0)
		cfg->log_level = level;
	cfg->verbose = verbose;
	if (cfg->log_level + verbose > LOG_LVL_DEBUG)
		cfg->log_level = LOG_LVL_DEBUG;
	else
		cfg->log_level += verbose;
	return 0;
}
