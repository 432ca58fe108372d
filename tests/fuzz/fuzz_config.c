/*
 * fuzz_config.c — libFuzzer target for the config file parser (config.c,
 * through config_load_buffer(): the same reader inih uses for a file).
 *
 * The input is the text of a config file.  Properties checked, each an
 * abort() when broken:
 *  - a refused file gets one line of cause that starts with the file's
 *    name (so the operator knows where to look);
 *  - an accepted file leaves a configuration that keeps the cross-key
 *    rules (max_map_size_mb 0 or at least map_size_mb, bindable endpoints,
 *    webhooks with a url, curve only with a secret key);
 *  - everything is freed by config_free() (LeakSanitizer under libFuzzer
 *    and ASan).
 *
 * Built by `make fuzz` with clang's libFuzzer; tests/fuzz/replay.c replays
 * tests/fuzz/corpus/config/ through it in every `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

#define FUZZ_CONFIG_NAME	"fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check what an accepted file left. */
static void
fuzz_config_check(const struct config *cfg)
{
	if (cfg->max_map_size_mb != 0 &&
	    cfg->max_map_size_mb < cfg->map_size_mb)
		abort();
	if (cfg->map_size_mb < 1 || cfg->max_event_bytes < 64 ||
	    cfg->heartbeat_ms < 10 || cfg->batch_max < 1)
		abort();
	if (config_endpoint_valid(cfg->ingest_bind) != 0 ||
	    config_endpoint_valid(cfg->notify_bind) != 0 ||
	    config_endpoint_valid(cfg->api_bind) != 0)
		abort();
	if (cfg->ingest_connect == NULL || cfg->data_dir == NULL ||
	    cfg->data_dir[0] == '\0')
		abort();
	for (char **ep = cfg->ingest_connect; *ep != NULL; ep++)
		if (config_endpoint_valid(*ep) != 0)
			abort();
	for (size_t i = 0; i < cfg->nwebhooks; i++)
		if (cfg->webhooks[i].name == NULL ||
		    cfg->webhooks[i].url == NULL)
			abort();
	if (cfg->ingest_curve && cfg->secret_key_file == NULL)
		abort();
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char *cause = NULL;
	uint8_t *buf;

	/* A copy of exactly size bytes, so ASan sees any over-read. */
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	memset(&cfg, 0, sizeof cfg);
	config_defaults(&cfg);
	if (config_load_buffer(&cfg, FUZZ_CONFIG_NAME, buf, size,
	    &cause) == 0) {
		if (cause != NULL)
			abort();
		fuzz_config_check(&cfg);
	} else if (cause == NULL || strchr(cause, '\n') != NULL ||
	    strncmp(cause, FUZZ_CONFIG_NAME, strlen(FUZZ_CONFIG_NAME)) != 0)
		abort();
	free(cause);
	config_free(&cfg);
	free(buf);
	return 0;
}
