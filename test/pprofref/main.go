// Command pprofref is the reference ("oracle") reader for pg_pprof tests.
// It loads profiles with github.com/google/pprof/profile the way
// `go tool pprof` does and prints sample types, per-function flat/cum
// values, folded stacks, or parse/merge throughput.
//
//	pprofref types FILE
//	pprofref flat   [-sample_index=X] FILE...
//	pprofref stacks [-sample_index=X] FILE...
//	pprofref bench  [-n=N] [-merge] FILE...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// main dispatches to a subcommand and reports errors on one stderr line.
func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: pprofref types|flat|stacks|bench [flags] FILE..."))
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "types":
		err = cmdTypes(args)
	case "flat":
		err = cmdFlat(args)
	case "stacks":
		err = cmdStacks(args)
	case "bench":
		err = cmdBench(args)
	default:
		err = fmt.Errorf("unknown subcommand %q", cmd)
	}
	if err != nil {
		fail(err)
	}
}

// fail prints err as a single line on stderr and exits with status 1.
func fail(err error) {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	fmt.Fprintln(os.Stderr, "pprofref: "+msg)
	os.Exit(1)
}

// parseFile reads and parses one profile file (gzip or not).
func parseFile(path string) (*profile.Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return p, nil
}

// load parses all files, merges them and prunes frames like `go tool pprof`.
func load(paths []string) (*profile.Profile, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no input files")
	}
	var profs []*profile.Profile
	for _, path := range paths {
		p, err := parseFile(path)
		if err != nil {
			return nil, err
		}
		profs = append(profs, p)
	}
	// pprof merges even a single source (fetch.go combineProfiles).
	p, err := profile.Merge(profs)
	if err != nil {
		return nil, mergeError(profs, err)
	}
	// pprof ignores this error (bad regexp => no pruning); so do we.
	if err := p.RemoveUninteresting(); err != nil {
		fmt.Fprintln(os.Stderr, "pprofref: warning: "+err.Error())
	}
	return p, nil
}

// mergeError explains a Merge failure with readable type lists.
func mergeError(profs []*profile.Profile, err error) error {
	var desc []string
	for _, p := range profs {
		var types []string
		for _, st := range p.SampleType {
			types = append(types, valueType(st))
		}
		desc = append(desc, fmt.Sprintf("[%s period %s]", strings.Join(types, " "), valueType(p.PeriodType)))
	}
	return fmt.Errorf("merge: %v; inputs: %s", err, strings.Join(desc, " "))
}

// valueType formats a value type as type/unit.
func valueType(v *profile.ValueType) string {
	if v == nil {
		return "none"
	}
	return v.Type + "/" + v.Unit
}

// cmdTypes prints each sample type and the default sample type.
func cmdTypes(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: pprofref types FILE")
	}
	p, err := parseFile(args[0])
	if err != nil {
		return err
	}
	for _, st := range p.SampleType {
		fmt.Printf("%s\t%s\n", st.Type, st.Unit)
	}
	if p.DefaultSampleType != "" {
		fmt.Printf("default\t%s\n", p.DefaultSampleType)
	}
	return nil
}

// loadWithIndex parses -sample_index, loads the files and resolves the index.
func loadWithIndex(name string, args []string) (*profile.Profile, int, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	si := fs.String("sample_index", "", "sample type name or index")
	if err := fs.Parse(args); err != nil {
		return nil, 0, err
	}
	p, err := load(fs.Args())
	if err != nil {
		return nil, 0, err
	}
	if len(p.SampleType) == 0 {
		return nil, 0, fmt.Errorf("profile has no sample types")
	}
	idx, err := p.SampleIndexByName(*si)
	return p, idx, err
}

// cmdFlat prints TOTAL and per-function flat and cum values.
func cmdFlat(args []string) error {
	p, idx, err := loadWithIndex("flat", args)
	if err != nil {
		return err
	}
	var total int64
	flat := map[string]int64{}
	cum := map[string]int64{}
	for _, s := range p.Sample {
		if isZero(s) {
			continue
		}
		v := s.Value[idx]
		total += v
		stack := stackOf(s)
		if len(stack) > 0 {
			flat[stack[len(stack)-1]] += v
		}
		seen := map[string]bool{}
		for _, f := range stack {
			if !seen[f] {
				seen[f] = true
				cum[f] += v
			}
		}
	}
	lines := []string{fmt.Sprintf("TOTAL\t%d", total)}
	for f, c := range cum {
		lines = append(lines, fmt.Sprintf("F\t%s\t%d\t%d", f, flat[f], c))
	}
	printSorted(lines)
	return nil
}

// cmdStacks prints each distinct root-first stack with its summed value.
func cmdStacks(args []string) error {
	p, idx, err := loadWithIndex("stacks", args)
	if err != nil {
		return err
	}
	sums := map[string]int64{}
	for _, s := range p.Sample {
		if isZero(s) {
			continue
		}
		sums[strings.Join(stackOf(s), "\t")] += s.Value[idx]
	}
	var lines []string
	for stack, v := range sums {
		if v == 0 {
			continue
		}
		line := strconv.FormatInt(v, 10)
		if stack != "" {
			line += "\t" + stack
		}
		lines = append(lines, line)
	}
	printSorted(lines)
	return nil
}

// cmdBench times repeated parsing (and optionally merging) of in-memory files.
func cmdBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	n := fs.Int("n", 5, "rounds")
	merge := fs.Bool("merge", false, "also merge all parsed profiles each round")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *n < 1 {
		return fmt.Errorf("usage: pprofref bench [-n=N] [-merge] FILE...")
	}
	var inputs [][]byte
	var size int
	for _, path := range fs.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		inputs = append(inputs, data)
		size += len(data)
	}
	start := time.Now()
	for r := 0; r < *n; r++ {
		if err := benchRound(inputs, *merge); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	mbps := float64(size) * float64(*n) / 1e6 / secs
	fmt.Printf("files=%d bytes=%d rounds=%d seconds=%.3f MBps=%.2f\n", len(inputs), size, *n, secs, mbps)
	return nil
}

// benchRound parses every input once and, if asked, merges the results.
func benchRound(inputs [][]byte, merge bool) error {
	profs := make([]*profile.Profile, 0, len(inputs))
	for _, data := range inputs {
		p, err := profile.Parse(bytes.NewReader(data))
		if err != nil {
			return err
		}
		profs = append(profs, p)
	}
	if merge {
		if _, err := profile.Merge(profs); err != nil {
			return mergeError(profs, err)
		}
	}
	return nil
}

// isZero reports whether all values of a sample are zero.
func isZero(s *profile.Sample) bool {
	for _, v := range s.Value {
		if v != 0 {
			return false
		}
	}
	return true
}

// stackOf returns the sample's frame names, root first, leaf last.
func stackOf(s *profile.Sample) []string {
	var stack []string
	for i := len(s.Location) - 1; i >= 0; i-- {
		stack = append(stack, locationFrames(s.Location[i])...)
	}
	return stack
}

// locationFrames returns a location's frame names, outermost (caller) first.
func locationFrames(loc *profile.Location) []string {
	if len(loc.Line) == 0 {
		return []string{addressName(loc)}
	}
	var frames []string
	for i := len(loc.Line) - 1; i >= 0; i-- {
		fn := loc.Line[i].Function
		if fn == nil || fn.Name == "" {
			frames = append(frames, addressName(loc))
		} else {
			frames = append(frames, sanitize(fn.Name))
		}
	}
	return frames
}

// addressName names an unsymbolized frame by its location address.
func addressName(loc *profile.Location) string {
	if loc.Address == 0 {
		return "(unknown)"
	}
	return fmt.Sprintf("0x%x", loc.Address)
}

// sanitize makes a name valid UTF-8 without NUL bytes.
func sanitize(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	return strings.ReplaceAll(name, "\x00", "\uFFFD")
}

// printSorted prints lines in byte order.
func printSorted(lines []string) {
	sort.Strings(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	os.Stdout.WriteString(b.String())
}
