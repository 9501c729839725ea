// Command hostile writes hand-crafted hostile pprof files, and a manifest
// of the outcome profile_from_pprof() must give for each, into a directory.
//
//	hostile OUTDIR
//
// File names start with the expected outcome: ok_ (accepted), bad_
// (22P03, malformed pprof), limit_ (54000, with pg_pprof.max_input_bytes =
// 64MB and the default pg_pprof.max_stack_depth = 65536) or overflow_
// (22003).  OUTDIR/expected.tsv lists file<TAB>ok|SQLSTATE.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// hostileCase is one file to write.
type hostileCase struct {
	name   string
	expect string // "ok" or a SQLSTATE
	data   []byte
}

// base is a small valid profile: 2 sample types, 3 functions, 2 samples.
func base() *Profile {
	p := &Profile{Strings: []string{""}}
	p.SampleTypes = [][2]int64{{p.str("samples"), p.str("count")}, {p.str("cpu"), p.str("nanoseconds")}}
	p.MappingIDs = []uint64{1}
	file := p.str("main.go")
	for i, name := range []string{"main.main", "main.work", "runtime.mallocgc"} {
		id := uint64(i + 1)
		p.Functions = append(p.Functions, Function{ID: id, Name: p.str(name), File: file})
		p.Locations = append(p.Locations, Location{ID: id, MappingID: 1, Address: 0x1000 * id,
			Lines: []Line{{FunctionID: id}}})
	}
	endpoint, api := p.str("endpoint"), p.str("/api")
	p.Samples = []Sample{
		{LocationIDs: []uint64{3, 2, 1}, Values: []int64{1, 10}, Labels: []Label{{Key: endpoint, Str: api}}},
		{LocationIDs: []uint64{2, 1}, Values: []int64{2, 20}},
	}
	p.TimeNanos = 1700000000000000000
	p.DurationNanos = 1000000000
	return p
}

// pruned is a profile for drop_frames/keep_frames: stacks through an
// allocator, an inlined location whose middle frame matches, and a root
// frame that matches (pprof never cuts before the first unmatched frame).
func pruned(drop, keep string) []byte {
	p := &Profile{Strings: []string{""}}
	p.SampleTypes = [][2]int64{{p.str("samples"), p.str("count")}}
	names := []string{"main.main", "main.work", "runtime.mallocgc", "runtime.memclr",
		"main.outer", "runtime.inlined", "main.inner", "runtime.main"}
	for i, name := range names {
		id := uint64(i + 1)
		p.Functions = append(p.Functions, Function{ID: id, Name: p.str(name + "(int)")})
		p.Locations = append(p.Locations, Location{ID: id, Lines: []Line{{FunctionID: id}}})
	}
	// location 9: main.inner inlined into runtime.inlined inlined into main.outer
	p.Locations = append(p.Locations, Location{ID: 9, Lines: []Line{{FunctionID: 7}, {FunctionID: 6}, {FunctionID: 5}}})
	p.Samples = []Sample{
		{LocationIDs: []uint64{4, 3, 2, 1}, Values: []int64{5}},
		{LocationIDs: []uint64{3, 2, 1}, Values: []int64{7}},
		{LocationIDs: []uint64{9, 2, 1}, Values: []int64{11}},
		{LocationIDs: []uint64{2, 8}, Values: []int64{13}},
		{LocationIDs: []uint64{3, 8}, Values: []int64{17}},
	}
	p.DropFrames = p.str(drop)
	if keep != "" {
		p.KeepFrames = p.str(keep)
	}
	return p.encode()
}

// edit returns the encoding of base() after f changed it.
func edit(f func(p *Profile)) []byte {
	p := base()
	f(p)
	return p.encode()
}

// deep is one sample whose stack has n frames: n distinct functions, or one
// recursive function at one location repeated n times.
func deep(n int, recursive bool) []byte {
	p := &Profile{Strings: []string{""}}
	p.SampleTypes = [][2]int64{{p.str("samples"), p.str("count")}}
	ids := make([]uint64, n)
	if recursive {
		p.Functions = []Function{{ID: 1, Name: p.str("main.recurse")}}
		p.Locations = []Location{{ID: 1, Lines: []Line{{FunctionID: 1}}}}
		for i := range ids {
			ids[i] = 1
		}
	} else {
		for i := 0; i < n; i++ {
			id := uint64(i + 1)
			p.Functions = append(p.Functions, Function{ID: id, Name: p.str(fmt.Sprintf("main.f%06d", i))})
			p.Locations = append(p.Locations, Location{ID: id, Lines: []Line{{FunctionID: id}}})
			ids[n-1-i] = id // leaf first: f000000 is the root
		}
	}
	p.Samples = []Sample{{LocationIDs: ids, Values: []int64{1}}}
	return p.encode()
}

// hugePacked is a profile whose sample has a packed field claiming 2^40 bytes.
func hugePacked() []byte {
	p := base()
	p.Samples = nil
	var sample pb
	sample.tag(1, 2).uvarint(1 << 40)
	sample.b = append(sample.b, 1, 2, 3)
	var m pb
	m.b = p.encode()
	return m.msg(2, &sample).b
}

// hugeString is a profile whose last string claims 2^62 bytes.
func hugeString() []byte {
	m := pb{b: base().encode()}
	m.tag(6, 2).uvarint(1 << 62)
	m.b = append(m.b, "abc"...)
	return m.b
}

// gzipBomb streams n zero bytes through gzip into path (the file stays small).
func gzipBomb(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for written := 0; written < n; written += len(zeros) {
		if _, err := w.Write(zeros); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

// gzipNamed gzips data with a file name in the header (FNAME).
func gzipNamed(data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Name = "cpu.pprof"
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// cases lists every hostile input but the gzip bomb.
func cases() []hostileCase {
	valid := base().encode()
	concat := append(gz(valid), gz(valid)...)
	truncatedGz := gz(valid)
	truncatedGz = truncatedGz[:len(truncatedGz)/2]
	return []hostileCase{
		{"ok_baseline.pb", "ok", valid},
		{"ok_baseline.pb.gz", "ok", gz(valid)},
		{"ok_gzip_with_file_name.pb.gz", "ok", gzipNamed(valid)},
		{"ok_no_samples.pb", "ok", edit(func(p *Profile) { p.Samples = nil })},
		{"ok_invalid_utf8_and_nul_in_names.pb", "ok", edit(func(p *Profile) {
			p.Strings[p.Functions[1].Name] = "main.\xff\xfebad\xc3"
			p.Strings[p.Functions[2].Name] = "runtime.nul\x00inside"
		})},
		{"ok_negative_value.pb", "ok", edit(func(p *Profile) { p.Samples[0].Values = []int64{-1, -10} })},
		{"ok_mapping_id_zero.pb", "ok", edit(func(p *Profile) { p.Locations[0].MappingID = 0 })},
		{"ok_drop_frames.pb", "ok", pruned(`runtime\..*`, "")},
		{"ok_drop_frames_keep.pb", "ok", pruned(`runtime\..*`, `runtime\.mallocgc`)},
		{"ok_drop_frames_alternation.pb", "ok", pruned(`runtime\.inlined|runtime\.mallocgc`, "")},
		{"ok_drop_frames_invalid_regex.pb", "ok", pruned(`runtime\.(`, "")},
		{"ok_unknown_mapping_id.pb", "ok", edit(func(p *Profile) { p.Locations[0].MappingID = 999 })},
		{"bad_empty_input.pb", "22P03", []byte{}},
		{"bad_not_protobuf.pb", "22P03", []byte("this is not a pprof profile\n")},
		{"bad_truncated_protobuf.pb", "22P03", valid[:len(valid)-3]},
		{"bad_gzip_two_members.pb.gz", "22P03", concat},
		{"bad_gzip_truncated.pb.gz", "22P03", truncatedGz},
		{"bad_gzip_trailing_garbage.pb.gz", "22P03", append(gz(valid), "garbage"...)},
		{"bad_gzip_of_gzip.pb.gz", "22P03", gz(gz(valid))},
		{"bad_string_table0_not_empty.pb", "22P03", edit(func(p *Profile) { p.Strings[0] = "oops" })},
		{"bad_string_index_function_name.pb", "22P03", edit(func(p *Profile) { p.Functions[0].Name = 999 })},
		{"bad_string_index_function_name_negative.pb", "22P03", edit(func(p *Profile) { p.Functions[0].Name = -1 })},
		{"bad_string_index_sample_type.pb", "22P03", edit(func(p *Profile) { p.SampleTypes[1][0] = 999 })},
		{"bad_string_index_label_value.pb", "22P03", edit(func(p *Profile) { p.Samples[0].Labels[0].Str = 999 })},
		{"bad_string_index_label_key.pb", "22P03", edit(func(p *Profile) { p.Samples[0].Labels[0].Key = 999 })},
		{"bad_packed_field_huge_length.pb", "22P03", hugePacked()},
		{"bad_string_huge_length.pb", "22P03", hugeString()},
		{"bad_sample_fewer_values_than_types.pb", "22P03", edit(func(p *Profile) { p.Samples[0].Values = []int64{1} })},
		{"bad_samples_without_sample_types.pb", "22P03", edit(func(p *Profile) {
			p.SampleTypes = nil
			p.Samples[0].Values, p.Samples[1].Values = nil, nil
		})},
		{"bad_sample_location_id_zero.pb", "22P03", edit(func(p *Profile) { p.Samples[0].LocationIDs = []uint64{0, 1} })},
		{"bad_sample_unknown_location.pb", "22P03", edit(func(p *Profile) { p.Samples[0].LocationIDs = []uint64{77} })},
		{"bad_line_function_id_zero.pb", "22P03", edit(func(p *Profile) { p.Locations[1].Lines[0].FunctionID = 0 })},
		{"bad_line_unknown_function.pb", "22P03", edit(func(p *Profile) { p.Locations[1].Lines[0].FunctionID = 42 })},
		{"bad_location_id_zero.pb", "22P03", edit(func(p *Profile) { p.Locations[2].ID = 0 })},
		{"bad_function_id_zero.pb", "22P03", edit(func(p *Profile) { p.Functions[2].ID = 0 })},
		{"bad_duplicate_function_id.pb", "22P03", edit(func(p *Profile) { p.Functions[2].ID = 1 })},
		{"bad_duplicate_location_id.pb", "22P03", edit(func(p *Profile) { p.Locations[2].ID = 1 })},
		{"bad_duplicate_mapping_id.pb", "22P03", edit(func(p *Profile) { p.MappingIDs = []uint64{1, 1} })},
		{"limit_stack_100k_distinct_frames.pb.gz", "54000", gz(deep(100000, false))},
		{"limit_stack_100k_recursive_frames.pb.gz", "54000", gz(deep(100000, true))},
		{"overflow_sample_sum.pb", "22003", edit(func(p *Profile) {
			p.Samples[0].Values = []int64{math.MaxInt64, math.MaxInt64}
			p.Samples[1].Values = []int64{math.MaxInt64, math.MaxInt64}
		})},
		{"overflow_same_stack_sum.pb", "22003", edit(func(p *Profile) {
			p.Samples[1].LocationIDs = p.Samples[0].LocationIDs
			p.Samples[0].Values = []int64{math.MaxInt64, math.MaxInt64}
			p.Samples[1].Values = []int64{1, 1}
		})},
		{"overflow_time_plus_duration.pb", "22003", edit(func(p *Profile) {
			p.TimeNanos, p.DurationNanos = math.MaxInt64-5, 10
		})},
	}
}

// main writes every case and the manifest.
func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hostile OUTDIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
	}
	var manifest bytes.Buffer
	const bomb = "limit_gzip_bomb_300MB_of_zeros.pb.gz"
	if err := gzipBomb(filepath.Join(dir, bomb), 300<<20); err != nil {
		fail(err)
	}
	fmt.Fprintf(&manifest, "%s\t54000\n", bomb)
	for _, c := range cases() {
		if err := os.WriteFile(filepath.Join(dir, c.name), c.data, 0o644); err != nil {
			fail(err)
		}
		fmt.Fprintf(&manifest, "%s\t%s\n", c.name, c.expect)
	}
	if err := os.WriteFile(filepath.Join(dir, "expected.tsv"), manifest.Bytes(), 0o644); err != nil {
		fail(err)
	}
}

// fail reports err and exits.
func fail(err error) {
	fmt.Fprintln(os.Stderr, "hostile:", err)
	os.Exit(1)
}
