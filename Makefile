# pg_pprof: build with PGXS against the pg_config on PATH.
#   make && make install     build and install the extension
#   make installcheck        run the pg_regress tests against a running server
#   make build/asan/libppcore.a, build/fuzz/libppcore.a
#                            the same cores for the harnesses under test/
#   scripts/test.sh          the whole suite on a private cluster (see README)

EXTENSION = pg_pprof
MODULE_big = pg_pprof
# sql/pg_pprof--0.1.0.sql installs the first version; every later version is
# reached through the sql/pg_pprof--X--Y.sql update scripts, as hstore does.
DATA = $(wildcard sql/pg_pprof--*.sql)
PGFILEDESC = "pg_pprof - pprof profiles as a compressed type"

# The plain C cores, in the order of the data flow: pprof bytes -> decode ->
# call tree -> encode -> stored value -> decode -> merge -> views -> export.
# This is the only list of them: the server, the fuzzers and the test tools
# all build from it.
CORE_SRCS = src/bytebuf.c src/utf8_text.c src/keyed_hash.c src/gzip_io.c gen/profile.pb-c.c \
	src/pprof_decode.c src/pprof_split.c src/profile_meta.c src/calltree.c \
	src/profile_encode.c src/profile_decode.c src/profile_timeline.c src/profile_merge.c \
	src/profile_pack.c src/views.c \
	src/export_pprof.c src/export_folded.c src/export_svg.c
# The thin SQL wrappers over them.
SQL_SRCS = src/sql_module.c src/sql_alloc.c src/sql_type.c src/sql_ingest.c src/sql_merge.c \
	src/sql_pack.c src/sql_views.c src/sql_export.c src/sql_svg.c
OBJS = $(CORE_SRCS:.c=.o) $(SQL_SRCS:.c=.o)
CORE_LIBS = -lprotobuf-c -lzstd -lz -lm

REGRESS = type ingest ingest_table stacks errors merge views export compare format_v1 upgrade pack
REGRESS_OPTS = --inputdir=test --load-extension=pg_pprof

WARNINGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare -Wno-clobbered $(if $(PG_PPROF_WERROR),-Werror)
PG_CPPFLAGS = -Iinclude -Igen
PG_CFLAGS = $(WARNINGS) $(PG_PPROF_CFLAGS)
SHLIB_LINK = $(CORE_LIBS)
EXTRA_CLEAN = gen build bench/bin test/bin

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# protoc-c generates the pprof message code at build time; it is not committed.
gen/profile.pb-c.c gen/profile.pb-c.h: proto/profile.proto
	mkdir -p gen
	protoc-c --c_out=gen -Iproto proto/profile.proto

# Every object depends on every header (PGXS tracks no header dependencies).
HEADERS_ALL = $(wildcard include/*.h) gen/profile.pb-c.h
$(OBJS): $(HEADERS_ALL)

# The cores as a static library, in variants for code that runs outside the
# server, each with pp_standalone.o (pp_core.h on malloc and longjmp):
#   asan   gcc, AddressSanitizer and UBSan, assertions on (test/fuzz, test/svg)
#   fuzz   clang, libFuzzer instrumentation, ASan and UBSan, assertions on
#   plain  gcc -O2, for benchmarks of the cores
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all
VARIANT_CC_asan = gcc
VARIANT_CFLAGS_asan = -g -O1 -fno-omit-frame-pointer $(SANITIZE) -DUSE_ASSERT_CHECKING
VARIANT_CC_fuzz = clang
VARIANT_CFLAGS_fuzz = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(SANITIZE) \
	-DUSE_ASSERT_CHECKING -DPP_FUZZING -Wno-unknown-warning-option
VARIANT_CC_plain = gcc
VARIANT_CFLAGS_plain = -g -O2
VARIANT_SRCS = $(CORE_SRCS) src/pp_standalone.c

.PRECIOUS: build/%/libppcore.a
build/%/libppcore.a: $(VARIANT_SRCS) $(HEADERS_ALL)
	@test -n "$(VARIANT_CC_$*)" || { echo "unknown core variant $*" >&2; exit 1; }
	rm -rf build/$*/obj && mkdir -p build/$*/obj
	set -e; for src in $(CORE_SRCS); do \
		$(VARIANT_CC_$*) $(VARIANT_CFLAGS_$*) $(WARNINGS) -Iinclude -Igen \
			-c -o build/$*/obj/$$(basename $$src .c).o $$src; \
	done
	$(VARIANT_CC_$*) $(VARIANT_CFLAGS_$*) $(WARNINGS) -Iinclude -Igen \
		-c -o build/$*/pp_standalone.o src/pp_standalone.c
	rm -f $@ && ar crs $@ build/$*/obj/*.o

# What a harness links with, besides build/VARIANT/libppcore.a and pp_standalone.o.
print-core-libs:
	@echo $(CORE_LIBS)

# pg_pprof_collector (collector/collector.mk); PG_PPROF_NO_COLLECTOR=1 builds
# the extension alone (test/asan_server.sh's copy of the sources does).
ifndef PG_PPROF_NO_COLLECTOR
include collector/collector.mk
endif
