# bench/bench.mk — the benchmark's clients, built into build/bench/.
# Run from the top of the tree: make -f bench/bench.mk (bench/run does).

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -I. -pthread -Wall -Wextra -Wshadow \
           -Wmissing-prototypes -Wno-unused-parameter
B        = build/bench
COMMON   = bench/common.c bench/common.h
# The official NATS Go client from Debian, built offline from its sources.
GOENV    = GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
           GOCACHE=$(CURDIR)/$(B)/gocache

all: $(B)/wbench $(B)/rbench $(B)/mbench $(B)/nbench

$(B)/wbench: bench/wbench.c $(COMMON) schema/mp.c schema/mp.h
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -o $@ bench/wbench.c bench/common.c schema/mp.c \
	    -lzmq -lmsgpackc -llmdb

$(B)/rbench: bench/rbench.c $(COMMON)
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -o $@ bench/rbench.c bench/common.c -lhiredis -lmsgpackc

$(B)/mbench: bench/mbench.c $(COMMON)
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -o $@ bench/mbench.c bench/common.c -lmosquitto \
	    -lmsgpackc

$(B)/nbench: bench/nbench/main.go
	@mkdir -p $(B)
	cd bench/nbench && $(GOENV) go build -o $(CURDIR)/$@ .

.PHONY: all
