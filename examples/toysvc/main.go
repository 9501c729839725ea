// Command toysvc runs a small fake web service in-process and writes the
// example profiles found in examples/:
//
//   - cpu_1.pb.gz, cpu_2.pb.gz, cpu_3.pb.gz: CPU profiles of about 1.5 s on
//     2 goroutines, with pprof labels "endpoint" and "region"; the endpoint
//     mix is mostly /api/users, mostly /api/orders and mostly /api/search.
//   - heap.pb.gz: heap profile (MemProfileRate 512) where fillUserCache and
//     allocBuffers keep memory in use and churnStrings only makes garbage.
//   - mutex.pb.gz: mutex contention profile of updateInventory, recordMetric
//     and flushLog fighting over one sync.Mutex.
//
// Usage (from the repository root): GO111MODULE=off go run ./examples/toysvc -out DIR
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// workers is the number of goroutines (and GOMAXPROCS) used for the CPU profiles.
const workers = 2

// cpuDuration is how long each CPU profile records.
const cpuDuration = 1500 * time.Millisecond

// mix gives the relative request weight of each endpoint in one CPU profile.
type mix struct {
	users, orders, search int
}

// main sets the profiling rates, then writes the heap, CPU and mutex profiles into -out.
func main() {
	runtime.MemProfileRate = 512
	out := flag.String("out", ".", "directory to write the profiles into")
	flag.Parse()
	runtime.GOMAXPROCS(workers)
	// With the default GOGC the small heap is collected over a hundred times
	// a run, and the preemptions for it fill the CPU profiles with
	// runtime.asyncPreempt; collect less often.
	debug.SetGCPercent(800)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	// The heap profile is written first so that it is not filled with the
	// allocations of the CPU runs.
	writeHeap(filepath.Join(*out, "heap.pb.gz"))
	mixes := []mix{
		{users: 70, orders: 20, search: 10},
		{users: 15, orders: 70, search: 15},
		{users: 10, orders: 20, search: 70},
	}
	for i, m := range mixes {
		writeCPU(filepath.Join(*out, fmt.Sprintf("cpu_%d.pb.gz", i+1)), m, int64(i+1))
	}
	writeMutex(filepath.Join(*out, "mutex.pb.gz"))
}

// create opens path for writing or stops the program.
func create(path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	return f
}

// closeFile closes f and stops the program if that fails.
func closeFile(f *os.File) {
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s", f.Name())
}

// ---------------------------------------------------------------- CPU

// writeCPU records a CPU profile into path while the workers serve requests with mix m.
func writeCPU(path string, m mix, seed int64) {
	f := create(path)
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	serveUntil(time.Now().Add(cpuDuration), m, seed)
	pprof.StopCPUProfile()
	closeFile(f)
}

// serveUntil runs the worker goroutines until deadline and waits for them.
func serveUntil(deadline time.Time, m mix, seed int64) {
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed*100 + int64(w)))
			total := 0
			for time.Now().Before(deadline) {
				endpoint := pickEndpoint(rng, m)
				region := "eu-west"
				if rng.Intn(2) == 1 {
					region = "us-east"
				}
				labels := pprof.Labels("endpoint", endpoint, "region", region)
				pprof.Do(context.Background(), labels, func(context.Context) {
					total += handleRequest(endpoint, rng)
				})
			}
			sink[w] = total
		}(w)
	}
	wg.Wait()
}

// pickEndpoint draws one endpoint at random with the weights of m.
func pickEndpoint(rng *rand.Rand, m mix) string {
	n := rng.Intn(m.users + m.orders + m.search)
	switch {
	case n < m.users:
		return "/api/users"
	case n < m.users+m.orders:
		return "/api/orders"
	default:
		return "/api/search"
	}
}

// sink keeps each worker's results so the compiler cannot drop the work that made them.
var sink [workers]int

// handleRequest dispatches one request to the handler of its endpoint.
//
//go:noinline
func handleRequest(endpoint string, rng *rand.Rand) int {
	switch endpoint {
	case "/api/users":
		return handleUsers(rng)
	case "/api/orders":
		return handleOrders(rng)
	default:
		return handleSearch(rng)
	}
}

// user is the JSON record returned by /api/users.
type user struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Email string   `json:"email"`
	Tags  []string `json:"tags"`
}

// order is the JSON record returned by /api/orders.
type order struct {
	ID       int       `json:"id"`
	UserID   int       `json:"user_id"`
	Items    []string  `json:"items"`
	Prices   []float64 `json:"prices"`
	Shipping string    `json:"shipping"`
}

// handleUsers computes a "score" with fib and encodes a page of users as JSON.
//
//go:noinline
func handleUsers(rng *rand.Rand) int {
	score := fib(23 + rng.Intn(3))
	users := make([]user, 20)
	for i := range users {
		users[i] = user{
			ID:    i,
			Name:  "user" + strconv.Itoa(i),
			Email: "user" + strconv.Itoa(i) + "@example.com",
			Tags:  []string{"a", "b", "c"},
		}
	}
	return score + len(encodeJSON(users))
}

// handleOrders encodes a page of orders as JSON and gzips the response.
//
//go:noinline
func handleOrders(rng *rand.Rand) int {
	orders := make([]order, 150)
	for i := range orders {
		orders[i] = order{
			ID:       i,
			UserID:   rng.Intn(1000),
			Items:    []string{"book", "pen", "lamp", "mug"},
			Prices:   []float64{9.99, 1.5, 24.0, 7.25},
			Shipping: "standard",
		}
	}
	body := encodeJSON(orders)
	return len(compressResponse(body))
}

// handleSearch builds and walks a search tree and hashes the result page.
//
//go:noinline
func handleSearch(rng *rand.Rand) int {
	root := buildTree(9 + rng.Intn(2))
	hits := 0
	for i := 0; i < 40; i++ {
		hits += walkTree(root)
	}
	page := bytes.Repeat([]byte("result "+strconv.Itoa(hits)+"\n"), 1000)
	sum := hashPayload(page)
	return hits + int(sum[0])
}

// fib is the naive recursive Fibonacci function, pure CPU.
//
//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

// node is one node of the binary tree used by /api/search.
type node struct {
	left, right *node
	value       int
}

// buildTree recursively builds a complete binary tree of the given depth.
//
//go:noinline
func buildTree(depth int) *node {
	if depth == 0 {
		return nil
	}
	return &node{left: buildTree(depth - 1), right: buildTree(depth - 1), value: depth}
}

// walkTree recursively sums the values of the tree.
//
//go:noinline
func walkTree(n *node) int {
	if n == nil {
		return 0
	}
	return n.value + walkTree(n.left) + walkTree(n.right)
}

// encodeJSON marshals v with encoding/json.
//
//go:noinline
func encodeJSON(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// gzipWriters reuses gzip writers, whose setup allocates much more than a request does.
var gzipWriters = sync.Pool{New: func() interface{} { return gzip.NewWriter(nil) }}

// compressResponse gzips body with compress/gzip.
//
//go:noinline
func compressResponse(body []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	if _, err := zw.Write(body); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// hashPayload hashes data several times over with crypto/sha256.
//
//go:noinline
func hashPayload(data []byte) [sha256.Size]byte {
	var sum [sha256.Size]byte
	h := sha256.New()
	for i := 0; i < 4; i++ {
		h.Reset()
		h.Write(sum[:])
		h.Write(data)
		h.Sum(sum[:0])
	}
	return sum
}

// ---------------------------------------------------------------- heap

// samplePoint is the one allocation writeHeap makes at rate 1.
var samplePoint *[16]byte

// writeHeap makes cached, buffered and garbage memory, then writes the heap profile into path.
func writeHeap(path string) {
	// Each P drew its next sample point at start-up, at the default rate of
	// one sample per 512 KiB, so the first few hundred KiB allocated after
	// main changed the rate would not be sampled. Work on a single P and make
	// it take one sample at rate 1, after which it draws points at rate 512.
	procs := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(procs)
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	samplePoint = new([16]byte)
	runtime.MemProfileRate = rate

	cache := fillUserCache(2000)
	buffers := allocBuffers(100, 8<<10)
	garbage := churnStrings(5000)
	// A full GC publishes the allocations above in the heap profile.
	runtime.GC()
	f := create(path)
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
	closeFile(f)
	// The cache and the buffers must still be live when the profile is written.
	runtime.KeepAlive(cache)
	runtime.KeepAlive(buffers)
	log.Printf("heap: %d cached users, %d buffers, %d garbage bytes", len(cache), len(buffers), garbage)
}

// fillUserCache builds a map of n users that stays in use.
//
//go:noinline
func fillUserCache(n int) map[int]*user {
	cache := make(map[int]*user, n)
	for i := 0; i < n; i++ {
		cache[i] = &user{
			ID:    i,
			Name:  "cached-user-" + strconv.Itoa(i),
			Email: "cached" + strconv.Itoa(i) + "@example.com",
		}
	}
	return cache
}

// allocBuffers allocates n buffers of size bytes that stay in use.
//
//go:noinline
func allocBuffers(n, size int) [][]byte {
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, size)
		bufs[i][0] = byte(i)
	}
	return bufs
}

// churnStrings builds n short-lived strings and keeps only their total length.
//
//go:noinline
func churnStrings(n int) int {
	total := 0
	for i := 0; i < n; i++ {
		s := strings.Repeat("x", 100+i%50) + strconv.Itoa(i)
		total += len(s)
	}
	return total
}

// ---------------------------------------------------------------- mutex

// mu is the one lock the mutex-profile functions contend on.
var mu sync.Mutex

// Shared state guarded by mu.
var (
	inventory = map[string]int{}
	metrics   = map[string]float64{}
	logBuf    bytes.Buffer
)

// writeMutex runs contending goroutines for a while and writes the mutex profile into path.
func writeMutex(path string) {
	runtime.SetMutexProfileFraction(1)
	deadline := time.Now().Add(500 * time.Millisecond)
	funcs := []func(int){updateInventory, recordMetric, flushLog}
	var wg sync.WaitGroup
	for _, fn := range funcs {
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func(fn func(int)) {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					fn(i)
				}
			}(fn)
		}
	}
	wg.Wait()
	f := create(path)
	if err := pprof.Lookup("mutex").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
	closeFile(f)
	runtime.SetMutexProfileFraction(0)
}

// updateInventory changes a stock count under the lock.
//
//go:noinline
func updateInventory(i int) {
	mu.Lock()
	inventory["sku-"+strconv.Itoa(i%100)] += 1
	mu.Unlock()
}

// recordMetric adds a measurement under the lock.
//
//go:noinline
func recordMetric(i int) {
	mu.Lock()
	metrics["latency"] += float64(i % 7)
	metrics["requests"]++
	mu.Unlock()
}

// flushLog appends a line to the log buffer and sometimes "flushes" it, all under the lock.
//
//go:noinline
func flushLog(i int) {
	mu.Lock()
	fmt.Fprintf(&logBuf, "request %d done\n", i)
	if logBuf.Len() > 64<<10 {
		sum := sha256.Sum256(logBuf.Bytes())
		logBuf.Reset()
		logBuf.Write(sum[:])
	}
	mu.Unlock()
}
