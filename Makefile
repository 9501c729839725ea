# pg_pprof: build with PGXS against the pg_config on PATH.
#   make && make install     build and install the extension
#   make installcheck        run the pg_regress tests against a running server
#   scripts/test.sh          the whole suite on a private cluster (see README)

EXTENSION = pg_pprof
MODULE_big = pg_pprof
# sql/pg_pprof--0.1.0.sql installs the first version; every later version is
# reached through the sql/pg_pprof--X--Y.sql update scripts, as hstore does.
DATA = $(wildcard sql/pg_pprof--*.sql)
PGFILEDESC = "pg_pprof - pprof profiles as a compressed type"

# The data flow, in order: pprof decode -> call tree -> encode -> stored
# value -> decode -> merge -> views, then the SQL wrappers.
CORE_OBJS = src/bytebuf.o src/utf8_text.o src/gzip_io.o gen/profile.pb-c.o src/pprof_decode.o \
	src/calltree.o src/profile_encode.o src/profile_decode.o src/profile_merge.o \
	src/flame.o src/pprof_encode.o src/folded.o src/svg.o
OBJS = $(CORE_OBJS) src/pg_pprof.o src/profile_type.o src/ingest.o src/merge.o \
	src/views.o src/export.o src/svg_sql.o

REGRESS = type ingest stacks errors merge views export
REGRESS_OPTS = --inputdir=test --load-extension=pg_pprof

PG_CPPFLAGS = -Iinclude -Igen
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare -Wno-clobbered $(if $(PG_PPROF_WERROR),-Werror)
SHLIB_LINK = -lprotobuf-c -lzstd -lz
EXTRA_CLEAN = gen bench/bin test/bin

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# protoc-c generates the pprof message code at build time; it is not committed.
gen/profile.pb-c.c gen/profile.pb-c.h: proto/profile.proto
	mkdir -p gen
	protoc-c --c_out=gen -Iproto proto/profile.proto

# Every object depends on every header (PGXS tracks no header dependencies).
$(OBJS): $(wildcard include/*.h) gen/profile.pb-c.h
