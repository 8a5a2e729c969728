package espeak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/tts/internal/sentence"
)

// waitDelay bounds how long Wait waits for espeak-ng's pipes to close after it exits
// or is killed.
const waitDelay = 2 * time.Second

// reader runs one espeak-ng process and turns the WAV stream on its standard output
// into frames as it arrives.
type reader struct {
	ctx     context.Context
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  counting
	stderr  *tail
	rate    int
	wav     *wav.Reader // nil until the header has arrived
	readMu  sync.Mutex  // held by ReadFrame; Close takes it to wait for a reader
	closed  atomic.Bool
	waited  bool
	waitErr error
	final   error // what ReadFrame returns once the stream has ended
}

// start starts espeak-ng with args; the reader delivers frames at rate Hz.
func (s *Synthesizer) start(ctx context.Context, args []string, rate int) (*reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("espeak: %w", err)
	}
	cmd := exec.CommandContext(ctx, s.program, args...)
	cmd.WaitDelay = waitDelay
	r := &reader{ctx: ctx, cmd: cmd, stderr: &tail{}, rate: rate}
	cmd.Stderr = r.stderr
	var err error
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("espeak: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		_ = r.stdin.Close()
		return nil, fmt.Errorf("espeak: %w", err)
	}
	r.stdout.r = stdout
	if err := cmd.Start(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("espeak: %w", cerr)
		}
		return nil, fmt.Errorf("espeak: starting %s: %w", s.program, err)
	}
	return r, nil
}

func (r *reader) SampleRate() int { return r.rate }

func (r *reader) String() string { return fmt.Sprintf("espeak-ng(%d Hz)", r.rate) }

// ReadFrame returns the next 20 ms frame. The first call waits for the WAV header,
// which espeak-ng writes as soon as it starts speaking.
func (r *reader) ReadFrame() (media.Frame, error) {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	if r.closed.Load() {
		return media.Frame{}, fmt.Errorf("espeak: read: %w", media.ErrClosed)
	}
	if err := r.ctx.Err(); err != nil {
		return media.Frame{}, fmt.Errorf("espeak: %w", err)
	}
	if r.final != nil {
		return media.Frame{}, r.final
	}
	if r.wav == nil {
		w, err := wav.NewReader(&r.stdout, wav.Options{SampleRate: r.rate})
		if err != nil {
			// No output at all is how espeak-ng says it had nothing to speak.
			return media.Frame{}, r.finish(err, r.stdout.n == 0)
		}
		r.wav = w
	}
	f, err := r.wav.ReadFrame()
	if err != nil {
		return media.Frame{}, r.finish(err, errors.Is(err, io.EOF))
	}
	return f, nil
}

// finish ends the stream after its output ended with err (clean: a normal end) and
// returns what ReadFrame reports from now on.
func (r *reader) finish(err error, clean bool) error {
	if r.closed.Load() {
		return fmt.Errorf("espeak: read: %w", media.ErrClosed)
	}
	if cerr := r.ctx.Err(); cerr != nil {
		return fmt.Errorf("espeak: %w", cerr)
	}
	werr := r.wait()
	switch {
	case r.closed.Load():
		return fmt.Errorf("espeak: read: %w", media.ErrClosed)
	case r.ctx.Err() != nil:
		return fmt.Errorf("espeak: %w", r.ctx.Err())
	case werr != nil:
		r.final = errProgram(werr, r.stderr)
	case clean:
		r.final = io.EOF
	default:
		r.final = fmt.Errorf("espeak: reading audio: %w%s", err, r.stderr.suffix())
	}
	return r.final
}

// wait reaps the process once. The caller holds readMu.
func (r *reader) wait() error {
	if !r.waited {
		r.waited = true
		r.waitErr = r.cmd.Wait()
	}
	return r.waitErr
}

// Close kills espeak-ng if it is still running, waits for it and for a ReadFrame in
// progress, and releases the pipes. It is idempotent.
func (r *reader) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	// The kill ends a ReadFrame or Write blocked on a pipe. A process that already
	// ended (or was reaped) makes Kill fail harmlessly.
	_ = r.cmd.Process.Kill()
	r.readMu.Lock()
	defer r.readMu.Unlock()
	_ = r.wait()
	return nil
}

// stream is a reader whose text arrives through Write: espeak-ng runs in its
// line-by-line mode, and each complete sentence is written as one line.
type stream struct {
	*reader
	wmu      sync.Mutex
	split    sentence.Splitter
	wrClosed bool
	line     []byte
}

// Write implements io.Writer. It may block while espeak-ng's input pipe is full,
// which happens only when the audio is not being read.
func (s *stream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() || s.wrClosed {
		return 0, fmt.Errorf("espeak: write: %w", media.ErrClosed)
	}
	s.split.Write(string(p))
	for {
		text, ok := s.split.Next()
		if !ok {
			return len(p), nil
		}
		if err := s.writeLine(text); err != nil {
			return 0, err
		}
	}
}

func (s *stream) writeLine(text string) error {
	s.line = append(append(s.line[:0], text...), '\n')
	if _, err := s.stdin.Write(s.line); err != nil {
		switch {
		case s.closed.Load():
			return fmt.Errorf("espeak: write: %w", media.ErrClosed)
		case s.ctx.Err() != nil:
			return fmt.Errorf("espeak: %w", s.ctx.Err())
		}
		return fmt.Errorf("espeak: writing text: %w", err)
	}
	return nil
}

// CloseWrite implements tts.TextStream: the text held back (an unfinished last
// sentence) is written and espeak-ng's input closed, so it ends after speaking it.
func (s *stream) CloseWrite() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return fmt.Errorf("espeak: close write: %w", media.ErrClosed)
	}
	if s.wrClosed {
		return nil
	}
	s.wrClosed = true
	for _, text := range s.split.Flush() {
		if err := s.writeLine(text); err != nil {
			return err
		}
	}
	if err := s.stdin.Close(); err != nil && !s.closed.Load() {
		return fmt.Errorf("espeak: close write: %w", err)
	}
	return nil
}

// counting counts the bytes read through it.
type counting struct {
	r io.Reader
	n int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// tail keeps the last tailSize bytes written to it: espeak-ng's standard error, for
// error messages.
type tail struct {
	mu sync.Mutex
	b  []byte
}

const tailSize = 2048

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

// suffix formats what was captured for appending to an error message.
func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return ": " + strings.ReplaceAll(s, "\n", "; ")
}
