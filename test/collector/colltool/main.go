// Command colltool drives pg_pprof_collector in the tests
// (test/collector.sh). Standard library only, built in
// GOPATH mode with pp_go_build.
//
//	colltool replay -addr HOST:PORT FILE...        send raw HTTP request files, print each status
//	colltool push -url URL [-json] [-gzip] ...      one Connect push, print status and body
//	colltool slowloris -addr HOST:PORT -mode M      trickle a request, print when the server cut it
//	colltool idle -addr HOST:PORT -n N ...          hold N idle connections, check the server still serves
//	colltool proxy -listen ADDR -target URL -log F  a counting reverse proxy (one JSON line per request)
//	colltool garbage -url URL -n N -seed S          random and mangled bodies to every endpoint
//	colltool mkfixtures -examples DIR -out DIR      write the request fixtures of test/collector/fixtures
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: colltool replay|push|slowloris|idle|proxy|garbage|mkfixtures ...")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"replay": cmdReplay, "push": cmdPush, "slowloris": cmdSlowloris, "idle": cmdIdle,
		"proxy": cmdProxy, "garbage": cmdGarbage, "mkfixtures": cmdMkfixtures,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "colltool: unknown command %s\n", os.Args[1])
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "colltool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// cmdReplay sends each file as the exact bytes of one HTTP request and prints
// "FILE STATUS FIRST-LINE-OF-BODY".
func cmdReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:4040", "collector address")
	fs.Parse(args)
	for _, f := range fs.Args() {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		status, body, err := rawExchange(*addr, raw, 20*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		first := strings.SplitN(strings.TrimSpace(body), "\n", 2)[0]
		fmt.Printf("%s %d %s\n", f, status, first)
	}
	return nil
}

// rawExchange writes raw to a new connection and reads one HTTP response.
func rawExchange(addr string, raw []byte, timeout time.Duration) (int, string, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(raw); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

// appendVarint appends v as a protobuf varint.
func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendField appends a length-delimited protobuf field.
func appendField(b []byte, field int, data []byte) []byte {
	b = appendVarint(b, uint64(field<<3|2))
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// labelPair is one series label of a push.
type labelPair struct{ Name, Value string }

// pushRequestProto encodes push.v1.PushRequest{series: [{labels, samples}]}.
func pushRequestProto(labels []labelPair, profiles [][]byte) []byte {
	var series []byte
	for _, l := range labels {
		var lp []byte
		lp = appendField(lp, 1, []byte(l.Name))
		lp = appendField(lp, 2, []byte(l.Value))
		series = appendField(series, 1, lp)
	}
	for i, p := range profiles {
		var s []byte
		s = appendField(s, 1, p)
		s = appendField(s, 2, []byte(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)))
		series = appendField(series, 2, s)
	}
	return appendField(nil, 1, series)
}

// pushRequestJSON encodes the same request in Connect's JSON mapping.
func pushRequestJSON(labels []labelPair, profiles [][]byte) []byte {
	type sample struct {
		RawProfile string `json:"rawProfile"`
		ID         string `json:"ID"`
	}
	type series struct {
		Labels  []map[string]string `json:"labels"`
		Samples []sample            `json:"samples"`
	}
	s := series{}
	for _, l := range labels {
		s.Labels = append(s.Labels, map[string]string{"name": l.Name, "value": l.Value})
	}
	for i, p := range profiles {
		s.Samples = append(s.Samples, sample{base64.StdEncoding.EncodeToString(p), fmt.Sprintf("id-%d", i)})
	}
	out, _ := json.Marshal(map[string]interface{}{"series": []series{s}})
	return out
}

// gzipBytes compresses b.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// labelFlags collects repeated -label k=v flags.
type labelFlags []labelPair

func (l *labelFlags) String() string { return fmt.Sprint(*l) }
func (l *labelFlags) Set(v string) error {
	kv := strings.SplitN(v, "=", 2)
	if len(kv) != 2 {
		return fmt.Errorf("label %q is not k=v", v)
	}
	*l = append(*l, labelPair{kv[0], kv[1]})
	return nil
}

// cmdPush sends one Connect unary push and prints "STATUS BODY".
func cmdPush(args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	u := fs.String("url", "http://127.0.0.1:4040", "collector base URL")
	asJSON := fs.Bool("json", false, "application/json instead of application/proto")
	gz := fs.Bool("gzip", false, "Content-Encoding: gzip")
	raw := fs.String("raw", "", "send this file as the whole body instead of building a request")
	contentType := fs.String("content-type", "", "override the Content-Type")
	var labels labelFlags
	fs.Var(&labels, "label", "series label k=v (repeat)")
	fs.Parse(args)
	var profiles [][]byte
	for _, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		profiles = append(profiles, b)
	}
	var body []byte
	ct := "application/proto"
	if *asJSON {
		ct = "application/json"
		body = pushRequestJSON(labels, profiles)
	} else {
		body = pushRequestProto(labels, profiles)
	}
	if *raw != "" {
		b, err := os.ReadFile(*raw)
		if err != nil {
			return err
		}
		body = b
	}
	if *contentType != "" {
		ct = *contentType
	}
	if *gz {
		body = gzipBytes(body)
	}
	req, _ := http.NewRequest("POST", *u+"/push.v1.PusherService/Push", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Connect-Protocol-Version", "1")
	if *gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s\n", resp.StatusCode, strings.TrimSpace(string(rb)))
	return nil
}

// cmdSlowloris trickles one request a byte at a time and prints how long the
// server let it live: "closed_after_seconds=S status=N" (status 0: cut without an answer).
func cmdSlowloris(args []string) error {
	fs := flag.NewFlagSet("slowloris", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:4040", "collector address")
	mode := fs.String("mode", "headers", "headers: trickle the header lines; body: trickle the body")
	every := fs.Duration("every", 500*time.Millisecond, "time between bytes")
	max := fs.Duration("max", 60*time.Second, "give up after this long")
	fs.Parse(args)
	conn, err := net.Dial("tcp", *addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	start := time.Now()
	var trickle []byte
	if *mode == "headers" {
		conn.Write([]byte("POST /ingest?name=slow&format=pprof HTTP/1.1\r\nHost: x\r\n"))
		trickle = []byte(strings.Repeat("X-Slow: aaaaaaaaaaaaaaaa\r\n", 10000))
	} else {
		conn.Write([]byte("POST /ingest?name=slow&format=pprof HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"))
		trickle = bytes.Repeat([]byte{0}, 100000)
	}
	reader := bufio.NewReader(conn)
	closed := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(reader, nil)
		if err != nil {
			closed <- 0
			return
		}
		closed <- resp.StatusCode
	}()
	for i := 0; i < len(trickle); i++ {
		select {
		case status := <-closed:
			fmt.Printf("closed_after_seconds=%.1f status=%d\n", time.Since(start).Seconds(), status)
			return nil
		case <-time.After(*every):
		}
		if time.Since(start) > *max {
			fmt.Printf("closed_after_seconds=never status=0\n")
			return nil
		}
		if _, err := conn.Write(trickle[i : i+1]); err != nil {
			select {
			case status := <-closed:
				fmt.Printf("closed_after_seconds=%.1f status=%d\n", time.Since(start).Seconds(), status)
			case <-time.After(2 * time.Second):
				fmt.Printf("closed_after_seconds=%.1f status=0\n", time.Since(start).Seconds())
			}
			return nil
		}
	}
	fmt.Printf("closed_after_seconds=never status=0\n")
	return nil
}

// cmdIdle opens n idle connections, then checks the server still answers GET
// /ready and an upload, and after hold counts how many idle connections the
// server closed. Prints key=value pairs.
func cmdIdle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:4040", "collector address")
	n := fs.Int("n", 1000, "idle connections")
	hold := fs.Duration("hold", 10*time.Second, "how long to keep them before counting")
	upload := fs.String("upload", "", "a pprof file to upload while they are open")
	fs.Parse(args)
	var conns []net.Conn
	for i := 0; i < *n; i++ {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			fmt.Printf("opened=%d open_error=%q\n", i, err.Error())
			break
		}
		conns = append(conns, c)
	}
	time.Sleep(500 * time.Millisecond)
	client := &http.Client{Timeout: 10 * time.Second}
	t0 := time.Now()
	resp, err := client.Get("http://" + *addr + "/ready")
	readyStatus := 0
	if err == nil {
		readyStatus = resp.StatusCode
		resp.Body.Close()
	}
	readyMs := time.Since(t0).Milliseconds()
	uploadStatus := 0
	if *upload != "" {
		b, _ := os.ReadFile(*upload)
		r2, err := client.Post("http://"+*addr+"/ingest?name=idle-check&format=pprof", "application/octet-stream", bytes.NewReader(b))
		if err == nil {
			uploadStatus = r2.StatusCode
			r2.Body.Close()
		}
	}
	time.Sleep(*hold)
	closedByServer := 0
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			one := make([]byte, 1)
			_, err := c.Read(one)
			if err == io.EOF || (err != nil && !isTimeout(err)) {
				mu.Lock()
				closedByServer++
				mu.Unlock()
			}
			c.Close()
		}(c)
	}
	wg.Wait()
	fmt.Printf("opened=%d ready_status=%d ready_ms=%d upload_status=%d closed_by_server=%d\n",
		len(conns), readyStatus, readyMs, uploadStatus, closedByServer)
	return nil
}

// isTimeout tells a read deadline from a closed connection.
func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// cmdProxy forwards every request to target and logs one JSON line per
// request: {"time":..., "path":..., "status":...}. It is the test's count of
// what a client was told.
func cmdProxy(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	target := fs.String("target", "http://127.0.0.1:4040", "collector base URL")
	logPath := fs.String("log", "proxy.log", "JSON lines log")
	fs.Parse(args)
	tu, err := url.Parse(*target)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	rp := httputil.NewSingleHostReverseProxy(tu)
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusBadGateway)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		start := time.Now()
		rp.ServeHTTP(rec, r)
		line, _ := json.Marshal(map[string]interface{}{
			"time": start.UTC().Format(time.RFC3339Nano), "path": r.URL.Path,
			"query": r.URL.RawQuery, "status": rec.status, "ms": time.Since(start).Milliseconds(),
		})
		mu.Lock()
		logf.Write(append(line, '\n'))
		mu.Unlock()
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	os.Stdout.Sync()
	return http.Serve(ln, handler)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// cmdGarbage sends n random or mangled bodies (seeded, so runs repeat) to
// /ingest and the push endpoint, and prints how many answers fell in each
// status class; a connection error counts as status 0.
func cmdGarbage(args []string) error {
	fs := flag.NewFlagSet("garbage", flag.ExitOnError)
	u := fs.String("url", "http://127.0.0.1:4040", "collector base URL")
	n := fs.Int("n", 200, "requests")
	seed := fs.Int64("seed", 1, "random seed")
	fs.Parse(args)
	var seeds [][]byte
	for _, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err == nil {
			seeds = append(seeds, b)
		}
	}
	rng := rand.New(rand.NewSource(*seed))
	client := &http.Client{Timeout: 20 * time.Second}
	counts := map[int]int{}
	for i := 0; i < *n; i++ {
		var body []byte
		switch {
		case len(seeds) > 0 && i%3 != 0:
			src := seeds[rng.Intn(len(seeds))]
			body = append([]byte(nil), src...)
			for k := 0; k < 1+rng.Intn(8); k++ {
				body[rng.Intn(len(body))] = byte(rng.Intn(256))
			}
			if rng.Intn(2) == 0 {
				body = body[:rng.Intn(len(body))]
			}
		default:
			body = make([]byte, rng.Intn(4096))
			rng.Read(body)
		}
		var req *http.Request
		switch i % 4 {
		case 0:
			req, _ = http.NewRequest("POST", *u+"/ingest?name=garbage&format=pprof", bytes.NewReader(body))
		case 1:
			req, _ = http.NewRequest("POST", *u+"/ingest?name=garbage.cpu", bytes.NewReader(body))
		case 2:
			req, _ = http.NewRequest("POST", *u+"/push.v1.PusherService/Push", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/proto")
		default:
			req, _ = http.NewRequest("POST", *u+"/push.v1.PusherService/Push", bytes.NewReader(pushRequestProto(
				[]labelPair{{"service_name", "garbage"}}, [][]byte{body})))
			req.Header.Set("Content-Type", "application/proto")
		}
		resp, err := client.Do(req)
		if err != nil {
			counts[0]++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		counts[resp.StatusCode/100*100]++
	}
	keys := []int{}
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		fmt.Printf("status_%d=%d ", k, counts[k])
	}
	fmt.Println()
	return nil
}
