package call

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
)

func TestPlayOptionsSource(t *testing.T) {
	tone := media.Beep(440, time.Second)
	for _, tc := range []struct {
		o    PlayOptions
		name string
	}{
		{PlayOptions{File: "a.wav"}, "a.wav"},
		{PlayOptions{URL: "http://x/a.wav"}, "http://x/a.wav"},
		{PlayOptions{Reader: strings.NewReader("")}, "reader"},
		{PlayOptions{Tone: &tone, Loop: LoopForever}, "tone"},
		{PlayOptions{Frames: media.NewSliceReader(nil, 8000, 0)}, "frames"},
	} {
		name, err := tc.o.source()
		require.NoError(t, err)
		assert.Equal(t, tc.name, name)
	}
	for _, o := range []PlayOptions{{}, {File: "a", URL: "http://b"}, {Tone: &tone, Loop: -2}} {
		_, err := o.source()
		assert.ErrorIs(t, err, ErrInvalidOptions, "%+v", o)
	}
}

// The per-frame path of Play (read a frame, check for a stop, write it to the queue)
// allocates nothing.
func TestCopyFramesAllocs(t *testing.T) {
	r, err := media.NewToneReader(media.Beep(1000, 0), 8000, 0)
	require.NoError(t, err)
	w := &countWriter{rate: 8000, limit: 50}
	ctx := t.Context()
	p := &pauser{}
	allocs := testing.AllocsPerRun(20, func() {
		w.n = 0
		_, _ = copyFrames(ctx, r, w, p)
	})
	assert.Zero(t, allocs)
}

func BenchmarkCopyFrames(b *testing.B) {
	r, err := media.NewToneReader(media.Beep(1000, 0), 8000, 0)
	require.NoError(b, err)
	w := &countWriter{rate: 8000, limit: 1000}
	b.ReportAllocs()
	for b.Loop() {
		w.n = 0
		_, _ = copyFrames(b.Context(), r, w, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/frame")
}

// countWriter accepts limit frames, then fails (ending copyFrames).
type countWriter struct {
	rate, n, limit int
}

var errFull = fmt.Errorf("full")

func (w *countWriter) SampleRate() int { return w.rate }
func (w *countWriter) WriteFrame(media.Frame) error {
	if w.n >= w.limit {
		return errFull
	}
	w.n++
	return nil
}

// A paused copy writes nothing until resumed, and a stop ends it while paused.
func TestPauser(t *testing.T) {
	var clears atomic.Int32
	p := &pauser{}
	p.owns(func() { clears.Add(1) })
	p.set(true)
	assert.EqualValues(t, 1, clears.Load(), "Pause clears the queue")
	r, err := media.NewToneReader(media.Beep(1000, 0), 8000, 0)
	require.NoError(t, err)
	w := &countWriter{rate: 8000, limit: 10}
	done := make(chan error, 1)
	go func() { _, err := copyFrames(t.Context(), r, w, p); done <- err }()
	select {
	case <-done:
		t.Fatal("copy ran while paused")
	case <-time.After(50 * time.Millisecond):
	}
	p.set(false)
	assert.ErrorIs(t, <-done, errFull)
	assert.Equal(t, 10, w.n)

	p.set(true)
	ctx, cancel := context.WithCancelCause(t.Context())
	go func() { _, err := copyFrames(ctx, r, w, p); done <- err }()
	cancel(errPlaybackStopped)
	assert.ErrorIs(t, <-done, errPlaybackStopped)
}

func TestURLCache(t *testing.T) {
	var hits sync.Map
	var gateMu sync.Mutex
	var gate chan struct{} // when set, downloads wait for it to close
	setGate := func(g chan struct{}) {
		gateMu.Lock()
		gate = g
		gateMu.Unlock()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := hits.LoadOrStore(r.URL.Path, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		gateMu.Lock()
		g := gate
		gateMu.Unlock()
		if g != nil {
			<-g
		}
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/big":
			_, _ = w.Write(bytes.Repeat([]byte{1}, 2000))
		default:
			_, _ = w.Write(bytes.Repeat([]byte(r.URL.Path), 100))
		}
	}))
	defer srv.Close()
	count := func(path string) int32 {
		n, ok := hits.Load(path)
		if !ok {
			return 0
		}
		return n.(*atomic.Int32).Load()
	}
	u := NewURLCache(URLCacheOptions{Client: srv.Client(), MaxBytes: 1000, MaxFileBytes: 1500})
	ctx := t.Context()

	// Ten concurrent requests, one download.
	g := make(chan struct{})
	setGate(g)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			data, err := u.Get(ctx, srv.URL+"/a")
			assert.NoError(t, err)
			assert.Len(t, data, 200)
		})
	}
	require.Eventually(t, func() bool { return count("/a") == 1 }, 5*time.Second, time.Millisecond)
	close(g)
	wg.Wait()
	setGate(nil)
	assert.EqualValues(t, 1, count("/a"))
	st := u.Stats()
	assert.EqualValues(t, 1, st.Downloads)
	assert.EqualValues(t, 9, st.Hits)

	// Bounded: 200 bytes each (a path of 2 characters), 1000 at most: the least
	// recently used go.
	for _, p := range []string{"/b", "/c", "/d", "/e"} {
		_, err := u.Get(ctx, srv.URL+p)
		require.NoError(t, err)
	}
	_, err := u.Get(ctx, srv.URL+"/a") // a is now the most recent
	require.NoError(t, err)
	_, err = u.Get(ctx, srv.URL+"/f")
	require.NoError(t, err)
	assert.LessOrEqual(t, u.Stats().Bytes, int64(1000))
	_, err = u.Get(ctx, srv.URL+"/a")
	require.NoError(t, err)
	assert.EqualValues(t, 1, count("/a"), "recently used: kept")
	_, err = u.Get(ctx, srv.URL+"/b")
	require.NoError(t, err)
	assert.EqualValues(t, 2, count("/b"), "least recently used: evicted, downloaded again")

	// Failures are not kept.
	for range 2 {
		_, err = u.Get(ctx, srv.URL+"/missing")
		assert.ErrorIs(t, err, ErrDownload)
		assert.ErrorContains(t, err, "404")
	}
	assert.EqualValues(t, 2, count("/missing"))
	_, err = u.Get(ctx, srv.URL+"/big")
	assert.ErrorIs(t, err, ErrDownload)
	for _, bad := range []string{"file:///etc/passwd", "ftp://x/y", "no-scheme", "http://"} {
		_, err = u.Get(ctx, bad)
		assert.ErrorIs(t, err, ErrInvalidOptions, bad)
	}

	// A download abandoned by its caller is made again by the next one waiting.
	g = make(chan struct{})
	setGate(g)
	first, cancel := context.WithCancel(ctx)
	errc := make(chan error, 2)
	go func() { _, err := u.Get(first, srv.URL+"/g"); errc <- err }()
	require.Eventually(t, func() bool { return count("/g") == 1 }, 5*time.Second, time.Millisecond)
	go func() { _, err := u.Get(ctx, srv.URL+"/g"); errc <- err }()
	time.Sleep(20 * time.Millisecond) // the second caller waits for the first's download
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	close(g)
	assert.NoError(t, <-errc)
	assert.EqualValues(t, 2, count("/g"))
	srv.CloseClientConnections()
}
