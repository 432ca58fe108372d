/*
 * test_config.c — daemon/config.c: defaults, the INI file (every key, every
 * kind of bad value, where errors point) and the flags.
 *
 *   ./build/tests/test_config [NAME-GLOB]
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/xmalloc.h"
#include "tests/unit/tmpfiles.h"

#define ARGV(...)	((char *[]){ "wartad", __VA_ARGS__, NULL })

/* A fresh struct config on its defaults for each test. */
static int
test_setup(void **state)
{
	struct config	*cfg = xcalloc(1, sizeof *cfg);

	config_defaults(cfg);
	*state = cfg;
	return 0;
}

/* Free the config and remove the test's temp files. */
static int
test_teardown(void **state)
{
	struct config	*cfg = *state;

	config_free(cfg);
	free(cfg);
	test_unlink_all();
	return 0;
}

/* Load text, which must succeed. */
static void
test_load_ok(struct config *cfg, const char *text)
{
	char	*cause = NULL;
	int	 rc;

	rc = config_load(cfg, test_write(text, 0600), &cause);
	if (rc != 0)
		fail_msg("config_load: %s", cause);
	assert_null(cause);
}

/* Load text over fresh defaults; it must fail with "PATH:" and tail. */
static void
test_load_error(struct config *cfg, const char *text, const char *tail)
{
	const char	*path = test_write(text, 0600);
	char		*cause = NULL, *want;

	config_free(cfg);
	config_defaults(cfg);
	assert_int_equal(config_load(cfg, path, &cause), -1);
	assert_non_null(cause);
	xasprintf(&want, "%s:%s", path, tail);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
}

/* Run config_from_args on a NULL-terminated argv. */
static int
test_args(struct config *cfg, char **argv, char **cause)
{
	int	 argc = 0;

	while (argv[argc] != NULL)
		argc++;
	*cause = NULL;
	return config_from_args(cfg, argc, argv, cause);
}

/* Run config_from_args expecting -1 and exactly this cause. */
static void
test_args_error(struct config *cfg, char **argv, const char *want)
{
	char	*cause;

	assert_int_equal(test_args(cfg, argv, &cause), -1);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
}

/* Run config_from_args with stdout captured into *out (caller frees). */
static int
test_args_stdout(struct config *cfg, char **argv, char **out)
{
	char	 path[] = "/tmp/test_config.out.XXXXXX", *cause, buf[4096];
	int	 fd, saved, rc;
	ssize_t	 n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = test_args(cfg, argv, &cause);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof buf - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
	free(cause);
	*out = xstrdup(buf);
	return rc;
}

/* Every default from config.h. */
static void
test_defaults(void **state)
{
	struct config	*cfg = *state;

	assert_string_equal(cfg->data_dir, "./warta-data");
	assert_int_equal(cfg->map_size_mb, 1024);
	assert_int_equal(cfg->max_map_size_mb, 0);
	assert_true(cfg->sync);
	assert_int_equal(cfg->max_events, 0);
	assert_int_equal(cfg->max_age_days, 0);
	assert_int_equal(cfg->max_rejects, 10000);
	assert_int_equal(cfg->batch_max, 16384);
	assert_string_equal(cfg->ingest_bind, "tcp://127.0.0.1:7401");
	assert_non_null(cfg->ingest_connect);
	assert_null(cfg->ingest_connect[0]);
	assert_int_equal(cfg->max_event_bytes, 65536);
	assert_false(cfg->ingest_curve);
	assert_int_equal(cfg->ingest_hwm, 1000000);
	assert_string_equal(cfg->notify_bind, "tcp://127.0.0.1:7402");
	assert_int_equal(cfg->heartbeat_ms, 1000);
	assert_int_equal(cfg->notify_hwm, 100000);
	assert_string_equal(cfg->api_bind, "tcp://127.0.0.1:7403");
	assert_string_equal(cfg->http_listen, "127.0.0.1:7404");
	assert_null(cfg->secret_key_file);
	assert_null(cfg->public_key_file);
	assert_null(cfg->clients_file);
	assert_false(cfg->allow_plaintext);
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
	assert_int_equal(cfg->nwebhooks, 0);
	assert_null(cfg->config_file);
	assert_false(cfg->check_only);
	assert_int_equal(cfg->verbose, 0);
}

/* Every [store] key, including the batch_max extension. */
static void
test_store_keys(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[store]\n"
	    "path = /var/lib/warta\n"
	    "map_size_mb = 2048\n"
	    "max_map_size_mb = 8192\n"
	    "sync = no\n"
	    "max_events = 5000000\n"
	    "max_age_days = 30\n"
	    "max_rejects = 0\n"
	    "batch_max = 100\n");
	assert_string_equal(cfg->data_dir, "/var/lib/warta");
	assert_int_equal(cfg->map_size_mb, 2048);
	assert_int_equal(cfg->max_map_size_mb, 8192);
	assert_false(cfg->sync);
	assert_int_equal(cfg->max_events, 5000000);
	assert_int_equal(cfg->max_age_days, 30);
	assert_int_equal(cfg->max_rejects, 0);
	assert_int_equal(cfg->batch_max, 100);
}

/* Every [ingest] key, including the hwm extension. */
static void
test_ingest_keys(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[ingest]\n"
	    "bind = ipc:///tmp/warta/ingest\n"
	    "connect = tcp://10.0.0.1:7401 tcp://[::1]:7401\n"
	    "max_event_bytes = 1048576\n"
	    "curve = yes\n"
	    "hwm = 0\n"
	    "[security]\n"
	    "secret_key_file = /etc/warta/server.key\n");
	assert_string_equal(cfg->ingest_bind, "ipc:///tmp/warta/ingest");
	assert_string_equal(cfg->ingest_connect[0], "tcp://10.0.0.1:7401");
	assert_string_equal(cfg->ingest_connect[1], "tcp://[::1]:7401");
	assert_null(cfg->ingest_connect[2]);
	assert_int_equal(cfg->max_event_bytes, 1048576);
	assert_true(cfg->ingest_curve);
	assert_int_equal(cfg->ingest_hwm, 0);
}

/* [ingest] connect accumulates over its lines; "connect =" empties it. */
static void
test_ingest_connect_lines(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[ingest]\n"
	    "connect =\n"
	    "connect = tcp://a.example:1\n"
	    "connect =   tcp://b.example:2\t ipc:///run/up.sock  \n");
	assert_string_equal(cfg->ingest_connect[0], "tcp://a.example:1");
	assert_string_equal(cfg->ingest_connect[1], "tcp://b.example:2");
	assert_string_equal(cfg->ingest_connect[2], "ipc:///run/up.sock");
	assert_null(cfg->ingest_connect[3]);
}

/* [notify], [api] and [http] keys, including [notify] hwm. */
static void
test_notify_api_http_keys(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[notify]\n"
	    "bind = tcp://*:9402\n"
	    "heartbeat_ms = 250\n"
	    "hwm = 5000\n"
	    "[api]\n"
	    "bind = inproc://api\n"
	    "[http]\n"
	    "listen = [::1]:8080\n");
	assert_string_equal(cfg->notify_bind, "tcp://*:9402");
	assert_int_equal(cfg->heartbeat_ms, 250);
	assert_int_equal(cfg->notify_hwm, 5000);
	assert_string_equal(cfg->api_bind, "inproc://api");
	assert_string_equal(cfg->http_listen, "[::1]:8080");
}

/* An empty [http] listen turns HTTP off. */
static void
test_http_listen_empty(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[http]\nlisten =\n");
	assert_string_equal(cfg->http_listen, "");
}

/* Every [security] key; an empty file name unsets it. */
static void
test_security_keys(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[security]\n"
	    "secret_key_file = /etc/warta/server.key_secret\n"
	    "public_key_file = /etc/warta/server.key\n"
	    "clients_file = /etc/warta/clients\n"
	    "allow_plaintext = yes\n");
	assert_string_equal(cfg->secret_key_file,
	    "/etc/warta/server.key_secret");
	assert_string_equal(cfg->public_key_file, "/etc/warta/server.key");
	assert_string_equal(cfg->clients_file, "/etc/warta/clients");
	assert_true(cfg->allow_plaintext);

	test_load_ok(cfg, "[security]\nclients_file =\n");
	assert_null(cfg->clients_file);
}

/* [log] level takes the four names. */
static void
test_log_level_key(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[log]\nlevel = debug\n");
	assert_int_equal(cfg->log_level, LOG_LVL_DEBUG);
	test_load_ok(cfg, "[log]\nlevel = error\n");
	assert_int_equal(cfg->log_level, LOG_LVL_ERROR);
	test_load_ok(cfg, "[log]\nlevel = warn\n");
	assert_int_equal(cfg->log_level, LOG_LVL_WARN);
	test_load_ok(cfg, "[log]\nlevel = info\n");
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
}

/* yes/no/true/false/1/0 in any case are booleans. */
static void
test_booleans(void **state)
{
	static const struct {
		const char	*text;
		bool		 value;
	} cases[] = {
		{ "yes", true }, { "no", false }, { "true", true },
		{ "false", false }, { "1", true }, { "0", false },
		{ "YES", true }, { "False", false }
	};
	struct config	*cfg = *state;
	char		 text[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "[store]\nsync = %s\n",
		    cases[i].text);
		cfg->sync = !cases[i].value;
		test_load_ok(cfg, text);
		assert_int_equal(cfg->sync, cases[i].value);
	}
}

/* Anything else is not a boolean, and the message lists what is. */
static void
test_bad_boolean(void **state)
{
	test_load_error(*state, "[store]\nsync = on\n",
	    "2: [store] sync: 'on' is not one of yes, no, true, false, 1, 0");
}

/* The documented example: file, line 12, section, key and value. */
static void
test_bad_number_line(void **state)
{
	test_load_error(*state,
	    "# wartad.conf\n"
	    "\n"
	    "[store]\n"
	    "path = /var/lib/warta   ; the store\n"
	    "sync = yes\n"
	    "\n"
	    "; growth\n"
	    "max_map_size_mb = 0\n"
	    "max_events = 0\n"
	    "\n"
	    "   # indented comment\n"
	    "map_size_mb = lots\n",
	    "12: [store] map_size_mb: 'lots' is not a whole number");
}

/* Signs, hex, decimals, exponents, blanks and empty are not whole. */
static void
test_number_not_whole(void **state)
{
	static const char *const bad[] = {
		"-1", "+5", "0x10", "12.5", "1e3", "1 024", "", "10MB"
	};
	struct config	*cfg = *state;
	char		 text[64], want[128];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[store]\nmax_events = %s\n",
		    bad[i]);
		snprintf(want, sizeof want, "2: [store] max_events: '%s' is "
		    "not a whole number", bad[i]);
		test_load_error(cfg, text, want);
	}
}

/* Below a key's minimum names the minimum. */
static void
test_number_too_small(void **state)
{
	test_load_error(*state, "[ingest]\nmax_event_bytes = 63\n",
	    "2: [ingest] max_event_bytes: '63' is too small (at least 64)");
	test_load_error(*state, "[store]\nmap_size_mb = 0\n",
	    "2: [store] map_size_mb: '0' is too small (at least 1)");
	test_load_error(*state, "[notify]\nheartbeat_ms = 9\n",
	    "2: [notify] heartbeat_ms: '9' is too small (at least 10)");
	test_load_error(*state, "[store]\nbatch_max = 0\n",
	    "2: [store] batch_max: '0' is too small (at least 1)");
}

/* Above a key's maximum names the maximum. */
static void
test_number_too_large(void **state)
{
	test_load_error(*state, "[ingest]\nmax_event_bytes = 16777217\n",
	    "2: [ingest] max_event_bytes: '16777217' is too large "
	    "(at most 16777216)");
	test_load_error(*state, "[notify]\nheartbeat_ms = 3600001\n",
	    "2: [notify] heartbeat_ms: '3600001' is too large "
	    "(at most 3600000)");
	test_load_error(*state, "[notify]\nhwm = 2147483648\n",
	    "2: [notify] hwm: '2147483648' is too large (at most 2147483647)");
}

/* A number past 2^64 is detected, not wrapped. */
static void
test_number_overflow(void **state)
{
	test_load_error(*state, "[store]\nmax_events = 18446744073709551616\n",
	    "2: [store] max_events: '18446744073709551616' is too large "
	    "(at most 9223372036854775807)");
	test_load_error(*state,
	    "[store]\nmax_rejects = 99999999999999999999999999\n",
	    "2: [store] max_rejects: '99999999999999999999999999' is too large "
	    "(at most 9223372036854775807)");
}

/* max_map_size_mb is 0 or at least map_size_mb, wherever each is set. */
static void
test_max_map_below_map(void **state)
{
	test_load_error(*state, "[store]\nmax_map_size_mb = 512\n"
	    "map_size_mb = 1024\n",
	    "2: [store] max_map_size_mb: 512 is below map_size_mb 1024 "
	    "(expected 0 for no growth, or at least map_size_mb)");
}

/* A bad level lists the four names. */
static void
test_bad_log_level(void **state)
{
	test_load_error(*state, "[log]\nlevel = loud\n",
	    "2: [log] level: 'loud' is not one of error, warn, info, debug");
}

/* A malformed bind endpoint names the key and what is wrong. */
static void
test_bad_bind_endpoint(void **state)
{
	test_load_error(*state, "[api]\nbind = tcp://127.0.0.1:0\n",
	    "2: [api] bind: 'tcp://127.0.0.1:0' is not a valid endpoint: "
	    "the port is not a number from 1 to 65535");
	test_load_error(*state, "[notify]\nbind = udp://x:1\n",
	    "2: [notify] bind: 'udp://x:1' is not a valid endpoint: "
	    "expected tcp://HOST:PORT, ipc://PATH or inproc://NAME");
}

/* One bad endpoint in a connect list is named. */
static void
test_bad_connect_endpoint(void **state)
{
	test_load_error(*state, "[ingest]\n"
	    "connect = tcp://a:1 tcp://b tcp://c:3\n",
	    "2: [ingest] connect: 'tcp://b' is not a valid endpoint: "
	    "there is no ':PORT'");
	test_load_error(*state, "[ingest]\n"
	    "connect = tcp://a:1\nconnect = tcp://a:1\n",
	    "3: [ingest] connect: 'tcp://a:1' is listed twice");
}

/* A bad [http] listen is named; '*' is no host for HTTP. */
static void
test_bad_http_listen(void **state)
{
	test_load_error(*state, "[http]\nlisten = 7404\n",
	    "2: [http] listen: '7404' is not HOST:PORT (or empty for off): "
	    "there is no ':PORT'");
	test_load_error(*state, "[http]\nlisten = *:7404\n",
	    "2: [http] listen: '*:7404' is not HOST:PORT (or empty for off): "
	    "the host '*' is not allowed here");
}

/* An empty store path is an error, not the current directory. */
static void
test_empty_path(void **state)
{
	test_load_error(*state, "[store]\npath =\n",
	    "2: [store] path: is empty, expected a directory");
}

/* config_endpoint_valid on the three transports and their limits. */
static void
test_endpoint_valid(void **state)
{
	static const char *const good[] = {
		"tcp://127.0.0.1:7401", "tcp://*:1", "tcp://localhost:65535",
		"tcp://[::1]:7401", "tcp://[fe80::1%eth0]:7401",
		"tcp://eth0:7401", "ipc:///tmp/warta.sock", "ipc://@abstract",
		"ipc://rel/path", "inproc://api"
	};
	static const char *const bad[] = {
		"", "tcp://", "tcp://:7401", "tcp://127.0.0.1",
		"tcp://127.0.0.1:", "tcp://127.0.0.1:0",
		"tcp://127.0.0.1:65536", "tcp://127.0.0.1:99999999999",
		"tcp://127.0.0.1:-1", "tcp://127.0.0.1:*", "tcp://::1:7401",
		"tcp://[::1:7401", "tcp://[::1]7401", "tcp://[]:1",
		"tcp://a b:1", "tcp://host/x:1", "ipc://", "inproc://",
		"ipc://a b", "http://x:1", "TCP://x:1", "tcp:/x:1", "x"
	};
	char	 longpath[128];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (config_endpoint_valid(good[i]) != 0)
			fail_msg("'%s' should be valid", good[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (config_endpoint_valid(bad[i]) != -1)
			fail_msg("'%s' should be invalid", bad[i]);
	}
	memset(longpath, 0, sizeof longpath);
	memcpy(longpath, "ipc://", 6);
	memset(longpath + 6, 'p', 107);
	assert_int_equal(config_endpoint_valid(longpath), 0);
	longpath[6 + 107] = 'p';
	assert_int_equal(config_endpoint_valid(longpath), -1);
}

/* An unknown section is an error on its own line, even without keys. */
static void
test_unknown_section(void **state)
{
	test_load_error(*state, "# x\n\n[stor]\n",
	    "3: unknown section [stor] (expected store, ingest, notify, api, "
	    "http, security, log or webhook NAME)");
}

/* An unknown key names the section and lists the known keys. */
static void
test_unknown_key(void **state)
{
	test_load_error(*state, "[store]\nsync = yes\n\n mapsize = 10\n",
	    "4: [store] mapsize: unknown key (expected path, map_size_mb, "
	    "max_map_size_mb, sync, max_events, max_age_days, max_rejects, "
	    "batch_max)");
}

/* A key before any [section] is an error. */
static void
test_key_before_section(void **state)
{
	test_load_error(*state, "; top\nsync = yes\n[store]\n",
	    "2: sync: key before any section (expected a [section] line "
	    "first)");
}

/* A key set twice in one file is an error naming the first line. */
static void
test_duplicate_key(void **state)
{
	test_load_error(*state, "[store]\nsync = yes\n[ingest]\n[store]\n"
	    "sync = no\n",
	    "5: [store] sync: set twice (first on line 2)");
}

/* Inline comments after a blank, '#' and ';' lines; "a;b" is a value. */
static void
test_comments(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "# comment\n"
	    "; comment\n"
	    "[store] ; the store\n"
	    "sync = no ; comment\n"
	    "max_events = 10 # comment\n"
	    "path = /data;x#y\n"
	    "\t  # indented comment\n");
	assert_false(cfg->sync);
	assert_int_equal(cfg->max_events, 10);
	assert_string_equal(cfg->data_dir, "/data;x#y");
}

/* inih's "key: value" form is read; a bare URL line is not a key. */
static void
test_colon_form(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[api]\nbind: tcp://127.0.0.1:9403\n"
	    "[webhook a]\nurl:http://x/\n");
	assert_string_equal(cfg->api_bind, "tcp://127.0.0.1:9403");
	assert_string_equal(cfg->webhooks[0].url, "http://x/");
	test_load_error(cfg, "[ingest]\ntcp://a:1\n",
	    "2: 'tcp://a:1' is not a 'key = value' line");
}

/* An indented line is not a continuation of the previous value. */
static void
test_no_continuation_lines(void **state)
{
	test_load_error(*state, "[ingest]\nconnect = tcp://a:1\n"
	    "    tcp://b:2\n",
	    "3: 'tcp://b:2' is not a 'key = value' line");
	test_load_error(*state, "[store]\npath = /a\n\tb\n",
	    "3: 'b' is not a 'key = value' line");
}

/* A line with no '=' and a broken section line are errors. */
static void
test_syntax_errors(void **state)
{
	test_load_error(*state, "[store]\nsync yes\n",
	    "2: 'sync yes' is not a 'key = value' line");
	test_load_error(*state, "[store\nsync = yes\n",
	    "1: '[store' is not a [section] line");
	test_load_error(*state, "[store] junk\n",
	    "1: '[store] junk' is not a [section] line");
	test_load_error(*state, "[store]\n= 5\n",
	    "2: no key before '=' (value '5')");
}

/* A line too long for inih is an error, not two lines. */
static void
test_long_line(void **state)
{
	char	text[1024];

	snprintf(text, sizeof text, "[store]\n# %0300d\npath = /%0250d\n",
	    0, 0);
	test_load_error(*state, text,
	    "3: the line is longer than 199 characters");
}

/* CRLF line ends and a UTF-8 BOM are read; line numbers still count. */
static void
test_crlf_bom(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "\xef\xbb\xbf[store]\r\nsync = no\r\n");
	assert_false(cfg->sync);
	test_load_error(cfg, "\xef\xbb\xbf[store]\r\n\r\nsync = x\r\n",
	    "3: [store] sync: 'x' is not one of yes, no, true, false, 1, 0");
}

/* A NUL byte in a line is an error. */
static void
test_nul_byte(void **state)
{
	const char	 text[] = "[store]\nsync = yes\0no\n";
	const char	*path;
	char		*cause, *want;
	int		 fd;

	path = test_write("", 0600);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1),
	    (ssize_t)sizeof text - 1);
	close(fd);
	assert_int_equal(config_load(*state, path, &cause), -1);
	xasprintf(&want, "%s:2: the line holds a NUL byte", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
}

/* Webhook sections: any number, url required, prefix and secret. */
static void
test_webhooks(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[webhook billing]\n"
	    "url = https://billing.example/hook?a=b\n"
	    "prefix = order.\n"
	    "secret = s3cr3t\n"
	    "[store]\n"
	    "sync = yes\n"
	    "[  webhook   audit-2 ]\n"
	    "url = http://127.0.0.1:8080/\n");
	assert_int_equal(cfg->nwebhooks, 2);
	assert_string_equal(cfg->webhooks[0].name, "billing");
	assert_string_equal(cfg->webhooks[0].url,
	    "https://billing.example/hook?a=b");
	assert_string_equal(cfg->webhooks[0].prefix, "order.");
	assert_string_equal(cfg->webhooks[0].secret, "s3cr3t");
	assert_string_equal(cfg->webhooks[1].name, "audit-2");
	assert_string_equal(cfg->webhooks[1].url, "http://127.0.0.1:8080/");
	assert_string_equal(cfg->webhooks[1].prefix, "");
	assert_null(cfg->webhooks[1].secret);
}

/* A webhook without url is an error naming it at its section line. */
static void
test_webhook_no_url(void **state)
{
	test_load_error(*state, "[webhook a]\nurl = http://x/\n"
	    "[webhook b]\nprefix = p\n",
	    "3: [webhook b]: url is missing");
}

/* Webhook names, URLs, duplicates and unknown keys are checked. */
static void
test_webhook_errors(void **state)
{
	test_load_error(*state, "[webhook]\n",
	    "1: [webhook] needs a name: [webhook NAME]");
	test_load_error(*state, "[webhook a b]\n",
	    "1: [webhook a b]: a webhook name holds only letters, digits, "
	    "'.', '-' and '_'");
	test_load_error(*state, "[webhook a]\nurl = http://x/\n[webhook a]\n",
	    "3: [webhook a]: defined twice (first on line 1)");
	test_load_error(*state, "[webhook a]\nurl = ftp://x/\n",
	    "2: [webhook a] url: 'ftp://x/' is not an http:// or https:// "
	    "URL");
	test_load_error(*state, "[webhook a]\nurl = http://x/\nurl = "
	    "http://y/\n",
	    "3: [webhook a] url: set twice (first on line 2)");
	test_load_error(*state, "[webhook a]\nurl = http://x/\nsecert = s\n",
	    "3: [webhook a] secert: unknown key (expected url, prefix, "
	    "secret)");
}

/* curve = yes without a secret key is an error at the curve line. */
static void
test_curve_needs_key(void **state)
{
	test_load_error(*state, "[ingest]\ncurve = yes\n",
	    "2: [ingest] curve: yes needs [security] secret_key_file");
}

/* A file that cannot be read: the file name and strerror. */
static void
test_unreadable_file(void **state)
{
	char	*cause, *want;

	assert_int_equal(config_load(*state, "/nonexistent/wartad.conf",
	    &cause), -1);
	xasprintf(&want, "/nonexistent/wartad.conf: %s", strerror(ENOENT));
	assert_string_equal(cause, want);
	free(want);
	free(cause);

	assert_int_equal(config_load(*state, "/", &cause), -1);
	xasprintf(&want, "/: %s", strerror(EISDIR));
	assert_string_equal(cause, want);
	free(want);
	free(cause);
}

/* No flags: the defaults stand. */
static void
test_args_none(void **state)
{
	struct config	*cfg = *state;
	char		*cause;

	assert_int_equal(test_args(cfg, (char *[]){ "wartad", NULL }, &cause),
	    0);
	assert_null(cause);
	assert_string_equal(cfg->data_dir, "./warta-data");
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
}

/* Flags win over the file whether they come before or after -c. */
static void
test_flags_override_file(void **state)
{
	struct config	*cfg = *state;
	const char	*path;
	char		*cause;

	path = test_write("[store]\npath = /from/file\nsync = no\n"
	    "[ingest]\nbind = ipc:///file/ingest\n"
	    "[notify]\nbind = ipc:///file/notify\n"
	    "[api]\nbind = ipc:///file/api\n"
	    "[log]\nlevel = error\n", 0600);
	assert_int_equal(test_args(cfg, ARGV("--data", "/from/flag",
	    "--ingest", "ipc:///flag/ingest", "--log-level", "debug",
	    "-c", (char *)path, "--api", "inproc://flag"), &cause), 0);
	assert_string_equal(cfg->data_dir, "/from/flag");
	assert_string_equal(cfg->ingest_bind, "ipc:///flag/ingest");
	assert_string_equal(cfg->notify_bind, "ipc:///file/notify");
	assert_string_equal(cfg->api_bind, "inproc://flag");
	assert_int_equal(cfg->log_level, LOG_LVL_DEBUG);
	assert_false(cfg->sync);
	assert_string_equal(cfg->config_file, path);
}

/* --flag=value works like --flag value, also for --config. */
static void
test_flag_equals_form(void **state)
{
	struct config	*cfg = *state;
	const char	*path;
	char		*cause, *opt;

	path = test_write("[store]\nmax_events = 7\n", 0600);
	xasprintf(&opt, "--config=%s", path);
	assert_int_equal(test_args(cfg, ARGV(opt, "--data=/d",
	    "--notify=tcp://*:9000", "--log-level=warn"), &cause), 0);
	assert_int_equal(cfg->max_events, 7);
	assert_string_equal(cfg->data_dir, "/d");
	assert_string_equal(cfg->notify_bind, "tcp://*:9000");
	assert_int_equal(cfg->log_level, LOG_LVL_WARN);
	free(opt);
}

/* A bad flag endpoint names the flag. */
static void
test_flag_bad_endpoint(void **state)
{
	test_args_error(*state, ARGV("--ingest", "tcp://localhost"),
	    "--ingest: 'tcp://localhost' is not a valid endpoint: there is "
	    "no ':PORT'");
	test_args_error(*state, ARGV("--api=ipc://"),
	    "--api: 'ipc://' is not a valid endpoint: the path or name is "
	    "empty");
}

/* A bad --log-level lists the levels. */
static void
test_flag_bad_log_level(void **state)
{
	test_args_error(*state, ARGV("--log-level", "loud"),
	    "--log-level: 'loud' is not one of error, warn, info, debug");
}

/* Unknown flags, missing values and stray arguments are named. */
static void
test_flag_errors(void **state)
{
	struct config	*cfg = *state;

	test_args_error(cfg, ARGV("--bogus=1"),
	    "--bogus: unknown flag (see --help)");
	test_args_error(cfg, ARGV("-x"), "-x: unknown flag (see --help)");
	test_args_error(cfg, ARGV("-nx"), "-x: unknown flag (see --help)");
	test_args_error(cfg, ARGV("--data"), "--data: missing DIR");
	test_args_error(cfg, ARGV("-n", "-c"), "-c: missing FILE");
	test_args_error(cfg, ARGV("--config"), "--config: missing FILE");
	test_args_error(cfg, ARGV("--help=yes"), "--help: takes no value");
	test_args_error(cfg, ARGV("--data="), "--data: the directory is empty");
	test_args_error(cfg, ARGV("-n", "stray"),
	    "'stray': unexpected argument (see --help)");
	test_args_error(cfg, ARGV("--", "stray"),
	    "'stray': unexpected argument (see --help)");
}

/* A -c file that cannot be read is -1 naming the file. */
static void
test_flag_missing_file(void **state)
{
	char	*want;

	xasprintf(&want, "/nonexistent/w.conf: %s", strerror(ENOENT));
	test_args_error(*state, ARGV("-c", "/nonexistent/w.conf"), want);
	free(want);
}

/* -n sets check_only and nothing else. */
static void
test_flag_check_only(void **state)
{
	struct config	*cfg = *state;
	char		*cause;

	assert_int_equal(test_args(cfg, ARGV("-n"), &cause), 0);
	assert_true(cfg->check_only);
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
}

/* Each -v is one level up from the configured level, up to debug. */
static void
test_flag_verbose(void **state)
{
	struct config	*cfg = *state;
	char		*cause;

	assert_int_equal(test_args(cfg, ARGV("--log-level", "error", "-v"),
	    &cause), 0);
	assert_int_equal(cfg->verbose, 1);
	assert_int_equal(cfg->log_level, LOG_LVL_WARN);

	config_free(cfg);
	config_defaults(cfg);
	assert_int_equal(test_args(cfg, ARGV("-vv", "-v", "-n"), &cause), 0);
	assert_int_equal(cfg->verbose, 3);
	assert_int_equal(cfg->log_level, LOG_LVL_DEBUG);
	assert_true(cfg->check_only);
}

/* -v raises a level set in the file too. */
static void
test_flag_verbose_over_file(void **state)
{
	struct config	*cfg = *state;
	const char	*path;
	char		*cause;

	path = test_write("[log]\nlevel = error\n", 0600);
	assert_int_equal(test_args(cfg, ARGV("-vv", "-c", (char *)path),
	    &cause), 0);
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
}

/* -h and --help print the usage on stdout and return 1. */
static void
test_flag_help(void **state)
{
	char	*out;

	assert_int_equal(test_args_stdout(*state, ARGV("-h"), &out), 1);
	assert_non_null(strstr(out, "usage: wartad"));
	assert_non_null(strstr(out, "--log-level"));
	free(out);
	assert_int_equal(test_args_stdout(*state, ARGV("--help"), &out), 1);
	assert_non_null(strstr(out, "usage: wartad"));
	free(out);
}

/* -V and --version print "wartad 0.1.0" and return 1. */
static void
test_flag_version(void **state)
{
	char	*out;

	assert_int_equal(test_args_stdout(*state, ARGV("-V"), &out), 1);
	assert_string_equal(out, "wartad 0.1.0\n");
	free(out);
	assert_int_equal(test_args_stdout(*state, ARGV("--version"), &out), 1);
	assert_string_equal(out, "wartad 0.1.0\n");
	free(out);
}

/* getopt is reset: a second call parses its own argv from the start. */
static void
test_args_twice(void **state)
{
	struct config	*cfg = *state;
	char		*cause;

	assert_int_equal(test_args(cfg, ARGV("-nv", "--data", "/a"), &cause),
	    0);
	config_free(cfg);
	assert_int_equal(test_args(cfg, ARGV("-vv", "--data", "/b"), &cause),
	    0);
	assert_string_equal(cfg->data_dir, "/b");
	assert_int_equal(cfg->verbose, 2);
	assert_false(cfg->check_only);
}

/* A freed config can be filled again, and freed twice harmlessly. */
static void
test_free_reuse(void **state)
{
	struct config	*cfg = *state;

	test_load_ok(cfg, "[webhook a]\nurl = http://x/\nsecret = s\n"
	    "[ingest]\nconnect = tcp://a:1 tcp://b:2\n"
	    "[security]\nclients_file = /c\n");
	config_free(cfg);
	assert_null(cfg->data_dir);
	assert_int_equal(cfg->nwebhooks, 0);
	config_free(cfg);
	config_defaults(cfg);
	assert_string_equal(cfg->data_dir, "./warta-data");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

/* Run every test, or those matching argv[1]. */
int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_store_keys),
		T(test_ingest_keys),
		T(test_ingest_connect_lines),
		T(test_notify_api_http_keys),
		T(test_http_listen_empty),
		T(test_security_keys),
		T(test_log_level_key),
		T(test_booleans),
		T(test_bad_boolean),
		T(test_bad_number_line),
		T(test_number_not_whole),
		T(test_number_too_small),
		T(test_number_too_large),
		T(test_number_overflow),
		T(test_max_map_below_map),
		T(test_bad_log_level),
		T(test_bad_bind_endpoint),
		T(test_bad_connect_endpoint),
		T(test_bad_http_listen),
		T(test_empty_path),
		T(test_endpoint_valid),
		T(test_unknown_section),
		T(test_unknown_key),
		T(test_key_before_section),
		T(test_duplicate_key),
		T(test_comments),
		T(test_colon_form),
		T(test_no_continuation_lines),
		T(test_syntax_errors),
		T(test_long_line),
		T(test_crlf_bom),
		T(test_nul_byte),
		T(test_webhooks),
		T(test_webhook_no_url),
		T(test_webhook_errors),
		T(test_curve_needs_key),
		T(test_unreadable_file),
		T(test_args_none),
		T(test_flags_override_file),
		T(test_flag_equals_form),
		T(test_flag_bad_endpoint),
		T(test_flag_bad_log_level),
		T(test_flag_errors),
		T(test_flag_missing_file),
		T(test_flag_check_only),
		T(test_flag_verbose),
		T(test_flag_verbose_over_file),
		T(test_flag_help),
		T(test_flag_version),
		T(test_args_twice),
		T(test_free_reuse),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
