#!/usr/bin/env bash
# test/fuzz/run.sh: build the standalone fuzzer into test/bin/ and run it.
#
#   test/fuzz/run.sh [--seconds S] [--iterations N] [...]   mutation loop (gcc, ASan+UBSan)
#   test/fuzz/run.sh --libfuzzer [libFuzzer flags...]      libFuzzer target (clang), if available
#   test/fuzz/run.sh --build                               build only
#
# Seeds: every file under ../shared/corpus (next to the repository) when
# present, and examples/*.pb.gz.  Extra arguments go to the fuzzer (see
# fuzz_pprof.c).  The last line is "N passed, M failed"; the exit status is
# non-zero on any failure.  Inputs that fail are saved in test/bin/fuzz-findings/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/test/bin
CORPUS=$(dirname "$ROOT")/shared/corpus
FINDINGS=$BIN/fuzz-findings
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare"
CORE="src/bytebuf.c src/utf8_text.c src/gzip_io.c src/calltree.c src/pprof_decode.c src/profile_encode.c
	src/profile_decode.c src/profile_merge.c src/flame.c src/svg.c src/pp_standalone.c"
declare -A FILE_FLAGS=()
HARNESS="test/fuzz/fuzz_pprof.c test/fuzz/fuzz_target.c test/fuzz/fuzz_mutate.c test/fuzz/fuzz_seeds.c"
LIBS="-lprotobuf-c -lzstd -lz -lm"

# Generate the protobuf-c code privately, so a parallel `make` is not disturbed.
gen_proto() {
	mkdir -p "$BIN/gen"
	if [ ! -f "$BIN/gen/profile.pb-c.c" ] || [ "$ROOT/proto/profile.proto" -nt "$BIN/gen/profile.pb-c.c" ]; then
		protoc-c --c_out="$BIN/gen" -I"$ROOT/proto" "$ROOT/proto/profile.proto"
	fi
}

# Compile the cores and the harness with cc into out, with extra flags.
build() {
	local cc=$1 out=$2 objdir=$BIN/obj-$(basename "$2") src objs=(); shift 2
	gen_proto
	mkdir -p "$objdir"
	for src in $CORE "$BIN/gen/profile.pb-c.c" $HARNESS; do
		local obj=$objdir/$(basename "$src" .c).o
		(cd "$ROOT" && $cc $CFLAGS $SAN ${FILE_FLAGS[$src]:-} "$@" -Iinclude -I"$BIN/gen" \
			-c -o "$obj" "$src")
		objs+=("$obj")
	done
	$cc $SAN "$@" -o "$out" "${objs[@]}" $LIBS
}

# Seed paths: the shared corpus (if present) and the examples.
seeds() {
	[ -d "$CORPUS" ] && echo "$CORPUS"
	ls "$ROOT"/examples/*.pb.gz
}

mkdir -p "$BIN" "$FINDINGS"
# leaks are checked once, explicitly, before the summary (fuzz_pprof.c)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:leak_check_at_exit=0:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

case "${1:-}" in
--build)
	build gcc "$BIN/fuzz_pprof"
	echo "built $BIN/fuzz_pprof"
	;;
--libfuzzer)
	shift
	command -v clang >/dev/null || { echo "clang is not installed: libFuzzer mode unavailable" >&2; exit 2; }
	build clang "$BIN/fuzz_pprof_libfuzzer" -fsanitize=fuzzer -DFUZZ_LIBFUZZER
	mkdir -p "$BIN/libfuzzer-corpus"
	# libFuzzer wants seed directories: copy the seeds into one (flat) directory.
	for f in $(find $(seeds) -type f); do cp -f "$f" "$BIN/libfuzzer-corpus/$(echo "$f" | tr / _)"; done
	exec "$BIN/fuzz_pprof_libfuzzer" -max_total_time=60 -rss_limit_mb=4096 -timeout=30 \
		-artifact_prefix="$FINDINGS/" "$@" "$BIN/libfuzzer-corpus"
	;;
*)
	build gcc "$BIN/fuzz_pprof"
	start=$(date +%s)
	set +e
	"$BIN/fuzz_pprof" --save "$FINDINGS" "$@" $(seeds)
	rc=$?
	set -e
	echo "fuzz: exit status $rc after $(( $(date +%s) - start )) s" >&2
	exit $rc
	;;
esac
