# warta — build, test and install.
#
#   make              build build/wartad and build/warta
#   make run          install missing Debian packages (as root), build, run wartad
#   make test         build and run every test; ends with "N passed, N failed"
#   make test SANITIZE=1   the same under AddressSanitizer and UBSan (build-san/)
#   make fuzz         every libFuzzer target for FUZZ_SECONDS (build-fuzz/)
#   make valgrind     the black-box suite with the daemon under valgrind
#   make install      PREFIX=/usr/local DESTDIR=  (see "Installing" below)
#   make uninstall    the same variables; keeps the configuration and the store

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
PYTHON  ?= /usr/bin/python3

PKGS        = libevent libzmq msgpack lmdb libsystemd zlib inih
CLIENT_PKGS = libzmq msgpack jansson

WARN    = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
          -Wstrict-prototypes -Wpointer-arith -Wno-unused-parameter
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -I. $(WARN) -pthread

ifeq ($(SANITIZE),1)
BUILD  ?= build-san
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
          -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD  ?= build
endif
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif

DEPS_OK := $(BUILD)/.deps-ok

PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CLIENT_CFLAGS = $(shell pkg-config --cflags $(CLIENT_PKGS) 2>/dev/null)
CLIENT_LIBS  = $(shell pkg-config --libs $(CLIENT_PKGS) 2>/dev/null)

# The daemon's modules, shared by wartad and the unit tests.
CORE_SRC = $(filter-out daemon/main.c,$(wildcard daemon/*.c)) \
           $(wildcard schema/*.c) $(wildcard handlers/*.c)
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)

# issue 9: HTTP's JSON is the client's mapping (clients/mpjson.c, jansson),
# webhooks sign with libsodium and speak TLS with libevent_openssl, and the
# live page www/index.html is embedded as C by tools/embed.sh.
PKGS     += jansson libsodium libevent_openssl openssl
CORE_SRC += clients/mpjson.c
CORE_OBJ += $(BUILD)/gen/www.o
$(BUILD)/gen/www.c: www/index.html tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh www/index.html www_index_html > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/www.o: $(BUILD)/gen/www.c
	$(CC) $(CFLAGS) -c -o $@ $<

# The client library and the command-line client.
LIBWARTA_SRC = $(filter-out clients/warta.c,$(wildcard clients/*.c))
LIBWARTA_OBJ = $(LIBWARTA_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# Fuzz targets: every tests/fuzz/fuzz_NAME.c (defines LLVMFuzzerTestOneInput)
# with its seed corpus in tests/fuzz/corpus/NAME/.  Each is also linked
# with the plain-C replay driver as $(BUILD)/tests/fuzz_NAME, which
# `make test` runs over its corpus.
FUZZ_NAMES  = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY = $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz_%)

all: $(BUILD)/wartad $(BUILD)/warta

$(DEPS_OK): .ci/deps
	@sh .ci/deps build
	@mkdir -p $(@D) && touch $@

# The tests need more (cmocka, Python, Chromium, valgrind...) than make run.
TEST_DEPS_OK := $(BUILD)/.test-deps-ok
$(TEST_DEPS_OK): .ci/deps
	@sh .ci/deps all
	@mkdir -p $(@D) && touch $@

deps: $(DEPS_OK) $(TEST_DEPS_OK)

$(BUILD)/%.o: %.c $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CLIENT_CFLAGS) -MMD -MP -c -o $@ $<

# Unit tests and fuzz drivers include cmocka's header: the test packages first.
TEST_OBJ = $(UNIT_SRC:%.c=$(BUILD)/%.o) \
           $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/fuzz/*.c))
$(TEST_OBJ): $(BUILD)/%.o: %.c $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CLIENT_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/wartad: $(BUILD)/daemon/main.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(PKG_LIBS)

$(BUILD)/warta: $(BUILD)/clients/warta.o $(LIBWARTA_OBJ)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(CLIENT_LIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o \
    $(BUILD)/tests/fuzz/replay.o $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(PKG_LIBS)

unit: $(UNIT_BIN) $(FUZZ_REPLAY)

# Run the daemon on its defaults (store in ./warta-data).
run: $(BUILD)/wartad
	./$(BUILD)/wartad

test: $(TEST_DEPS_OK) all $(UNIT_BIN) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/run.sh

# Fuzz every target with clang's libFuzzer (and ASan, UBSan) for
# FUZZ_SECONDS each, one after another (FUZZ_NAMES=api for one); new inputs
# go to build-fuzz/corpus/NAME, crashes to build-fuzz/NAME-crash-*.  A crash
# found becomes a regression case: fix it, then copy the input into
# tests/fuzz/corpus/NAME/.  See docs/RELIABILITY.md.
FUZZ_SECONDS ?= 60
FUZZ_DIR     = build-fuzz
FUZZ_CFLAGS  = -std=c11 -D_GNU_SOURCE -I. -g -O1 -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ     = $(CORE_OBJ:$(BUILD)/%=$(FUZZ_DIR)/%)

$(FUZZ_DIR)/%.o: %.c $(TEST_DEPS_OK)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -MMD -MP \
	    -c -o $@ $<

$(FUZZ_DIR)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz: $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    sh tests/fuzz/run.sh $(FUZZ_NAMES)

# Installing: binaries, man pages, the systemd unit (generated from
# systemd/wartad.service.in so that ExecStart= names the installed wartad),
# the sysusers.d and tmpfiles.d snippets, and the example configuration,
# which never replaces an existing one (a copy is always in DOCDIR).
# Unit and snippets go below PREFIX, which systemd searches for /usr and
# /usr/local alike; the configuration goes to SYSCONFDIR, /etc, where the
# unit's ConfigurationDirectory= is.  As root without DESTDIR, the user and
# the store directory are created at once with systemd-sysusers and
# systemd-tmpfiles.
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/warta
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR    ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR    ?= $(PREFIX)/lib/tmpfiles.d
INSTALL        ?= install

install: $(BUILD)/wartad $(BUILD)/warta
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/warta
	$(INSTALL) -m 0755 $(BUILD)/wartad $(DESTDIR)$(SBINDIR)/wartad
	$(INSTALL) -m 0755 $(BUILD)/warta $(DESTDIR)$(BINDIR)/warta
	$(INSTALL) -m 0644 man/warta.1 $(DESTDIR)$(MANDIR)/man1/warta.1
	$(INSTALL) -m 0644 man/wartad.conf.5 $(DESTDIR)$(MANDIR)/man5/wartad.conf.5
	$(INSTALL) -m 0644 man/wartad.8 $(DESTDIR)$(MANDIR)/man8/wartad.8
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/wartad.service.in >$(BUILD)/wartad.service
	$(INSTALL) -m 0644 $(BUILD)/wartad.service \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/wartad.service
	$(INSTALL) -m 0644 systemd/warta.sysusers $(DESTDIR)$(SYSUSERSDIR)/warta.conf
	$(INSTALL) -m 0644 systemd/warta.tmpfiles $(DESTDIR)$(TMPFILESDIR)/warta.conf
	$(INSTALL) -m 0644 README.md docs/PROTOCOL.md docs/CLIENT.md \
	    docs/DECISIONS.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 etc/wartad.conf $(DESTDIR)$(DOCDIR)/wartad.conf.example
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/warta/wartad.conf ]; then \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/warta/wartad.conf (the new example is $(DOCDIR)/wartad.conf.example)"; \
	else \
	    echo "$(INSTALL) -m 0644 etc/wartad.conf $(DESTDIR)$(SYSCONFDIR)/warta/wartad.conf"; \
	    $(INSTALL) -m 0644 etc/wartad.conf $(DESTDIR)$(SYSCONFDIR)/warta/wartad.conf; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    command -v systemd-sysusers >/dev/null 2>&1; then \
	    systemd-sysusers $(SYSUSERSDIR)/warta.conf && \
	    systemd-tmpfiles --create $(TMPFILESDIR)/warta.conf && \
	    echo "next: systemctl daemon-reload && systemctl enable --now wartad"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/wartad $(DESTDIR)$(BINDIR)/warta \
	    $(DESTDIR)$(MANDIR)/man1/warta.1 \
	    $(DESTDIR)$(MANDIR)/man5/wartad.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/wartad.8 \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/wartad.service \
	    $(DESTDIR)$(SYSUSERSDIR)/warta.conf \
	    $(DESTDIR)$(TMPFILESDIR)/warta.conf
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/warta, /var/lib/warta and the user warta"

# The benchmark against the peers (bench/run; not part of make test):
# installs the peers as root, a few minutes.  BENCH_ARGS="--quick acked".
bench:
	bench/run $(BENCH_ARGS)

# The black-box suite with every daemon under valgrind --leak-check=full
# (tests/blackbox/harness.py, WARTA_VALGRIND=1): a report with an error
# fails its test.  Plain build only (ASan and valgrind do not mix); slow,
# so not part of make test.  See docs/RELIABILITY.md.
valgrind: all
	@[ "$(SANITIZE)" != 1 ] || { echo "make valgrind: not with SANITIZE=1" >&2; exit 1; }
	@WARTA_VALGRIND=1 WARTA_TEST_TIMEOUT=1200 BUILD=$(BUILD) PYTHON=$(PYTHON) \
	    sh tests/run.sh blackbox

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) $(if $(filter fuzz,$(MAKECMDGOALS)),$(FUZZ_DIR)) -name '*.d' 2>/dev/null)

.PHONY: all deps unit run test clean fuzz valgrind install uninstall bench
.SECONDARY:
