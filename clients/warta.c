/*
 * warta.c — the command-line client: warta [GLOBAL…] CMD [ARG…].
 *
 * Every command is a function cmd_<name>() listed in the cmds[] table with
 * its usage line and help.  Everything it says to the daemon goes through
 * the client library (warta.h), and JSON through mpjson.h.  Exit codes
 * follow sysexits: 0 ok, 64 usage, 65 invalid data, 69 unavailable,
 * 76 protocol, 77 forbidden, 1 anything else.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>
#include <zmq.h>

#include "clients/mpjson.h"
#include "clients/warta.h"

#define WARTA_VERSION	"1"

#define EXIT_USAGE	64
#define EXIT_DATAERR	65
#define EXIT_NOINPUT	66
#define EXIT_UNAVAIL	69
#define EXIT_PROTOCOL	76
#define EXIT_NOPERM	77

/* One subcommand. */
struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
	const char	*help;
};

/* Walks a command's arguments: options (--name, --name=value, -h) and
   positional words; "--" ends the options. */
struct args {
	int		 argc;
	char		**argv;
	int		 i;
	bool		 dashdash;
};

/* A growing string. */
struct str {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

/* A table printed with aligned columns. */
struct table {
	size_t		 ncols;
	char		**cells;
	size_t		 ncells;
	size_t		 cap;
};

/* Row filters for sub and replay: each list empty means any. */
struct filter {
	char		**types;
	size_t		 ntypes;
	char		**countries;
	size_t		 ncountries;
	char		**actions;
	size_t		 nactions;
};

/* How notices are printed. */
struct out {
	bool		 json;
	bool		 colour;
	uint64_t	 count;		/* printed so far */
	uint64_t	 max;		/* stop after this many; 0: never */
	bool		 broken;	/* stdout went away */
	int		 status;	/* exit status so far */
};

static const struct cmd	*cli_cmd;	/* the command running */
static struct warta_options cli_opts;
static char		*cli_keys[3];	/* server, public, secret */
static volatile sig_atomic_t cli_stop;

static const struct cmd *cli_find(const char *);
static void	 cli_die(int, const char *, ...)
		    __attribute__((format(printf, 2, 3), noreturn));
static void	 cli_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	 cli_warn(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	 str_add(struct str *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Allocate or die. */
static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		cli_die(1, "out of memory");
	return p;
}

/* Resize or die. */
static void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		cli_die(1, "out of memory");
	if ((p = realloc(p, n * size != 0 ? n * size : 1)) == NULL)
		cli_die(1, "out of memory");
	return p;
}

/* Copy a string or die. */
static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		cli_die(1, "out of memory");
	return p;
}

/* The name used in messages: "warta" or "warta CMD". */
static void
cli_prefix(FILE *f)
{
	if (cli_cmd != NULL)
		fprintf(f, "warta %s: ", cli_cmd->name);
	else
		fprintf(f, "warta: ");
}

/* Print a message on stderr and exit with status. */
static void
cli_die(int status, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	cli_prefix(stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Print a warning on stderr. */
static void
cli_warn(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	cli_prefix(stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Bad usage: one line naming the problem and the usage, exit 64. */
static void
cli_usage(const char *fmt, ...)
{
	va_list	ap;

	cli_prefix(stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cli_cmd != NULL)
		fprintf(stderr, "; usage: warta %s %s\n", cli_cmd->name,
		    cli_cmd->usage);
	else
		fprintf(stderr, "; try 'warta --help'\n");
	exit(EXIT_USAGE);
}

/* Append to a growing string, printf-style. */
static void
str_add(struct str *s, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (s->len + (size_t)n + 1 > s->cap) {
		s->cap = (s->len + (size_t)n + 1) * 2;
		s->p = xreallocarray(s->p, s->cap, 1);
	}
	va_start(ap, fmt);
	vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

/* Append len bytes, control characters turned into spaces. */
static void
str_addn(struct str *s, const char *p, size_t len)
{
	size_t	i;

	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->p = xreallocarray(s->p, s->cap, 1);
	}
	for (i = 0; i < len; i++)
		s->p[s->len++] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ?
		    ' ' : p[i];
	s->p[s->len] = '\0';
}

/* The string built so far, never NULL; the caller frees it. */
static char *
str_take(struct str *s)
{
	char	*p = s->p != NULL ? s->p : xstrdup("");

	memset(s, 0, sizeof *s);
	return p;
}

/* Display width of UTF-8 text: its code points. */
static size_t
utf8_width(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A table of ncols columns. */
static void
table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
}

/* Add one cell (copied); rows fill left to right. */
static void
table_add(struct table *t, const char *cell)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xreallocarray(t->cells, t->cap, sizeof *t->cells);
	}
	t->cells[t->ncells++] = xstrdup(cell != NULL ? cell : "");
}

/* Add one cell, taking ownership of it. */
static void
table_take(struct table *t, char *cell)
{
	table_add(t, cell);
	free(cell);
}

/* Print the table, columns two spaces apart, and free it. */
static void
table_print(struct table *t)
{
	size_t	*w, i, c, pad;

	w = xcalloc(t->ncols, sizeof *w);
	for (i = 0; i < t->ncells; i++)
		if (utf8_width(t->cells[i]) > w[i % t->ncols])
			w[i % t->ncols] = utf8_width(t->cells[i]);
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		fputs(t->cells[i], stdout);
		if (c == t->ncols - 1)
			fputc('\n', stdout);
		else
			for (pad = utf8_width(t->cells[i]); pad < w[c] + 2;
			    pad++)
				fputc(' ', stdout);
		free(t->cells[i]);
	}
	free(t->cells);
	free(w);
}

/* Start walking argv[first…]. */
static void
args_init(struct args *a, int argc, char **argv, int first)
{
	a->argc = argc;
	a->argv = argv;
	a->i = first;
	a->dashdash = false;
}

/*
 * The next argument: 1 for an option (*name without the dashes, *inl its
 * "=value" or NULL), 0 for a positional word (*name), -1 at the end.
 */
static int
args_next(struct args *a, const char **name, const char **inl)
{
	static char	 buf[256];
	const char	*s, *eq;

	if (a->i >= a->argc)
		return -1;
	s = a->argv[a->i++];
	*inl = NULL;
	if (a->dashdash || s[0] != '-' || s[1] == '\0') {
		*name = s;
		return 0;
	}
	if (strcmp(s, "--") == 0) {
		a->dashdash = true;
		return args_next(a, name, inl);
	}
	if (s[1] != '-') {
		if (strcmp(s, "-h") == 0) {
			*name = "help";
			return 1;
		}
		/* A negative number is a word, not an option. */
		if (isdigit((unsigned char)s[1])) {
			*name = s;
			return 0;
		}
		cli_usage("unknown option %s", s);
	}
	s += 2;
	if ((eq = strchr(s, '=')) != NULL) {
		if ((size_t)(eq - s) >= sizeof buf)
			cli_usage("option too long");
		memcpy(buf, s, (size_t)(eq - s));
		buf[eq - s] = '\0';
		*name = buf;
		*inl = eq + 1;
	} else
		*name = s;
	return 1;
}

/* The value of option name: its "=value" or the next argument. */
static const char *
args_value(struct args *a, const char *name, const char *inl)
{
	if (inl != NULL)
		return inl;
	if (a->i >= a->argc)
		cli_usage("--%s needs a value", name);
	return a->argv[a->i++];
}

/* An option given "=value" that takes none. */
static void
args_flag(const char *name, const char *inl)
{
	if (inl != NULL)
		cli_usage("--%s takes no value", name);
}

/* A whole number in [min, max] for option name. */
static int64_t
cli_int(const char *name, const char *s, int64_t min, int64_t max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		cli_usage("--%s: '%s' is not a whole number from %" PRId64
		    " to %" PRId64, name, s, min, max);
	return v;
}

/* Read a Z85 key: the text itself, or the first word of a file. */
static char *
cli_read_key(const char *what, const char *s)
{
	FILE	*f;
	char	 buf[128];
	size_t	 n;

	if (strlen(s) == 40 && access(s, F_OK) == -1)
		return xstrdup(s);
	if ((f = fopen(s, "r")) == NULL)
		cli_usage("%s: %s: %s", what, s, strerror(errno));
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, " \t\r\n");
	buf[n] = '\0';
	if (n != 40)
		cli_usage("%s: %s does not hold a 40-character Z85 key", what,
		    s);
	return xstrdup(buf);
}

/*
 * Load our key pair for --key (or WARTA_KEY): BASENAME.pub and BASENAME.key
 * as `warta keygen --out BASENAME` writes them; else a file holding the
 * secret key, or the 40-character secret key itself, whose public key is
 * derived from it.
 */
static void
cli_load_keypair(const char *base)
{
	char	*path, pub[41];

	free(cli_keys[1]);
	free(cli_keys[2]);
	if (asprintf(&path, "%s.key", base) == -1)
		cli_die(1, "out of memory");
	if (access(path, F_OK) == 0) {
		cli_keys[2] = cli_read_key("--key", path);
		free(path);
		if (asprintf(&path, "%s.pub", base) == -1)
			cli_die(1, "out of memory");
		cli_keys[1] = cli_read_key("--key", path);
	} else {
		cli_keys[2] = cli_read_key("--key", base);
		cli_keys[1] = NULL;
	}
	if (zmq_curve_public(pub, cli_keys[2]) == -1)
		cli_usage("--key: %s: not a CURVE secret key", base);
	if (cli_keys[1] == NULL)
		cli_keys[1] = xstrdup(pub);
	else if (strcmp(pub, cli_keys[1]) != 0)
		cli_usage("--key: %s is not the public key of %s", path,
		    base);
	free(path);
}

/* A global option (--api, --timeout, …), accepted before or after the
   command; false when name is not one. */
static bool
cli_global(struct args *a, const char *name, const char *inl)
{
	const char	*v;
	char		*end;
	double		 secs;

	if (strcmp(name, "api") == 0)
		cli_opts.api = args_value(a, name, inl);
	else if (strcmp(name, "notify") == 0)
		cli_opts.notify = args_value(a, name, inl);
	else if (strcmp(name, "ingest") == 0)
		cli_opts.ingest = args_value(a, name, inl);
	else if (strcmp(name, "timeout") == 0) {
		v = args_value(a, name, inl);
		secs = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || !(secs > 0) || secs > 3600)
			cli_usage("--timeout: '%s' is not a number of seconds "
			    "above 0 and at most 3600", v);
		cli_opts.timeout_ms = (int)(secs * 1000);
		if (cli_opts.timeout_ms == 0)
			cli_opts.timeout_ms = 1;
	} else if (strcmp(name, "server-key") == 0) {
		free(cli_keys[0]);
		cli_keys[0] = cli_read_key("--server-key",
		    args_value(a, name, inl));
	} else if (strcmp(name, "key") == 0)
		cli_load_keypair(args_value(a, name, inl));
	else
		return false;
	return true;
}

/* Print a command's help and exit 0. */
static void
cli_help(const struct cmd *c)
{
	printf("usage: warta %s %s\n\n%s", c->name, c->usage, c->help);
	printf("\nGlobal options (before or after the command): --api EP, "
	    "--notify EP,\n--ingest EP, --timeout SECONDS, --server-key "
	    "KEY|FILE, --key BASENAME|FILE|KEY.\nSee 'warta --help'.\n");
	exit(0);
}

/* An option that is neither the command's nor global: bad usage. */
static void
cli_other(struct args *a, const char *name, const char *inl)
{
	if (strcmp(name, "help") == 0)
		cli_help(cli_cmd);
	if (!cli_global(a, name, inl))
		cli_usage("unknown option --%s", name);
}

/* A client handle with the global options, or exit. */
static struct warta *
cli_connect(void)
{
	struct warta	*w;
	char		*cause;
	const char	*e;

	if (cli_keys[0] == NULL && (e = getenv("WARTA_SERVER_KEY")) != NULL &&
	    *e != '\0')
		cli_keys[0] = cli_read_key("WARTA_SERVER_KEY", e);
	if (cli_keys[1] == NULL && (e = getenv("WARTA_KEY")) != NULL &&
	    *e != '\0')
		cli_load_keypair(e);
	if ((cli_keys[0] != NULL) != (cli_keys[1] != NULL))
		cli_usage("CURVE needs both --server-key and --key");
	cli_opts.server_key = cli_keys[0];
	cli_opts.public_key = cli_keys[1];
	cli_opts.secret_key = cli_keys[2];
	if (cli_opts.timeout_ms == 0 && (e = getenv("WARTA_TIMEOUT")) != NULL &&
	    *e != '\0')
		cli_opts.timeout_ms = (int)(atof(e) * 1000);
	if ((w = warta_new(&cli_opts, &cause)) == NULL)
		cli_usage("%s", cause != NULL ? cause : "cannot start");
	return w;
}

/* The exit status for a library failure. */
static int
cli_status(struct warta *w, int rc)
{
	const char	*code;

	switch (rc) {
	case WARTA_OK:
	case WARTA_E_STOPPED:
		return 0;
	case WARTA_E_TIMEOUT:
		return EXIT_UNAVAIL;
	case WARTA_E_PROTO:
		return EXIT_PROTOCOL;
	case WARTA_E_USAGE:
		return EXIT_DATAERR;
	case WARTA_E_DAEMON:
		code = warta_error_code(w);
		if (strcmp(code, "invalid") == 0 ||
		    strcmp(code, "too_large") == 0)
			return EXIT_DATAERR;
		if (strcmp(code, "bad_request") == 0)
			return EXIT_USAGE;
		if (strcmp(code, "forbidden") == 0)
			return EXIT_NOPERM;
		if (strcmp(code, "unavailable") == 0)
			return EXIT_UNAVAIL;
		return 1;
	}
	return 1;
}

/* Report a library failure and exit with its status. */
static void
cli_fail(struct warta *w, int rc)
{
	cli_die(cli_status(w, rc), "%s", warta_error(w));
}

/* Start a request map {op, …} of nkeys keys besides op. */
static void
req_begin(msgpack_sbuffer *sb, msgpack_packer *pk, const char *op,
    size_t nkeys)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, nkeys + 1);
	msgpack_pack_str_with_body(pk, "op", 2);
	msgpack_pack_str_with_body(pk, op, strlen(op));
}

/* Pack a string key. */
static void
req_key(msgpack_packer *pk, const char *key)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
}

/* Pack a string. */
static void
req_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Send a request and return its ok reply, or exit. */
static struct warta_reply *
cli_call(struct warta *w, msgpack_sbuffer *sb)
{
	struct warta_reply	*r;
	int			 rc;

	rc = warta_request(w, sb->data, sb->size, &r);
	msgpack_sbuffer_destroy(sb);
	if (rc != WARTA_OK) {
		warta_reply_free(&r);
		cli_fail(w, rc);
	}
	return r;
}

/* Print a JSON value on one line (UTF-8 kept, integers as integers). */
static int
cli_json_line(json_t *j)
{
	char	*s;

	if ((s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17))) ==
	    NULL)
		cli_die(1, "cannot format JSON");
	fputs(s, stdout);
	fputc('\n', stdout);
	free(s);
	return ferror(stdout) ? -1 : 0;
}

/* Print a MessagePack value as one JSON line; a value JSON cannot hold
   is reported and skipped (-1). */
static int
cli_print_json(const msgpack_object *o, const char *path)
{
	json_t	*j;
	char	*cause;

	if ((j = mpjson_to_json(o, path, &cause)) == NULL) {
		cli_warn("%s", cause != NULL ? cause : "cannot convert");
		free(cause);
		return -1;
	}
	cli_json_line(j);
	json_decref(j);
	return 0;
}

/* A reply map as JSON without its "ok". */
static void
cli_print_reply_json(const struct warta_reply *r)
{
	msgpack_object	o = r->root;
	json_t		*j;
	char		*cause;

	if ((j = mpjson_to_json(&o, "", &cause)) == NULL)
		cli_die(EXIT_DATAERR, "%s", cause != NULL ? cause : "cannot "
		    "convert to JSON");
	json_object_del(j, "ok");
	cli_json_line(j);
	json_decref(j);
}

/* Unix ms as local time: "2026-03-04 09:00" (or with seconds and zone). */
static void
cli_time(int64_t ms, bool full, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);

	if (ms < 0 && ms % 1000 != 0)
		t--;
	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "%" PRId64, ms);
		return;
	}
	strftime(buf, len, full ? "%Y-%m-%d %H:%M:%S %z" : "%Y-%m-%d %H:%M",
	    &tm);
}

/* An integer object's value; false when o is not an integer. */
static bool
obj_int(const msgpack_object *o, int64_t *v)
{
	if (o == NULL)
		return false;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX) {
		*v = (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return true;
	}
	return false;
}

/* Whether key names a time (ends in "_at"). */
static bool
cli_is_time_key(const char *key, size_t len)
{
	return len > 3 && memcmp(key + len - 3, "_at", 3) == 0;
}

/* Append a value as people read it: times as local time, arrays joined
   with ", ", maps as "k: v". */
static void
cli_show(struct str *s, const msgpack_object *o, bool is_time, bool full)
{
	char		 tb[64];
	int64_t		 v;
	uint32_t	 i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		str_add(s, "nil");
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		str_add(s, "%s", o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		if (is_time && obj_int(o, &v)) {
			cli_time(v, full, tb, sizeof tb);
			str_add(s, "%s", tb);
		} else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			str_add(s, "%" PRIu64, o->via.u64);
		else
			str_add(s, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		str_add(s, "%g", o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		str_addn(s, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		str_add(s, "<%" PRIu32 " bytes>", o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		str_add(s, "<ext %d, %" PRIu32 " bytes>", o->via.ext.type,
		    o->via.ext.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				str_add(s, ", ");
			cli_show(s, &o->via.array.ptr[i], false, full);
		}
		break;
	case MSGPACK_OBJECT_MAP:
		for (i = 0; i < o->via.map.size; i++) {
			if (i > 0)
				str_add(s, ", ");
			cli_show(s, &o->via.map.ptr[i].key, false, full);
			str_add(s, ": ");
			cli_show(s, &o->via.map.ptr[i].val, false, full);
		}
		break;
	}
}

/* The value at key of map m for people, "" when absent. */
static char *
cli_field(const msgpack_object *m, const char *key)
{
	const msgpack_object	*o;
	struct str		 s = { 0 };

	if ((o = warta_map_get(m, key)) != NULL)
		cli_show(&s, o, cli_is_time_key(key, strlen(key)), false);
	return str_take(&s);
}

/* Whether an event is an urgent attaché notice. */
static bool
cli_urgent(const msgpack_object *ev)
{
	return warta_str_eq(warta_map_get(ev, "priority"), "urgent");
}

/* What an event is about in a few words: the title, or the person and
   post, and an attaché's message. */
static char *
cli_summary(const msgpack_object *ev, bool with_time)
{
	const msgpack_object	*o;
	struct str		 s = { 0 };
	char			 tb[64];
	int64_t			 v;

	if ((o = warta_map_get(ev, "title")) != NULL)
		cli_show(&s, o, false, false);
	else if ((o = warta_map_get(ev, "person")) != NULL) {
		cli_show(&s, o, false, false);
		if ((o = warta_map_get(ev, "post")) != NULL) {
			str_add(&s, ", ");
			cli_show(&s, o, false, false);
		}
	}
	if ((o = warta_map_get(ev, "message")) != NULL) {
		str_add(&s, ": ");
		cli_show(&s, o, false, false);
	}
	if (with_time && obj_int(warta_map_get(ev, "starts_at"), &v)) {
		cli_time(v, false, tb, sizeof tb);
		str_add(&s, " (starts %s)", tb);
	}
	return str_take(&s);
}

/* Whether s is in the list (an empty list holds everything). */
static bool
cli_in(char **list, size_t n, const char *s, size_t len)
{
	size_t	i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
			return true;
	return false;
}

/* Whether a notify topic type.country.action passes the filter. */
static bool
filter_topic(void *arg, const char *topic)
{
	struct filter	*f = arg;
	const char	*p[3], *end;
	size_t		 len[3];
	int		 i;

	for (i = 0; i < 3; i++) {
		p[i] = topic;
		end = strchr(topic, '.');
		len[i] = end != NULL ? (size_t)(end - topic) : strlen(topic);
		topic += len[i] + (end != NULL);
	}
	return cli_in(f->types, f->ntypes, p[0], len[0]) &&
	    cli_in(f->countries, f->ncountries, p[1], len[1]) &&
	    cli_in(f->actions, f->nactions, p[2], len[2]);
}

/* Add comma-separated words to a list. */
static void
cli_list_add(char ***list, size_t *n, const char *v)
{
	char	*copy, *w, *save = NULL;

	copy = xstrdup(v);
	for (w = strtok_r(copy, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save)) {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			continue;
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrdup(w);
	}
	free(copy);
}

/* A filter option (--type, --country, --action); false if not one. */
static bool
filter_option(struct filter *f, struct args *a, const char *name,
    const char *inl)
{
	if (strcmp(name, "type") == 0)
		cli_list_add(&f->types, &f->ntypes, args_value(a, name, inl));
	else if (strcmp(name, "country") == 0)
		cli_list_add(&f->countries, &f->ncountries,
		    args_value(a, name, inl));
	else if (strcmp(name, "action") == 0)
		cli_list_add(&f->actions, &f->nactions,
		    args_value(a, name, inl));
	else
		return false;
	return true;
}

/* Free a list of strings. */
static void
cli_list_free(char **list, size_t n)
{
	while (n > 0)
		free(list[--n]);
	free(list);
}

/* Free what a filter holds. */
static void
filter_free(struct filter *f)
{
	cli_list_free(f->types, f->ntypes);
	cli_list_free(f->countries, f->ncountries);
	cli_list_free(f->actions, f->nactions);
	memset(f, 0, sizeof *f);
}

/* Whether the filter has anything in it. */
static bool
filter_any(const struct filter *f)
{
	return f->ntypes + f->ncountries + f->nactions > 0;
}

/* Print one notification body as a line for people, or as JSON. */
static void
out_notice(struct out *o, const msgpack_object *body)
{
	const msgpack_object	*ev;
	char			 tb[64], *cc, *action, *id, *summary, *type;
	const char		*topic, *dot;
	uint64_t		 seq = 0;
	int64_t			 at = 0;
	bool			 urgent;
	size_t			 tlen;

	if (o->json) {
		if (cli_print_json(body, "") == -1)
			o->status = EXIT_DATAERR;
	} else {
		ev = warta_map_get(body, "event");
		warta_map_uint(body, "seq", &seq);
		obj_int(warta_map_get(body, "received_at"), &at);
		cli_time(at, false, tb, sizeof tb);
		topic = "";
		tlen = 0;
		if (warta_map_get(body, "topic") != NULL &&
		    warta_map_get(body, "topic")->type == MSGPACK_OBJECT_STR) {
			topic = warta_map_get(body, "topic")->via.str.ptr;
			tlen = warta_map_get(body, "topic")->via.str.size;
		}
		dot = memchr(topic, '.', tlen);
		type = strndup(topic, dot != NULL ? (size_t)(dot - topic) :
		    tlen);
		cc = cli_field(ev, "country");
		action = cli_field(ev, "action");
		id = cli_field(ev, "id");
		summary = cli_summary(ev, true);
		urgent = cli_urgent(ev);
		if (urgent && o->colour)
			fputs("\033[1;31m", stdout);
		printf("%s %c %-8s %-2s %-15s %s  %s  #%" PRIu64, tb,
		    urgent ? '!' : ' ', type != NULL ? type : "", cc, action,
		    id, summary, seq);
		if (urgent && o->colour)
			fputs("\033[0m", stdout);
		fputc('\n', stdout);
		free(type);
		free(cc);
		free(action);
		free(id);
		free(summary);
	}
	o->count++;
	if (fflush(stdout) == EOF)
		o->broken = true;
}

/* Whether stdout should get colour. */
static bool
cli_colour(void)
{
	const char	*e = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && (e == NULL || *e == '\0');
}

/* Stop at a signal. */
static void
cli_on_signal(int sig)
{
	(void)sig;
	cli_stop = 1;
}

/* SIGINT and SIGTERM end a long-running command cleanly. */
static void
cli_catch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ------------------------------------------------------------------ */
/* Times given on the command line. */

/* Parse exactly n digits at *p into *v. */
static bool
cli_digits(const char **p, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (*(*p)++ - '0');
	}
	return true;
}

/*
 * A time as Unix ms: a whole number of ms, or ISO 8601
 * "2026-03-04T09:00:00+07:00" (seconds, fraction and zone optional; a
 * date alone is local midnight; no zone is local time).
 */
static int
cli_parse_time(const char *s, int64_t *ms)
{
	const char	*p = s;
	struct tm	 tm;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh, om = 0;
	int		 sign = 0, scale = 100;
	char		*end;
	time_t		 t;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s != '\0' && *end == '\0' && errno == 0) {
		*ms = v;
		return 0;
	}
	if (!cli_digits(&p, 4, &y) || *p++ != '-' || !cli_digits(&p, 2, &mo) ||
	    *p++ != '-' || !cli_digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!cli_digits(&p, 2, &h) || *p++ != ':' ||
		    !cli_digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (!cli_digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				for (; isdigit((unsigned char)*p); p++) {
					frac += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			sign = 1;
			oh = 0;
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '+' ? 1 : -1;
			if (!cli_digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (*p != '\0' && !cli_digits(&p, 2, &om))
				return -1;
			if (oh > 23 || om > 59)
				return -1;
		}
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (sign != 0)
		t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

/* A time option's value as Unix ms, or bad usage. */
static int64_t
cli_time_arg(const char *name, const char *v)
{
	int64_t	ms;

	if (cli_parse_time(v, &ms) == -1)
		cli_usage("--%s: '%s' is neither Unix milliseconds nor an ISO "
		    "8601 time like 2026-03-04T09:00:00+07:00", name, v);
	if (ms > 0 && ms < 100000000000LL)
		cli_warn("--%s %s looks like seconds; times are Unix "
		    "milliseconds", name, v);
	return ms;
}

/* ------------------------------------------------------------------ */
/* pub */

/* Known keys whose flag values are not plain strings (PROTOCOL.md 4). */
static const char *const pub_time_keys[] = {
	"starts_at", "ends_at", "occurred_at", "effective_at", NULL
};
static const char *const pub_int_keys[] = { "seats", "participants", NULL };
static const char *const pub_array_keys[] = {
	"counterparts", "agenda", "delegation", "audience", NULL
};
static const char *const pub_known_keys[] = {
	"id", "action", "country", "msg_id", "source", "occurred_at", "title",
	"kind", "counterparts", "city", "venue", "starts_at", "ends_at",
	"agenda", "delegation", "notes", "provider", "format", "seats",
	"participants", "audience", "person", "role", "post", "effective_at",
	"priority", "message", "contact", NULL
};

/* Whether s is in a NULL-terminated list. */
static bool
cli_among(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* State of one pub run. */
struct pub {
	struct warta	*w;
	bool		 json;
	bool		 each;		/* print every seq */
	bool		 progress;	/* a progress line on stderr */
	uint64_t	 sent;
	uint64_t	 acked;
	uint64_t	 dups;
	uint64_t	 failed;
	uint64_t	 first_seq;
	uint64_t	 last_seq;
	int		 status;
	bool		 fatal;		/* stop sending: forbidden, full … */
	int64_t		 last_progress;
};

/* Milliseconds on the monotonic clock. */
static int64_t
cli_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Redraw the progress line now and then. */
static void
pub_progress(struct pub *p, bool force)
{
	int64_t	now;

	if (!p->progress)
		return;
	now = cli_now_ms();
	if (!force && now - p->last_progress < 200)
		return;
	p->last_progress = now;
	fprintf(stderr, "\r\033[Kwarta pub: %" PRIu64 " sent, %" PRIu64
	    " acknowledged, %" PRIu64 " failed", p->sent, p->acked, p->failed);
}

/* Report one event that failed: on stderr, and as JSON when asked. */
static void
pub_failed(struct pub *p, long line, const char *error, const char *detail,
    int status)
{
	json_t	*j;

	p->failed++;
	if (p->status == 0 || status != EXIT_DATAERR)
		p->status = status;
	if (p->progress)
		fprintf(stderr, "\r\033[K");
	if (line > 0)
		cli_warn("line %ld: %s%s%s", line, error, *detail ? ": " : "",
		    detail);
	else
		cli_warn("%s%s%s", error, *detail ? ": " : "", detail);
	if (p->json) {
		j = json_pack("{s:b,s:s,s:s}", "ok", 0, "error", error,
		    "detail", detail);
		if (line > 0)
			json_object_set_new(j, "line", json_integer(line));
		cli_json_line(j);
		json_decref(j);
	}
}

/* The reply to one publish. */
static void
pub_ack(void *arg, void *tag, const struct warta_ack *ack)
{
	struct pub	*p = arg;
	long		 line = (long)(intptr_t)tag;
	json_t		*j;
	int		 status;

	if (ack->status != WARTA_OK) {
		if (strcmp(ack->error, "invalid") == 0 ||
		    strcmp(ack->error, "too_large") == 0)
			status = EXIT_DATAERR;
		else {
			status = strcmp(ack->error, "forbidden") == 0 ?
			    EXIT_NOPERM : strcmp(ack->error, "unavailable")
			    == 0 ? EXIT_UNAVAIL : strcmp(ack->error,
			    "bad_request") == 0 ? EXIT_USAGE : 1;
			p->fatal = true;
		}
		pub_failed(p, line, ack->error, ack->detail, status);
		return;
	}
	p->acked++;
	if (ack->duplicate)
		p->dups++;
	if (p->first_seq == 0)
		p->first_seq = ack->seq;
	p->last_seq = ack->seq;
	if (p->json) {
		j = json_pack("{s:b,s:I,s:b}", "ok", 1, "seq",
		    (json_int_t)ack->seq, "duplicate", ack->duplicate);
		if (line > 0)
			json_object_set_new(j, "line", json_integer(line));
		cli_json_line(j);
		json_decref(j);
	} else if (p->each)
		printf("%" PRIu64 "\n", ack->seq);
	pub_progress(p, false);
}

/* Send one event (a JSON object) of type, acked or not. */
static void
pub_event(struct pub *p, bool noack, const char *type, json_t *ev, long line)
{
	msgpack_sbuffer	 sb;
	char		*cause;
	int		 rc;

	if (!json_is_object(ev)) {
		pub_failed(p, line, "invalid", "an event must be a JSON object",
		    EXIT_DATAERR);
		return;
	}
	if (mpjson_pack_buffer(&sb, ev, &cause) == -1) {
		pub_failed(p, line, "invalid", cause ? cause : "",
		    EXIT_DATAERR);
		free(cause);
		msgpack_sbuffer_destroy(&sb);
		return;
	}
	if (noack)
		rc = warta_send(p->w, type, sb.data, sb.size);
	else
		rc = warta_publish_async(p->w, type, sb.data, sb.size,
		    pub_ack, p, (void *)(intptr_t)line);
	msgpack_sbuffer_destroy(&sb);
	if (rc != WARTA_OK) {
		if (p->progress)
			fprintf(stderr, "\r\033[K");
		cli_fail(p->w, rc);
	}
	p->sent++;
	if (noack)
		pub_progress(p, false);
}

/* One value read from the input: an event, an array of events, or with
   TYPE "-" a {topic, event} envelope such as sub --json prints. */
static void
pub_value(struct pub *p, bool noack, const char *type, json_t *v, long line)
{
	json_t		*ev, *topic;
	const char	*t, *dot;
	char		 tbuf[64];
	size_t		 i;

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v) && !p->fatal; i++)
			pub_value(p, noack, type, json_array_get(v, i), line);
		return;
	}
	if (strcmp(type, "-") != 0) {
		pub_event(p, noack, type, v, line);
		return;
	}
	topic = json_object_get(v, "topic");
	ev = json_object_get(v, "event");
	if (!json_is_string(topic) || !json_is_object(ev)) {
		pub_failed(p, line, "invalid", "with TYPE -, each value needs "
		    "\"topic\" and \"event\"", EXIT_DATAERR);
		return;
	}
	t = json_string_value(topic);
	dot = strchr(t, '.');
	snprintf(tbuf, sizeof tbuf, "%.*s", dot != NULL ? (int)(dot - t) :
	    (int)strlen(t), t);
	pub_event(p, noack, tbuf, ev, line);
}

/* Whether a jansson error means the text so far is a value cut short. */
static bool
pub_unfinished(const json_error_t *e)
{
	return strstr(e->text, "near end of file") != NULL ||
	    strncmp(e->text, "premature end of input", 22) == 0;
}

/* Read JSON values from f: one per line (NDJSON), or one spread over
   several lines, and publish each. */
static void
pub_stream(struct pub *p, bool noack, const char *type, FILE *f)
{
	struct str	 buf = { 0 };
	char		*line = NULL;
	size_t		 cap = 0, i;
	ssize_t		 n;
	long		 lineno = 0, start = 0;
	json_t		*v;
	json_error_t	 e;
	bool		 eof = false, blank;

	while (!eof && !p->fatal && !cli_stop) {
		if ((n = getline(&line, &cap, f)) == -1) {
			if (ferror(f))
				cli_die(1, "read: %s", strerror(errno));
			eof = true;
			if (buf.len == 0)
				break;
		} else {
			lineno++;
			for (blank = true, i = 0; i < (size_t)n && blank; i++)
				blank = isspace((unsigned char)line[i]);
			if (buf.len == 0 && blank)
				continue;
			if (buf.len == 0)
				start = lineno;
			if (buf.len + (size_t)n + 1 > buf.cap) {
				buf.cap = (buf.len + (size_t)n + 1) * 2;
				buf.p = xreallocarray(buf.p, buf.cap, 1);
			}
			memcpy(buf.p + buf.len, line, (size_t)n);
			buf.len += (size_t)n;
			buf.p[buf.len] = '\0';
		}
		v = json_loadb(buf.p, buf.len, JSON_REJECT_DUPLICATES |
		    JSON_ALLOW_NUL, &e);
		if (v == NULL && !eof && pub_unfinished(&e) &&
		    buf.len < 16 * 1024 * 1024)
			continue;
		buf.len = 0;
		if (v == NULL) {
			pub_failed(p, start, "bad JSON", e.text, EXIT_DATAERR);
			continue;
		}
		pub_value(p, noack, type, v, start);
		json_decref(v);
	}
	free(line);
	free(buf.p);
}

/* Split a comma-separated flag value ("\," keeps a comma) into arr. */
static void
pub_split(json_t *arr, const char *v)
{
	struct str	s = { 0 };
	const char	*p;
	size_t		 i;

	for (p = v;; p++) {
		if (*p == '\\' && p[1] == ',') {
			str_add(&s, ",");
			p++;
			continue;
		}
		if (*p == ',' || *p == '\0') {
			i = 0;
			if (s.p != NULL) {
				while (s.len > 0 && s.p[s.len - 1] == ' ')
					s.p[--s.len] = '\0';
				while (s.p[i] == ' ')
					i++;
				if (s.p[i] != '\0')
					json_array_append_new(arr,
					    json_string(s.p + i));
				s.len = 0;
				s.p[0] = '\0';
			}
			if (*p == '\0')
				break;
			continue;
		}
		str_add(&s, "%c", *p);
	}
	free(s.p);
}

/* Add one --key value flag to the event. */
static void
pub_flag(json_t *ev, const char *flag, const char *v)
{
	char		 key[128], *p;
	const char	*eq;
	json_t		*o;

	if (strlen(flag) >= sizeof key || *flag == '\0')
		cli_usage("bad field --%s", flag);
	strcpy(key, flag);
	for (p = key; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	if (!cli_among(pub_known_keys, key))
		strcpy(key, flag);	/* x_ keys stay as typed */

	if (cli_among(pub_array_keys, key)) {
		if ((o = json_object_get(ev, key)) == NULL) {
			o = json_array();
			json_object_set_new(ev, key, o);
		}
		pub_split(o, v);
		return;
	}
	if (strcmp(key, "contact") == 0) {
		if ((eq = strchr(v, '=')) == NULL || eq == v)
			cli_usage("--contact takes KIND=VALUE, e.g. "
			    "phone=+82-2-000");
		if ((o = json_object_get(ev, key)) == NULL) {
			o = json_object();
			json_object_set_new(ev, key, o);
		}
		json_object_setn_new(o, v, (size_t)(eq - v),
		    json_string(eq + 1));
		return;
	}
	if (json_object_get(ev, key) != NULL)
		cli_usage("--%s given twice", flag);
	if ((o = json_string(v)) == NULL)
		cli_usage("--%s: not valid UTF-8", flag);
	json_decref(o);
	if (cli_among(pub_time_keys, key))
		json_object_set_new(ev, key,
		    json_integer(cli_time_arg(flag, v)));
	else if (cli_among(pub_int_keys, key))
		json_object_set_new(ev, key,
		    json_integer(cli_int(flag, v, 0, INT64_MAX)));
	else
		json_object_set_new(ev, key, json_string(v));
}

/* warta pub TYPE [FILE] | warta pub TYPE --key value … */
static int
cmd_pub(int argc, char **argv)
{
	struct args	 a;
	struct pub	 p;
	const char	*name, *inl, *type = NULL, *file = NULL;
	json_t		*ev;
	FILE		*f;
	bool		 noack = false, fields = false;
	int		 r, window = 0, rc;

	memset(&p, 0, sizeof p);
	ev = json_object();
	args_init(&a, argc, argv, 1);
	while ((r = args_next(&a, &name, &inl)) != -1) {
		if (r == 0) {
			if (type == NULL)
				type = name;
			else if (file == NULL)
				file = name;
			else
				cli_usage("unexpected argument '%s'", name);
		} else if (strcmp(name, "no-ack") == 0) {
			args_flag(name, inl);
			noack = true;
		} else if (strcmp(name, "json") == 0) {
			args_flag(name, inl);
			p.json = true;
		} else if (strcmp(name, "window") == 0)
			window = (int)cli_int(name, args_value(&a, name, inl),
			    1, 1000);
		else if (strcmp(name, "help") == 0)
			cli_help(cli_cmd);
		else if (!cli_global(&a, name, inl)) {
			pub_flag(ev, name, args_value(&a, name, inl));
			fields = true;
		}
	}
	if (type == NULL)
		cli_usage("missing TYPE (meeting, training or attache)");
	if (fields && file != NULL)
		cli_usage("give the event as --key value flags or as JSON in "
		    "FILE, not both");
	if (fields && strcmp(type, "-") == 0)
		cli_usage("TYPE - reads topics from JSON input, not flags");

	cli_opts.window = window;
	p.w = cli_connect();
	p.each = !isatty(STDOUT_FILENO) || p.json;
	if (fields)
		pub_event(&p, noack, type, ev, 0);
	else {
		if (file == NULL || strcmp(file, "-") == 0) {
			f = stdin;
			if (isatty(STDIN_FILENO))
				cli_warn("reading JSON events from the "
				    "terminal; end with Ctrl-D");
		} else if ((f = fopen(file, "r")) == NULL)
			cli_die(EXIT_NOINPUT, "%s: %s", file,
			    strerror(errno));
		p.progress = isatty(STDERR_FILENO);
		pub_stream(&p, noack, type, f);
		if (f != stdin)
			fclose(f);
	}
	json_decref(ev);
	if ((rc = warta_flush(p.w)) != WARTA_OK) {
		if (p.progress)
			fprintf(stderr, "\r\033[K");
		cli_fail(p.w, rc);
	}
	if (p.progress && p.sent + p.failed > 1) {
		pub_progress(&p, true);
		fputc('\n', stderr);
	}
	if (!p.each && p.acked == 1)
		printf("%" PRIu64 "\n", p.last_seq);
	else if (!p.each && p.acked > 1)
		printf("%" PRIu64 " events published, seq %" PRIu64 " to %"
		    PRIu64 " (%" PRIu64 " duplicates, %" PRIu64 " failed)\n",
		    p.acked, p.first_seq, p.last_seq, p.dups, p.failed);
	if (noack && isatty(STDERR_FILENO))
		cli_warn("%" PRIu64 " events sent to %s without "
		    "acknowledgement", p.sent, warta_ingest_endpoint(p.w));
	warta_destroy(&p.w);
	if (p.sent == 0 && p.failed == 0 && !fields)
		cli_die(EXIT_DATAERR, "no event in the input");
	return p.status;
}

/* ------------------------------------------------------------------ */
/* sub */

/* State of one sub run. */
struct sub {
	struct out	 out;
	struct filter	 filter;
	char		*cursor_path;
	uint64_t	 written;	/* cursor last written */
	bool		 have_written;
};

/* Write the cursor atomically: a temporary file renamed over it. */
static int
sub_write_cursor(struct sub *s, uint64_t cursor)
{
	char	*tmp;
	FILE	*f;
	int	 ok;

	if (s->cursor_path == NULL ||
	    (s->have_written && s->written == cursor))
		return 0;
	if (asprintf(&tmp, "%s.tmp", s->cursor_path) == -1)
		cli_die(1, "out of memory");
	if ((f = fopen(tmp, "w")) == NULL) {
		cli_warn("%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fprintf(f, "%" PRIu64 "\n", cursor);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, s->cursor_path) == -1) {
		cli_warn("%s: %s", s->cursor_path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	s->written = cursor;
	s->have_written = true;
	return 0;
}

/* A notice: print it. */
static int
sub_on_notice(void *arg, const struct warta_notice *n)
{
	struct sub	*s = arg;

	if (filter_any(&s->filter) && !filter_topic(&s->filter, n->topic))
		return 0;
	out_notice(&s->out, n->body);
	if (s->out.broken)
		return 1;
	if (s->out.max != 0 && s->out.count >= s->out.max)
		cli_stop = 1;
	return 0;
}

/* A new cursor: what was printed is out, so keep it. */
static int
sub_on_cursor(void *arg, uint64_t cursor)
{
	struct sub	*s = arg;

	if (fflush(stdout) == EOF) {
		s->out.broken = true;
		return 1;
	}
	if (sub_write_cursor(s, cursor) == -1)
		return 1;
	return 0;
}

/* Connection news go to stderr. */
static void
sub_on_state(void *arg, enum warta_sub_state st, const char *msg)
{
	(void)arg;
	(void)st;
	cli_warn("%s", msg);
}

/* The default cursor file for this subscription:
   $XDG_STATE_HOME/warta/cursor-<hash>, ~/.local/state/… without it. */
static char *
sub_cursor_default(struct warta *w, char **prefixes, size_t nprefixes,
    struct filter *f)
{
	const char	*state, *home;
	char		*dir, *path, *p;
	uint64_t	 h = 14695981039346656037ULL;
	struct str	 key = { 0 };
	size_t		 i;

	str_add(&key, "%s\n%s\n", warta_notify_endpoint(w),
	    warta_api_endpoint(w));
	for (i = 0; i < nprefixes; i++)
		str_add(&key, "p:%s\n", prefixes[i]);
	for (i = 0; i < f->ntypes; i++)
		str_add(&key, "t:%s\n", f->types[i]);
	for (i = 0; i < f->ncountries; i++)
		str_add(&key, "c:%s\n", f->countries[i]);
	for (i = 0; i < f->nactions; i++)
		str_add(&key, "a:%s\n", f->actions[i]);
	for (p = key.p; p != NULL && *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	free(key.p);

	if ((state = getenv("XDG_STATE_HOME")) != NULL && *state == '/')
		dir = NULL;
	else if ((home = getenv("HOME")) != NULL && *home != '\0') {
		if (asprintf(&dir, "%s/.local/state", home) == -1)
			cli_die(1, "out of memory");
		state = dir;
	} else
		cli_usage("--follow needs --cursor FILE, HOME or "
		    "XDG_STATE_HOME");
	if (asprintf(&path, "%s/warta/cursor-%016" PRIx64, state, h) == -1)
		cli_die(1, "out of memory");
	free(dir);
	return path;
}

/* Make the directories above path (like mkdir -p, mode 0700). */
static void
sub_mkdirs(const char *path)
{
	char	*p, *copy = xstrdup(path);

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) == -1 && errno != EEXIST)
			cli_die(1, "%s: %s", copy, strerror(errno));
		*p = '/';
	}
	free(copy);
}

/* Read the cursor file: 1 with *cursor, 0 when it does not exist. */
static int
sub_read_cursor(const char *path, uint64_t *cursor)
{
	FILE	*f;
	char	 buf[64], *end;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		cli_die(1, "%s: %s", path, strerror(errno));
	}
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	errno = 0;
	*cursor = strtoull(buf, &end, 10);
	if (buf[0] == '\0' || *end != '\0' || errno != 0)
		cli_die(EXIT_DATAERR, "%s: not a cursor (one seq number)",
		    path);
	return 1;
}

/* Hold a lock next to the cursor file so two followers cannot share it. */
static void
sub_lock(const char *path)
{
	char	*lock;
	int	 fd;

	if (asprintf(&lock, "%s.lock", path) == -1)
		cli_die(1, "out of memory");
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		cli_die(1, "%s: %s", lock, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		cli_die(1, "cursor %s is in use by another warta sub", path);
	free(lock);		/* fd stays open, holding the lock */
}

/* The daemon's last seq, asked with ping. */
static uint64_t
cli_last_seq(struct warta *w)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	struct warta_reply	*r;
	uint64_t		 last = 0;

	req_begin(&sb, &pk, "ping", 0);
	r = cli_call(w, &sb);
	if (warta_map_uint(&r->root, "last_seq", &last) == -1)
		cli_die(EXIT_PROTOCOL, "%s: a ping reply without last_seq",
		    warta_api_endpoint(w));
	warta_reply_free(&r);
	return last;
}

/* Derive notify prefixes from --type (and one --country, one --action). */
static void
sub_prefixes(struct filter *f, char ***prefixes, size_t *n)
{
	size_t	i;
	char	*p;
	int	 rc;

	for (i = 0; i < f->ntypes; i++) {
		if (f->ncountries == 1 && f->nactions == 1)
			rc = asprintf(&p, "%s.%s.%s", f->types[i],
			    f->countries[0], f->actions[0]);
		else if (f->ncountries == 1)
			rc = asprintf(&p, "%s.%s.", f->types[i],
			    f->countries[0]);
		else
			rc = asprintf(&p, "%s.", f->types[i]);
		if (rc == -1)
			cli_die(1, "out of memory");
		*prefixes = xreallocarray(*prefixes, *n + 1, sizeof **prefixes);
		(*prefixes)[(*n)++] = p;
	}
}

/* warta sub [PREFIX…] [--type T] [--country C] [--action A] [--json]
   [--follow] [--cursor FILE] [--from SEQ] [--count N] */
static int
cmd_sub(int argc, char **argv)
{
	struct args	 a;
	struct sub	 s;
	struct warta_sub ws;
	struct warta	*w;
	const char	*name, *inl, *cursor_opt = NULL;
	char		**prefixes = NULL;
	size_t		 nprefixes = 0;
	uint64_t	 from = 0, cursor = 0;
	bool		 follow = false, has_from = false;
	int		 r, rc;

	memset(&s, 0, sizeof s);
	args_init(&a, argc, argv, 1);
	while ((r = args_next(&a, &name, &inl)) != -1) {
		if (r == 0) {
			prefixes = xreallocarray(prefixes, nprefixes + 1,
			    sizeof *prefixes);
			prefixes[nprefixes++] = xstrdup(name);
		} else if (strcmp(name, "json") == 0) {
			args_flag(name, inl);
			s.out.json = true;
		} else if (strcmp(name, "follow") == 0) {
			args_flag(name, inl);
			follow = true;
		} else if (strcmp(name, "cursor") == 0) {
			cursor_opt = args_value(&a, name, inl);
			follow = true;
		} else if (strcmp(name, "from") == 0) {
			from = (uint64_t)cli_int(name, args_value(&a, name,
			    inl), 1, INT64_MAX);
			has_from = true;
		} else if (strcmp(name, "count") == 0)
			s.out.max = (uint64_t)cli_int(name, args_value(&a, name,
			    inl), 1, INT64_MAX);
		else if (!filter_option(&s.filter, &a, name, inl))
			cli_other(&a, name, inl);
	}
	if (nprefixes == 0)
		sub_prefixes(&s.filter, &prefixes, &nprefixes);
	s.out.colour = !s.out.json && cli_colour();

	w = cli_connect();
	memset(&ws, 0, sizeof ws);
	ws.prefixes = (const char *const *)prefixes;
	ws.nprefixes = nprefixes;
	ws.on_notice = sub_on_notice;
	ws.on_cursor = sub_on_cursor;
	ws.on_state = sub_on_state;
	ws.arg = &s;
	ws.stop = &cli_stop;
	cli_catch_signals();

	if (follow) {
		if (cursor_opt != NULL)
			s.cursor_path = xstrdup(cursor_opt);
		else
			s.cursor_path = sub_cursor_default(w, prefixes,
			    nprefixes, &s.filter);
		sub_mkdirs(s.cursor_path);
		sub_lock(s.cursor_path);
	}
	if (has_from)
		cursor = from - 1;
	else if (follow && sub_read_cursor(s.cursor_path, &cursor))
		;
	else if (follow)
		cursor = cli_last_seq(w);	/* a new follower: from now */
	if (follow || has_from) {
		ws.catch_up = true;
		ws.cursor = cursor;
		if (isatty(STDERR_FILENO))
			cli_warn("following from seq %" PRIu64 "%s%s",
			    cursor + 1, follow ? ", cursor " : "",
			    follow ? s.cursor_path : "");
	}

	rc = warta_subscribe(w, &ws);
	if (s.cursor_path != NULL && !s.out.broken)
		sub_write_cursor(&s, ws.cursor);
	if (rc != WARTA_OK && rc != WARTA_E_STOPPED)
		cli_fail(w, rc);
	warta_destroy(&w);
	cli_list_free(prefixes, nprefixes);
	filter_free(&s.filter);
	free(s.cursor_path);
	return s.out.status;
}

/* ------------------------------------------------------------------ */
/* get, ls, replay */

/* warta get TYPE ID [--json] */
static int
cmd_get(int argc, char **argv)
{
	struct args		 a;
	struct warta		*w;
	struct warta_reply	*r;
	struct table		 t;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	const msgpack_object	*ev, *hist;
	const msgpack_object_kv	*kv;
	const char		*name, *inl, *type = NULL, *id = NULL;
	char			*k;
	struct str		 s = { 0 };
	bool			 json = false;
	uint64_t		 seq = 0;
	uint32_t		 i;
	int			 rc;

	args_init(&a, argc, argv, 1);
	while ((rc = args_next(&a, &name, &inl)) != -1) {
		if (rc == 0) {
			if (type == NULL)
				type = name;
			else if (id == NULL)
				id = name;
			else
				cli_usage("unexpected argument '%s'", name);
		} else if (strcmp(name, "json") == 0) {
			args_flag(name, inl);
			json = true;
		} else
			cli_other(&a, name, inl);
	}
	if (type == NULL)
		cli_usage("missing TYPE");
	if (id == NULL)
		cli_usage("missing ID");

	w = cli_connect();
	req_begin(&sb, &pk, "get", 2);
	req_key(&pk, "type");
	req_str(&pk, type);
	req_key(&pk, "id");
	req_str(&pk, id);
	rc = warta_request(w, sb.data, sb.size, &r);
	msgpack_sbuffer_destroy(&sb);
	if (rc == WARTA_E_DAEMON &&
	    strcmp(warta_error_code(w), "not_found") == 0)
		cli_die(1, "%s %s: not found", type, id);
	if (rc != WARTA_OK)
		cli_fail(w, rc);
	if (json)
		cli_print_reply_json(r);
	else {
		ev = warta_map_get(&r->root, "event");
		warta_map_uint(&r->root, "seq", &seq);
		hist = warta_map_get(&r->root, "history");
		if (hist != NULL)
			cli_show(&s, hist, false, false);
		printf("%s %s, seq %" PRIu64 "%s%s%s\n", type, id, seq,
		    s.p != NULL ? " (history: " : "", s.p != NULL ? s.p : "",
		    s.p != NULL ? ")" : "");
		free(s.p);
		table_init(&t, 2);
		for (i = 0; ev != NULL && ev->type == MSGPACK_OBJECT_MAP &&
		    i < ev->via.map.size; i++) {
			kv = &ev->via.map.ptr[i];
			memset(&s, 0, sizeof s);
			cli_show(&s, &kv->key, false, false);
			k = str_take(&s);
			cli_show(&s, &kv->val, kv->key.type ==
			    MSGPACK_OBJECT_STR && cli_is_time_key(
			    kv->key.via.str.ptr, kv->key.via.str.size), true);
			table_add(&t, k);
			table_take(&t, str_take(&s));
			free(k);
		}
		table_print(&t);
	}
	warta_reply_free(&r);
	warta_destroy(&w);
	return 0;
}

/* The time an item is listed by: starts_at, effective_at, occurred_at. */
static int64_t
ls_time(const msgpack_object *ev)
{
	int64_t	v = 0;

	if (!obj_int(warta_map_get(ev, "starts_at"), &v) &&
	    !obj_int(warta_map_get(ev, "effective_at"), &v))
		obj_int(warta_map_get(ev, "occurred_at"), &v);
	return v;
}

/* warta ls TYPE [--country C] [--from TIME] [--to TIME] [--limit N]
   [--json] */
static int
cmd_ls(int argc, char **argv)
{
	struct args		 a;
	struct warta		*w;
	struct warta_reply	*r;
	struct table		 t;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	const msgpack_object	*items, *it, *ev;
	const char		*name, *inl, *type = NULL, *country = NULL;
	char			 tb[64], *sum, *s2;
	int64_t			 from = 0, to = 0, limit = 0;
	bool			 json = false, has_from = false, has_to = false;
	uint64_t		 seq;
	uint32_t		 i;
	int			 rc, n;

	args_init(&a, argc, argv, 1);
	while ((rc = args_next(&a, &name, &inl)) != -1) {
		if (rc == 0) {
			if (type != NULL)
				cli_usage("unexpected argument '%s'", name);
			type = name;
		} else if (strcmp(name, "json") == 0) {
			args_flag(name, inl);
			json = true;
		} else if (strcmp(name, "country") == 0)
			country = args_value(&a, name, inl);
		else if (strcmp(name, "from") == 0) {
			from = cli_time_arg(name, args_value(&a, name, inl));
			has_from = true;
		} else if (strcmp(name, "to") == 0) {
			to = cli_time_arg(name, args_value(&a, name, inl));
			has_to = true;
		} else if (strcmp(name, "limit") == 0)
			limit = cli_int(name, args_value(&a, name, inl), 1,
			    1000);
		else
			cli_other(&a, name, inl);
	}
	if (type == NULL)
		cli_usage("missing TYPE");

	w = cli_connect();
	n = 1 + (country != NULL) + has_from + has_to + (limit != 0);
	req_begin(&sb, &pk, "list", (size_t)n);
	req_key(&pk, "type");
	req_str(&pk, type);
	if (country != NULL) {
		req_key(&pk, "country");
		req_str(&pk, country);
	}
	if (has_from) {
		req_key(&pk, "from");
		msgpack_pack_int64(&pk, from);
	}
	if (has_to) {
		req_key(&pk, "to");
		msgpack_pack_int64(&pk, to);
	}
	if (limit != 0) {
		req_key(&pk, "limit");
		msgpack_pack_int64(&pk, limit);
	}
	r = cli_call(w, &sb);
	items = warta_map_get(&r->root, "items");
	if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY)
		cli_die(EXIT_PROTOCOL, "a list reply without items");
	table_init(&t, 6);
	if (!json && items->via.array.size > 0) {
		table_add(&t, "SEQ");
		table_add(&t, strcmp(type, "attache") == 0 ? "EFFECTIVE" :
		    "STARTS");
		table_add(&t, "CC");
		table_add(&t, "ACTION");
		table_add(&t, "ID");
		table_add(&t, strcmp(type, "attache") == 0 ? "PERSON, POST" :
		    "TITLE");
	}
	rc = 0;
	for (i = 0; i < items->via.array.size; i++) {
		it = &items->via.array.ptr[i];
		if (json) {
			if (cli_print_json(it, "") == -1)
				rc = EXIT_DATAERR;
			continue;
		}
		ev = warta_map_get(it, "event");
		seq = 0;
		warta_map_uint(it, "seq", &seq);
		snprintf(tb, sizeof tb, "%" PRIu64, seq);
		table_add(&t, tb);
		cli_time(ls_time(ev), false, tb, sizeof tb);
		table_add(&t, tb);
		table_take(&t, cli_field(ev, "country"));
		table_take(&t, cli_field(ev, "action"));
		table_take(&t, cli_field(ev, "id"));
		sum = cli_summary(ev, false);
		if (cli_urgent(ev)) {
			if (asprintf(&s2, "! %s", sum) == -1)
				cli_die(1, "out of memory");
			free(sum);
			sum = s2;
		}
		table_take(&t, sum);
	}
	table_print(&t);
	if (!json && items->via.array.size == 0 && isatty(STDOUT_FILENO))
		printf("(no %s)\n", type);
	warta_reply_free(&r);
	warta_destroy(&w);
	return rc;
}

/* warta replay [PREFIX…] [--from SEQ] [--limit N] [--type T] [--country C]
   [--action A] [--json] */
static int
cmd_replay(int argc, char **argv)
{
	struct args		 a;
	struct warta		*w;
	struct warta_reply	*r;
	struct filter		 f;
	struct out		 o;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	const msgpack_object	*items, *it, *top;
	const char		*name, *inl;
	char			**prefixes = NULL, *topic;
	size_t			 nprefixes = 0, j;
	uint64_t		 from = 1, next, last, limit = 0;
	uint32_t		 i;
	int			 rc;
	bool			 match;

	memset(&f, 0, sizeof f);
	memset(&o, 0, sizeof o);
	args_init(&a, argc, argv, 1);
	while ((rc = args_next(&a, &name, &inl)) != -1) {
		if (rc == 0) {
			prefixes = xreallocarray(prefixes, nprefixes + 1,
			    sizeof *prefixes);
			prefixes[nprefixes++] = xstrdup(name);
		} else if (strcmp(name, "json") == 0) {
			args_flag(name, inl);
			o.json = true;
		} else if (strcmp(name, "from") == 0)
			from = (uint64_t)cli_int(name, args_value(&a, name,
			    inl), 1, INT64_MAX);
		else if (strcmp(name, "limit") == 0)
			limit = (uint64_t)cli_int(name, args_value(&a, name,
			    inl), 1, INT64_MAX);
		else if (!filter_option(&f, &a, name, inl))
			cli_other(&a, name, inl);
	}
	if (nprefixes == 0)
		sub_prefixes(&f, &prefixes, &nprefixes);
	o.colour = !o.json && cli_colour();
	o.max = limit;

	w = cli_connect();
	for (;;) {
		req_begin(&sb, &pk, "replay", nprefixes == 1 ? 3 : 2);
		req_key(&pk, "from_seq");
		msgpack_pack_uint64(&pk, from);
		req_key(&pk, "limit");
		msgpack_pack_uint64(&pk, limit != 0 && limit - o.count < 1000 ?
		    limit - o.count : 1000);
		if (nprefixes == 1) {
			req_key(&pk, "prefix");
			req_str(&pk, prefixes[0]);
		}
		r = cli_call(w, &sb);
		items = warta_map_get(&r->root, "items");
		if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY ||
		    warta_map_uint(&r->root, "next_seq", &next) == -1 ||
		    warta_map_uint(&r->root, "last_seq", &last) == -1)
			cli_die(EXIT_PROTOCOL, "a replay reply without items, "
			    "next_seq or last_seq");
		for (i = 0; i < items->via.array.size; i++) {
			it = &items->via.array.ptr[i];
			top = warta_map_get(it, "topic");
			topic = top != NULL && top->type == MSGPACK_OBJECT_STR ?
			    strndup(top->via.str.ptr, top->via.str.size) :
			    xstrdup("");
			match = nprefixes == 0;
			for (j = 0; j < nprefixes && !match; j++)
				match = strncmp(topic, prefixes[j],
				    strlen(prefixes[j])) == 0;
			if (match && filter_any(&f))
				match = filter_topic(&f, topic);
			free(topic);
			if (!match)
				continue;
			out_notice(&o, it);
			if (o.broken || (o.max != 0 && o.count >= o.max))
				break;
		}
		warta_reply_free(&r);
		if (o.broken || (o.max != 0 && o.count >= o.max) ||
		    next > last)
			break;
		if (next <= from)
			cli_die(EXIT_PROTOCOL, "replay from %" PRIu64
			    " made no progress", from);
		from = next;
	}
	warta_destroy(&w);
	cli_list_free(prefixes, nprefixes);
	filter_free(&f);
	return o.status;
}

/* ------------------------------------------------------------------ */
/* stats, rejects, ping */

/* Parse the options of a command whose only own option is --json. */
static bool
args_json_only(int argc, char **argv)
{
	struct args	 a;
	const char	*name, *inl;
	bool		 json = false;
	int		 rc;

	args_init(&a, argc, argv, 1);
	while ((rc = args_next(&a, &name, &inl)) != -1) {
		if (rc == 0)
			cli_usage("unexpected argument '%s'", name);
		else if (strcmp(name, "json") == 0) {
			args_flag(name, inl);
			json = true;
		} else
			cli_other(&a, name, inl);
	}
	return json;
}

/* warta stats [--json] */
static int
cmd_stats(int argc, char **argv)
{
	struct warta		*w;
	struct warta_reply	*r;
	struct table		 t;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	const msgpack_object_kv	*kv;
	struct str		 s = { 0 };
	bool			 json = false;
	uint32_t		 i;

	json = args_json_only(argc, argv);
	w = cli_connect();
	req_begin(&sb, &pk, "stats", 0);
	r = cli_call(w, &sb);
	if (json)
		cli_print_reply_json(r);
	else {
		table_init(&t, 2);
		for (i = 0; i < r->root.via.map.size; i++) {
			kv = &r->root.via.map.ptr[i];
			if (warta_str_eq(&kv->key, "ok"))
				continue;
			cli_show(&s, &kv->key, false, false);
			table_take(&t, str_take(&s));
			if (kv->val.type == MSGPACK_OBJECT_MAP &&
			    kv->val.via.map.size == 0)
				str_add(&s, "none");
			else
				cli_show(&s, &kv->val, false, false);
			table_take(&t, str_take(&s));
		}
		table_print(&t);
	}
	warta_reply_free(&r);
	warta_destroy(&w);
	return 0;
}

/* Base64 of len bytes. */
static char *
cli_base64(const unsigned char *p, size_t len)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*out, *o;
	size_t			 i;
	uint32_t		 v;

	o = out = xcalloc(1, (len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* One reject as JSON, its binary body as body_base64. */
static void
rejects_json(const msgpack_object *it)
{
	const msgpack_object_kv	*kv;
	json_t			*j, *v;
	char			*cause, *b;
	uint32_t		 i;

	j = json_object();
	for (i = 0; it->type == MSGPACK_OBJECT_MAP && i < it->via.map.size;
	    i++) {
		kv = &it->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		if (warta_str_eq(&kv->key, "body") &&
		    (kv->val.type == MSGPACK_OBJECT_BIN ||
		    kv->val.type == MSGPACK_OBJECT_STR)) {
			b = cli_base64((const unsigned char *)
			    kv->val.via.bin.ptr, kv->val.via.bin.size);
			json_object_set_new(j, "body_base64", json_string(b));
			free(b);
			continue;
		}
		if ((v = mpjson_to_json(&kv->val, "", &cause)) == NULL) {
			cli_warn("reject: %s", cause);
			free(cause);
			continue;
		}
		json_object_setn_new(j, kv->key.via.str.ptr,
		    kv->key.via.str.size, v);
	}
	cli_json_line(j);
	json_decref(j);
}

/* warta rejects [--from N] [--limit N] [--json] */
static int
cmd_rejects(int argc, char **argv)
{
	struct args		 a;
	struct warta		*w;
	struct warta_reply	*r;
	struct table		 t;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	const msgpack_object	*items, *it;
	const char		*name, *inl;
	char			 tb[64];
	bool			 json = false;
	uint64_t		 from = 1, limit = 0, count = 0, n, page;
	int64_t			 at;
	uint32_t		 i;
	int			 rc;

	args_init(&a, argc, argv, 1);
	while ((rc = args_next(&a, &name, &inl)) != -1) {
		if (rc == 0)
			cli_usage("unexpected argument '%s'", name);
		else if (strcmp(name, "json") == 0) {
			args_flag(name, inl);
			json = true;
		} else if (strcmp(name, "from") == 0)
			from = (uint64_t)cli_int(name, args_value(&a, name,
			    inl), 1, INT64_MAX);
		else if (strcmp(name, "limit") == 0)
			limit = (uint64_t)cli_int(name, args_value(&a, name,
			    inl), 1, INT64_MAX);
		else
			cli_other(&a, name, inl);
	}
	w = cli_connect();
	table_init(&t, 6);
	if (!json) {
		table_add(&t, "N");
		table_add(&t, "RECEIVED");
		table_add(&t, "TOPIC");
		table_add(&t, "REASON");
		table_add(&t, "SIZE");
		table_add(&t, "DETAIL");
	}
	for (;;) {
		page = limit != 0 && limit - count < 1000 ? limit - count :
		    1000;
		req_begin(&sb, &pk, "rejects", 2);
		req_key(&pk, "from");
		msgpack_pack_uint64(&pk, from);
		req_key(&pk, "limit");
		msgpack_pack_uint64(&pk, page);
		r = cli_call(w, &sb);
		items = warta_map_get(&r->root, "items");
		if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY)
			cli_die(EXIT_PROTOCOL, "a rejects reply without items");
		for (i = 0; i < items->via.array.size; i++) {
			it = &items->via.array.ptr[i];
			if (warta_map_uint(it, "n", &n) == 0 && n >= from)
				from = n + 1;
			count++;
			if (json) {
				rejects_json(it);
				continue;
			}
			table_take(&t, cli_field(it, "n"));
			at = 0;
			obj_int(warta_map_get(it, "received_at"), &at);
			cli_time(at, false, tb, sizeof tb);
			table_add(&t, tb);
			table_take(&t, cli_field(it, "topic"));
			table_take(&t, cli_field(it, "reason"));
			table_take(&t, cli_field(it, "size"));
			table_take(&t, cli_field(it, "detail"));
		}
		n = items->via.array.size;
		warta_reply_free(&r);
		if (n < page || n == 0 || (limit != 0 && count >= limit))
			break;
	}
	if (!json && count > 0)
		table_print(&t);
	else {
		while (t.ncells > 0)
			free(t.cells[--t.ncells]);
		free(t.cells);
		if (!json && isatty(STDOUT_FILENO))
			printf("(no rejects)\n");
	}
	warta_destroy(&w);
	return 0;
}

/* warta ping [--json] */
static int
cmd_ping(int argc, char **argv)
{
	struct warta		*w;
	struct warta_reply	*r;
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	char			*version, *last;
	uint64_t		 up = 0;
	bool			 json = false;

	json = args_json_only(argc, argv);
	w = cli_connect();
	req_begin(&sb, &pk, "ping", 0);
	r = cli_call(w, &sb);
	if (json)
		cli_print_reply_json(r);
	else {
		version = cli_field(&r->root, "version");
		last = cli_field(&r->root, "last_seq");
		warta_map_uint(&r->root, "uptime_s", &up);
		printf("wartad at %s: version %s, last seq %s, up %" PRIu64
		    "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 "\n",
		    warta_api_endpoint(w), version, last, up / 86400,
		    up / 3600 % 24, up / 60 % 60, up % 60);
		free(version);
		free(last);
	}
	warta_reply_free(&r);
	warta_destroy(&w);
	return 0;
}

/* Write text to path, created new (or replaced with force) with mode. */
static void
keygen_write(const char *path, const char *text, mode_t mode, bool force)
{
	int	fd, flags = O_WRONLY | O_CREAT | O_CLOEXEC;
	size_t	len = strlen(text);

	flags |= force ? O_TRUNC : O_EXCL;
	if ((fd = open(path, flags, mode)) == -1) {
		if (errno == EEXIST)
			cli_die(1, "%s exists; use --force to replace it",
			    path);
		cli_die(1, "%s: %s", path, strerror(errno));
	}
	if (fchmod(fd, mode) == -1 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) == -1 || close(fd) == -1)
		cli_die(1, "%s: %s", path, strerror(errno));
}

/* warta keygen [--out BASENAME] [--force] */
static int
cmd_keygen(int argc, char **argv)
{
	struct args	 a;
	const char	*name, *inl, *out = NULL;
	char		 pub[41], sec[41], line[64], *path;
	bool		 force = false;
	int		 rc;

	args_init(&a, argc, argv, 1);
	while ((rc = args_next(&a, &name, &inl)) != -1) {
		if (rc == 0)
			cli_usage("unexpected argument '%s'", name);
		else if (strcmp(name, "out") == 0)
			out = args_value(&a, name, inl);
		else if (strcmp(name, "force") == 0) {
			args_flag(name, inl);
			force = true;
		} else
			cli_other(&a, name, inl);
	}
	if (out != NULL && *out == '\0')
		cli_usage("--out needs a file name");
	if (zmq_curve_keypair(pub, sec) == -1)
		cli_die(1, "zmq_curve_keypair: %s", zmq_strerror(errno));
	if (out == NULL) {
		printf("public %s\nsecret %s\n", pub, sec);
		return 0;
	}
	if (asprintf(&path, "%s.key", out) == -1)
		cli_die(1, "out of memory");
	snprintf(line, sizeof line, "%s\n", sec);
	keygen_write(path, line, 0600, force);
	free(path);
	if (asprintf(&path, "%s.pub", out) == -1)
		cli_die(1, "out of memory");
	snprintf(line, sizeof line, "%s\n", pub);
	keygen_write(path, line, 0644, force);
	free(path);
	explicit_bzero(sec, sizeof sec);
	printf("%s\n", pub);
	if (isatty(STDERR_FILENO))
		cli_warn("wrote %s.key (secret, mode 0600) and %s.pub; for "
		    "wartad's clients file: %s subscriber NAME", out, out,
		    pub);
	return 0;
}

/* warta help [CMD] */
static int cmd_help(int, char **);

static const struct cmd cmds[] = {
	{ "pub", cmd_pub,
	  "TYPE [FILE] | TYPE --id ID --KEY VALUE… [--no-ack] [--json] "
	  "[--window N]",
	  "Publish events of TYPE (meeting, training, attache) and print the "
	  "seq of each.\n"
	  "\n"
	  "From JSON: FILE (or stdin, or '-') holds one event, pretty or not, "
	  "or one\nevent per line (NDJSON) for bulk loads, or a JSON array of "
	  "events.  With\nTYPE '-', each value is {\"topic\", \"event\"} as "
	  "'warta sub --json' prints,\nand the type is the topic's first "
	  "word.\n"
	  "\n"
	  "From flags: every --KEY VALUE becomes a field (KEY with - or _).  "
	  "Times\n(starts_at, ends_at, occurred_at, effective_at) take Unix "
	  "ms or ISO 8601\nlike 2026-03-04T09:00:00+07:00; seats and "
	  "participants take integers;\ncounterparts, agenda, delegation and "
	  "audience take comma-separated lists\n(repeat the flag to add; "
	  "\\, keeps a comma); --contact KIND=VALUE adds to the\ncontact map; "
	  "anything else is a string.\n"
	  "\n"
	  "Events are acknowledged through the api after the daemon has "
	  "stored them,\n--window N in flight at once (default 256).  A "
	  "rejected event is reported\non stderr with the daemon's detail "
	  "and the input line; the rest go on.\nOn a terminal a bulk load "
	  "shows progress and a summary instead of each seq.\n"
	  "\n"
	  "  --no-ack    send on the ingest socket instead: no seq, no "
	  "detail\n"
	  "  --json      one JSON line per event: {ok, seq, duplicate, line} or"
	  "\n              {ok: false, error, detail, line}\n"
	  "\n"
	  "Exit: 0 all stored, 65 an event was invalid or the JSON bad, 69 no "
	  "daemon.\n"
	  "Example: warta pub meeting --id jp-2026-03 --action scheduled "
	  "--country JP \\\n    --title 'IJEPA labour working group' --kind "
	  "bilateral \\\n    --counterparts 'MHLW Japan' --starts-at "
	  "2026-03-04T09:00:00+09:00\n" },
	{ "sub", cmd_sub,
	  "[PREFIX…] [--type T] [--country CC] [--action A] [--json] "
	  "[--follow] [--cursor FILE] [--from SEQ] [--count N]",
	  "Print notifications as they come: one line each (time received, "
	  "type,\ncountry, action, id, title or person, seq), urgent "
	  "attaché notices marked\nwith ! (and red on a terminal).  PREFIX "
	  "is a notify-topic prefix such as\n'meeting.' or 'attache.KR.'; "
	  "none means everything.  --type, --country and\n--action filter "
	  "further (comma-separated lists allowed).\n"
	  "\n"
	  "  --json         one JSON object per line: {seq, received_at, "
	  "topic, event}\n"
	  "  --follow       never miss an event: keep the last seq printed in "
	  "a cursor\n                 file, and on every start and reconnect "
	  "replay what came since,\n                 then go live, dropping "
	  "duplicates.  A new cursor starts at the\n                 "
	  "daemon's current last seq.\n"
	  "  --cursor FILE  the cursor file (implies --follow); default\n"
	  "                 ~/.local/state/warta/cursor-<hash of endpoints "
	  "and filters>\n"
	  "  --from SEQ     start by replaying from SEQ (with --follow: "
	  "instead of the\n                 cursor)\n"
	  "  --count N      exit after printing N notifications\n"
	  "\n"
	  "Lost connections are reported on stderr and waited out with "
	  "backoff.\nExit: 0 on SIGINT/SIGTERM or after --count, 69 when "
	  "nothing is heard\nwithin the timeout at start.\n" },
	{ "get", cmd_get, "TYPE ID [--json]",
	  "Show the latest state of one entity: its fields, its seq and the "
	  "seqs of its\nhistory.  --json prints {seq, event, history}.  "
	  "Exit 1 when not found.\n" },
	{ "ls", cmd_ls,
	  "TYPE [--country CC] [--from TIME] [--to TIME] [--limit N] [--json]",
	  "List the entities of TYPE, each by its latest event, sorted by "
	  "starts_at\n(effective_at for attaché postings).  TIME is Unix ms "
	  "or ISO 8601;\n--limit defaults to the daemon's 100, at most 1000.  "
	  "--json prints one\nnotification body per line.\n" },
	{ "replay", cmd_replay,
	  "[PREFIX…] [--from SEQ] [--limit N] [--type T] [--country CC] "
	  "[--action A] [--json]",
	  "Print stored events from seq --from (default 1) on, in seq order, "
	  "as sub\ndoes; --limit stops after N.  --json prints one "
	  "notification body per\nline.\n" },
	{ "stats", cmd_stats, "[--json]",
	  "Show the daemon's counters: received, stored, duplicates, "
	  "rejected by\nreason, last_seq, subscribers, db_bytes, map_bytes.  "
	  "Needs the admin role\nunder CURVE.\n" },
	{ "rejects", cmd_rejects, "[--from N] [--limit N] [--json]",
	  "Show the rejected ingest messages kept by the daemon, oldest "
	  "first.  --json\nprints one per line, the kept body as "
	  "body_base64.  Needs the admin role\nunder CURVE.\n" },
	{ "ping", cmd_ping, "[--json]",
	  "Ask the daemon whether it is there: version, last seq, uptime.  "
	  "Exit 69\nwhen it does not answer within the timeout.\n" },
	{ "keygen", cmd_keygen, "[--out BASENAME] [--force]",
	  "Make a CURVE key pair (Z85).  With --out, write BASENAME.key (the "
	  "secret,\nmode 0600) and BASENAME.pub, and print the public key; "
	  "without, print\n'public KEY' and 'secret KEY'.  Existing files are "
	  "kept unless --force.\nUse them with --key BASENAME and "
	  "--server-key.\n" },
	{ "help", cmd_help, "[CMD]", "Show help for warta or for CMD.\n" },
};

/* The command called name, or NULL. */
static const struct cmd *
cli_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* The overall help. */
static void
cli_main_help(void)
{
	size_t	i;

	printf("usage: warta [--api EP] [--notify EP] [--ingest EP] "
	    "[--timeout SECONDS]\n             [--server-key KEY|FILE] "
	    "[--key BASENAME] CMD [ARG…]\n\n"
	    "The command-line client of wartad, the message queue of "
	    "Kemnaker's bureau of\ninternational cooperation.\n\nCommands:\n");
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		printf("  %-8s %s\n", cmds[i].name, cmds[i].usage);
	printf("\n"
	    "Global options (also accepted after the command):\n"
	    "  --api EP          api socket (env WARTA_API, default %s)\n"
	    "  --notify EP       notify socket (env WARTA_NOTIFY, default %s)\n"
	    "  --ingest EP       ingest socket (env WARTA_INGEST, default %s)\n"
	    "  --timeout SECONDS wait for a reply (env WARTA_TIMEOUT, "
	    "default 5)\n"
	    "  --server-key K    the daemon's CURVE public key, or a file "
	    "holding it\n                    (env WARTA_SERVER_KEY)\n"
	    "  --key BASENAME    our CURVE key pair BASENAME.pub and "
	    "BASENAME.key, or\n                    our secret key (or a file "
	    "holding it) (env WARTA_KEY)\n"
	    "\n"
	    "Exit status: 0 ok, 1 other failure (e.g. not found), 64 bad "
	    "usage, 65 invalid\ndata, 69 daemon unreachable or unavailable, "
	    "76 protocol error, 77 forbidden.\n"
	    "'warta CMD --help' tells more about CMD.\n",
	    WARTA_DEFAULT_API, WARTA_DEFAULT_NOTIFY, WARTA_DEFAULT_INGEST);
}

/* warta help [CMD] */
static int
cmd_help(int argc, char **argv)
{
	const struct cmd	*c;

	if (argc < 2) {
		cli_main_help();
		return 0;
	}
	if (argc > 2)
		cli_usage("unexpected argument '%s'", argv[2]);
	if ((c = cli_find(argv[1])) == NULL) {
		cli_cmd = NULL;
		cli_usage("unknown command '%s'", argv[1]);
	}
	cli_help(c);
	return 0;
}

/* Parse the global options, then run the command. */
int
main(int argc, char **argv)
{
	struct args	 a;
	const char	*name, *inl;
	int		 r;

	signal(SIGPIPE, SIG_IGN);
	args_init(&a, argc, argv, 1);
	while ((r = args_next(&a, &name, &inl)) == 1) {
		if (strcmp(name, "help") == 0) {
			cli_main_help();
			return 0;
		}
		if (strcmp(name, "version") == 0) {
			printf("warta %s (protocol 1)\n", WARTA_VERSION);
			return 0;
		}
		if (!cli_global(&a, name, inl))
			cli_usage("unknown option --%s", name);
	}
	if (r == -1)
		cli_usage("missing command");
	if ((cli_cmd = cli_find(name)) == NULL)
		cli_usage("unknown command '%s'", name);
	return cli_cmd->fn(argc - (a.i - 1), argv + (a.i - 1));
}
