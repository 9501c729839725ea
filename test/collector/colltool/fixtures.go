package main

// mkfixtures writes the request fixtures of test/collector/fixtures: the
// uploads of clients that cannot run here (pyroscope-go's multipart /ingest,
// the Java agent's JFR upload), built from the formats in ../shared/NOTES.md
// section 8 around the profiles in examples/. Nothing is captured from
// anywhere. Boundaries and times are fixed, so every run writes the same
// bytes, except the goroutine profile, which is this tool's own.

import (
	"bytes"
	"flag"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// fixtureTime is the fixed from/until of every fixture (nanoseconds, as pyroscope-go sends them).
const fixtureFromNs = int64(1764547200000000000) // 2025-12-01T00:00:00Z
const fixtureUntilNs = fixtureFromNs + 15*1000000000

// formPart is one file part of a multipart body.
type formPart struct {
	field, filename string
	data            []byte
}

// multipartBody builds a form as Go's mime/multipart writes it, with a fixed boundary.
func multipartBody(parts []formPart) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.SetBoundary("pgpprofcollectorfixture0123456789abcdef")
	for _, p := range parts {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, p.field, p.filename))
		h.Set("Content-Type", "application/octet-stream")
		pw, _ := w.CreatePart(h)
		pw.Write(p.data)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// rawRequest is a whole HTTP/1.1 request as a client puts it on the wire.
func rawRequest(path string, query url.Values, contentType string, headers map[string]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s?%s HTTP/1.1\r\n", path, query.Encode())
	b.WriteString("Host: 127.0.0.1:4040\r\n")
	b.WriteString("User-Agent: Go-http-client/1.1\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("Accept-Encoding: gzip\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// goQuery is the query pyroscope-go's upstream/remote sets on every upload.
func goQuery(name, units, aggregation string, sampleRate int) url.Values {
	q := url.Values{}
	q.Set("name", name)
	q.Set("from", fmt.Sprint(fixtureFromNs))
	q.Set("until", fmt.Sprint(fixtureUntilNs))
	q.Set("spyName", "gospy")
	q.Set("sampleRate", fmt.Sprint(sampleRate))
	q.Set("units", units)
	q.Set("aggregationType", aggregation)
	return q
}

// cmdMkfixtures writes every fixture into -out.
func cmdMkfixtures(args []string) error {
	fs := flag.NewFlagSet("mkfixtures", flag.ExitOnError)
	examples := fs.String("examples", "examples", "folder with cpu_1.pb.gz, heap.pb.gz, mutex.pb.gz")
	out := fs.String("out", "test/collector/fixtures", "output folder")
	fs.Parse(args)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(*examples, name))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return b
	}
	cpu, heap, mutex := read("cpu_1.pb.gz"), read("heap.pb.gz"), read("mutex.pb.gz")
	var goroutines bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&goroutines, 0)

	// pyroscope-go's sample_type_config values (session.go), JSON as encoding/json writes them
	mutexConfig := []byte(`{"contentions":{"units":"lock_samples","display-name":"mutex_count"},"delay":{"units":"lock_nanoseconds","display-name":"mutex_duration"}}`)
	blockConfig := []byte(`{"contentions":{"units":"lock_samples","display-name":"block_count"},"delay":{"units":"lock_nanoseconds","display-name":"block_duration"}}`)
	heapConfig := []byte(`{"alloc_objects":{"units":"objects"},"alloc_space":{"units":"bytes"},"inuse_objects":{"units":"objects","aggregation":"average"},"inuse_space":{"units":"bytes","aggregation":"average"}}`)
	goroutineConfig := []byte(`{"goroutine":{"units":"goroutines","aggregation":"average","display-name":"goroutines"}}`)
	name := "shop-go{env=fixture,region=eu-west}"

	fixtures := []struct {
		file  string
		query url.Values
		parts []formPart
	}{
		{"pyroscope-go-cpu.http", goQuery(name, "samples", "sum", 100),
			[]formPart{{"profile", "profile.pprof", cpu}}},
		{"pyroscope-go-heap.http", goQuery(name, "", "", 100),
			[]formPart{{"profile", "profile.pprof", heap}, {"sample_type_config", "sample_type_config.json", heapConfig}}},
		{"pyroscope-go-mutex.http", goQuery(name, "", "", 0),
			[]formPart{{"profile", "profile.pprof", mutex}, {"sample_type_config", "sample_type_config.json", mutexConfig}}},
		// a block profile has a mutex profile's sample types: only the config tells them apart
		{"pyroscope-go-block.http", goQuery(name, "", "", 0),
			[]formPart{{"profile", "profile.pprof", mutex}, {"sample_type_config", "sample_type_config.json", blockConfig}}},
		{"pyroscope-go-goroutines.http", goQuery(name, "goroutines", "average", 0),
			[]formPart{{"profile", "profile.pprof", goroutines.Bytes()}, {"sample_type_config", "sample_type_config.json", goroutineConfig}}},
		// the old cumulative protocol (a prev_profile part), which Pyroscope refuses
		{"pyroscope-go-prev-profile.http", goQuery(name, "", "", 0),
			[]formPart{{"profile", "profile.pprof", mutex}, {"prev_profile", "profile.pprof", mutex}}},
	}
	if err := os.MkdirAll(*out, 0755); err != nil {
		return err
	}
	for _, f := range fixtures {
		body, ct := multipartBody(f.parts)
		if err := os.WriteFile(filepath.Join(*out, f.file), rawRequest("/ingest", f.query, ct, nil, body), 0644); err != nil {
			return err
		}
	}

	// the Java agent: format=jfr, a multipart form with a jfr part (the
	// recording) and a labels part, or the recording as the raw body. The
	// recording here is only a chunk header ("FLR\0", version 2.0): the
	// collector must refuse it (415) before reading it.
	jfr := append([]byte("FLR\x00\x00\x02\x00\x00"), make([]byte, 60)...)
	jq := url.Values{}
	jq.Set("name", "shop-java{env=fixture}")
	jq.Set("format", "jfr")
	jq.Set("from", "1764547200")
	jq.Set("until", "1764547210")
	jq.Set("spyName", "javaspy")
	jq.Set("sampleRate", "100")
	jq.Set("units", "samples")
	jq.Set("aggregationType", "sum")
	body, ct := multipartBody([]formPart{{"jfr", "jfr", jfr}, {"labels", "labels", []byte{}}})
	javaHeaders := map[string]string{}
	if err := os.WriteFile(filepath.Join(*out, "java-jfr.http"), rawRequest("/ingest", jq, ct, javaHeaders, body), 0644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "java-jfr-raw.http"), rawRequest("/ingest", jq, "application/octet-stream", javaHeaders, jfr), 0644); err != nil {
		return err
	}
	fmt.Printf("wrote %d fixtures into %s\n", len(fixtures)+2, *out)
	return nil
}
