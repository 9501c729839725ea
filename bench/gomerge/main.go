// Command gomerge times the Go pprof library parsing and merging many
// profile files, the peer of pg_pprof's profile_merge in bench/merge.sh.
//
//	gomerge -list FILE [-n N] [-chunk C]
//
// FILE lists one profile path a line; the first N are used (all if N is 0).
//
//   - -chunk 0 (default): the files are read into memory first (not timed),
//     then every file is parsed with profile.Parse, one after the other, and
//     all are merged with one profile.Merge, as `pprofref bench -n 1 -merge`
//     does. Every parsed profile is alive at once.
//   - -chunk C > 0: what `go tool pprof FILES...` does (chunkedGrab in
//     internal/driver/fetch.go, C = 64 there): for each chunk of C files,
//     read and parse them concurrently (one goroutine per file), merge the
//     chunk, then merge the result into the running total. Reading the files
//     (from the page cache) is timed here.
//
// It prints one line:
//
//	files=N bytes=B parse_s=.. merge_s=.. total_s=.. maxrss_mb=.. samples=.. locations=.. functions=.. total=..
//
// maxrss_mb is the process' peak resident set (getrusage), input bytes
// included; total is the sum of the last sample type (cpu) over the merge.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/pprof/profile"
)

// main parses the flags, runs one timed parse+merge and prints the figures.
func main() {
	list := flag.String("list", "", "file with one profile path a line")
	n := flag.Int("n", 0, "use the first N files (0: all)")
	chunk := flag.Int("chunk", 0, "0: parse all, merge once; C: go tool pprof's chunked merge")
	flag.Parse()
	if *list == "" || *n < 0 || *chunk < 0 {
		fail(fmt.Errorf("usage: gomerge -list FILE [-n N] [-chunk C]"))
	}
	paths, err := readList(*list, *n)
	if err != nil {
		fail(err)
	}
	var merged *profile.Profile
	var size int
	var parseDur, mergeDur time.Duration
	start := time.Now()
	if *chunk == 0 {
		merged, size, parseDur, mergeDur, start, err = mergeAll(paths)
	} else {
		merged, size, parseDur, mergeDur, err = mergeChunked(paths, *chunk)
	}
	if err != nil {
		fail(err)
	}
	total := time.Since(start)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var sum int64
	for _, s := range merged.Sample {
		sum += s.Value[len(s.Value)-1]
	}
	fmt.Printf("files=%d bytes=%d parse_s=%.3f merge_s=%.3f total_s=%.3f maxrss_mb=%.0f samples=%d locations=%d functions=%d total=%d\n",
		len(paths), size, parseDur.Seconds(), mergeDur.Seconds(), total.Seconds(),
		float64(ru.Maxrss)/1024, len(merged.Sample), len(merged.Location), len(merged.Function), sum)
}

// fail prints err on stderr and exits with status 1.
func fail(err error) {
	fmt.Fprintln(os.Stderr, "gomerge: "+strings.Join(strings.Fields(err.Error()), " "))
	os.Exit(1)
}

// readList returns the first n (all if 0) non-empty lines of a file.
func readList(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && (n == 0 || len(paths) < n) {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			paths = append(paths, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(paths) == 0 || (n > 0 && len(paths) < n) {
		return nil, fmt.Errorf("%s: %d paths, %d wanted", path, len(paths), n)
	}
	return paths, nil
}

// mergeAll reads every file (untimed), then parses all and merges them once;
// it returns the time the timed part started.
func mergeAll(paths []string) (*profile.Profile, int, time.Duration, time.Duration, time.Time, error) {
	inputs := make([][]byte, 0, len(paths))
	size := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, 0, 0, 0, time.Time{}, err
		}
		inputs = append(inputs, data)
		size += len(data)
	}
	start := time.Now()
	profs := make([]*profile.Profile, 0, len(inputs))
	for i, data := range inputs {
		p, err := profile.Parse(bytes.NewReader(data))
		if err != nil {
			return nil, 0, 0, 0, start, fmt.Errorf("%s: %v", paths[i], err)
		}
		profs = append(profs, p)
	}
	parsed := time.Now()
	merged, err := profile.Merge(profs)
	return merged, size, parsed.Sub(start), time.Since(parsed), start, err
}

// mergeChunked merges like go tool pprof: chunks of files read and parsed
// concurrently, each chunk merged, then merged into the running total.
func mergeChunked(paths []string, chunk int) (*profile.Profile, int, time.Duration, time.Duration, error) {
	var total *profile.Profile
	var size int
	var parseDur, mergeDur time.Duration
	for lo := 0; lo < len(paths); lo += chunk {
		hi := lo + chunk
		if hi > len(paths) {
			hi = len(paths)
		}
		t0 := time.Now()
		profs := make([]*profile.Profile, hi-lo)
		sizes := make([]int, hi-lo)
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		for i := lo; i < hi; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				data, err := os.ReadFile(paths[i])
				if err == nil {
					profs[i-lo], err = profile.ParseData(data)
				}
				sizes[i-lo], errs[i-lo] = len(data), err
			}(i)
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				return nil, 0, 0, 0, fmt.Errorf("%s: %v", paths[lo+i], err)
			}
			size += sizes[i]
		}
		t1 := time.Now()
		p, err := profile.Merge(profs)
		if err == nil && total != nil {
			p, err = profile.Merge([]*profile.Profile{total, p})
		}
		if err != nil {
			return nil, 0, 0, 0, err
		}
		total = p
		parseDur += t1.Sub(t0)
		mergeDur += time.Since(t1)
	}
	return total, size, parseDur, mergeDur, nil
}
