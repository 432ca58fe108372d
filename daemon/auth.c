/*
 * auth.c — CURVE and the ZAP handler (PROTOCOL.md section 8).
 *
 * With [security] secret_key_file set, notify and api (and ingest with
 * [ingest] curve = yes) are CURVE servers.  libzmq asks the ZAP handler,
 * a REP socket on inproc://zeromq.zap.01 in the daemon's context, about
 * every handshake; we answer from the clients file (clients.c).  Each
 * socket names itself with its ZAP domain ("ingest", "notify", "api"):
 * notify and api admit any listed key, ingest only publisher and admin.
 *
 * An admitted key's role travels as the ZAP User-Id, "<role> <name>",
 * which libzmq attaches to every message of that connection: the api
 * reads it per request (auth_msg_role).  So the role is fixed when the
 * connection is made, and a SIGHUP reload of the clients file never drops
 * an admitted connection; a removed key is refused at its next handshake.
 *
 * libzmq's CURVE server admits everyone when no ZAP handler is bound, so
 * the handler binds before any CURVE socket and closes after them.
 *
 * Without CURVE on a socket, binding it (or [ingest] connect, or the HTTP
 * listener) to a non-loopback address needs allow_plaintext = yes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <zmq.h>

#include "daemon/clients.h"
#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"

#define AUTH_ZAP_ENDPOINT	"inproc://zeromq.zap.01"
#define AUTH_ZAP_FRAMES		8	/* kept of a request; CURVE sends 7 */
#define AUTH_KEY_FILE_MAX	256	/* bytes of a key file */
#define AUTH_CLIENTS_MAX	(16u << 20)	/* bytes of a clients file */

struct auth {
	char		 secret[CLIENTS_KEY_Z85 + 1];	/* Z85 */
	char		 public[CLIENTS_KEY_Z85 + 1];
	char		*clients_path;
	struct clients	*clients;
	bool		 ingest_curve;
	void		*zap;		/* REP */
	struct event	*ev_zap;
	struct rlog	 rl;		/* refusals logged, once a second */
};

/* Whether an IP address (text, no brackets) is loopback. */
static bool
auth_ip_loopback(const char *host, size_t len)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, host, len);
	buf[len] = '\0';
	buf[strcspn(buf, "%")] = '\0';	/* an IPv6 zone */
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, buf, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/*
 * Whether a HOST:PORT (or [V6]:PORT) names a loopback host: 127.0.0.0/8,
 * ::1 or localhost.  Anything else, a name or '*' included, is not.
 */
static bool
auth_hostport_loopback(const char *s)
{
	const char *end;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return false;
		return auth_ip_loopback(s + 1, (size_t)(end - s - 1));
	}
	if ((end = strrchr(s, ':')) == NULL)
		return false;
	if ((size_t)(end - s) == 9 && strncasecmp(s, "localhost", 9) == 0)
		return true;
	return auth_ip_loopback(s, (size_t)(end - s));
}

/*
 * Whether a libzmq endpoint stays on this host: ipc://, inproc://, or
 * tcp:// to a loopback address (for a connect with a source address,
 * "tcp://SRC;HOST:PORT", the HOST).
 */
bool
auth_endpoint_local(const char *ep)
{
	const char *semi;

	if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
		return true;
	if (strncmp(ep, "tcp://", 6) != 0)
		return false;
	ep += 6;
	if ((semi = strrchr(ep, ';')) != NULL)
		ep = semi + 1;
	return auth_hostport_loopback(ep);
}

/* Whether an [http] listen value (HOST:PORT) is loopback. */
bool
auth_listen_local(const char *hostport)
{
	return auth_hostport_loopback(hostport);
}

/* Check one endpoint against the plaintext rule; 0 or -1. */
static int
auth_plain_check(const struct config *cfg, const char *what, const char *ep,
    bool curve, char **cause)
{
	if (curve || *ep == '\0' ||
	    (strcmp(what, "http") == 0 ? auth_listen_local(ep) :
	    auth_endpoint_local(ep)))
		return 0;
	if (!cfg->allow_plaintext) {
		if (strcmp(what, "http") == 0)
			xasprintf(cause, "http: listen %s is not a loopback "
			    "address, and HTTP has neither CURVE nor keys: set "
			    "[security] allow_plaintext = yes to serve it "
			    "anyway", ep);
		else
			xasprintf(cause, "%s: %s is not a loopback address "
			    "and %s is not a CURVE server: set up CURVE "
			    "([security] secret_key_file%s) or set [security] "
			    "allow_plaintext = yes to serve it in plaintext",
			    what, ep, strncmp(what, "ingest", 6) == 0 ?
			    "ingest" : what, strncmp(what, "ingest", 6) == 0 ?
			    " and [ingest] curve = yes" : "");
		return -1;
	}
	log_warnx("security: %s: %s is not a loopback address and traffic "
	    "on it is plaintext and unauthenticated (allow_plaintext = yes)",
	    what, ep);
	return 0;
}

/*
 * The plaintext rule over every endpoint: without CURVE on a socket, it
 * binds (or, for [ingest] connect, connects) to loopback or local
 * endpoints only, unless allow_plaintext = yes.  The HTTP listener has no
 * CURVE, so the rule always applies to it.
 */
int
auth_check_plaintext(const struct config *cfg, char **cause)
{
	bool curve = cfg->secret_key_file != NULL;
	bool icurve = curve && cfg->ingest_curve;

	if (auth_plain_check(cfg, "ingest", cfg->ingest_bind, icurve,
	    cause) == -1 ||
	    auth_plain_check(cfg, "notify", cfg->notify_bind, curve,
	    cause) == -1 ||
	    auth_plain_check(cfg, "api", cfg->api_bind, curve, cause) == -1)
		return -1;
	for (char **ep = cfg->ingest_connect; ep && *ep; ep++)
		if (auth_plain_check(cfg, "ingest connect", *ep, icurve,
		    cause) == -1)
			return -1;
	if (cfg->http_listen != NULL &&
	    auth_plain_check(cfg, "http", cfg->http_listen, false,
	    cause) == -1)
		return -1;
	return 0;
}

/* Read up to max bytes of a file opened as fd; -1 with *cause set. */
static int
auth_slurp(int fd, const char *path, size_t max, char **buf, size_t *len,
    char **cause)
{
	size_t cap = 4096, n = 0;
	ssize_t r;

	*buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
			*buf = xrealloc(*buf, cap);
		}
		r = read(fd, *buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			free(*buf);
			*buf = NULL;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		xasprintf(cause, "%s: over %zu bytes", path, max);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = n;
	return 0;
}

/*
 * Read a key file: the 40-character Z85 key, as `warta keygen` and
 * zmq_curve_keypair() write it, optionally followed by a newline (any
 * trailing blanks are ignored).  A secret key file that group or others
 * may access at all is refused, as ssh refuses such a private key.
 */
int
auth_read_key(const char *path, bool secret, char z85[CLIENTS_KEY_Z85 + 1],
    char **cause)
{
	const char *what = secret ? "secret_key_file" : "public_key_file";
	uint8_t bin[CLIENTS_KEY_BIN];
	struct stat sb;
	char *buf, why[96];
	size_t len;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "[security] %s: %s: %s", what, path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		xasprintf(cause, "[security] %s: %s: not a regular file", what,
		    path);
		close(fd);
		return -1;
	}
	if (secret && (sb.st_mode & 077) != 0) {
		xasprintf(cause, "[security] %s: %s is mode %04o: group or "
		    "others may access it; the secret key must be private "
		    "(chmod 600 %s)", what, path,
		    (unsigned)(sb.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	if (auth_slurp(fd, path, AUTH_KEY_FILE_MAX, &buf, &len, cause) == -1) {
		char *c = *cause;

		xasprintf(cause, "[security] %s: %s", what, c);
		free(c);
		close(fd);
		return -1;
	}
	close(fd);
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
		len--;
	/* Only the check is wanted: the decoded key is not kept. */
	rc = clients_key_decode(buf, len, bin, why, sizeof why);
	explicit_bzero(bin, sizeof bin);
	if (rc == -1) {
		xasprintf(cause, "[security] %s: %s: the key %s (expected the "
		    "40-character Z85 key on one line, as `warta keygen` "
		    "writes)", what, path, why);
		explicit_bzero(buf, len);
		free(buf);
		return -1;
	}
	memcpy(z85, buf, CLIENTS_KEY_Z85);
	z85[CLIENTS_KEY_Z85] = '\0';
	explicit_bzero(buf, len);
	free(buf);
	return 0;
}

/*
 * Read and parse a clients file; -1 with *cause naming file and line.  A
 * file others may write is used, with a warning: whoever can write it can
 * grant themselves any role.
 */
static int
auth_read_clients(const char *path, struct clients **out, char **cause)
{
	struct stat sb;
	char *buf, *c;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "clients file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 022) != 0)
		log_warnx("security: clients file %s is mode %04o: group or "
		    "others may write it, and so grant any key any role", path,
		    (unsigned)(sb.st_mode & 07777));
	if (auth_slurp(fd, path, AUTH_CLIENTS_MAX, &buf, &len, cause) == -1) {
		c = *cause;
		xasprintf(cause, "clients file %s", c);
		free(c);
		close(fd);
		return -1;
	}
	close(fd);
	if (clients_parse(buf, len, out, cause) == -1) {
		c = *cause;
		xasprintf(cause, "clients file %s: %s", path, c);
		free(c);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/*
 * Load what [security] names: with secret_key_file, the server key pair
 * (the public key derived from the secret, and checked against
 * public_key_file when that is set) and the clients file, which is then
 * required.  Then the plaintext rule.  *ap is NULL when CURVE is off.
 * Returns 0, or -1 with *cause set: a configuration error (exit 78).
 */
int
auth_load(const struct config *cfg, struct auth **ap, char **cause)
{
	struct auth *a;
	char pub[CLIENTS_KEY_Z85 + 1];

	*ap = NULL;
	if (cfg->secret_key_file == NULL) {
		if (cfg->public_key_file != NULL || cfg->clients_file != NULL) {
			xasprintf(cause, "[security] %s is set but "
			    "secret_key_file is not: CURVE needs the server's "
			    "secret key", cfg->clients_file != NULL ?
			    "clients_file" : "public_key_file");
			return -1;
		}
		return auth_check_plaintext(cfg, cause);
	}
	if (!zmq_has("curve")) {
		xasprintf(cause, "[security] secret_key_file: this libzmq "
		    "was built without CURVE");
		return -1;
	}
	if (cfg->clients_file == NULL) {
		xasprintf(cause, "[security] clients_file is required with "
		    "secret_key_file: it lists the keys CURVE admits");
		return -1;
	}
	a = xcalloc(1, sizeof *a);
	a->ingest_curve = cfg->ingest_curve;
	if (auth_read_key(cfg->secret_key_file, true, a->secret, cause) == -1)
		goto fail;
	if (zmq_curve_public(a->public, a->secret) == -1) {
		xasprintf(cause, "[security] secret_key_file: %s: not a CURVE "
		    "secret key: %s", cfg->secret_key_file,
		    zmq_strerror(errno));
		goto fail;
	}
	if (cfg->public_key_file != NULL) {
		if (auth_read_key(cfg->public_key_file, false, pub,
		    cause) == -1)
			goto fail;
		if (strcmp(pub, a->public) != 0) {
			xasprintf(cause, "[security] public_key_file: %s "
			    "holds %.8s..., which is not the public key of "
			    "secret_key_file %s (%.8s...)",
			    cfg->public_key_file, pub, cfg->secret_key_file,
			    a->public);
			goto fail;
		}
	}
	if (auth_read_clients(cfg->clients_file, &a->clients, cause) == -1)
		goto fail;
	a->clients_path = xstrdup(cfg->clients_file);
	if (auth_check_plaintext(cfg, cause) == -1)
		goto fail;
	*ap = a;
	return 0;
fail:
	auth_free(&a);
	return -1;
}

/* Free what auth_load made (the ZAP socket is auth_close's). */
void
auth_free(struct auth **ap)
{
	struct auth *a = *ap;

	if (a == NULL)
		return;
	explicit_bzero(a->secret, sizeof a->secret);
	clients_free(&a->clients);
	free(a->clients_path);
	free(a);
	*ap = NULL;
}

/* The Z85 text of a 32-byte key. */
static void
auth_z85(const uint8_t *bin, char out[CLIENTS_KEY_Z85 + 1])
{
	if (zmq_z85_encode(out, bin, CLIENTS_KEY_BIN) == NULL)
		strcpy(out, "?");
}

/* Log a refusal: at most one line a second, then how many were not. */
static void
auth_log_refusal(struct wartad *wd, const char *domain, const char *addr,
    const char *why)
{
	int64_t now = wartad_now_ms();

	auth_log_flush(wd, now);
	if (log_rate_pass(&wd->auth->rl, now))
		log_warnx("auth: refused a connection to %s%s%s: %s", domain,
		    *addr ? " from " : "", addr, why);
}

/* Say how many refusals went unlogged once their second has passed. */
void
auth_log_flush(struct wartad *wd, int64_t now_ms)
{
	uint64_t n;

	if (wd->auth != NULL && (n = log_rate_held(&wd->auth->rl, now_ms)))
		log_warnx("auth: %" PRIu64 " more refused connections not "
		    "logged", n);
}

/*
 * Decide one ZAP request: 200 with User-Id "<role> <name>", or 400 with
 * the reason logged and counted.  f holds the request's first n frames:
 * version, request id, domain, address, routing id, mechanism, key.
 */
static const char *
auth_decide(struct wartad *wd, zmq_msg_t *f, int n, char *uid, size_t uidlen)
{
	const struct clients_entry *e;
	enum clients_role need;
	char dom[16] = "?", addr[64] = "", why[160], z85[CLIENTS_KEY_Z85 + 1];

	*uid = '\0';
	if (n >= 3 && zmq_msg_size(&f[2]) < sizeof dom) {
		memcpy(dom, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
		dom[zmq_msg_size(&f[2])] = '\0';
	}
	if (n >= 4 && zmq_msg_size(&f[3]) < sizeof addr) {
		memcpy(addr, zmq_msg_data(&f[3]), zmq_msg_size(&f[3]));
		addr[zmq_msg_size(&f[3])] = '\0';
	}
	if (n < 7 || zmq_msg_size(&f[0]) != 3 ||
	    memcmp(zmq_msg_data(&f[0]), "1.0", 3) != 0 ||
	    zmq_msg_size(&f[5]) != 5 ||
	    memcmp(zmq_msg_data(&f[5]), "CURVE", 5) != 0 ||
	    zmq_msg_size(&f[6]) != CLIENTS_KEY_BIN) {
		snprintf(why, sizeof why, "not a CURVE ZAP 1.0 request");
		goto refuse;
	}
	if (strcmp(dom, "ingest") == 0)
		need = CLIENTS_PUBLISHER;
	else if (strcmp(dom, "notify") == 0 || strcmp(dom, "api") == 0)
		need = CLIENTS_SUBSCRIBER;
	else {
		snprintf(why, sizeof why, "unknown ZAP domain");
		goto refuse;
	}
	auth_z85(zmq_msg_data(&f[6]), z85);
	if ((e = clients_find(wd->auth->clients, zmq_msg_data(&f[6]))) ==
	    NULL) {
		snprintf(why, sizeof why, "key %.8s... is not in the clients "
		    "file", z85);
		goto refuse;
	}
	if (!clients_role_allows(e->role, need)) {
		snprintf(why, sizeof why, "key %.8s... (%s '%.40s', line %u) "
		    "is not a %s", z85, clients_role_name(e->role), e->name,
		    e->line, clients_role_name(need));
		goto refuse;
	}
	snprintf(uid, uidlen, "%s %s", clients_role_name(e->role), e->name);
	log_debug("auth: admitted %s '%s' (%.8s...) to %s%s%s",
	    clients_role_name(e->role), e->name, z85, dom,
	    *addr ? " from " : "", addr);
	return "200";
refuse:
	wd->st.auth_refused++;
	auth_log_refusal(wd, dom, addr, why);
	return "400";
}

/* Answer one ZAP request; 0 when none was waiting. */
static int
auth_zap_one(struct wartad *wd)
{
	void *zap = wd->auth->zap;
	zmq_msg_t f[AUTH_ZAP_FRAMES], extra;
	char uid[16 + CLIENTS_NAME_MAX];
	const char *status;
	int n = 0, more;

	zmq_msg_init(&f[0]);
	if (zmq_msg_recv(&f[0], zap, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&f[0]);
		return 0;
	}
	/* The other parts of a message arrive with the first. */
	for (n = 1, more = zmq_msg_more(&f[0]); more && n < AUTH_ZAP_FRAMES;
	    n++) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], zap, 0) == -1) {
			zmq_msg_close(&f[n]);
			more = 0;
			break;
		}
		more = zmq_msg_more(&f[n]);
	}
	zmq_msg_init(&extra);
	for (; more; more = zmq_msg_more(&extra))
		if (zmq_msg_recv(&extra, zap, 0) == -1)
			break;
	zmq_msg_close(&extra);

	status = auth_decide(wd, f, n, uid, sizeof uid);
	/* version, request id, status code, status text, user id, metadata */
	if (wartad_zsend(zap, "1.0", 3, ZMQ_SNDMORE) == -1 ||
	    wartad_zsend(zap, n > 1 ? zmq_msg_data(&f[1]) : "", n > 1 ?
	    zmq_msg_size(&f[1]) : 0, ZMQ_SNDMORE) == -1 ||
	    wartad_zsend(zap, status, 3, ZMQ_SNDMORE) == -1 ||
	    wartad_zsend(zap, *status == '2' ? "OK" : "Forbidden",
	    *status == '2' ? 2 : 9, ZMQ_SNDMORE) == -1 ||
	    wartad_zsend(zap, uid, strlen(uid), ZMQ_SNDMORE) == -1 ||
	    wartad_zsend(zap, "", 0, 0) == -1)
		log_warnx("auth: ZAP reply: %s", zmq_strerror(errno));
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	return 1;
}

/*
 * The ZAP socket is readable.  ZMQ_FD is edge-triggered and a send can
 * swallow the edge of the next request, so read until a receive finds
 * nothing, within a budget per loop turn.
 */
static void
auth_zap_readable(evutil_socket_t fd, short what, void *arg)
{
	struct wartad *wd = arg;

	for (int i = 0; i < WARTA_READ_BUDGET; i++)
		if (!auth_zap_one(wd))
			return;
	event_active(wd->auth->ev_zap, EV_READ, 0);
}

/* Bind the ZAP handler in the daemon's context, before any CURVE socket
 * binds.  Nothing when CURVE is off. */
int
auth_open(struct wartad *wd, char **cause)
{
	struct auth *a = wd->auth;
	int fd, zero = 0;
	size_t fdlen = sizeof fd;

	if (a == NULL)
		return 0;
	if ((a->zap = zmq_socket(wd->zctx, ZMQ_REP)) == NULL)
		fatalx("zmq_socket: %s", zmq_strerror(errno));
	zmq_setsockopt(a->zap, ZMQ_LINGER, &zero, sizeof zero);
	if (zmq_bind(a->zap, AUTH_ZAP_ENDPOINT) == -1) {
		xasprintf(cause, "auth: cannot bind the ZAP handler %s: %s",
		    AUTH_ZAP_ENDPOINT, zmq_strerror(errno));
		return -1;
	}
	zmq_getsockopt(a->zap, ZMQ_FD, &fd, &fdlen);
	a->ev_zap = event_new(wd->base, fd, EV_READ | EV_PERSIST,
	    auth_zap_readable, wd);
	event_add(a->ev_zap, NULL);
	return 0;
}

/*
 * Make sock a CURVE server for its ZAP domain ("ingest", "notify",
 * "api") before it binds, when CURVE is on for it.
 */
void
auth_socket(struct wartad *wd, void *sock, const char *domain)
{
	struct auth *a = wd->auth;
	int one = 1;

	if (a == NULL || (strcmp(domain, "ingest") == 0 && !a->ingest_curve))
		return;
	if (zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) ==
	    -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) == -1 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, a->secret,
	    CLIENTS_KEY_Z85) == -1)
		fatalx("%s: cannot make it a CURVE server: %s", domain,
		    zmq_strerror(errno));
}

/* Log what security is in force, once the sockets are bound. */
void
auth_log_state(const struct wartad *wd)
{
	const struct auth *a = wd->auth;

	if (a == NULL) {
		log_info("security: CURVE is off, traffic is plaintext; %s",
		    wd->cfg->allow_plaintext ? "allow_plaintext = yes lets "
		    "endpoints be non-loopback" : "every endpoint is loopback "
		    "or local");
		return;
	}
	log_info("security: CURVE on notify, api%s; server public key %s; "
	    "%zu client keys from %s", a->ingest_curve ? ", ingest" : "",
	    a->public, a->clients->n, a->clients_path);
	if (a->clients->n == 0)
		log_warnx("security: the clients file lists no keys: every "
		    "connection will be refused");
}

/*
 * SIGHUP: read the clients file again (path, when not NULL, is the one
 * the reloaded configuration names).  A file that does not parse keeps
 * the list in use and says why; connections already admitted keep their
 * role either way.
 */
void
auth_reload(struct wartad *wd, const char *path)
{
	struct auth *a = wd->auth;
	struct clients *next;
	char *cause = NULL;

	if (a == NULL)
		return;
	if (path == NULL)
		path = a->clients_path;
	if (auth_read_clients(path, &next, &cause) == -1) {
		log_error("SIGHUP: clients file not reloaded, the %zu keys "
		    "from %s stay in use: %s", a->clients->n, a->clients_path,
		    cause);
		free(cause);
		return;
	}
	log_info("SIGHUP: clients file %s reloaded: %zu keys (was %zu); "
	    "connections already admitted keep their role", path, next->n,
	    a->clients->n);
	clients_free(&a->clients);
	a->clients = next;
	if (path != a->clients_path) {
		free(a->clients_path);
		a->clients_path = xstrdup(path);
	}
}

/*
 * The role of the connection a received message came on: CLIENTS_ADMIN
 * when CURVE is off (everything is allowed), else the role its ZAP
 * User-Id carries, CLIENTS_NONE when it has none.
 */
enum clients_role
auth_msg_role(const struct wartad *wd, zmq_msg_t *msg)
{
	const char *uid;

	if (wd->auth == NULL)
		return CLIENTS_ADMIN;
	if ((uid = zmq_msg_gets(msg, "User-Id")) == NULL)
		return CLIENTS_NONE;
	return clients_role_parse(uid, strcspn(uid, " "));
}

/* Close the ZAP handler, after every CURVE socket, and free the rest. */
void
auth_close(struct wartad *wd)
{
	struct auth *a = wd->auth;

	if (a == NULL)
		return;
	if (a->ev_zap)
		event_free(a->ev_zap);
	if (a->zap)
		zmq_close(a->zap);
	auth_free(&wd->auth);
}
