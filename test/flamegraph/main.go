// Command fgcheck is the exact (int64) checker behind test/flamegraph.sh.
//
// It reads flamegraph rows as psql prints them with
// `-At -F '\t' -0`: one NUL-terminated record per row, fields separated by
// TAB, the label last (labels may contain TAB, never NUL).
//
//	fgcheck struct [-cols=4|6] [-max=N] [-total=T] [-total_right=T] < rows
//	    rows: level, value, self, label
//	    or (-cols=6) level, value, self, valueRight, selfRight, label
//	    Checks the shape of the tree and prints `root<TAB>V[<TAB>VR]`.
//	fgcheck flatcum < rows
//	    Prints TOTAL and per-function flat/cum like `pprofref flat`.
//	fgcheck regex -re=RE FILE
//	    Fails if RE matches a file name (pprof also matches those) or the
//	    0x/(unknown) label of an unsymbolized location; prints how many
//	    function names it matches.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

type row struct {
	level int
	vals  []int64 // value, self[, valueRight, selfRight]
	label string
}

// main dispatches to the struct, flatcum or regex subcommand.
func main() {
	if len(os.Args) < 2 {
		fail("usage: fgcheck struct|flatcum|regex ...")
	}
	var err error
	switch os.Args[1] {
	case "struct":
		err = cmdStruct(os.Args[2:])
	case "flatcum":
		err = cmdFlatCum(os.Args[2:])
	case "regex":
		err = cmdRegex(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fail(err.Error())
	}
}

// fail prints msg on stderr and exits with status 1.
func fail(msg string) {
	fmt.Fprintln(os.Stderr, "fgcheck: "+msg)
	os.Exit(1)
}

// readRows parses NUL-terminated records of ncols TAB-separated fields.
func readRows(r io.Reader, ncols int) ([]row, error) {
	data, err := io.ReadAll(bufio.NewReader(r))
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("no rows")
	}
	if data[len(data)-1] == 0 {
		data = data[:len(data)-1]
	}
	var rows []row
	for i, rec := range bytes.Split(data, []byte{0}) {
		f := strings.SplitN(string(rec), "\t", ncols)
		if len(f) != ncols {
			return nil, fmt.Errorf("row %d: %d fields, want %d: %q", i+1, len(f), ncols, rec)
		}
		var rw row
		if rw.level, err = strconv.Atoi(f[0]); err != nil {
			return nil, fmt.Errorf("row %d: level: %v", i+1, err)
		}
		for _, s := range f[1 : ncols-1] {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("row %d: %v", i+1, err)
			}
			rw.vals = append(rw.vals, v)
		}
		rw.label = f[ncols-1]
		rows = append(rows, rw)
	}
	return rows, nil
}

// frame is an open node on the depth-first path.
type frame struct {
	idx      int     // row index
	childSum []int64 // sums of the children's value columns
	lastKid  string  // label of the previous child
	hasKid   bool
	otherKid bool // an `other` child was seen
}

// cmdStruct checks the nested-set structure of flame-graph rows read on stdin.
func cmdStruct(args []string) error {
	fs := flag.NewFlagSet("struct", flag.ContinueOnError)
	cols := fs.Int("cols", 4, "4 (flamegraph) or 6 (flamegraph_diff)")
	max := fs.Int("max", 0, "max_nodes used (0 = no truncation)")
	total := fs.String("total", "", "expected root value")
	totalRight := fs.String("total_right", "", "expected root valueRight")
	full := fs.String("full", "", "file with the untruncated rows (max_nodes 0), to check truncation exactly")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rows, err := readRows(os.Stdin, *cols)
	if err != nil {
		return err
	}
	npairs := (*cols - 2) / 2 // (value, self) pairs
	var errs []string
	bad := func(format string, a ...interface{}) {
		if len(errs) < 10 {
			errs = append(errs, fmt.Sprintf(format, a...))
		}
	}
	if rows[0].level != 0 || rows[0].label != "total" {
		bad("first row is level %d %q, want level 0 \"total\"", rows[0].level, rows[0].label)
	}
	var stack []*frame
	// closeTop pops the top frame and checks value == self + sum(children).
	closeTop := func() {
		fr := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		r := rows[fr.idx]
		for p := 0; p < npairs; p++ {
			v, s := r.vals[2*p], r.vals[2*p+1]
			if v != s+fr.childSum[p] {
				bad("row %d (level %d %q) column pair %d: value %d != self %d + children %d",
					fr.idx+1, r.level, r.label, p, v, s, fr.childSum[p])
			}
		}
	}
	nonOther := 0
	for i, r := range rows {
		if r.label != "other" {
			nonOther++
		}
		if i > 0 {
			if r.level == 0 {
				bad("row %d: a second level-0 row %q", i+1, r.label)
				continue
			}
			if r.level > rows[i-1].level+1 {
				bad("row %d: level %d after level %d", i+1, r.level, rows[i-1].level)
				continue
			}
			if r.level < 0 {
				bad("row %d: negative level", i+1)
				continue
			}
		}
		for len(stack) > r.level {
			closeTop()
		}
		if len(stack) > 0 {
			parent := stack[len(stack)-1]
			for p := 0; p < npairs; p++ {
				parent.childSum[p] += r.vals[2*p]
			}
			switch {
			case parent.otherKid:
				bad("row %d: %q after an `other` sibling (under row %d)", i+1, r.label, parent.idx+1)
			case r.label == "other":
				parent.otherKid = true
			case parent.hasKid && !(parent.lastKid < r.label):
				bad("row %d: sibling %q not after %q in byte order", i+1, r.label, parent.lastKid)
			}
			parent.hasKid = true
			parent.lastKid = r.label
		}
		stack = append(stack, &frame{idx: i, childSum: make([]int64, npairs)})
	}
	for len(stack) > 0 {
		closeTop()
	}
	if *max > 0 && *full != "" && len(errs) == 0 {
		// The rows must be exactly the untruncated tree with every node
		// whose weight is below the max_nodes-th largest folded into one
		// `other` child per parent.
		fh, err := os.Open(*full)
		if err != nil {
			return err
		}
		fullRows, err := readRows(fh, *cols)
		fh.Close()
		if err != nil {
			return fmt.Errorf("%s: %v", *full, err)
		}
		want, cutoff := truncate(fullRows, *max, npairs)
		for i := 0; i < len(want) || i < len(rows); i++ {
			if i >= len(want) || i >= len(rows) || !sameRow(want[i], rows[i]) {
				w, g := "(end)", "(end)"
				if i < len(want) {
					w = fmt.Sprint(want[i])
				}
				if i < len(rows) {
					g = fmt.Sprint(rows[i])
				}
				bad("truncation (cutoff weight %d, %d untruncated rows): row %d is %s, want %s",
					cutoff, len(fullRows), i+1, g, w)
				break
			}
		}
	}
	if *total != "" && strconv.FormatInt(rows[0].vals[0], 10) != *total {
		bad("root value %d, profile_total %s", rows[0].vals[0], *total)
	}
	if *totalRight != "" && npairs > 1 && strconv.FormatInt(rows[0].vals[2], 10) != *totalRight {
		bad("root valueRight %d, profile_total %s", rows[0].vals[2], *totalRight)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d rows:\n  %s", len(rows), strings.Join(errs, "\n  "))
	}
	out := []string{"rows", strconv.Itoa(len(rows)), "non-other", strconv.Itoa(nonOther),
		"root", strconv.FormatInt(rows[0].vals[0], 10)}
	if npairs > 1 {
		out = append(out, strconv.FormatInt(rows[0].vals[2], 10))
	}
	fmt.Println(strings.Join(out, "\t"))
	return nil
}

// weight is a node's truncation weight: |value| (+ |valueRight|).
func weight(r row, npairs int) uint64 {
	var w uint64
	for p := 0; p < npairs; p++ {
		v := r.vals[2*p]
		if v < 0 {
			w += uint64(0) - uint64(v)
		} else {
			w += uint64(v)
		}
	}
	return w
}

// sameRow reports whether two rows are equal in every field.
func sameRow(a, b row) bool {
	if a.level != b.level || a.label != b.label || len(a.vals) != len(b.vals) {
		return false
	}
	for i := range a.vals {
		if a.vals[i] != b.vals[i] {
			return false
		}
	}
	return true
}

// truncate applies the max_nodes rule to untruncated rows: the cutoff is
// the max-th largest weight of the non-root nodes; a child whose weight is
// below it is folded, with its subtree, into its parent's `other` child
// (value = self = the folded values' sum), which comes after the kept
// children.
func truncate(full []row, max, npairs int) ([]row, uint64) {
	if len(full)-1 <= max {
		return full, 0
	}
	ws := make([]uint64, 0, len(full)-1)
	for _, r := range full[1:] {
		ws = append(ws, weight(r, npairs))
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i] > ws[j] })
	cutoff := ws[max-1]
	var out []row
	// Open nodes: their level and the folded sums of their children.
	type open struct {
		level  int
		folded bool
		sums   []int64
	}
	var stack []open
	closeTop := func() {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if o.folded {
			r := row{level: o.level + 1, label: "other"}
			for p := 0; p < npairs; p++ {
				r.vals = append(r.vals, o.sums[p], o.sums[p])
			}
			out = append(out, r)
		}
	}
	skipBelow := -1 // while >= 0, rows deeper than this level are inside a folded subtree
	for i, r := range full {
		if skipBelow >= 0 && r.level > skipBelow {
			continue
		}
		skipBelow = -1
		for len(stack) > 0 && stack[len(stack)-1].level >= r.level {
			closeTop()
		}
		if i > 0 && weight(r, npairs) < cutoff {
			parent := &stack[len(stack)-1]
			parent.folded = true
			for p := 0; p < npairs; p++ {
				parent.sums[p] += r.vals[2*p]
			}
			skipBelow = r.level
			continue
		}
		out = append(out, r)
		stack = append(stack, open{level: r.level, sums: make([]int64, npairs)})
	}
	for len(stack) > 0 {
		closeTop()
	}
	return out, cutoff
}

// cmdFlatCum rebuilds per-function flat/cum from the tree rows: flat sums a
// label's self values, cum sums a node's value only at the topmost
// occurrence of its label on the current path. The root and `other` rows
// are skipped.
func cmdFlatCum(args []string) error {
	rows, err := readRows(os.Stdin, 4)
	if err != nil {
		return err
	}
	if rows[0].level != 0 {
		return fmt.Errorf("first row is not level 0")
	}
	flat := map[string]int64{}
	cum := map[string]int64{}
	var path []string          // labels at levels 1..
	onPath := map[string]int{} // label -> occurrences on path
	for _, r := range rows[1:] {
		if r.level < 1 || r.level > len(path)+1 {
			return fmt.Errorf("bad level %d at depth %d", r.level, len(path))
		}
		for len(path) >= r.level {
			l := path[len(path)-1]
			path = path[:len(path)-1]
			onPath[l]--
		}
		if r.label != "other" {
			flat[r.label] += r.vals[1]
			if onPath[r.label] == 0 {
				cum[r.label] += r.vals[0]
			}
		}
		path = append(path, r.label)
		onPath[r.label]++
	}
	lines := []string{fmt.Sprintf("TOTAL\t%d", rows[0].vals[0])}
	for f, c := range cum {
		lines = append(lines, fmt.Sprintf("F\t%s\t%d\t%d", f, flat[f], c))
	}
	sort.Strings(lines)
	fmt.Print(strings.Join(lines, "\n") + "\n")
	return nil
}

// cmdRegex vets a filter pattern: it must match function names only, not file names or addresses.
func cmdRegex(args []string) error {
	fs := flag.NewFlagSet("regex", flag.ContinueOnError)
	reStr := fs.String("re", "", "regexp")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: fgcheck regex -re=RE FILE")
	}
	re, err := regexp.Compile(*reStr)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return err
	}
	names := 0
	for _, fn := range p.Function {
		if re.MatchString(fn.Name) {
			names++
		} else if re.MatchString(fn.Filename) {
			// pprof would match this function through its file name only.
			return fmt.Errorf("%q matches file name %q of %q", *reStr, fn.Filename, fn.Name)
		}
	}
	for _, loc := range p.Location {
		unnamed := len(loc.Line) == 0
		for _, ln := range loc.Line {
			if ln.Function == nil || ln.Function.Name == "" {
				unnamed = true
			}
		}
		if unnamed {
			label := "(unknown)"
			if loc.Address != 0 {
				label = fmt.Sprintf("0x%x", loc.Address)
			}
			if re.MatchString(label) {
				return fmt.Errorf("%q matches unsymbolized frame %q", *reStr, label)
			}
		}
	}
	if names == 0 {
		return fmt.Errorf("%q matches no function name", *reStr)
	}
	fmt.Println(names)
	return nil
}
