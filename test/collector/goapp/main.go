// Command goapp is the Go service test/collector.sh scrapes: it serves the
// standard library's net/http/pprof handlers while it burns CPU, allocates,
// contends on a mutex and blocks on channels, so every profile the
// collector scrapes (cpu, allocs, mutex, block, goroutine) has samples.
//
// With -save DIR it also writes every allocs, mutex and block profile it
// serves to DIR/KIND-NNNN.pb.gz, in the order served, so the test can check
// the collector's deltas against the cumulative profiles themselves.
package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// sink keeps allocations alive long enough to be sampled.
var sink [][]byte
var sinkMu sync.Mutex

// hotLoop burns CPU hashing, the function the CPU profile should show on
// top: about a third of a core, so the tests around it keep some room.
func hotLoop() {
	buf := make([]byte, 4096)
	for {
		end := time.Now().Add(30 * time.Millisecond)
		for time.Now().Before(end) {
			sum := sha256.Sum256(buf)
			buf[0] = sum[0]
		}
		time.Sleep(60 * time.Millisecond)
	}
}

// allocateBuffers allocates fixed-size buffers, so each stack's allocation counts only grow.
func allocateBuffers() {
	for {
		b := make([]byte, 64*1024)
		sinkMu.Lock()
		sink = append(sink, b)
		if len(sink) > 64 {
			sink = sink[1:]
		}
		sinkMu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
}

// contendMutex holds a shared lock for a while from several goroutines.
func contendMutex(mu *sync.Mutex) {
	for {
		mu.Lock()
		time.Sleep(time.Millisecond)
		mu.Unlock()
		runtime.Gosched()
	}
}

// blockOnChannel waits on a channel that a slow sender feeds.
func blockOnChannel(ch chan int) {
	for range ch {
	}
}

// slowSender feeds the channel every few milliseconds.
func slowSender(ch chan int) {
	for i := 0; ; i++ {
		time.Sleep(3 * time.Millisecond)
		ch <- i
	}
}

// teeWriter records what a handler writes while passing it on.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}

// saving wraps a profile handler so that every profile it serves is also saved.
func saving(dir, kind string, h http.Handler) http.Handler {
	var mu sync.Mutex
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if dir != "" && r.URL.Query().Get("debug") == "" {
			n++
			name := filepath.Join(dir, fmt.Sprintf("%s-%04d.pb.gz", kind, n))
			if err := os.WriteFile(name, tw.buf.Bytes(), 0644); err != nil {
				log.Printf("save %s: %v", name, err)
			}
		}
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	save := flag.String("save", "", "folder to save the cumulative profiles served")
	portFile := flag.String("port-file", "", "write the listen address here")
	flag.Parse()

	// every allocation is sampled, so each stack's counts and bytes only grow
	// (with sampling, Go's estimate of a stack whose sizes vary can shrink)
	runtime.MemProfileRate = 1
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	mu := &sync.Mutex{}
	ch := make(chan int)
	go hotLoop()
	go allocateBuffers()
	for i := 0; i < 4; i++ {
		go contendMutex(mu)
	}
	go blockOnChannel(ch)
	go slowSender(ch)

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	for _, kind := range []string{"allocs", "mutex", "block"} {
		mux.Handle("/debug/pprof/"+kind, saving(*save, kind, pprof.Handler(kind)))
	}
	mux.Handle("/debug/pprof/goroutine", pprof.Handler("goroutine"))
	// a wrong answer, for the scrape loop's error handling
	mux.HandleFunc("/bad/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/allocs") {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>not a profile</html>"))
			return
		}
		http.Error(w, "nope", http.StatusInternalServerError)
	})
	// an answer that comes too late, for the scrape loop's timeout
	mux.HandleFunc("/slow/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
		http.Error(w, "too late", http.StatusServiceUnavailable)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *portFile != "" {
		os.WriteFile(*portFile, []byte(ln.Addr().String()), 0644)
	}
	log.Fatal(http.Serve(ln, mux))
}
