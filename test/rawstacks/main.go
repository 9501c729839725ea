// Command rawstacks turns the output of `go tool pprof -raw` (on stdin)
// into one line per distinct stack, `value<TAB>root<TAB>...<TAB>leaf`,
// sorted, the format of `pprofref stacks`, so the two can be diffed.
// It also prints the header fields as `#PeriodType ...` lines first.
//
// It reads the Samples section (values and location ids, leaf first) and
// the Locations section (`id: 0xADDR M=N name file:line s=N`, with extra
// indented lines for inlined callers).  A function name may contain spaces;
// the file name may not.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	sampleRx   = regexp.MustCompile(`^\s+(-?\d+): (.*)$`)
	locationRx = regexp.MustCompile(`^\s+(\d+): 0x[0-9a-f]+(?: M=\d+)?(?: (.*) \S*:-?\d+ s=-?\d+)?\s*$`)
	inlineRx   = regexp.MustCompile(`^\s+(.*) \S*:-?\d+ s=-?\d+\s*$`)
)

// main parses stdin and prints the header and the stacks.
func main() {
	type sample struct {
		value int64
		locs  []uint64
	}
	var samples []sample
	frames := map[uint64][]string{} // location id -> frames, innermost first
	section := ""
	var lastLoc uint64
	var header []string
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	for in.Scan() {
		line := in.Text()
		switch {
		case line == "Samples:" || line == "Locations" || line == "Mappings":
			section = line
			continue
		case section == "":
			header = append(header, "#"+line)
			continue
		}
		switch section {
		case "Samples:":
			m := sampleRx.FindStringSubmatch(line)
			if m == nil {
				if !strings.HasPrefix(line, " ") {
					header = append(header, "#sample_type "+line)
				}
				continue
			}
			v, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				fail("bad sample value in %q", line)
			}
			var locs []uint64
			for _, f := range strings.Fields(m[2]) {
				id, err := strconv.ParseUint(f, 10, 64)
				if err != nil {
					break // labels follow the ids
				}
				locs = append(locs, id)
			}
			samples = append(samples, sample{v, locs})
		case "Locations":
			if m := locationRx.FindStringSubmatch(line); m != nil {
				id, _ := strconv.ParseUint(m[1], 10, 64)
				lastLoc = id
				if m[2] != "" {
					frames[id] = append(frames[id], m[2])
				}
			} else if m := inlineRx.FindStringSubmatch(line); m != nil {
				frames[lastLoc] = append(frames[lastLoc], m[1])
			} else {
				fail("unparsed location line %q", line)
			}
		}
	}
	sums := map[string]int64{}
	for _, s := range samples {
		var stack []string
		for i := len(s.locs) - 1; i >= 0; i-- {
			fs := frames[s.locs[i]]
			if len(fs) == 0 {
				fail("location %d has no function name", s.locs[i])
			}
			for j := len(fs) - 1; j >= 0; j-- {
				stack = append(stack, fs[j])
			}
		}
		sums[strings.Join(stack, "\t")] += s.value
	}
	var out []string
	for k, v := range sums {
		if v == 0 {
			continue
		}
		if k == "" {
			out = append(out, fmt.Sprint(v))
		} else {
			out = append(out, fmt.Sprintf("%d\t%s", v, k))
		}
	}
	sort.Strings(out)
	for _, h := range header {
		fmt.Println(h)
	}
	for _, l := range out {
		fmt.Println(l)
	}
}

// fail reports a parse error and exits.
func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "rawstacks: "+format+"\n", args...)
	os.Exit(1)
}
