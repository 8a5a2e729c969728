package tts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts/internal/sentence"
)

// StreamText returns a TextStream that speaks text as it is written to it: s's own
// when s implements TextStreamer, else NewSentenceStream(ctx, s, opts), which then
// needs opts.SampleRate.
func StreamText(ctx context.Context, s Synthesizer, opts Options) (TextStream, error) {
	if ts, ok := s.(TextStreamer); ok {
		return ts.StreamText(ctx, opts)
	}
	return NewSentenceStream(ctx, s, opts)
}

// NewSentenceStream makes a TextStream out of any Synthesizer: it splits the written
// text into sentences and synthesizes each with s.Synthesize as the reader reaches it,
// joining the audio into one stream of 20 ms frames. Providers whose engine has no
// incremental input of its own implement TextStreamer with it.
//
// opts.SampleRate must be set, because the stream must declare its rate before the
// first sentence is synthesized; every sentence is synthesized at that rate. Sentences
// end as described in TextStream; a sentence longer than 300 bytes is cut at a word
// boundary, so the time to the first audio stays bounded.
//
// No goroutine is started: synthesis of a sentence begins inside the ReadFrame call
// that needs its first frame, so there is a gap of one synthesis start-up between
// sentences, which a playout buffer hides when the engine is faster than real time.
func NewSentenceStream(ctx context.Context, s Synthesizer, opts Options) (TextStream, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.SSML {
		return nil, fmt.Errorf("%w: SSML in a text stream", ErrUnsupported)
	}
	if opts.SampleRate == 0 {
		return nil, fmt.Errorf("%w: a sentence stream needs Options.SampleRate", ErrInvalidOptions)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tts: stream text: %w", err)
	}
	ictx, cancel := context.WithCancel(ctx)
	n := media.SamplesPer(opts.SampleRate, media.DefaultFrameDuration)
	return &sentenceStream{
		ctx:      ctx,
		ictx:     ictx,
		cancel:   cancel,
		s:        s,
		opts:     opts,
		frameLen: n,
		wake:     make(chan struct{}, 1),
		pend:     make([]int16, 0, 3*n),
		out:      make([]int16, n),
	}, nil
}

type sentenceStream struct {
	ctx      context.Context // the caller's: its error is what ReadFrame reports
	ictx     context.Context // ctx, also cancelled by Close, for the engine
	cancel   context.CancelFunc
	s        Synthesizer
	opts     Options
	frameLen int
	wake     chan struct{} // signalled when text arrives, on CloseWrite and on Close

	mu       sync.Mutex // guards the fields below
	split    sentence.Splitter
	queue    []string // complete sentences not yet synthesized
	wrClosed bool
	closed   bool
	cur      media.FrameReadCloser // the sentence being read, for Close to abort

	readMu sync.Mutex // held by ReadFrame, so Close can wait for it
	pend   []int16    // samples read from sentences, not yet returned
	head   int        // first unreturned sample in pend
	out    []int16    // the returned frame
	eof    bool       // all text spoken
}

func (t *sentenceStream) SampleRate() int { return t.opts.SampleRate }

func (t *sentenceStream) String() string {
	return fmt.Sprintf("tts(sentences %d Hz)", t.opts.SampleRate)
}

func (t *sentenceStream) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Write implements io.Writer.
func (t *sentenceStream) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.wrClosed {
		return 0, fmt.Errorf("tts: write: %w", media.ErrClosed)
	}
	t.split.Write(string(p))
	queued := false
	for {
		s, ok := t.split.Next()
		if !ok {
			break
		}
		t.queue = append(t.queue, s)
		queued = true
	}
	if queued {
		t.signal()
	}
	return len(p), nil
}

// CloseWrite implements TextStream. Later calls do nothing.
func (t *sentenceStream) CloseWrite() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("tts: close write: %w", media.ErrClosed)
	}
	if !t.wrClosed {
		t.wrClosed = true
		t.queue = append(t.queue, t.split.Flush()...)
		t.signal()
	}
	return nil
}

// Close implements TextStream.
func (t *sentenceStream) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	cur := t.cur
	t.mu.Unlock()
	t.cancel()
	t.signal()
	if cur != nil {
		_ = cur.Close() // makes a blocked ReadFrame of the sentence return
	}
	t.readMu.Lock() // wait for ReadFrame to notice
	defer t.readMu.Unlock()
	t.mu.Lock()
	cur, t.cur = t.cur, nil
	t.mu.Unlock()
	if cur != nil {
		_ = cur.Close()
	}
	return nil
}

// ReadFrame implements media.FrameReader.
func (t *sentenceStream) ReadFrame() (media.Frame, error) {
	t.readMu.Lock()
	defer t.readMu.Unlock()
	for len(t.pend)-t.head < t.frameLen && !t.eof {
		if err := t.fill(); err != nil {
			return media.Frame{}, err
		}
	}
	if err := t.check(); err != nil {
		return media.Frame{}, err
	}
	n := min(t.frameLen, len(t.pend)-t.head)
	if n == 0 {
		return media.Frame{}, io.EOF
	}
	copy(t.out, t.pend[t.head:t.head+n])
	t.head += n
	return media.Frame{Samples: t.out[:n], SampleRate: t.opts.SampleRate}, nil
}

// check returns the error ReadFrame reports once the stream is closed or ctx is done.
func (t *sentenceStream) check() error {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return fmt.Errorf("tts: read: %w", media.ErrClosed)
	}
	if err := t.ctx.Err(); err != nil {
		return fmt.Errorf("tts: read: %w", err)
	}
	return nil
}

// fill adds the samples of one more frame of the current sentence to pend, starting
// the next sentence when needed, or sets eof.
func (t *sentenceStream) fill() error {
	if err := t.check(); err != nil {
		return err
	}
	t.mu.Lock()
	cur := t.cur
	t.mu.Unlock()
	if cur == nil {
		text, ok, err := t.nextSentence()
		if err != nil || !ok {
			return err
		}
		r, err := t.s.Synthesize(t.ictx, text, t.opts)
		if err != nil {
			if cerr := t.check(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("tts: sentence %q: %w", abbreviate(text), err)
		}
		if r.SampleRate() != t.opts.SampleRate {
			_ = r.Close()
			return fmt.Errorf("%w: provider returned %d Hz for Options.SampleRate %d", ErrUnsupported, r.SampleRate(), t.opts.SampleRate)
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			_ = r.Close()
			return t.check()
		}
		t.cur = r
		t.mu.Unlock()
		cur = r
	}
	f, err := cur.ReadFrame()
	if err != nil {
		t.mu.Lock()
		t.cur = nil
		t.mu.Unlock()
		cerr := cur.Close()
		if cerr2 := t.check(); cerr2 != nil {
			return cerr2
		}
		if errors.Is(err, io.EOF) {
			return cerr
		}
		return err
	}
	if t.head > 0 { // compact: pend stays within a frame and one sentence frame
		t.pend = t.pend[:copy(t.pend, t.pend[t.head:])]
		t.head = 0
	}
	t.pend = append(t.pend, f.Samples...)
	return nil
}

// nextSentence waits for a complete sentence; ok is false when there are no more.
func (t *sentenceStream) nextSentence() (text string, ok bool, err error) {
	for {
		t.mu.Lock()
		switch {
		case len(t.queue) > 0:
			text = t.queue[0]
			t.queue[0] = ""
			t.queue = t.queue[1:]
			t.mu.Unlock()
			return text, true, nil
		case t.wrClosed:
			t.mu.Unlock()
			t.eof = true
			return "", false, nil
		}
		t.mu.Unlock()
		select {
		case <-t.wake:
		case <-t.ictx.Done():
		}
		if err := t.check(); err != nil {
			return "", false, err
		}
	}
}

// abbreviate shortens text for error messages.
func abbreviate(text string) string {
	const n = 40
	if len(text) <= n {
		return text
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}
