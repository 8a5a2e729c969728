package stttest

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/stt"
)

// Options tune Run.
type Options struct {
	// SampleRate is the rate of Audio and of the sessions, in Hz. Zero means 16000.
	SampleRate int
	// Audio is what Run feeds the sessions: at least one utterance the recognizer
	// returns a non-empty final result for, ending in silence, shorter than the audio
	// the recognizer buffers. Nil means Synthetic(SampleRate), which suits fakes that
	// react to sound; give a real engine real speech.
	Audio []int16
	// Config is the base configuration of every session; Run sets its SampleRate.
	Config stt.Config
	// Deterministic says that the recognizer returns the same final transcripts for
	// the same audio whatever the timing of the calls; Run then checks that every
	// session in every subtest agrees.
	Deterministic bool
	// Concurrency is the number of sessions the concurrency subtest runs at once.
	// Zero means 4.
	Concurrency int
	// Timeout is the hang guard of each blocking step: a Recv that does not return
	// within it fails the test. Zero means 30 s. It bounds hangs only; how long steps
	// take is logged, not judged.
	Timeout time.Duration
}

// Run is the conformance test of an stt.Recognizer: every provider passes it, and fakes
// used in tests of other packages do too. newRecognizer is called once per subtest; it
// may return the same Recognizer every time, and should register any cleanup (closing
// the recognizer) with t.Cleanup.
//
// The subtests check: results follow the stt.Result contract (Validate) and include a
// non-empty final; Recv returns io.EOF after Close once drained, and keeps doing so;
// audio written before any Recv is still recognised (Close finishes it); WriteFrame
// rejects other rates with media.ErrRateMismatch and writes after Close with
// media.ErrClosed; cancelling the context makes a blocked Recv return the context's
// error; Close while another goroutine streams frames and one waits in Recv ends both
// cleanly; several sessions run concurrently; Finalize, where implemented, produces a
// final result without further audio; and no goroutine is left behind (goleak), so do
// not run Run in parallel with other tests.
//
// Writers treat stt.ErrOverflow as back-pressure: they wait a millisecond and write the
// frame again.
func Run(t *testing.T, newRecognizer func(t *testing.T) stt.Recognizer, opts Options) {
	t.Helper()
	k := &kit{opts: opts}
	if k.opts.SampleRate == 0 {
		k.opts.SampleRate = 16000
	}
	if k.opts.Audio == nil {
		k.opts.Audio = Synthetic(k.opts.SampleRate)
	}
	if k.opts.Concurrency == 0 {
		k.opts.Concurrency = 4
	}
	if k.opts.Timeout == 0 {
		k.opts.Timeout = 30 * time.Second
	}
	k.opts.Config.SampleRate = k.opts.SampleRate
	k.frames = Frames(k.opts.Audio, k.opts.SampleRate)
	ignore := goleak.IgnoreCurrent()

	sub := func(name string, fn func(t *testing.T, r stt.Recognizer)) {
		t.Run(name, func(t *testing.T) {
			fn(t, newRecognizer(t))
			goleak.VerifyNone(t, ignore)
		})
	}
	sub("Stream", k.stream)
	sub("WriteAllThenRecv", k.writeAllThenRecv)
	sub("RateMismatch", k.rateMismatch)
	sub("CancelWhileWaiting", k.cancelWhileWaiting)
	sub("CancelMidStream", k.cancelMidStream)
	sub("CancelBeforeStart", k.cancelBeforeStart)
	sub("CloseWhileWaiting", k.closeWhileWaiting)
	sub("CloseWhileStreaming", k.closeWhileStreaming)
	sub("Concurrent", k.concurrent)
	sub("Finalize", k.finalize)
}

type kit struct {
	opts   Options
	frames []media.Frame

	mu       sync.Mutex
	baseline []string // finals of the first complete session, for Deterministic
}

func (k *kit) start(t *testing.T, ctx context.Context, r stt.Recognizer) stt.Session {
	t.Helper()
	s, err := r.Start(ctx, k.opts.Config)
	require.NoError(t, err, "Start")
	require.NotNil(t, s, "Start returned a nil session")
	require.Equal(t, k.opts.SampleRate, s.SampleRate(), "session SampleRate")
	return s
}

// write writes f, retrying while the session reports stt.ErrOverflow.
func write(s stt.Session, f media.Frame) error {
	for {
		err := s.WriteFrame(f)
		if !errors.Is(err, stt.ErrOverflow) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

type recvResult struct {
	results []stt.Result
	err     error // the error that ended the loop: io.EOF on a clean end
}

// drain runs Recv on its own goroutine until it fails, and delivers what it got.
func drain(s stt.Session) <-chan recvResult {
	ch := make(chan recvResult, 1)
	go func() {
		var rr recvResult
		for {
			r, err := s.Recv()
			if err != nil {
				rr.err = err
				ch <- rr
				return
			}
			rr.results = append(rr.results, r)
		}
	}()
	return ch
}

func (k *kit) wait(t *testing.T, ch <-chan recvResult, what string) recvResult {
	t.Helper()
	select {
	case rr := <-ch:
		return rr
	case <-time.After(k.opts.Timeout):
		t.Fatalf("%s: Recv did not return within %v", what, k.opts.Timeout)
		return recvResult{}
	}
}

func finals(results []stt.Result) []string {
	var out []string
	for _, r := range results {
		if r.Final {
			out = append(out, r.Text)
		}
	}
	return out
}

// check validates a complete result sequence and compares its finals with the
// baseline when the recognizer is deterministic.
func (k *kit) check(t *testing.T, results []stt.Result, complete bool) {
	t.Helper()
	require.NoError(t, Validate(results))
	if !complete {
		return
	}
	got := finals(results)
	require.NotEmpty(t, strings.TrimSpace(strings.Join(got, "")), "no final result with text; results: %+v", results)
	if !k.opts.Deterministic {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.baseline == nil {
		k.baseline = got
		return
	}
	assert.Equal(t, k.baseline, got, "final transcripts differ from the first session's")
}

func (k *kit) afterEOF(t *testing.T, s stt.Session) {
	t.Helper()
	for range 2 {
		_, err := s.Recv()
		require.ErrorIs(t, err, io.EOF, "Recv after EOF")
	}
	err := s.WriteFrame(k.frames[0])
	require.ErrorIs(t, err, media.ErrClosed, "WriteFrame after Close")
	if err := s.Close(); err != nil {
		require.ErrorIs(t, err, media.ErrClosed, "second Close returns nil or media.ErrClosed")
	}
}

func (k *kit) stream(t *testing.T, r stt.Recognizer) {
	s := k.start(t, t.Context(), r)
	ch := drain(s)
	began := time.Now()
	for _, f := range k.frames {
		require.NoError(t, write(s, f))
	}
	require.NoError(t, s.Close())
	rr := k.wait(t, ch, "stream")
	require.ErrorIs(t, rr.err, io.EOF)
	t.Logf("%d results, finals %q, %v wall for %v of audio", len(rr.results), finals(rr.results),
		time.Since(began).Round(time.Millisecond), time.Duration(len(k.opts.Audio))*time.Second/time.Duration(k.opts.SampleRate))
	k.check(t, rr.results, true)
	k.afterEOF(t, s)
}

func (k *kit) writeAllThenRecv(t *testing.T, r stt.Recognizer) {
	s := k.start(t, t.Context(), r)
	for i, f := range k.frames {
		err := s.WriteFrame(f)
		require.NoError(t, err, "frame %d written with no Recv running (is Options.Audio longer than the engine buffers?)", i)
	}
	require.NoError(t, s.Close())
	rr := k.wait(t, drain(s), "drain after Close")
	require.ErrorIs(t, rr.err, io.EOF)
	k.check(t, rr.results, true)
	k.afterEOF(t, s)
}

func (k *kit) rateMismatch(t *testing.T, r stt.Recognizer) {
	s := k.start(t, t.Context(), r)
	other := k.opts.SampleRate * 2
	err := s.WriteFrame(media.Frame{Samples: make([]int16, media.SamplesPer(other, media.DefaultFrameDuration)), SampleRate: other})
	require.ErrorIs(t, err, media.ErrRateMismatch)
	require.NoError(t, s.Close())
	rr := k.wait(t, drain(s), "drain after Close")
	require.ErrorIs(t, rr.err, io.EOF)
	require.NoError(t, Validate(rr.results))
}

// cancelled checks what follows a cancellation: Recv and WriteFrame report it, Close
// still works.
func (k *kit) cancelled(t *testing.T, s stt.Session, ch <-chan recvResult, cancelledAt time.Time) {
	t.Helper()
	rr := k.wait(t, ch, "Recv after cancel")
	t.Logf("Recv returned %v after cancel (%d results before)", time.Since(cancelledAt).Round(time.Microsecond), len(rr.results))
	require.ErrorIs(t, rr.err, context.Canceled, "Recv after cancel")
	require.ErrorIs(t, s.WriteFrame(k.frames[0]), context.Canceled, "WriteFrame after cancel")
	require.NoError(t, validate(rr.results, false))
	_ = s.Close() // any outcome, but it must return
	_, err := s.Recv()
	require.Error(t, err, "Recv after cancel and Close")
}

func (k *kit) cancelWhileWaiting(t *testing.T, r stt.Recognizer) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := k.start(t, ctx, r)
	ch := drain(s)
	time.Sleep(10 * time.Millisecond) // let Recv block (either order is valid)
	cancel()
	k.cancelled(t, s, ch, time.Now())
}

func (k *kit) cancelMidStream(t *testing.T, r stt.Recognizer) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := k.start(t, ctx, r)
	ch := drain(s)
	for _, f := range k.frames[:len(k.frames)/2] {
		require.NoError(t, write(s, f))
	}
	at := time.Now()
	cancel()
	k.cancelled(t, s, ch, at)
}

func (k *kit) cancelBeforeStart(t *testing.T, r stt.Recognizer) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := r.Start(ctx, k.opts.Config)
	if err != nil {
		require.ErrorIs(t, err, context.Canceled, "Start with a cancelled context")
		return
	}
	rr := k.wait(t, drain(s), "Recv on a session started cancelled")
	require.ErrorIs(t, rr.err, context.Canceled)
	_ = s.Close()
}

func (k *kit) closeWhileWaiting(t *testing.T, r stt.Recognizer) {
	s := k.start(t, t.Context(), r)
	ch := drain(s)
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, s.Close())
	rr := k.wait(t, ch, "Recv after Close")
	require.ErrorIs(t, rr.err, io.EOF)
	require.NoError(t, Validate(rr.results))
	k.afterEOF(t, s)
}

func (k *kit) closeWhileStreaming(t *testing.T, r stt.Recognizer) {
	s := k.start(t, t.Context(), r)
	ch := drain(s)
	var written atomic.Int64
	half := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		for {
			for _, f := range k.frames {
				// About 20 times real time: fast, but the backlog Close has to
				// finish stays small.
				time.Sleep(time.Millisecond)
				if err := write(s, f); err != nil {
					werr <- err
					return
				}
				if written.Add(1) == int64(len(k.frames)/2) {
					close(half)
				}
			}
		}
	}()
	<-half
	require.NoError(t, s.Close())
	select {
	case err := <-werr:
		require.ErrorIs(t, err, media.ErrClosed, "the writer's error after Close")
	case <-time.After(k.opts.Timeout):
		t.Fatalf("WriteFrame kept succeeding for %v after Close", k.opts.Timeout)
	}
	rr := k.wait(t, ch, "Recv after Close")
	require.ErrorIs(t, rr.err, io.EOF)
	t.Logf("closed after %d frames; %d results", written.Load(), len(rr.results))
	require.NoError(t, Validate(rr.results))
}

func (k *kit) concurrent(t *testing.T, r stt.Recognizer) {
	n := k.opts.Concurrency
	type out struct {
		rr  recvResult
		err error
	}
	outs := make([]out, n)
	var wg sync.WaitGroup
	began := time.Now()
	for i := range n {
		wg.Go(func() {
			s, err := r.Start(t.Context(), k.opts.Config)
			if err != nil {
				outs[i].err = err
				return
			}
			ch := drain(s)
			for _, f := range k.frames {
				if err := write(s, f); err != nil {
					outs[i].err = err
					break
				}
			}
			if err := s.Close(); err != nil && outs[i].err == nil {
				outs[i].err = err
			}
			select {
			case outs[i].rr = <-ch:
			case <-time.After(k.opts.Timeout):
				outs[i].err = errors.New("Recv did not return after Close")
			}
		})
	}
	wg.Wait()
	t.Logf("%d sessions of %v of audio each in %v", n,
		time.Duration(len(k.opts.Audio))*time.Second/time.Duration(k.opts.SampleRate), time.Since(began).Round(time.Millisecond))
	for i, o := range outs {
		require.NoError(t, o.err, "session %d", i)
		require.ErrorIs(t, o.rr.err, io.EOF, "session %d", i)
		k.check(t, o.rr.results, true)
	}
}

// firstSound returns the index of the frame in the middle of the first stretch of
// frames louder than DefaultLevel.
func (k *kit) firstSound() int {
	thr := math.Pow(10, DefaultLevel/20) * 32768
	from := -1
	for i, f := range k.frames {
		var sum float64
		for _, x := range f.Samples {
			sum += float64(x) * float64(x)
		}
		loud := len(f.Samples) > 0 && math.Sqrt(sum/float64(len(f.Samples))) >= thr
		switch {
		case loud && from < 0:
			from = i
		case !loud && from >= 0:
			return from + (i-from)/2
		}
	}
	if from < 0 {
		return len(k.frames) / 2
	}
	return from + (len(k.frames)-from)/2
}

func (k *kit) finalize(t *testing.T, r stt.Recognizer) {
	s := k.start(t, t.Context(), r)
	fin, ok := s.(stt.Finalizer)
	if !ok {
		t.Logf("%T does not implement stt.Finalizer", s)
		require.NoError(t, s.Close())
		k.wait(t, drain(s), "drain")
		return
	}
	results := make(chan stt.Result, 64)
	rerr := make(chan error, 1)
	go func() {
		for {
			r, err := s.Recv()
			if err != nil {
				rerr <- err
				close(results)
				return
			}
			results <- r
		}
	}()
	mid := k.firstSound()
	for _, f := range k.frames[:mid] {
		require.NoError(t, write(s, f))
	}
	at := time.Now()
	require.NoError(t, fin.Finalize())
	var got []stt.Result
	deadline := time.After(k.opts.Timeout)
	for final := false; !final; {
		select {
		case r, ok := <-results:
			if !ok {
				t.Fatalf("Recv failed before the forced final result: %v", <-rerr)
			}
			got = append(got, r)
			final = r.Final
		case <-deadline:
			t.Fatalf("no final result within %v of Finalize (frames 0..%d written; got %+v)", k.opts.Timeout, mid, got)
		}
	}
	t.Logf("Finalize after %v of audio: final %q %v later", time.Duration(mid)*media.DefaultFrameDuration,
		got[len(got)-1].Text, time.Since(at).Round(time.Microsecond))
	require.NoError(t, s.Close())
	for r := range results {
		got = append(got, r)
	}
	require.ErrorIs(t, <-rerr, io.EOF)
	require.NoError(t, Validate(got))
}
