/*
 * config.h — wartad's configuration: defaults, the INI file (inih) and the
 * command-line flags, a flag winning over the file (PROTOCOL.md sections 9
 * and 10).  Every string is owned by the struct config and freed by
 * config_free().
 */
#ifndef WARTA_CONFIG_H
#define WARTA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EX_CONFIG_CODE	78

#ifndef WARTA_VERSION
#define WARTA_VERSION	"0.1.0"
#endif

/* One [webhook NAME] section. */
struct webhook_cfg {
	char		*name;		/* letters, digits, '.', '-', '_' */
	char		*url;		/* http:// or https://, required */
	char		*prefix;	/* "" (the default): every topic */
	char		*secret;	/* NULL: unsigned */
};

struct config {
	/* [store] */
	char		*data_dir;		/* ./warta-data */
	uint64_t	 map_size_mb;		/* 1024 */
	uint64_t	 max_map_size_mb;	/* 0: no growth */
	bool		 sync;			/* yes */
	uint64_t	 max_events;		/* 0: unlimited */
	uint64_t	 max_age_days;		/* 0: unlimited */
	uint64_t	 max_rejects;		/* 10000 */
	uint64_t	 batch_max;		/* events per transaction, 8192 */

	/* [ingest] */
	char		*ingest_bind;		/* tcp://127.0.0.1:7401 */
	char		**ingest_connect;	/* NULL-terminated, may be empty;
						   never NULL after defaults */
	uint64_t	 max_event_bytes;	/* 65536 */
	bool		 ingest_curve;		/* no */
	uint64_t	 ingest_hwm;		/* 1000000 */

	/* [notify] */
	char		*notify_bind;		/* tcp://127.0.0.1:7402 */
	uint64_t	 heartbeat_ms;		/* 1000 */
	uint64_t	 notify_hwm;		/* 100000 */

	/* [api] */
	char		*api_bind;		/* tcp://127.0.0.1:7403 */

	/* [http] */
	char		*http_listen;		/* 127.0.0.1:7404; "" off */

	/* [security] */
	char		*secret_key_file;	/* NULL: unset (no CURVE) */
	char		*public_key_file;	/* NULL: unset */
	char		*clients_file;		/* NULL: unset */
	bool		 allow_plaintext;

	/* [log] */
	int		 log_level;		/* enum log_level, info; raised
						   by -v after the flags */

	struct webhook_cfg *webhooks;
	size_t		 nwebhooks;

	/* Flags only. */
	char		*config_file;		/* -c */
	bool		 check_only;		/* -n */
	int		 verbose;		/* -v count */
};

/* Fill *cfg with the defaults; *cfg must hold nothing (zeroed or freed). */
void config_defaults(struct config *cfg);

/*
 * Read an INI file into *cfg, over what it holds.  Returns 0, or -1 with
 * *cause set (caller frees) to a message naming the file, the line and the
 * key: "wartad.conf:12: [store] map_size_mb: 'lots' is not a whole number".
 * After -1, *cfg is partly loaded but still only needs config_free().
 */
int config_load(struct config *cfg, const char *path, char **cause);

/* The same for INI text in memory, named name in messages (the fuzz
 * target and tests). */
int config_load_buffer(struct config *cfg, const char *name, const void *buf,
    size_t len, char **cause);

/*
 * Parse argv: first the -c FILE (loaded over the defaults), then every
 * other flag over it, whatever their order; each -v then raises log_level
 * by one, up to debug.  *cfg holds config_defaults() (a zeroed *cfg is
 * given them first).  Returns 0, 1 when --help or --version was printed
 * on stdout (exit 0), or -1 with *cause set for a bad flag or file.
 * Resets getopt, so it may be called more than once.
 */
int config_from_args(struct config *cfg, int argc, char **argv, char **cause);

/* Check that s is an endpoint libzmq can bind: tcp://host:port, ipc://path
 * or inproc://name.  0 or -1. */
int config_endpoint_valid(const char *s);

/* Free every string and array; *cfg can be reused after config_defaults. */
void config_free(struct config *cfg);

#endif
