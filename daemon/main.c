/*
 * main.c — wartad: start-up, the event loop, signals, shutdown.
 *
 * One libevent loop owns the three ZeroMQ sockets through their ZMQ_FD
 * descriptors, the writer's completion eventfd, the heartbeat and a one
 * second tick.  The writer thread (batch.c) is the only other thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>
#include <zmq.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"

#define EX_UNAVAILABLE_CODE	69
#define EX_IOERR_CODE		74

/* SIGTERM, SIGINT: commit what is pending, then leave the loop. */
static void
wartad_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct wartad *wd = arg;

	if (wd->stopping)
		return;
	log_info("signal %d: committing what is pending and stopping",
	    (int)sig);
	sd_notify(0, "STOPPING=1");
	wd->stopping = true;
	wd->fill->retain = false;
	batch_flush(wd);
	if (wd->busy == NULL && !batch_pending(wd))
		event_base_loopbreak(wd->base);
}

static int	  wartad_argc;
static char	**wartad_argv;

/*
 * SIGHUP: read the configuration again (file and flags, as at start) and
 * apply what can change without dropping a connection: the log level and
 * the CURVE clients file (auth_reload).  A bad file keeps the running
 * configuration and says why.  Endpoints and store settings need a
 * restart.
 */
static void
wartad_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct wartad *wd = arg;
	struct config next;
	char *cause = NULL;
	bool ok;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRId64,
	    wartad_mono_us());
	memset(&next, 0, sizeof next);
	config_defaults(&next);
	ok = config_from_args(&next, wartad_argc, wartad_argv, &cause) == 0;
	if (!ok) {
		log_error("SIGHUP: configuration not reloaded: %s",
		    cause ? cause : "bad arguments");
		free(cause);
	} else {
		log_set_level(next.log_level);	/* -v already counted */
		log_info("SIGHUP: configuration reloaded; log level %s "
		    "(endpoints and [store] settings apply at restart)",
		    log_level_name(log_get_level()));
	}
	/* The clients file the new configuration names, else the old. */
	auth_reload(wd, ok ? next.clients_file : NULL);
	config_free(&next);
	sd_notify(0, "READY=1");
}

/* Tell systemd the loop is alive: sent from the loop itself, so a stuck
 * loop stops it and systemd restarts the daemon. */
static void
wartad_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

/* Every heartbeat_ms: `_sys.heartbeat`. */
static void
wartad_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	notify_heartbeat(arg);
}

/* Every second: flush reject log counts, take a retention step. */
static void
wartad_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct wartad *wd = arg;

	ingest_log_flush(wd, wartad_now_ms());
	auth_log_flush(wd, wartad_now_ms());
	sd_notifyf(0, "STATUS=last seq %" PRIu64 ", %" PRIu64 " events/s, "
	    "%" PRId64 " subscribers%s", wd->last_seq,
	    wd->last_seq - wd->status_seq, wd->subscribers,
	    store_full(wd->store) ? ", store FULL: writes refused" : "");
	wd->status_seq = wd->last_seq;
	if (wd->stopping)
		return;
	batch_tick(wd);
	if (wd->cfg->max_events || wd->cfg->max_age_days) {
		wd->fill->retain = true;
		batch_flush(wd);
	}
}

/* Hold the data directory against a second wartad. */
static int
wartad_lock(const char *dir, char **cause)
{
	char *path;
	int fd;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		xasprintf(cause, "store %s: cannot create: %s", dir,
		    strerror(errno));
		return -1;
	}
	xasprintf(&path, "%s/wartad.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		xasprintf(cause, "store %s: cannot open %s: %s", dir, path,
		    strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);

		if (n > 0)
			pid[strcspn(pid, "\n")] = '\0';
		xasprintf(cause, "store %s is held by another running wartad%s%s",
		    dir, n > 0 ? " (pid " : "", n > 0 ? pid : "");
		if (n > 0) {
			char *c2;

			xasprintf(&c2, "%s)", *cause);
			free(*cause);
			*cause = c2;
		}
		close(fd);
		free(path);
		return -1;
	}
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%ld\n", (long)getpid());
	free(path);
	return fd;
}

/* Add a persistent timer. */
static struct event *
wartad_timer(struct wartad *wd, uint64_t ms, event_callback_fn cb)
{
	struct event *ev = event_new(wd->base, -1, EV_PERSIST, cb, wd);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	event_add(ev, &tv);
	return ev;
}

/*
 * Stop the writer and close what start-up opened, the store last: at the
 * end of a run, or when start-up failed once the threads run, so that
 * nothing runs, or is lost, past the exit status (make valgrind).  The
 * signal and timer events, made only once start-up succeeded, are the
 * caller's to free first.
 */
static void
wartad_close(struct wartad *wd)
{
	writer_stop(&wd->writer);
	webhook_close(wd);
	http_close(wd);
	ingest_close(wd);
	api_close(wd);
	notify_close(wd);
	auth_close(wd);		/* after every CURVE socket */
	zmq_ctx_term(wd->zctx);
	event_base_free(wd->base);
	batch_free_all(wd);
	store_close(&wd->store);
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	static struct wartad wd;
	struct store_opts so;
	char *cause = NULL;
	int lockfd, rc, sigs[3] = { SIGTERM, SIGINT, SIGHUP };

	config_defaults(&cfg);
	log_init(LOG_LVL_INFO);
	wartad_argc = argc;
	wartad_argv = argv;
	rc = config_from_args(&cfg, argc, argv, &cause);
	if (rc == 1)
		return 0;
	if (rc == -1) {
		log_error("%s", cause);
		free(cause);
		config_free(&cfg);
		return EX_CONFIG_CODE;
	}
	if (auth_load(&cfg, &wd.auth, &cause) == -1) {
		log_error("%s", cause);
		free(cause);
		config_free(&cfg);
		return EX_CONFIG_CODE;
	}
	if (cfg.check_only) {
		printf("wartad: configuration OK\n");
		auth_free(&wd.auth);
		config_free(&cfg);
		return 0;
	}
	/* config_from_args() has already raised log_level by each -v. */
	log_init(cfg.log_level);
	signal(SIGPIPE, SIG_IGN);

	wd.cfg = &cfg;
	wd.started_ms = wartad_now_ms();
	msgpack_sbuffer_init(&wd.scratch);
	msgpack_sbuffer_init(&wd.reply);

	if ((lockfd = wartad_lock(cfg.data_dir, &cause)) == -1) {
		log_error("%s", cause);
		free(cause);
		return EX_IOERR_CODE;
	}
	memset(&so, 0, sizeof so);
	so.dir = cfg.data_dir;
	so.map_size = cfg.map_size_mb << 20;
	so.max_map_size = cfg.max_map_size_mb << 20;
	so.sync = cfg.sync;
	so.max_events = cfg.max_events;
	so.max_age_ms = cfg.max_age_days * 86400000;
	so.max_rejects = cfg.max_rejects;
	if (store_open(&wd.store, &so, &cause) == -1) {
		log_error("%s", cause);
		free(cause);
		return EX_IOERR_CODE;
	}
	wd.last_seq = store_last_seq(wd.store);
	wd.indexed_seq = store_indexed_seq(wd.store);
	wd.status_seq = wd.last_seq;
	log_info("wartad %s: store %s opened, last seq %" PRIu64,
	    WARTA_VERSION, cfg.data_dir, wd.last_seq);
	if (!cfg.sync)
		log_warnx("store: sync = no: commits are not fsync'd; a power "
		    "loss or kernel crash can lose acknowledged events");

	{
		struct event_config *ecfg = event_config_new();

		/*
		 * Readers re-activate themselves when their per-turn budget
		 * is spent; libevent 2.1 would run such a callback again in
		 * the same pass, starving the writer's completion and the
		 * other sockets.  Poll again after a few callbacks instead.
		 */
		if (ecfg == NULL ||
		    event_config_set_max_dispatch_interval(ecfg, NULL, 4,
		    0) == -1 ||
		    (wd.base = event_base_new_with_config(ecfg)) == NULL)
			fatalx("cannot set up the libevent loop");
		event_config_free(ecfg);
	}
	if ((wd.zctx = zmq_ctx_new()) == NULL)
		fatalx("zmq_ctx_new: %s", zmq_strerror(errno));
	batch_init(&wd);
	wd.writer = writer_start(wd.store, &wd);

	/* The ZAP handler first: a CURVE socket without one admits anyone. */
	if (auth_open(&wd, &cause) == -1 ||
	    ingest_open(&wd, &cause) == -1 || notify_open(&wd, &cause) == -1 ||
	    api_open(&wd, &cause) == -1 || http_open(&wd, &cause) == -1 ||
	    webhook_open(&wd, &cause) == -1) {
		log_error("%s", cause);
		free(cause);
		wartad_close(&wd);
		return EX_UNAVAILABLE_CODE;
	}
	for (int i = 0; i < 3; i++) {
		wd.ev_sig[i] = evsignal_new(wd.base, sigs[i], i < 2 ?
		    wartad_on_stop : wartad_on_hup, &wd);
		event_add(wd.ev_sig[i], NULL);
	}
	wd.ev_heartbeat = wartad_timer(&wd, cfg.heartbeat_ms,
	    wartad_on_heartbeat);
	wd.ev_tick = wartad_timer(&wd, 1000, wartad_on_tick);
	{
		uint64_t usec;

		if (sd_watchdog_enabled(0, &usec) > 0) {
			wd.ev_watchdog = wartad_timer(&wd,
			    usec / 2000 ? usec / 2000 : 1, wartad_on_watchdog);
			log_info("systemd watchdog: every %" PRIu64 " ms",
			    usec / 2000);
		}
	}

	log_info("ingest: bound %s", cfg.ingest_bind);
	log_info("notify: bound %s", cfg.notify_bind);
	log_info("api: bound %s", cfg.api_bind);
	if (*cfg.http_listen != '\0')
		log_info("http: listening on %s", cfg.http_listen);
	else
		log_info("http: off ([http] listen is empty)");
	auth_log_state(&wd);
	sd_notifyf(0, "READY=1\nSTATUS=ready, last seq %" PRIu64, wd.last_seq);

	event_base_dispatch(wd.base);

	/* Every batch has committed, been notified and acknowledged.  A
	   second SIGTERM now would kill the teardown (freeing the signal
	   events restores the default action): hold it until exit.  The
	   other threads block every signal. */
	{
		sigset_t stop;

		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGHUP);
		sigprocmask(SIG_BLOCK, &stop, NULL);
	}
	for (int i = 0; i < 3; i++)
		event_free(wd.ev_sig[i]);
	event_free(wd.ev_heartbeat);
	event_free(wd.ev_tick);
	if (wd.ev_watchdog)
		event_free(wd.ev_watchdog);
	wartad_close(&wd);
	log_info("stopped at seq %" PRIu64, wd.last_seq);
	close(lockfd);
	msgpack_sbuffer_destroy(&wd.scratch);
	msgpack_sbuffer_destroy(&wd.reply);
	config_free(&cfg);
	return 0;
}
