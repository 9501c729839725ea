# collector/collector.mk: pg_pprof_collector, built by the top-level `make`
# and installed by `make install` into PostgreSQL's bindir.
#
#   make collector            build build/collector/pg_pprof_collector only
#   make install-collector    install it (DESTDIR is honoured)
#
# It links the project's plain cores (build/plain/libppcore.a, from the one
# CORE_SRCS list) for pprof validation and naming, on the per-thread
# platform layer build/plain/pp_standalone.o (collector/core_host.c wraps it).
# protoc-c generates the push API code from collector/proto/push.proto into
# build/collector/gen/ at build time; nothing generated is committed.

COLLECTOR_DIR = build/collector
COLLECTOR_BIN = $(COLLECTOR_DIR)/pg_pprof_collector
COLLECTOR_SRCS = collector/main.c collector/config.c collector/log.c collector/util.c \
	collector/metrics.c collector/core_host.c collector/profile_check.c \
	collector/request.c collector/httpd.c collector/auth.c collector/labelset.c \
	collector/ingest.c collector/multipart.c collector/folded.c collector/push.c \
	collector/store.c collector/spool.c collector/replay.c collector/scrape.c \
	collector/delta.c collector/db.c collector/pprof_scan.c
COLLECTOR_GEN = $(COLLECTOR_DIR)/gen/push.pb-c.c
COLLECTOR_OBJS = $(patsubst collector/%.c,$(COLLECTOR_DIR)/obj/%.o,$(COLLECTOR_SRCS)) \
	$(COLLECTOR_DIR)/obj/push.pb-c.o
COLLECTOR_PKGS = libmicrohttpd libcurl jansson libpq libprotobuf-c libdeflate zlib libzstd
COLLECTOR_CFLAGS = -g -O2 -pthread -D_GNU_SOURCE $(WARNINGS) \
	-Iinclude -Igen -I$(COLLECTOR_DIR)/gen -Icollector \
	$(shell pkg-config --cflags $(COLLECTOR_PKGS))
COLLECTOR_LIBS = $(shell pkg-config --libs $(COLLECTOR_PKGS)) -lm -pthread

.PHONY: collector install-collector
all: collector
collector: $(COLLECTOR_BIN)

$(COLLECTOR_DIR)/gen/push.pb-c.c $(COLLECTOR_DIR)/gen/push.pb-c.h: collector/proto/push.proto
	mkdir -p $(COLLECTOR_DIR)/gen
	protoc-c --c_out=$(COLLECTOR_DIR)/gen -Icollector/proto collector/proto/push.proto

$(COLLECTOR_DIR)/obj/%.o: collector/%.c $(wildcard collector/*.h) $(HEADERS_ALL) \
		$(COLLECTOR_DIR)/gen/push.pb-c.h
	@mkdir -p $(COLLECTOR_DIR)/obj
	$(CC) $(COLLECTOR_CFLAGS) -c -o $@ $<

$(COLLECTOR_DIR)/obj/push.pb-c.o: $(COLLECTOR_DIR)/gen/push.pb-c.c
	@mkdir -p $(COLLECTOR_DIR)/obj
	$(CC) $(COLLECTOR_CFLAGS) -c -o $@ $<

$(COLLECTOR_BIN): $(COLLECTOR_OBJS) build/plain/libppcore.a
	$(CC) -o $@ $(COLLECTOR_OBJS) build/plain/pp_standalone.o build/plain/libppcore.a $(COLLECTOR_LIBS)

install: install-collector
install-collector: $(COLLECTOR_BIN)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(COLLECTOR_BIN) '$(DESTDIR)$(bindir)/pg_pprof_collector'
