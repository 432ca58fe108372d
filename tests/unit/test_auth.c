/*
 * test_auth.c — daemon/clients.c (the clients file parser, key lookup,
 * roles) and the pure parts of daemon/auth.c: key files, the loopback
 * test of endpoints and the plaintext rule.
 *
 *   ./build/tests/test_auth [NAME-GLOB]
 */
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
#include <zmq.h>

#include "daemon/clients.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"
#include "tests/unit/tmpfiles.h"

/* Key pairs made with zmq_curve_keypair(): public, secret. */
#define K1	"E@Z4eH]}ui0IB9pTypoC-Hi9Xuqr<Q{.uq>hy)@A"
#define K1S	"7Ew?uXl^2JlB8d#LTF3I4=&Zmt2@h[4SQ}PWLl&u"
#define K2	"Q?<4uxV^aG+[7yCg.Kg1dwHLyO<K:xOM^kmybxxW"
#define K3	"NJ>KXAIkSJm+xfrF]uvLWvtk4Z!b1m)*CG5cW#:]"

/* Remove the test's temp files. */
static int
test_teardown(void **state)
{
	test_unlink_all();
	return 0;
}

/* Parse text, which must succeed; returns the list. */
static struct clients *
test_parse_ok(const char *text)
{
	struct clients	*c = NULL;
	char		*cause = NULL;

	if (clients_parse(text, strlen(text), &c, &cause) != 0)
		fail_msg("clients_parse: %s", cause);
	assert_null(cause);
	assert_non_null(c);
	return c;
}

/* Parse text, which must fail with exactly want. */
static void
test_parse_error(const char *text, const char *want)
{
	struct clients	*c = NULL;
	char		*cause = NULL;

	assert_int_equal(clients_parse(text, strlen(text), &c, &cause), -1);
	assert_null(c);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
}

/* Decode a Z85 key the way libzmq does, for comparison. */
static void
test_zmq_key(const char *z85, uint8_t bin[CLIENTS_KEY_BIN])
{
	assert_non_null(zmq_z85_decode(bin, z85));
}

/* A valid file: comments, blank lines, CRLF, tabs, names with spaces. */
static void
test_parse_valid(void **state)
{
	struct clients			*c;
	const struct clients_entry	*e;
	uint8_t				 bin[CLIENTS_KEY_BIN];

	c = test_parse_ok(
	    "# the clients of wartad\n"
	    "#\n"
	    "\n"
	    "   \t\n"
	    K1 " subscriber KBRI Seoul\r\n"
	    K2 "\tpublisher\t  sisnaker  \n"
	    "  # an indented comment\n"
	    K3 " admin ops");
	assert_int_equal(c->n, 3);
	test_zmq_key(K1, bin);
	assert_non_null(e = clients_find(c, bin));
	assert_int_equal(e->role, CLIENTS_SUBSCRIBER);
	assert_string_equal(e->name, "KBRI Seoul");
	assert_string_equal(e->z85, K1);
	assert_int_equal(e->line, 5);
	test_zmq_key(K2, bin);
	assert_non_null(e = clients_find(c, bin));
	assert_int_equal(e->role, CLIENTS_PUBLISHER);
	assert_string_equal(e->name, "sisnaker");
	test_zmq_key(K3, bin);
	assert_non_null(e = clients_find(c, bin));
	assert_int_equal(e->role, CLIENTS_ADMIN);
	assert_int_equal(e->line, 8);
	clients_free(&c);
	assert_null(c);
}

/* An empty file, or one of comments, lists nobody. */
static void
test_parse_empty(void **state)
{
	struct clients	*c;
	uint8_t		 bin[CLIENTS_KEY_BIN];

	c = test_parse_ok("");
	assert_int_equal(c->n, 0);
	test_zmq_key(K1, bin);
	assert_null(clients_find(c, bin));
	clients_free(&c);
	c = test_parse_ok("# nobody yet\n\n#\n");
	assert_int_equal(c->n, 0);
	clients_free(&c);
	clients_free(&c);	/* NULL is fine */
}

/* A key that is not listed is not found. */
static void
test_find_unlisted(void **state)
{
	struct clients	*c = test_parse_ok(K1 " admin a\n" K3 " admin c\n");
	uint8_t		 bin[CLIENTS_KEY_BIN];

	test_zmq_key(K2, bin);
	assert_null(clients_find(c, bin));
	assert_null(clients_find(NULL, bin));
	clients_free(&c);
}

/* Keys of the wrong length or with characters outside Z85. */
static void
test_parse_bad_key(void **state)
{
	test_parse_error("\n" "abc subscriber x\n",
	    "line 2: key 'abc' is 3 characters, not 40 (expected \"<Z85 "
	    "public key> <role> <name>\")");
	test_parse_error(K1 "A subscriber x\n",
	    "line 1: key 'E@Z4eH]}ui0I...' is 41 characters, not 40 "
	    "(expected \"<Z85 public key> <role> <name>\")");
	test_parse_error("E@Z4eH]}ui0IB9pTypoC-Hi9Xuqr<Q{.uq>hy)@~ admin x\n",
	    "line 1: key 'E@Z4eH]}ui0I...' character 40 ('~') is not Z85 "
	    "(expected \"<Z85 public key> <role> <name>\")");
	test_parse_error("E@Z4eH]}ui0IB9pTypoC-Hi9Xuqr<Q{.uq>hy)@\x01 admin x\n",
	    "line 1: key 'E@Z4eH]}ui0I...' character 40 (byte 0x01) is not "
	    "Z85 (expected \"<Z85 public key> <role> <name>\")");
	/* '#' is Z85, but no group of five can start with it (> 2^32). */
	test_parse_error("#note\n",
	    "line 1: key '#note' is 5 characters, not 40 (expected \"<Z85 "
	    "public key> <role> <name>\"; a comment is '#' alone or '# ' and "
	    "text)");
	test_parse_error("#@Z4eH]}ui0IB9pTypoC-Hi9Xuqr<Q{.uq>hy)@A admin x\n",
	    "line 1: key '#@Z4eH]}ui0I...' characters 1-5 do not decode "
	    "(their value is over 2^32) (expected \"<Z85 public key> <role> "
	    "<name>\"; a comment is '#' alone or '# ' and text)");
	test_parse_error("#\tcomment\n",
	    "line 1: key '#' is 1 characters, not 40 (expected \"<Z85 "
	    "public key> <role> <name>\"; a comment is '#' alone or '# ' and "
	    "text)");
}

/* Missing and unknown roles, missing and bad names. */
static void
test_parse_bad_fields(void **state)
{
	test_parse_error(K1 "\n", "line 1: role missing after the key "
	    "(expected subscriber, publisher or admin)");
	test_parse_error("# x\n" K1 " root x\n", "line 2: role 'root' is not "
	    "one of subscriber, publisher, admin");
	test_parse_error(K1 " Admin x\n", "line 1: role 'Admin' is not one of "
	    "subscriber, publisher, admin");
	test_parse_error(K1 " subscriber\n", "line 1: name missing after the "
	    "role subscriber");
	test_parse_error(K1 " subscriber \t \r\n", "line 1: name missing after "
	    "the role subscriber");
	test_parse_error(K1 " admin a\x7f" "b\n", "line 1: name: control "
	    "character 0x7f at byte 2");
	{
		char buf[512];

		snprintf(buf, sizeof buf, K1 " admin %0129d\n", 0);
		test_parse_error(buf, "line 1: name is 129 bytes, the limit "
		    "is 128");
		snprintf(buf, sizeof buf, K1 " admin %0128d\n", 0);
		clients_free((struct clients *[]){ test_parse_ok(buf) });
	}
}

/* A NUL byte inside a line is refused, not a silent end of the line. */
static void
test_parse_nul(void **state)
{
	static const char text[] = K1 " admin a\0b\n";
	struct clients	*c = NULL;
	char		*cause = NULL;

	assert_int_equal(clients_parse(text, sizeof text - 1, &c, &cause), -1);
	assert_string_equal(cause, "line 1: name: control character 0x00 at "
	    "byte 2");
	free(cause);
}

/* A key listed twice names the later line and the first. */
static void
test_parse_duplicate(void **state)
{
	test_parse_error(K1 " admin a\n" K2 " admin b\n" "# x\n"
	    K2 " subscriber c\n" K1 " admin d\n",
	    "line 4: key Q?<4uxV^... is already listed on line 2");
}

/* Roles include those below them; nothing is allowed to no role. */
static void
test_roles(void **state)
{
	assert_true(clients_role_allows(CLIENTS_ADMIN, CLIENTS_PUBLISHER));
	assert_true(clients_role_allows(CLIENTS_ADMIN, CLIENTS_ADMIN));
	assert_true(clients_role_allows(CLIENTS_PUBLISHER,
	    CLIENTS_SUBSCRIBER));
	assert_true(clients_role_allows(CLIENTS_SUBSCRIBER,
	    CLIENTS_SUBSCRIBER));
	assert_false(clients_role_allows(CLIENTS_SUBSCRIBER,
	    CLIENTS_PUBLISHER));
	assert_false(clients_role_allows(CLIENTS_PUBLISHER, CLIENTS_ADMIN));
	assert_false(clients_role_allows(CLIENTS_NONE, CLIENTS_SUBSCRIBER));
	assert_false(clients_role_allows(CLIENTS_NONE, CLIENTS_NONE));
	assert_int_equal(clients_role_parse("publisher", 9),
	    CLIENTS_PUBLISHER);
	assert_int_equal(clients_role_parse("publisher x", 9),
	    CLIENTS_PUBLISHER);
	assert_int_equal(clients_role_parse("publishe", 8), CLIENTS_NONE);
	assert_int_equal(clients_role_parse("none", 4), CLIENTS_NONE);
	assert_string_equal(clients_role_name(CLIENTS_ADMIN), "admin");
	assert_string_equal(clients_role_name(CLIENTS_NONE), "none");
}

/* Our Z85 decoder agrees with libzmq's on keys it accepts. */
static void
test_key_decode(void **state)
{
	uint8_t	 ours[CLIENTS_KEY_BIN], theirs[CLIENTS_KEY_BIN];
	char	 pub[41], sec[41], why[96];

	for (int i = 0; i < 200; i++) {
		assert_int_equal(zmq_curve_keypair(pub, sec), 0);
		assert_int_equal(clients_key_decode(pub, 40, ours, why,
		    sizeof why), 0);
		test_zmq_key(pub, theirs);
		assert_memory_equal(ours, theirs, sizeof ours);
	}
	assert_int_equal(clients_key_decode("%nSc0%nSc0%nSc0%nSc0%nSc0%nSc0"
	    "%nSc0%nSc0", 40, ours, why, sizeof why), 0);	/* all 0xff */
	assert_int_equal(ours[0], 0xff);
	assert_int_equal(clients_key_decode("%nSc1%nSc0%nSc0%nSc0%nSc0%nSc0"
	    "%nSc0%nSc0", 40, ours, why, sizeof why), -1);
	assert_string_equal(why, "characters 1-5 do not decode (their value "
	    "is over 2^32)");
}

/* Which endpoints stay on this host. */
static void
test_endpoint_local(void **state)
{
	static const char *const local[] = {
		"ipc:///run/warta/api", "inproc://x", "tcp://127.0.0.1:7403",
		"tcp://127.1.2.3:1", "tcp://localhost:7403",
		"tcp://LocalHost:7403", "tcp://[::1]:7403",
		"tcp://[::ffff:127.0.0.1]:7403",
		"tcp://[0:0:0:0:0:0:0:1]:7403", "tcp://10.0.0.1:1;127.0.0.1:2",
	};
	static const char *const remote[] = {
		"tcp://*:7403", "tcp://0.0.0.0:7403", "tcp://[::]:7403",
		"tcp://192.0.2.1:7403", "tcp://128.0.0.1:7403",
		"tcp://eth0:7403", "tcp://localhost.example:7403",
		"tcp://127.0.0.1.example:7403", "tcp://127.1:7403",
		"tcp://127.0.0.1:1;192.0.2.1:2", "tcp://[::2]:7403",
		"udp://127.0.0.1:1", "tcp://", "tcp://127.0.0.1",
	};

	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
		if (!auth_endpoint_local(local[i]))
			fail_msg("%s is local", local[i]);
	for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++)
		if (auth_endpoint_local(remote[i]))
			fail_msg("%s is not local", remote[i]);
	assert_true(auth_listen_local("127.0.0.1:7404"));
	assert_true(auth_listen_local("[::1]:7404"));
	assert_true(auth_listen_local("localhost:7404"));
	assert_false(auth_listen_local("0.0.0.0:7404"));
	assert_false(auth_listen_local("example.org:7404"));
}

/* The plaintext rule: non-loopback needs CURVE or allow_plaintext. */
static void
test_plaintext_rule(void **state)
{
	struct config	 cfg;
	char		*cause = NULL;

	log_init(LOG_LVL_ERROR);
	memset(&cfg, 0, sizeof cfg);
	config_defaults(&cfg);
	assert_int_equal(auth_check_plaintext(&cfg, &cause), 0);

	free(cfg.api_bind);
	cfg.api_bind = xstrdup("tcp://0.0.0.0:7403");
	assert_int_equal(auth_check_plaintext(&cfg, &cause), -1);
	assert_non_null(strstr(cause, "api: tcp://0.0.0.0:7403 is not a "
	    "loopback address"));
	assert_non_null(strstr(cause, "allow_plaintext"));
	free(cause);
	cause = NULL;
	cfg.secret_key_file = xstrdup("/k");	/* CURVE covers api */
	assert_int_equal(auth_check_plaintext(&cfg, &cause), 0);

	free(cfg.ingest_bind);
	cfg.ingest_bind = xstrdup("tcp://*:7401");
	assert_int_equal(auth_check_plaintext(&cfg, &cause), -1);
	assert_non_null(strstr(cause, "ingest: tcp://*:7401"));
	assert_non_null(strstr(cause, "[ingest] curve = yes"));
	free(cause);
	cause = NULL;
	cfg.ingest_curve = true;
	assert_int_equal(auth_check_plaintext(&cfg, &cause), 0);

	free(cfg.http_listen);
	cfg.http_listen = xstrdup("0.0.0.0:7404");
	assert_int_equal(auth_check_plaintext(&cfg, &cause), -1);
	assert_non_null(strstr(cause, "http: listen 0.0.0.0:7404"));
	free(cause);
	cause = NULL;
	cfg.allow_plaintext = true;
	assert_int_equal(auth_check_plaintext(&cfg, &cause), 0);
	config_free(&cfg);
}

/* Key files: the Z85 key on one line; secrets private. */
static void
test_read_key(void **state)
{
	char	 z85[41], *cause = NULL;

	assert_int_equal(auth_read_key(test_write(K1S "\n", 0600), true, z85,
	    &cause), 0);
	assert_string_equal(z85, K1S);
	assert_int_equal(auth_read_key(test_write(K1, 0644), false, z85,
	    &cause), 0);
	assert_string_equal(z85, K1);
	assert_int_equal(auth_read_key(test_write(K1 " \r\n\n", 0644), false,
	    z85, &cause), 0);

	assert_int_equal(auth_read_key(test_write(K1S "\n", 0640), true, z85,
	    &cause), -1);
	assert_non_null(strstr(cause, "is mode 0640: group or others"));
	free(cause);
	assert_int_equal(auth_read_key(test_write(K1S "\n", 0604), true, z85,
	    &cause), -1);
	free(cause);
	assert_int_equal(auth_read_key(test_write("public " K1 "\n", 0644),
	    false, z85, &cause), -1);
	assert_non_null(strstr(cause, "[security] public_key_file: "));
	assert_non_null(strstr(cause, "is 47 characters, not 40"));
	free(cause);
	assert_int_equal(auth_read_key(test_write("", 0600), true, z85,
	    &cause), -1);
	free(cause);
	assert_int_equal(auth_read_key("/nonexistent/k", true, z85, &cause),
	    -1);
	assert_string_equal(cause, "[security] secret_key_file: "
	    "/nonexistent/k: No such file or directory");
	free(cause);
}

/* auth_load: the pair must match, the clients file must parse. */
static void
test_load(void **state)
{
	struct config	 cfg;
	struct auth	*a = NULL;
	char		*cause = NULL;

	log_init(LOG_LVL_ERROR);
	memset(&cfg, 0, sizeof cfg);
	config_defaults(&cfg);
	assert_int_equal(auth_load(&cfg, &a, &cause), 0);
	assert_null(a);		/* CURVE off */

	cfg.clients_file = xstrdup(test_write(K2 " admin ops\n", 0644));
	assert_int_equal(auth_load(&cfg, &a, &cause), -1);
	assert_non_null(strstr(cause, "clients_file is set but "
	    "secret_key_file is not"));
	free(cause);

	cfg.secret_key_file = xstrdup(test_write(K1S "\n", 0600));
	cfg.public_key_file = xstrdup(test_write(K1 "\n", 0644));
	assert_int_equal(auth_load(&cfg, &a, &cause), 0);
	assert_non_null(a);
	auth_free(&a);
	assert_null(a);

	free(cfg.public_key_file);
	cfg.public_key_file = xstrdup(test_write(K2 "\n", 0644));
	assert_int_equal(auth_load(&cfg, &a, &cause), -1);
	assert_non_null(strstr(cause, "is not the public key of "
	    "secret_key_file"));
	free(cause);
	free(cfg.public_key_file);
	cfg.public_key_file = NULL;

	free(cfg.clients_file);
	cfg.clients_file = xstrdup(test_write("# ok\n" K2 " root ops\n",
	    0644));
	assert_int_equal(auth_load(&cfg, &a, &cause), -1);
	assert_non_null(strstr(cause, "line 2: role 'root'"));
	assert_non_null(strstr(cause, cfg.clients_file));
	free(cause);

	free(cfg.clients_file);
	cfg.clients_file = NULL;
	assert_int_equal(auth_load(&cfg, &a, &cause), -1);
	assert_non_null(strstr(cause, "clients_file is required"));
	free(cause);
	assert_null(a);
	config_free(&cfg);
}

int
main(int argc, char **argv)
{
#define T(f)	cmocka_unit_test_teardown(f, test_teardown)
	const struct CMUnitTest tests[] = {
		T(test_parse_valid),
		T(test_parse_empty),
		T(test_find_unlisted),
		T(test_parse_bad_key),
		T(test_parse_bad_fields),
		T(test_parse_nul),
		T(test_parse_duplicate),
		T(test_roles),
		T(test_key_decode),
		T(test_endpoint_local),
		T(test_plaintext_rule),
		T(test_read_key),
		T(test_load),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
