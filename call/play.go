package call

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/media/rtpsession"
	"github.com/switchboard-go/switchboard/media/vad"
	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/tts"
)

// LoopForever, as PlayOptions.Loop, plays the source until the playback is stopped.
const LoopForever = -1

// maxBuffered bounds what Play keeps in memory to loop a source that cannot be read
// twice (an io.Reader that does not seek, a FrameReader): 32 MiB.
const maxBuffered = 32 << 20

// BargeIn says what stops a Play or Speak early. The verb then returns an
// *InterruptError (errors.Is(err, ErrInterrupted)), the playout queue is cleared so the
// caller hears nothing more of it within one frame, and the ended event has status
// interrupted. The zero value plays to the end.
type BargeIn struct {
	// DTMF stops on a received digit (RFC 4733, SIP INFO or in-band).
	DTMF bool
	// Digits, when not empty, limits DTMF to these keys; others are ignored.
	Digits string
	// Speech stops when the caller starts speaking, as judged by voice activity
	// detection (media/vad) on the caller's audio.
	Speech bool
	// MinSpeech is how long speech must last to count, so coughs and clicks do not
	// interrupt. Zero means the detector's default (vad.DefaultMinSpeech).
	MinSpeech time.Duration
}

// PlayOptions say what Play plays. Exactly one source is set: File, URL, Reader, Tone
// or Frames.
type PlayOptions struct {
	// File is the path of a WAV file in any encoding media/wav reads (8-bit, 16-, 24-,
	// 32-bit PCM, float, μ-law, A-law; any rate and channel count), resampled to the
	// call's rate and mixed down to mono.
	File string
	// URL is an http or https URL of a WAV file. It is downloaded once and kept in the
	// Config's URLCache, so later plays (and loops) do not download it again.
	URL string
	// Reader is a WAV stream. To loop it, Play seeks back to where it started if it is
	// an io.Seeker, and otherwise reads it into memory first (at most 32 MiB).
	Reader io.Reader
	// Tone is a generated tone (media.Beep, media.Ringback, ...), played at the call's
	// rate. A Tone without Duration plays until stopped.
	Tone *media.Tone
	// Frames is a source of frames at any rate (resampled to the call's). Play reads
	// it to the end (io.EOF) and does not close it. To loop it, Play keeps its audio in
	// memory (at most 32 MiB).
	Frames media.FrameReader
	// Loop is how many times the source plays: 0 and 1 mean once, LoopForever until
	// stopped.
	Loop int
	// BargeIn says what stops the playback early.
	BargeIn BargeIn
}

// source returns the name of the one source set, or an error.
func (o *PlayOptions) source() (string, error) {
	var names []string
	if o.File != "" {
		names = append(names, o.File)
	}
	if o.URL != "" {
		names = append(names, o.URL)
	}
	if o.Reader != nil {
		names = append(names, "reader")
	}
	if o.Tone != nil {
		names = append(names, "tone")
	}
	if o.Frames != nil {
		names = append(names, "frames")
	}
	switch {
	case len(names) == 0:
		return "", fmt.Errorf("%w: PlayOptions names no source", ErrInvalidOptions)
	case len(names) > 1:
		return "", fmt.Errorf("%w: PlayOptions names %d sources %q; set one", ErrInvalidOptions, len(names), names)
	case o.Loop < LoopForever:
		return "", fmt.Errorf("%w: Loop %d", ErrInvalidOptions, o.Loop)
	}
	return names[0], nil
}

// Play plays a file, URL, WAV stream, tone or frame source to the caller and returns
// once it has played out (the last packet is on the wire), not when it was queued.
//
// Audio verbs on one call (Play, PlayBackground, Speak, the prompts of Gather) play one
// at a time in the order they were called; a Play waits for the one before it, as
// consecutive plays queue up on the reference platforms. Stop a background playback
// (hold music) before playing something else.
//
// It returns nil when the audio played out; an *InterruptError when BargeIn stopped
// it; ctx's error when ctx ended first (playback stops within a frame; the call goes
// on); ErrCallEnded when the call ended; an error wrapping ErrInvalidOptions for bad
// options, and the source's error (missing file, download failure, not a WAV file)
// otherwise. Events call.playback.started and call.playback.ended (with its status)
// report it.
func (c *Call) Play(ctx context.Context, opts PlayOptions) error {
	j, err := c.playJob(ctx, opts)
	if err != nil {
		return err
	}
	return c.render(ctx, j)
}

// PlayBackground starts playing like Play and returns at once with a handle to stop,
// pause, resume and wait for the playback: hold music while the application does other
// work. ctx bounds the playback (its end stops it); the call's end stops it too.
func (c *Call) PlayBackground(ctx context.Context, opts PlayOptions) (*Playback, error) {
	if _, err := c.verbMedia(); err != nil {
		return nil, err
	}
	j, err := c.playJob(ctx, opts)
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancelCause(ctx)
	p := &Playback{stop: stop, done: make(chan struct{}), pause: &pauser{}}
	j.pause = p.pause
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(p.done)
		defer stop(nil)
		p.err = c.render(runCtx, j)
	}()
	return p, nil
}

// Playback is a playback started by PlayBackground. Its methods are safe for
// concurrent use.
type Playback struct {
	stop  context.CancelCauseFunc
	done  chan struct{}
	err   error
	pause *pauser
}

// errPlaybackStopped is the cause Stop cancels a background playback with.
var errPlaybackStopped = errors.New("call: playback stopped")

// Stop stops the playback (the caller hears nothing more of it within a frame) and
// waits for it to end. It returns what Wait returns: nil when stopped or completed.
func (p *Playback) Stop() error {
	p.stop(errPlaybackStopped)
	<-p.done
	return p.err
}

// Wait waits until the playback ends and returns its result (see Play; nil after
// Stop), or ctx's error.
func (p *Playback) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the playback has ended.
func (p *Playback) Done() <-chan struct{} { return p.done }

// Pause silences the playback within a frame and holds its place in the source;
// Resume continues from there (what was queued for the next 240 ms at the pause is
// skipped). The playback keeps its turn among the call's audio verbs while paused.
func (p *Playback) Pause() { p.pause.set(true) }

// Resume continues a paused playback.
func (p *Playback) Resume() { p.pause.set(false) }

// pauser holds a background playback's pause state. The writer checks it before each
// frame; clear, once the playback holds the playout queue, empties the queue at the
// pause so the caller hears the pause at once.
type pauser struct {
	mu     sync.Mutex
	paused bool
	resume chan struct{}
	clear  func() // the queue's Clear while the playback owns it
}

func (p *pauser) set(on bool) {
	p.mu.Lock()
	if on == p.paused {
		p.mu.Unlock()
		return
	}
	p.paused = on
	var clear func()
	if on {
		p.resume = make(chan struct{})
		clear = p.clear
	} else {
		close(p.resume)
	}
	p.mu.Unlock()
	if clear != nil {
		clear()
	}
}

func (p *pauser) owns(clear func()) {
	p.mu.Lock()
	p.clear = clear
	p.mu.Unlock()
}

// wait returns at once when not paused; else it clears what slipped into the queue
// after the pause and waits for Resume or ctx.
func (p *pauser) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	paused, ch, clear := p.paused, p.resume, p.clear
	p.mu.Unlock()
	if !paused {
		return nil
	}
	if clear != nil {
		clear()
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (p *pauser) isPaused() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// ---- the playing machinery shared by Play, Speak and Gather's prompts ----

// playJob is one thing to play. open is called once per loop, after the job's turn
// has come, with the call's sample rate; the reader it returns is closed by render.
type playJob struct {
	speak   bool   // Speak (speak events) rather than Play (playback events)
	name    string // the event's Source, or the spoken text
	open    func(ctx context.Context, rate int) (media.FrameReadCloser, error)
	loop    int
	bargeIn BargeIn
	pause   *pauser // background playbacks only
}

// verbState is the per-call state of the audio verbs.
type verbState struct {
	slotOnce sync.Once
	slot     chan struct{} // holds a token while a verb plays: one at a time, FIFO
	dtmfOnce sync.Once
	dtmf     chan struct{} // holds a token while SendDTMF sends

	mu      sync.Mutex
	tts     tts.Synthesizer // the default engine, made on first Speak when Config has none
	urls    *URLCache       // made on first URL play when Config has none
	dedup   digitDedup
	inband  bool                      // in-band detection started
	running map[*runningVerb]struct{} // verbs whose ended event is still due
	ended   bool                      // the call ended: finishVerbs ran
}

// runningVerb is a verb whose ended event has not been pushed yet. If the call ends
// first, finishVerbs pushes the event onHangup returns (status call_hangup) before the
// Hangup event, so that Hangup stays the last event and no verb's end goes unreported.
type runningVerb struct {
	onHangup func() Event
}

// startVerb registers a running verb.
func (c *Call) startVerb(onHangup func() Event) *runningVerb {
	v := &runningVerb{onHangup: onHangup}
	c.verbs.mu.Lock()
	defer c.verbs.mu.Unlock()
	if c.verbs.running == nil {
		c.verbs.running = map[*runningVerb]struct{}{}
	}
	if !c.verbs.ended {
		c.verbs.running[v] = struct{}{}
	}
	return v
}

// endVerb pushes the verb's ended event, unless finishVerbs already pushed one.
func (c *Call) endVerb(v *runningVerb, ev Event) {
	c.verbs.mu.Lock()
	defer c.verbs.mu.Unlock()
	if _, ok := c.verbs.running[v]; !ok && c.verbs.ended {
		return
	}
	delete(c.verbs.running, v)
	c.events.push(ev) // under the lock: ordered against finishVerbs and its Hangup
}

// finishVerbs runs once, when the call ends, before the Hangup event: the verbs still
// running report their end (status call_hangup) now.
func (c *Call) finishVerbs() {
	c.verbs.mu.Lock()
	defer c.verbs.mu.Unlock()
	c.verbs.ended = true
	for v := range c.verbs.running {
		c.events.push(v.onHangup())
	}
	clear(c.verbs.running)
}

func (v *verbState) turn() chan struct{} {
	v.slotOnce.Do(func() { v.slot = make(chan struct{}, 1) })
	return v.slot
}

func (v *verbState) dtmfTurn() chan struct{} {
	v.dtmfOnce.Do(func() { v.dtmf = make(chan struct{}, 1) })
	return v.dtmf
}

// playJob prepares opts for render: it checks them and fetches what must be fetched
// before the turn comes (a URL's download, a non-seekable reader to loop).
func (c *Call) playJob(ctx context.Context, opts PlayOptions) (*playJob, error) {
	name, err := opts.source()
	if err != nil {
		return nil, err
	}
	j := &playJob{name: name, loop: opts.Loop, bargeIn: opts.BargeIn}
	switch {
	case opts.File != "":
		path := opts.File
		j.open = func(_ context.Context, rate int) (media.FrameReadCloser, error) {
			r, err := wav.Open(path, wav.Options{SampleRate: rate})
			if err != nil {
				return nil, err
			}
			return r, nil
		}
	case opts.URL != "":
		url, cache := opts.URL, c.urlCache()
		j.open = func(ctx context.Context, rate int) (media.FrameReadCloser, error) {
			data, err := cache.Get(ctx, url)
			if err != nil {
				return nil, err
			}
			return wav.NewReader(bytes.NewReader(data), wav.Options{SampleRate: rate})
		}
	case opts.Reader != nil:
		r := opts.Reader
		if opts.Loop == 0 || opts.Loop == 1 {
			j.open = func(_ context.Context, rate int) (media.FrameReadCloser, error) {
				return wav.NewReader(r, wav.Options{SampleRate: rate})
			}
			break
		}
		if rs, ok := r.(io.Seeker); ok {
			start, err := rs.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("call: play: %w", err)
			}
			j.open = func(_ context.Context, rate int) (media.FrameReadCloser, error) {
				if _, err := rs.Seek(start, io.SeekStart); err != nil {
					return nil, err
				}
				return wav.NewReader(r, wav.Options{SampleRate: rate})
			}
			break
		}
		data, err := io.ReadAll(io.LimitReader(r, maxBuffered+1))
		if err != nil {
			return nil, fmt.Errorf("call: play: %w", err)
		}
		if len(data) > maxBuffered {
			return nil, fmt.Errorf("%w: a looped Reader must seek or hold at most %d bytes", ErrInvalidOptions, maxBuffered)
		}
		j.open = wavBytes(data)
	case opts.Tone != nil:
		t := *opts.Tone
		j.open = func(_ context.Context, rate int) (media.FrameReadCloser, error) {
			r, err := media.NewToneReader(t, rate, 0)
			if err != nil {
				return nil, err
			}
			return nopCloser{r}, nil
		}
	case opts.Frames != nil:
		j.open = framesSource(opts.Frames, opts.Loop != 0 && opts.Loop != 1)
	}
	return j, nil
}

// wavBytes plays a WAV file held in memory.
func wavBytes(data []byte) func(context.Context, int) (media.FrameReadCloser, error) {
	return func(_ context.Context, rate int) (media.FrameReadCloser, error) {
		return wav.NewReader(bytes.NewReader(data), wav.Options{SampleRate: rate})
	}
}

// framesSource plays fr once, or, when it loops, keeps the audio of the first pass and
// plays that again.
func framesSource(fr media.FrameReader, loops bool) func(context.Context, int) (media.FrameReadCloser, error) {
	var kept []int16
	first := true
	return func(_ context.Context, rate int) (media.FrameReadCloser, error) {
		if !first {
			if kept == nil {
				return nil, fmt.Errorf("%w: looped Frames hold more than %d bytes", ErrInvalidOptions, maxBuffered)
			}
			return nopCloser{media.NewSliceReader(kept, rate, 0)}, nil
		}
		first = false
		var r media.FrameReader = fr
		if fr.SampleRate() != rate {
			rr, err := resample.NewReader(fr, rate)
			if err != nil {
				return nil, err
			}
			r = rr
		}
		if !loops {
			return nopCloser{r}, nil
		}
		kept = []int16{}
		return nopCloser{&keeper{FrameReader: r, kept: &kept}}, nil
	}
}

// keeper copies what it reads into *kept, up to maxBuffered bytes (then drops it all).
type keeper struct {
	media.FrameReader
	kept *[]int16
}

func (k *keeper) ReadFrame() (media.Frame, error) {
	f, err := k.FrameReader.ReadFrame()
	if err == nil && *k.kept != nil {
		if 2*(len(*k.kept)+len(f.Samples)) > maxBuffered {
			*k.kept = nil
		} else {
			*k.kept = append(*k.kept, f.Samples...)
		}
	}
	return f, err
}

type nopCloser struct{ media.FrameReader }

func (nopCloser) Close() error { return nil }

// render plays j on the call: it waits for the job's turn, sets up barge-in, plays
// every loop, waits for the audio to play out and reports the events. Stopping
// (ctx, barge-in, Stop, the call's end) clears the playout queue at once.
func (c *Call) render(ctx context.Context, j *playJob) error {
	s, err := c.verbMedia()
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	stopOnEnd := context.AfterFunc(c.ctx, func() { stop(ErrCallEnded) })
	defer stopOnEnd()

	turn := c.verbs.turn()
	select {
	case turn <- struct{}{}:
	case <-runCtx.Done():
		return stoppedErr(ctx, runCtx)
	}
	defer func() { <-turn }()

	var watchers sync.WaitGroup
	defer watchers.Wait()
	if j.bargeIn.DTMF {
		digits, unsubscribe := c.subscribeDigits()
		defer unsubscribe()
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			watchDigits(runCtx, digits, j.bargeIn.Digits, stop)
		}()
	}
	if j.bargeIn.Speech {
		unlisten, err := c.listenSpeech(s, j.bargeIn.MinSpeech, stop)
		if err != nil {
			return err
		}
		defer unlisten()
	}
	// Stop in the order that matters: the watchers see the cancellation and end.
	defer stop(errVerbDone)

	rate := s.SampleRate()
	rv := c.startVerb(func() Event { return j.endedEvent(PlaybackCallHangup, nil) })
	r, err := openAt(runCtx, j, rate)
	if err != nil {
		status, err := c.outcome(ctx, runCtx, &sourceError{err})
		c.endVerb(rv, j.endedEvent(status, err))
		return err
	}
	c.pushStarted(j)
	cleared := make(chan struct{})
	clearOnStop := context.AfterFunc(runCtx, func() { s.Clear(); close(cleared) })
	if j.pause != nil {
		j.pause.owns(s.Clear)
		defer j.pause.owns(nil)
	}

	var playErr error
	for i := 0; j.loop == LoopForever || i < max(j.loop, 1); i++ {
		if i > 0 {
			if r, playErr = openAt(runCtx, j, rate); playErr != nil {
				playErr = &sourceError{playErr}
				break
			}
		}
		var n int
		n, playErr = copyFrames(runCtx, r, s, j.pause)
		_ = r.Close()
		if playErr != nil || n == 0 {
			break // an empty source does not loop
		}
	}
	if playErr == nil {
		for {
			playErr = s.WaitPlayout(runCtx)
			if errors.Is(playErr, rtpsession.ErrCleared) && j.pause.isPaused() {
				// Paused while the tail played: it was dropped; wait to be resumed.
				if playErr = j.pause.wait(runCtx); playErr == nil {
					continue
				}
			}
			break
		}
	}
	if !clearOnStop() {
		<-cleared
		s.Clear() // what a writer blocked in WriteFrame queued after the first Clear
	}

	status, err := c.outcome(ctx, runCtx, playErr)
	c.endVerb(rv, j.endedEvent(status, err))
	return err
}

// verbMedia is the call's media session for a verb, or why there is none.
func (c *Call) verbMedia() (*rtpsession.Session, error) {
	if c.State() == StateEnded {
		return nil, ErrCallEnded
	}
	return c.Media()
}

// errVerbDone cancels a verb's context once it has finished, to end its watchers.
var errVerbDone = errors.New("call: verb done")

// sourceError marks a failure to read the source (as opposed to writing to the call).
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// openAt opens the job's source at rate, resampling if the reader did not honour it.
func openAt(ctx context.Context, j *playJob, rate int) (media.FrameReadCloser, error) {
	r, err := j.open(ctx, rate)
	if err != nil {
		return nil, err
	}
	if r.SampleRate() != rate {
		rr, err := resample.NewReader(r, rate)
		if err != nil {
			_ = r.Close()
			return nil, err
		}
		return struct {
			media.FrameReader
			io.Closer
		}{rr, r}, nil
	}
	return r, nil
}

// copyFrames writes r's frames to w until io.EOF (nil), ctx ends (its cause), r fails
// (*sourceError) or w fails. WriteFrame blocks while the playout queue is full, which
// paces the copy; a Clear on stop unblocks it. It allocates nothing per frame.
func copyFrames(ctx context.Context, r media.FrameReader, w media.FrameWriter, pause *pauser) (samples int, err error) {
	for {
		if ctx.Err() != nil {
			return samples, context.Cause(ctx)
		}
		if err := pause.wait(ctx); err != nil {
			return samples, err
		}
		f, err := r.ReadFrame()
		if err == io.EOF { //nolint:errorlint // FrameReader returns io.EOF unwrapped
			return samples, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return samples, context.Cause(ctx)
			}
			return samples, &sourceError{err}
		}
		if err := w.WriteFrame(f); err != nil {
			return samples, err
		}
		samples += len(f.Samples)
	}
}

// outcome turns how a verb ended into its status and the error it returns.
func (c *Call) outcome(ctx, runCtx context.Context, err error) (PlaybackStatus, error) {
	var ie *InterruptError
	var se *sourceError
	switch {
	case err == nil:
		return PlaybackCompleted, nil
	case runCtx.Err() != nil && errors.As(context.Cause(runCtx), &ie):
		return PlaybackInterrupted, ie
	case runCtx.Err() != nil && errors.Is(context.Cause(runCtx), errPlaybackStopped):
		return PlaybackStopped, nil
	case c.ctx.Err() != nil || errors.Is(err, media.ErrClosed):
		return PlaybackCallHangup, ErrCallEnded
	case ctx.Err() != nil:
		return PlaybackStopped, ctx.Err()
	case errors.As(err, &se):
		return PlaybackFailed, fmt.Errorf("call: play: %w", se.err)
	}
	return PlaybackFailed, fmt.Errorf("call: play: %w", err)
}

// stoppedErr is the error of a verb stopped before it started playing.
func stoppedErr(ctx, runCtx context.Context) error {
	cause := context.Cause(runCtx)
	var ie *InterruptError
	switch {
	case errors.As(cause, &ie):
		return ie
	case errors.Is(cause, errPlaybackStopped):
		return nil
	case errors.Is(cause, ErrCallEnded):
		return ErrCallEnded
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return cause
}

func (c *Call) pushStarted(j *playJob) {
	if j.speak {
		c.events.push(SpeakStarted{base: now(), Text: j.name})
		return
	}
	c.events.push(PlaybackStarted{base: now(), Source: j.name})
}

// endedEvent is the job's ended event (Err only for failures and interruptions).
func (j *playJob) endedEvent(st PlaybackStatus, err error) Event {
	if st == PlaybackCompleted || st == PlaybackStopped || st == PlaybackCallHangup {
		err = nil
	}
	if j.speak {
		return SpeakEnded{base: now(), Text: j.name, Status: st, Err: err}
	}
	return PlaybackEnded{base: now(), Source: j.name, Status: st, Err: err}
}

// watchDigits stops the verb (cause *InterruptError) on the first received digit that
// is in keys (any if keys is empty), or returns when ctx ends.
func watchDigits(ctx context.Context, digits <-chan DTMF, keys string, stop context.CancelCauseFunc) {
	for {
		select {
		case d := <-digits:
			if keys == "" || containsRune(keys, d.Digit) {
				stop(&InterruptError{By: "dtmf", Digit: d.Digit})
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func containsRune(s string, r rune) bool {
	for _, x := range s {
		if x == r {
			return true
		}
	}
	return false
}

// listenSpeech runs voice activity detection on the caller's audio and stops the verb
// (cause *InterruptError{By: "speech"}) when speech starts. The detector runs on the
// call's audio goroutine; the stop is a context cancellation, which never blocks.
func (c *Call) listenSpeech(s *rtpsession.Session, minSpeech time.Duration, stop context.CancelCauseFunc) (func(), error) {
	rate := 8000
	if s.SampleRate() >= 16000 {
		rate = 16000
	}
	w, err := vad.NewWriter(media.Discard(rate), vad.Config{MinSpeech: minSpeech, OnEvent: func(e vad.Event) {
		if e.Type == vad.SpeechStart {
			stop(&InterruptError{By: "speech"})
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("call: barge-in: %w", err)
	}
	return c.Listen(w)
}

// ---- URL downloads ----

// URLCacheOptions configure a URLCache. The zero value of each field selects the
// documented default.
type URLCacheOptions struct {
	// Client downloads the files. Nil means a client with a 30 s timeout.
	Client *http.Client
	// MaxBytes bounds the memory the cached files take, in bytes; the least recently
	// used files are evicted beyond it. Zero means 64 MiB.
	MaxBytes int64
	// MaxFileBytes is the largest file downloaded; larger ones fail. Zero means 16 MiB.
	MaxFileBytes int64
}

// URLCache downloads the audio files calls play by URL, once each, and keeps them in
// memory (bounded, least recently used evicted first) for every call that shares it.
// Concurrent requests for the same URL wait for one download. Failed downloads are
// not kept, so a later play tries again. Files are kept as downloaded and decoded at
// each play, at the rate of the call playing them. Entries are not revalidated: a
// changed file at the same URL is seen after eviction, or with a new cache. A URLCache
// is safe for concurrent use.
type URLCache struct {
	client   *http.Client
	maxBytes int64
	maxFile  int64

	mu        sync.Mutex
	entries   map[string]*urlEntry
	lru       list.List // *urlEntry, most recently used at the front
	size      int64
	downloads atomic.Int64
	hits      atomic.Int64
}

type urlEntry struct {
	url   string
	ready chan struct{} // closed when data or err is set
	data  []byte
	err   error
	elem  *list.Element // in lru once downloaded and kept
}

// NewURLCache returns an empty cache.
func NewURLCache(opts URLCacheOptions) *URLCache {
	u := &URLCache{client: opts.Client, maxBytes: opts.MaxBytes, maxFile: opts.MaxFileBytes,
		entries: map[string]*urlEntry{}}
	if u.client == nil {
		u.client = &http.Client{Timeout: 30 * time.Second}
	}
	if u.maxBytes == 0 {
		u.maxBytes = 64 << 20
	}
	if u.maxFile == 0 {
		u.maxFile = 16 << 20
	}
	return u
}

// ErrDownload is wrapped by the errors of URLCache.Get for downloads that failed: a
// status other than 200, a file too large, a network error.
var ErrDownload = errors.New("call: download failed")

// Get returns the content at rawURL (http or https), downloading it unless it is
// cached or being downloaded. The returned bytes must not be modified. The caller that
// finds the URL missing downloads it on its own goroutine, bounded by its ctx and the
// client's timeout; others asking meanwhile wait for that download.
func (u *URLCache) Get(ctx context.Context, rawURL string) ([]byte, error) {
	pu, err := url.Parse(rawURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http or https URL", ErrInvalidOptions, rawURL)
	}
	for {
		u.mu.Lock()
		e, ok := u.entries[rawURL]
		if !ok {
			break // with u.mu held
		}
		if e.elem != nil {
			u.lru.MoveToFront(e.elem)
		}
		u.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			u.hits.Add(1)
			return e.data, nil
		}
		if !errors.Is(e.err, context.Canceled) && !errors.Is(e.err, context.DeadlineExceeded) {
			return nil, e.err
		}
		// The download was abandoned by the caller that made it: try again.
	}
	e := &urlEntry{url: rawURL, ready: make(chan struct{})}
	u.entries[rawURL] = e
	u.mu.Unlock()

	e.data, e.err = u.download(ctx, rawURL)
	u.downloads.Add(1)
	u.mu.Lock()
	if e.err != nil || int64(len(e.data)) > u.maxBytes {
		delete(u.entries, rawURL) // not kept: a later Get tries again
	} else {
		e.elem = u.lru.PushFront(e)
		u.size += int64(len(e.data))
		u.evictLocked()
	}
	u.mu.Unlock()
	close(e.ready)
	return e.data, e.err
}

func (u *URLCache) download(ctx context.Context, rawURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDownload, rawURL, err)
	}
	res, err := u.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDownload, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %s", ErrDownload, rawURL, res.Status)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, u.maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrDownload, rawURL, err)
	}
	if int64(len(data)) > u.maxFile {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrDownload, rawURL, u.maxFile)
	}
	return data, nil
}

func (u *URLCache) evictLocked() {
	for u.size > u.maxBytes {
		back := u.lru.Back()
		if back == nil {
			return
		}
		e := back.Value.(*urlEntry)
		u.lru.Remove(back)
		delete(u.entries, e.url)
		u.size -= int64(len(e.data))
	}
}

// URLCacheStats count a URLCache's work.
type URLCacheStats struct {
	// Downloads counts downloads made (failed ones included); Hits counts Gets served
	// from the cache or by another caller's download.
	Downloads, Hits int64
	// Files and Bytes are what the cache holds now.
	Files int
	Bytes int64
}

// Stats returns the cache's counters.
func (u *URLCache) Stats() URLCacheStats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return URLCacheStats{Downloads: u.downloads.Load(), Hits: u.hits.Load(), Files: u.lru.Len(), Bytes: u.size}
}

// urlCache is the Config's cache, or the call's own when the Config has none.
func (c *Call) urlCache() *URLCache {
	if c.cfg.URLCache != nil {
		return c.cfg.URLCache
	}
	c.verbs.mu.Lock()
	defer c.verbs.mu.Unlock()
	if c.verbs.urls == nil {
		c.verbs.urls = NewURLCache(URLCacheOptions{})
	}
	return c.verbs.urls
}
