package instrument_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestStrictHeldMemory checks that the bound on what strict mode holds is a
// bound on the process's live heap: with many concurrent large responses,
// some past the bound of one response and more than the total bound allows,
// the heap in use while they are all held grows by at most maxHeld plus a
// fixed slack for the requests themselves (their goroutines' records,
// contexts and response recorders).
func TestStrictHeldMemory(t *testing.T) {
	const (
		maxResponse = 1 << 20
		maxHeld     = 4 << 20
		first       = 3  // responses held before the others start: they fit
		others      = 37 // started together once the first ones hold
		// slack is what the 40 requests take besides their held bodies
		// (about 0.1 MiB measured).
		slack = 1 << 20
	)
	piece := bytes.Repeat([]byte("x"), 32<<10)
	sizes := map[string]int{
		"/under": maxResponse - len(piece), // within the bound of one response
		"/over":  maxResponse + len(piece), // past it at the last write
	}
	wrote := make(chan struct{}, first+others)
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for n := 0; n < sizes[r.URL.Path]; n += len(piece) {
			if _, err := w.Write(piece); err != nil {
				break
			}
		}
		wrote <- struct{}{}
		<-release
	})
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(sdklogtest.Nop{})))
	h := instrument.NewHandler(handler, instrument.WithLoggerProvider(lp), instrument.WithHostName("h"),
		instrument.WithStrict(func() error { return nil }), instrument.WithStrictLimits(maxResponse, maxHeld))

	type result struct {
		path   string
		status int
		size   int
	}
	results := make([]result, first+others)
	serve := func(i int, path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		results[i] = result{path, rec.Code, rec.Body.Len()}
	}

	var before, during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	var wg sync.WaitGroup
	for i := range first {
		wg.Go(func() { serve(i, "/under") })
	}
	for range first {
		<-wrote
	}
	for i := first; i < first+others; i++ {
		path := "/under"
		if i%2 == 0 {
			path = "/over"
		}
		wg.Go(func() { serve(i, path) })
	}
	for range others {
		<-wrote
	}
	// Every handler has written all it could and is waiting: what the heap
	// holds now is what strict mode holds, plus the requests.
	runtime.GC()
	runtime.ReadMemStats(&during)
	close(release)
	wg.Wait()

	grown := int64(during.HeapInuse) - int64(before.HeapInuse)
	if grown > maxHeld+slack {
		t.Errorf("the heap in use grew by %.1f MiB while the responses were held; strict mode may hold %d MiB (+%d MiB slack)",
			float64(grown)/(1<<20), maxHeld>>20, slack>>20)
	}
	for i, r := range results {
		switch {
		case i < first && (r.status != http.StatusOK || r.size != sizes[r.path]):
			t.Errorf("response %d (%s), held before the others started: %d with %d bytes, want 200 with %d",
				i, r.path, r.status, r.size, sizes[r.path])
		case r.path == "/over" && r.status != http.StatusServiceUnavailable:
			t.Errorf("response %d past the bound of one response: %d, want 503", i, r.status)
		case r.status == http.StatusOK && r.size != sizes[r.path]:
			t.Errorf("response %d (%s): 200 with %d bytes, want %d", i, r.path, r.size, sizes[r.path])
		case r.status != http.StatusOK && r.status != http.StatusServiceUnavailable:
			t.Errorf("response %d (%s): %d, want 200 or 503", i, r.path, r.status)
		}
	}
	t.Logf("heap in use grew by %.2f MiB", float64(grown)/(1<<20))
}
