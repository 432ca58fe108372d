/*
 * test_webhook.c — the pure helpers of HTTP: the webhook signature
 * (HMAC-SHA256, RFC 4231 vectors), webhook URL parsing, and jsonmap's
 * JSON of a notification body with a value JSON cannot hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "daemon/wartad.h"

/* RFC 4231 test case 2: key "Jefe". */
static void
test_sign_rfc4231(void **state)
{
	const char *msg = "what do ya want for nothing?";
	char sig[80];

	assert_int_equal(webhook_sign("Jefe", msg, strlen(msg), sig,
	    sizeof sig), 0);
	assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
}

/* A key longer than the hash's block (131 bytes of 0xaa, RFC 4231 test
 * case 6) is hashed first, as HMAC says; a short buffer is refused. */
static void
test_sign_long_key(void **state)
{
	const char *msg = "Test Using Larger Than Block-Size Key - Hash Key "
	    "First";
	char key[132], sig[80];

	memset(key, 0xaa, 131);
	key[131] = '\0';
	assert_int_equal(webhook_sign(key, msg, strlen(msg), sig, sizeof sig),
	    0);
	assert_string_equal(sig, "sha256=60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	assert_int_equal(webhook_sign("k", msg, 1, sig, 71), -1);
}

/* http:// and https:// URLs split into host, port (80 or 443 by default)
 * and path with its query; other schemes, a missing host and user info
 * are refused. */
static void
test_parse_url(void **state)
{
	char *host, *path, *cause = NULL;
	int port;
	bool tls;

	assert_int_equal(webhook_parse_url("http://127.0.0.1:8080/hook?a=b",
	    &host, &port, &path, &tls, &cause), 0);
	assert_false(tls);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_string_equal(path, "/hook?a=b");
	free(host);
	free(path);

	assert_int_equal(webhook_parse_url("http://example.org", &host, &port,
	    &path, &tls, &cause), 0);
	assert_string_equal(host, "example.org");
	assert_int_equal(port, 80);
	assert_string_equal(path, "/");
	free(host);
	free(path);

	assert_int_equal(webhook_parse_url("https://example.org/in", &host,
	    &port, &path, &tls, &cause), 0);
	assert_true(tls);
	assert_int_equal(port, 443);
	assert_string_equal(path, "/in");
	free(host);
	free(path);

	assert_int_equal(webhook_parse_url("ftp://example.org/", &host,
	    &port, &path, &tls, &cause), -1);
	assert_non_null(strstr(cause, "only http:// and https://"));
	free(cause);
	assert_int_equal(webhook_parse_url("http:///x", &host, &port, &path,
	    &tls, &cause), -1);
	assert_non_null(strstr(cause, "no host"));
	free(cause);
	assert_int_equal(webhook_parse_url("http://u:p@h/", &host, &port,
	    &path, &tls, &cause), -1);
	assert_non_null(strstr(cause, "user:password"));
	free(cause);
}

/* A notification body as JSON: "ok" dropped, an x_ binary value null and
 * named under "unrepresentable", everything else as the client maps it. */
static void
test_jsonmap_unrepresentable(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char *s;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "ok", 2);
	msgpack_pack_true(&pk);
	msgpack_pack_str_with_body(&pk, "seq", 3);
	msgpack_pack_uint64(&pk, 7);
	msgpack_pack_str_with_body(&pk, "event", 5);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "id", 2);
	msgpack_pack_str_with_body(&pk, "m\n1", 3);
	msgpack_pack_str_with_body(&pk, "x_b", 3);
	msgpack_pack_bin_with_body(&pk, "\0", 1);
	s = jsonmap_dumps((const uint8_t *)sb.data, sb.size);
	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	assert_string_equal(s, "{\"seq\":7,\"event\":null,\"unrepresentable\":"
	    "\"event.x_b: binary value (1 bytes) has no JSON form\"}");
	free(s);
	assert_null(jsonmap_dumps((const uint8_t *)"\xc1", 1));
	msgpack_sbuffer_destroy(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_rfc4231),
		cmocka_unit_test(test_sign_long_key),
		cmocka_unit_test(test_parse_url),
		cmocka_unit_test(test_jsonmap_unrepresentable),
	};

	return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
