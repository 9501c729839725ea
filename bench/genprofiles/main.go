// Command genprofiles writes N realistic Go CPU profiles for bench/merge.sh.
//
// It builds one "service" template from real CPU profiles (the SOURCE files,
// e.g. examples/cpu_*.pb.gz and the corpus' gpprof_report_sample.cpu.pb.gz):
// copies of the sources are appended, in turn, until the template holds at
// least -samples samples. In each copy the application functions (main.*)
// are renamed to a stable per-copy package (github.com/acme/shop/internal/
// users.fib, .../orders.fib, ...) and get their own addresses, while the
// runtime and standard-library locations of one binary are shared, as they
// are in one real binary. Profile i is then derived from the template with a
// PRNG seeded by (-seed, i), so every run writes the same bytes:
//   - each sample is dropped with probability -drop;
//   - each kept sample's count is scaled by exp(0.5*N(0,1)) (stochastic
//     rounding, at least 1) and cpu = count * period;
//   - with probability -add a kept sample is duplicated with a modified
//     stack: one frame (usually near the leaf) is replaced by a sibling, a
//     location that is called by the same parent elsewhere in the template,
//     and the frames below it are kept or cut off (the sibling is the leaf);
//   - time_nanos is the template's time (time_nanos0, the first source's)
//     plus i times -step (default one second; bench/longwindow.sh uses a
//     minute).
//
// Sample labels (cpu_*.pb.gz carry endpoint and region) are dropped unless
// -labels is given: most Go CPU profiles have none, pg_pprof's profile type
// does not keep them, and Go's Merge spends most of its time on them.
// Only the locations, functions and strings a profile uses are written, with
// contiguous ids, by profile.Write (gzip), as cpu_NNNNN.pb.gz in -out, plus
// files.txt (one absolute path a line). The last stdout line is a summary:
//
//	genprofiles n=N time_nanos0=T bytes=B avg_bytes=.. avg_samples=.. avg_locations=.. avg_functions=..
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// modules are the stable package names given to the copies' main.* functions.
var modules = []string{"users", "orders", "search", "billing", "catalog", "inventory",
	"auth", "cart", "shipping", "payments", "reviews", "pricing", "notify", "session",
	"ledger", "gateway"}

// template is the merged source profile every output profile derives from.
type template struct {
	samples  []*profile.Sample
	children map[uint64][]*profile.Location // parent location id -> its callees
	period   int64
	timeNs   int64
	duration int64
	step     int64 // nanoseconds between consecutive profiles' time_nanos
	mapping  *profile.Mapping
}

// main parses the flags, builds the template and writes the profiles.
func main() {
	out := flag.String("out", "", "output directory")
	n := flag.Int("n", 10000, "number of profiles")
	target := flag.Int("samples", 1700, "template size in samples")
	seed := flag.Int64("seed", 1, "PRNG seed")
	drop := flag.Float64("drop", 0.08, "probability of dropping a sample")
	add := flag.Float64("add", 0.08, "probability of adding a mutated copy of a sample")
	keepLabels := flag.Bool("labels", false, "keep the sources' sample labels")
	jobs := flag.Int("j", runtime.NumCPU(), "parallel writers")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of this program")
	step := flag.Duration("step", time.Second, "time between consecutive profiles' time_nanos")
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *out == "" || flag.NArg() == 0 || *n < 1 {
		fail(fmt.Errorf("usage: genprofiles -out DIR [-n N] [-samples S] [-seed X] SOURCE..."))
	}
	var srcs []*profile.Profile
	for _, path := range flag.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		p, err := profile.ParseData(data)
		if err != nil {
			fail(fmt.Errorf("%s: %v", path, err))
		}
		if len(p.SampleType) != 2 || p.SampleType[1].Type != "cpu" || p.Period <= 0 {
			fail(fmt.Errorf("%s: not a Go CPU profile (samples/count, cpu/nanoseconds)", path))
		}
		srcs = append(srcs, p)
	}
	t := buildTemplate(srcs, *target, *keepLabels)
	t.step = step.Nanoseconds()
	fmt.Printf("template: sources=%d samples=%d\n", len(srcs), len(t.samples))
	if err := os.MkdirAll(*out, 0755); err != nil {
		fail(err)
	}

	type result struct{ bytes, samples, locations, functions int }
	results := make([]result, *n)
	errs := make(chan error, *jobs)
	var wg sync.WaitGroup
	for w := 0; w < *jobs; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var buf bytes.Buffer
			for i := w; i < *n; i += *jobs {
				p := t.derive(i, *seed, *drop, *add)
				buf.Reset()
				if err := p.Write(&buf); err != nil {
					errs <- err
					return
				}
				if err := os.WriteFile(filePath(*out, i), buf.Bytes(), 0644); err != nil {
					errs <- err
					return
				}
				results[i] = result{buf.Len(), len(p.Sample), len(p.Location), len(p.Function)}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fail(err)
	}
	var list strings.Builder
	var sum result
	for i, r := range results {
		abs, _ := filepath.Abs(filePath(*out, i))
		list.WriteString(abs + "\n")
		sum.bytes += r.bytes
		sum.samples += r.samples
		sum.locations += r.locations
		sum.functions += r.functions
	}
	if err := os.WriteFile(filepath.Join(*out, "files.txt"), []byte(list.String()), 0644); err != nil {
		fail(err)
	}
	f := float64(*n)
	fmt.Printf("genprofiles n=%d time_nanos0=%d bytes=%d avg_bytes=%.0f avg_samples=%.0f avg_locations=%.0f avg_functions=%.0f\n",
		*n, t.timeNs, sum.bytes, float64(sum.bytes)/f, float64(sum.samples)/f,
		float64(sum.locations)/f, float64(sum.functions)/f)
}

// fail prints err on stderr and exits with status 1.
func fail(err error) {
	fmt.Fprintln(os.Stderr, "genprofiles: "+err.Error())
	os.Exit(1)
}

// filePath names profile i in dir.
func filePath(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("cpu_%05d.pb.gz", i))
}

// isApp reports whether a function belongs to the application (is renamed per copy).
func isApp(name string) bool {
	return strings.HasPrefix(name, "main.")
}

// buildTemplate appends renamed copies of the sources until target samples.
func buildTemplate(srcs []*profile.Profile, target int, keepLabels bool) *template {
	t := &template{
		children: map[uint64][]*profile.Location{},
		period:   srcs[0].Period,
		timeNs:   srcs[0].TimeNanos,
		duration: 10e9,
		mapping: &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x7f000000,
			File: "/usr/local/bin/shop", HasFunctions: true, HasFilenames: true, HasLineNumbers: true},
	}
	type locKey struct {
		src  int
		copy int // -1: shared by every copy of this source
		addr uint64
	}
	locs := map[locKey]*profile.Location{}
	funcs := map[[2]string]*profile.Function{}
	sampleIdx := map[string]*profile.Sample{}
	function := func(name, file string) *profile.Function {
		k := [2]string{name, file}
		if f := funcs[k]; f != nil {
			return f
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: name, SystemName: name, Filename: file}
		funcs[k] = f
		return f
	}
	for c := 0; len(t.samples) < target; c++ {
		si := c % len(srcs)
		src := srcs[si]
		mod := modules[c%len(modules)]
		if c >= len(modules) {
			mod = fmt.Sprintf("%s%d", mod, c/len(modules))
		}
		// location maps a source location into the template.
		location := func(l *profile.Location) *profile.Location {
			app := false
			for _, ln := range l.Line {
				if ln.Function != nil && isApp(ln.Function.Name) {
					app = true
				}
			}
			k := locKey{si, -1, l.Address}
			if app {
				k.copy = c
			}
			if nl := locs[k]; nl != nil {
				return nl
			}
			addr := 0x400000 + uint64(si)<<24 + (l.Address & 0xffffff)
			if app {
				addr += uint64(c+1) << 28
			}
			nl := &profile.Location{ID: uint64(len(locs) + 1), Mapping: t.mapping, Address: addr}
			for _, ln := range l.Line {
				name, file := "", ""
				if ln.Function != nil {
					name, file = ln.Function.Name, ln.Function.Filename
				}
				if isApp(name) {
					name = "github.com/acme/shop/internal/" + mod + "." + strings.TrimPrefix(name, "main.")
					file = "/src/shop/internal/" + mod + "/" + filepath.Base(file)
				}
				nl.Line = append(nl.Line, profile.Line{Function: function(name, file), Line: ln.Line})
			}
			locs[k] = nl
			return nl
		}
		for _, s := range src.Sample {
			if s.Value[0] == 0 && s.Value[1] == 0 {
				continue
			}
			var stack []*profile.Location
			key := ""
			for _, l := range s.Location {
				nl := location(l)
				stack = append(stack, nl)
				key += fmt.Sprintf("%d,", nl.ID)
			}
			label := s.Label
			if !keepLabels {
				label = nil
			}
			key += labelKey(label)
			if old := sampleIdx[key]; old != nil {
				old.Value[0] += s.Value[0]
				old.Value[1] += s.Value[1]
				continue
			}
			ns := &profile.Sample{Location: stack, Value: []int64{s.Value[0], s.Value[1]}, Label: label}
			sampleIdx[key] = ns
			t.samples = append(t.samples, ns)
		}
	}
	// Callee sets per caller, for the "sibling" mutation.
	seen := map[[2]uint64]bool{}
	for _, s := range t.samples {
		for k := 0; k+1 < len(s.Location); k++ {
			parent, child := s.Location[k+1], s.Location[k]
			if !seen[[2]uint64{parent.ID, child.ID}] {
				seen[[2]uint64{parent.ID, child.ID}] = true
				t.children[parent.ID] = append(t.children[parent.ID], child)
			}
		}
	}
	return t
}

// labelKey is a canonical string for a sample's string labels.
func labelKey(l map[string][]string) string {
	var keys []string
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q;", k, l[k])
	}
	return b.String()
}

// derive builds profile i: varied values, dropped and added samples, shifted time.
func (t *template) derive(i int, seed int64, drop, add float64) *profile.Profile {
	rng := rand.New(rand.NewSource(seed*1000003 + int64(i)))
	var stacks [][]*profile.Location
	var counts []int64
	var labels []map[string][]string
	for _, s := range t.samples {
		if rng.Float64() < drop {
			continue
		}
		c := float64(s.Value[0]) * math.Exp(0.5*rng.NormFloat64())
		count := int64(c + rng.Float64())
		if count < 1 {
			count = 1
		}
		stacks = append(stacks, s.Location)
		counts = append(counts, count)
		labels = append(labels, s.Label)
		if rng.Float64() < add {
			if st := t.mutate(rng, s.Location); st != nil {
				stacks = append(stacks, st)
				counts = append(counts, 1+int64(rng.Intn(3)))
				labels = append(labels, s.Label)
			}
		}
	}
	// Copy what this profile uses, with contiguous ids, as runtime/pprof writes it.
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        t.period,
		TimeNanos:     t.timeNs + int64(i)*t.step,
		DurationNanos: t.duration,
	}
	m := *t.mapping
	p.Mapping = []*profile.Mapping{&m}
	locs := map[uint64]*profile.Location{}
	funcs := map[uint64]*profile.Function{}
	for j, st := range stacks {
		ns := &profile.Sample{Value: []int64{counts[j], counts[j] * t.period}, Label: labels[j]}
		for _, l := range st {
			nl := locs[l.ID]
			if nl == nil {
				nl = &profile.Location{ID: uint64(len(locs) + 1), Mapping: &m, Address: l.Address}
				for _, ln := range l.Line {
					nf := funcs[ln.Function.ID]
					if nf == nil {
						f := *ln.Function
						f.ID = uint64(len(funcs) + 1)
						nf = &f
						funcs[ln.Function.ID] = nf
						p.Function = append(p.Function, nf)
					}
					nl.Line = append(nl.Line, profile.Line{Function: nf, Line: ln.Line})
				}
				locs[l.ID] = nl
				p.Location = append(p.Location, nl)
			}
			ns.Location = append(ns.Location, nl)
		}
		p.Sample = append(p.Sample, ns)
	}
	return p
}

// mutate returns a copy of stack (leaf first) with one frame replaced by a
// sibling (another callee of the same caller), or nil if none was found.
func (t *template) mutate(rng *rand.Rand, stack []*profile.Location) []*profile.Location {
	if len(stack) < 2 {
		return nil
	}
	for try := 0; try < 4; try++ {
		k := int(rng.ExpFloat64() * 2) // mostly near the leaf
		if k > len(stack)-2 {
			k = rng.Intn(len(stack) - 1)
		}
		var sibs []*profile.Location
		for _, c := range t.children[stack[k+1].ID] {
			if c != stack[k] {
				sibs = append(sibs, c)
			}
		}
		if len(sibs) == 0 {
			continue
		}
		sib := sibs[rng.Intn(len(sibs))]
		if rng.Intn(2) == 0 {
			return append([]*profile.Location{sib}, stack[k+1:]...)
		}
		out := append([]*profile.Location(nil), stack...)
		out[k] = sib
		return out
	}
	return nil
}
