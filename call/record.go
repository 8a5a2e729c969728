package call

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
	"github.com/switchboard-go/switchboard/media/vad"
	"github.com/switchboard-go/switchboard/media/wav"
)

// Recording errors.
var (
	// ErrRecordOptions is returned by Record for options it cannot honour: no
	// destination or two, an unknown channel layout or format, a negative duration,
	// an endless beep.
	ErrRecordOptions = errors.New("call: invalid record options")
	// ErrRecordingDone is returned by Pause and Resume once the recording has ended.
	ErrRecordingDone = errors.New("call: recording has ended")
)

// RecordChannels says what a recording holds.
type RecordChannels uint8

// Channel layouts.
const (
	// RecordCaller is mono: the caller's audio only (the reference platforms'
	// "single" channel with the inbound track). The zero value.
	RecordCaller RecordChannels = iota
	// RecordMixed is mono: the caller's audio and what we play, added together
	// (saturating at full scale).
	RecordMixed
	// RecordDual is stereo: the caller on the left channel, what we play on the right
	// (the reference platforms' "dual").
	RecordDual
)

func (m RecordChannels) String() string {
	switch m {
	case RecordCaller:
		return "caller"
	case RecordMixed:
		return "mixed"
	case RecordDual:
		return "dual"
	}
	return fmt.Sprintf("RecordChannels(%d)", uint8(m))
}

// RecordFormat is the file format of a recording.
type RecordFormat uint8

// Formats.
const (
	// FormatWAV is WAV with 16-bit linear PCM at the call's codec rate. The zero value.
	FormatWAV RecordFormat = iota
	// FormatWAVMuLaw is WAV with 8-bit G.711 μ-law (format tag 7): half the size.
	FormatWAVMuLaw
)

func (f RecordFormat) String() string {
	switch f {
	case FormatWAV:
		return "wav"
	case FormatWAVMuLaw:
		return "wav-mulaw"
	}
	return fmt.Sprintf("RecordFormat(%d)", uint8(f))
}

// SilenceDetector chooses how a recording tells silence from sound, for
// RecordOptions.SilenceTimeout and TrimSilence.
type SilenceDetector uint8

// Silence detectors.
const (
	// SilenceAuto is SilenceVAD at 8 and 16 kHz (the rates media/vad analyses) and
	// SilenceEnergy at other rates. The zero value.
	SilenceAuto SilenceDetector = iota
	// SilenceVAD asks media/vad, which tells speech from steady background noise
	// (and ignores clicks); its 300 ms hangover counts as sound.
	SilenceVAD
	// SilenceEnergy calls a frame silent when its level is below
	// RecordOptions.SilenceThreshold: simple and exact, but steady noise above the
	// threshold counts as sound.
	SilenceEnergy
)

// RecordStop says why a recording ended.
type RecordStop string

// Why recordings end. The names are those of the reference platforms where they have
// one.
const (
	RecordStopped   RecordStop = "stopped"    // Stop was called
	RecordMaxLength RecordStop = "max_length" // RecordOptions.MaxLength reached
	RecordSilence   RecordStop = "silence"    // RecordOptions.SilenceTimeout of silence
	RecordDigit     RecordStop = "digit"      // a termination digit arrived
	RecordHangup    RecordStop = "hangup"     // the call ended
	RecordCancelled RecordStop = "cancelled"  // Record's ctx ended
	RecordFailed    RecordStop = "error"      // writing failed (RecordingResult.Err)
)

// Defaults of RecordOptions.
const (
	// DefaultSilenceThreshold is SilenceEnergy's level, in dBFS (RMS relative to full
	// scale; a full-scale sine is -3 dBFS), below which a frame is silent: quieter
	// than soft speech on a telephone line, louder than its idle noise.
	DefaultSilenceThreshold = -45.0
	// trimMargin is how much of the silence at each end TrimSilence keeps, so the
	// recording neither starts nor stops on the first or last sound's edge.
	trimMargin = 100 * time.Millisecond
	// vadOnset is how much sooner speech starts than media/vad flags it (its
	// MinSpeech plus analysis latency, rounded up); TrimSilence keeps it too.
	vadOnset = 100 * time.Millisecond
	// minTrailHold and maxTrailHold bound the trailing silence TrimSilence holds
	// back in memory (see RecordOptions.TrimSilence).
	minTrailHold = 5 * time.Second
	maxTrailHold = 30 * time.Second
	// ringDuration is how far the recording's goroutine may fall behind the media
	// before frames are lost (and counted).
	ringDuration = 2 * time.Second
	// wakeEvery is how often, in audio, the recording's goroutine wakes to write.
	wakeEvery = 100 * time.Millisecond
	// finishWait bounds how long the end of a call waits for its recordings to be
	// written out, so their RecordingSaved events come before Hangup.
	finishWait = 3 * time.Second
)

// DefaultBeep is the tone PlayBeep plays when RecordOptions.Beep is zero: 1 kHz for
// 400 ms at -12 dBFS.
func DefaultBeep() media.Tone { return media.Beep(1000, 400*time.Millisecond) }

// RecordOptions configures Record. The zero value of every field but the destination
// selects the documented default; exactly one of Path and Writer must be set.
type RecordOptions struct {
	// ID names the recording (the reference platforms' recording_id). Empty means a
	// random one.
	ID string
	// Channels is the channel layout; the zero value records the caller, mono.
	Channels RecordChannels
	// Format is the file format; the zero value is WAV, 16-bit PCM. Audio is recorded
	// at the call's codec rate (8 kHz for G.711, 16 kHz for G.722).
	Format RecordFormat

	// Path is a file to create (or truncate). It is a valid WAV file at every moment
	// while recording: the header is rewritten with the true sizes every second of
	// audio, after the audio it describes, so a crash loses at most the last second
	// (plus what TrimSilence holds back).
	Path string
	// Writer receives the WAV stream instead of a file; it is not closed. An
	// io.WriteSeeker (an *os.File) is treated like Path: the header is rewritten every
	// second and finalised when the recording ends. A plain io.Writer (a pipe, a
	// socket, an upload) cannot be rewound, so it gets a header whose RIFF and data
	// sizes say "unknown" (0xFFFFFFFF, the streaming convention) followed by the
	// audio: media/wav, SoX and ffmpeg read such a stream to its end (SoX warns of
	// a premature EOF); a reader that insists on exact sizes must be given a seekable
	// destination.
	Writer io.Writer

	// MaxLength ends the recording once it has recorded this much (paused time does
	// not count; silence later trimmed does). Zero means no limit.
	MaxLength time.Duration
	// SilenceTimeout ends the recording after this much silence, counted from the
	// first sound (as on the reference platforms: before anyone speaks, only
	// MaxLength, a digit, Stop or the hangup end it). Zero means never.
	SilenceTimeout time.Duration
	// TrimSilence drops leading and trailing silence: audio before the first sound
	// is not written (but for the last 100 ms, 200 ms with VAD, whose onset comes
	// late), and silence after the last sound is held back in memory and written
	// only if sound follows, so at the end it is dropped (but for 100 ms). The hold
	// is bounded by SilenceTimeout + 1 s, at least 5 s and at most 30 s: a longer
	// trailing silence is trimmed to its last part only. What is held back is not
	// yet in a file, so a crash may lose it.
	TrimSilence bool
	// Silence chooses the silence detector; the zero value picks VAD where it can.
	// Silence is judged on what the recording holds: the caller's audio, or the mix
	// of both sides for RecordMixed and RecordDual.
	Silence SilenceDetector
	// SilenceThreshold is SilenceEnergy's level in dBFS. Zero means
	// DefaultSilenceThreshold (-45 dBFS).
	SilenceThreshold float64
	// VADMode is SilenceVAD's aggressiveness; the zero value, vad.Quality, keeps the
	// most speech.
	VADMode vad.Mode

	// PlayBeep plays Beep to the caller first; recording starts once the beep has
	// been sent (after anything already queued for playout, such as a greeting).
	PlayBeep bool
	// Beep is the tone PlayBeep plays; the zero value is DefaultBeep(). It must have
	// a Duration.
	Beep media.Tone
	// TerminationDigits end the recording when one of them is received (RFC 4733, SIP
	// INFO or in-band), e.g. "#" or "0123456789*#". Empty means none.
	TerminationDigits string
}

func (o *RecordOptions) validate() error {
	switch {
	case (o.Path == "") == (o.Writer == nil):
		return fmt.Errorf("%w: set exactly one of Path and Writer", ErrRecordOptions)
	case o.Channels > RecordDual:
		return fmt.Errorf("%w: channels %v", ErrRecordOptions, o.Channels)
	case o.Format > FormatWAVMuLaw:
		return fmt.Errorf("%w: format %v", ErrRecordOptions, o.Format)
	case o.Silence > SilenceEnergy:
		return fmt.Errorf("%w: silence detector %d", ErrRecordOptions, o.Silence)
	case o.MaxLength < 0 || o.SilenceTimeout < 0:
		return fmt.Errorf("%w: negative MaxLength or SilenceTimeout", ErrRecordOptions)
	case o.SilenceThreshold > 0:
		return fmt.Errorf("%w: silence threshold %v dBFS above full scale", ErrRecordOptions, o.SilenceThreshold)
	}
	if o.PlayBeep {
		if len(o.Beep.Frequencies) == 0 && o.Beep.Duration == 0 {
			o.Beep = DefaultBeep()
		}
		if o.Beep.Duration <= 0 {
			return fmt.Errorf("%w: the beep needs a Duration", ErrRecordOptions)
		}
	}
	if o.SilenceThreshold == 0 {
		o.SilenceThreshold = DefaultSilenceThreshold
	}
	return nil
}

// RecordingResult describes a finished recording; it is also the payload of the
// RecordingSaved and RecordingFailed events.
type RecordingResult struct {
	// ID is RecordOptions.ID or the one generated.
	ID string
	// Path is the file written, empty when recording to a Writer.
	Path string
	// Format and Layout are the options the recording ran with; Channels is the
	// number of channels in the file (1, or 2 for RecordDual) and SampleRate its rate.
	Format     RecordFormat
	Layout     RecordChannels
	Channels   int
	SampleRate int
	// Duration is the audio in the file, after trimming.
	Duration time.Duration
	// Size is the length of the WAV data written, header included, in bytes.
	Size int64
	// StartedAt is when recording began (after the beep); EndedAt when it stopped.
	StartedAt, EndedAt time.Time
	// Reason says why it stopped; Digit is the termination digit when Reason is
	// RecordDigit.
	Reason RecordStop
	Digit  rune
	// FramesLost counts frames of audio that could not be handed to the recording
	// in time (its goroutine fell more than 2 s behind); silence stands in for them,
	// so the channels stay in step. Zero in a healthy process.
	FramesLost uint64
	// Err is why writing failed (Reason RecordFailed), nil otherwise.
	Err error
}

// Recording is a recording in progress; Record starts one. Its methods are safe for
// concurrent use.
type Recording struct {
	c    *Call
	id   string
	ctx  context.Context
	sess *rtpsession.Session
	core *recorder
	wake chan struct{}
	ctl  chan recCtl
	hang chan struct{} // closed when the call ends
	once sync.Once
	done chan struct{}

	// Set up by Record, torn down by the recording's goroutine.
	stopListen func()
	sentSub    *sentSub
	digits     <-chan DTMF
	unsubDigit func()
	terminate  string
	closeDst   func() (size int64, err error)

	res RecordingResult // written by the goroutine before done is closed
}

type recOp uint8

const (
	opPause recOp = iota
	opResume
	opStop
)

type recCtl struct {
	op  recOp
	ack chan struct{}
}

// recordings tracks a call's running recordings, so the end of the call can finish
// them before its Hangup event.
type recordings struct {
	mu     sync.Mutex
	ended  bool
	active map[*Recording]struct{}
}

// Record starts recording the call and returns once recording has begun (after the
// beep, if PlayBeep). The recording runs until Stop, a limit in opts (MaxLength,
// SilenceTimeout, a termination digit), ctx's end or the end of the call, and then
// emits RecordingSaved (or RecordingFailed) with its RecordingResult; Wait returns
// the same. The audio is written on a goroutine the recording owns, never on the
// media paths: the caller's frames come through Listen, ours through a tap on the
// pacer, each handed over through a preallocated ring without blocking.
//
// ctx bounds the beep and then the recording: when it ends, the recording stops with
// RecordCancelled. Record fails with ErrNotAnswered before media is up, ErrCallEnded
// after the call ended, and an error wrapping ErrRecordOptions for bad options; a
// file that cannot be created is reported as such.
func (c *Call) Record(ctx context.Context, opts RecordOptions) (*Recording, error) {
	s, err := c.liveMedia()
	if err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rate := s.SampleRate()
	frameLen := media.SamplesPer(rate, s.PTime())
	r := &Recording{
		c: c, id: opts.ID, ctx: ctx, sess: s,
		wake: make(chan struct{}, 1),
		ctl:  make(chan recCtl),
		hang: make(chan struct{}),
		done: make(chan struct{}),
	}
	if r.id == "" {
		r.id = newID()
	}
	ww, closeDst, err := openDestination(opts, rate)
	if err != nil {
		return nil, err
	}
	r.closeDst = closeDst
	discard := func() {
		_, _ = closeDst()
		if opts.Path != "" {
			_ = os.Remove(opts.Path)
		}
	}
	if r.core, err = newRecorder(opts, rate, frameLen, s.PTime(), ww, r.wake); err != nil {
		discard()
		return nil, err
	}
	if opts.PlayBeep {
		if err := playBeep(ctx, s, opts.Beep); err != nil {
			discard()
			return nil, err
		}
	}

	c.recs.mu.Lock()
	if c.recs.ended {
		c.recs.mu.Unlock()
		discard()
		return nil, ErrCallEnded
	}
	if c.recs.active == nil {
		c.recs.active = map[*Recording]struct{}{}
	}
	c.recs.active[r] = struct{}{}
	c.wg.Add(1) // under recs.mu, so never after the call's end began waiting
	c.recs.mu.Unlock()

	if opts.TerminationDigits != "" {
		r.terminate = opts.TerminationDigits
		r.digits, r.unsubDigit = c.subscribeDigits()
	}
	// Our side first: its first tick arms the caller side too, so both start at the
	// same tick (to within one frame) and stale frames buffered before are skipped.
	r.sentSub = &sentSub{ring: r.core.sent}
	c.addSentSub(r.sentSub)
	r.stopListen, err = c.Listen(&ringWriter{ring: r.core.caller, rate: rate, start: r.sentSub})
	if err != nil {
		r.stopListen = func() {}
		r.core.stop, r.core.err = RecordFailed, fmt.Errorf("call: record: %w", err)
	}
	r.res = RecordingResult{
		ID: r.id, Path: opts.Path, Format: opts.Format, Layout: opts.Channels,
		Channels: r.core.channels, SampleRate: rate, StartedAt: time.Now(),
	}
	go r.run()
	return r, nil
}

// ID is the recording's ID.
func (r *Recording) ID() string { return r.id }

// Done is closed when the recording has ended and its result is final.
func (r *Recording) Done() <-chan struct{} { return r.done }

// Pause stops recording until Resume: the paused audio is left out of the file (not
// replaced by silence, as the reference platforms' default "skip" pause behaviour),
// and paused time does not count towards MaxLength. Audio that arrived before the
// call is recorded. It returns ErrRecordingDone once the recording has ended.
func (r *Recording) Pause() error { return r.send(opPause) }

// Resume continues a paused recording; see Pause.
func (r *Recording) Resume() error { return r.send(opResume) }

func (r *Recording) send(op recOp) error {
	ack := make(chan struct{})
	select {
	case r.ctl <- recCtl{op: op, ack: ack}:
		<-ack
		return nil
	case <-r.done:
		return ErrRecordingDone
	}
}

// Stop ends the recording (RecordStopped) and waits for it to be written out, as Wait.
// On a recording that has already ended it returns its result.
func (r *Recording) Stop(ctx context.Context) (RecordingResult, error) {
	ack := make(chan struct{})
	select {
	case r.ctl <- recCtl{op: opStop, ack: ack}:
	case <-r.done:
	case <-ctx.Done():
		return RecordingResult{}, ctx.Err()
	}
	return r.Wait(ctx)
}

// Wait waits for the recording to end and returns its result, with the result's Err
// (writing failed) as the error; or ctx's error if ctx ends first.
func (r *Recording) Wait(ctx context.Context) (RecordingResult, error) {
	select {
	case <-r.done:
		return r.res, r.res.Err
	case <-ctx.Done():
		return RecordingResult{}, ctx.Err()
	}
}

// endOnHangup is called by the end of the call.
func (r *Recording) endOnHangup() { r.once.Do(func() { close(r.hang) }) }

// run is the recording's goroutine: it writes what the rings hand over whenever
// enough has gathered, and handles control requests, digits and the ends.
func (r *Recording) run() {
	defer r.c.wg.Done()
	core := r.core
	sessDone := r.sess.Done()
	for core.stop == "" {
		select {
		case <-r.wake:
			core.drain()
		case d := <-r.digits:
			core.drain()
			if core.stop == "" && strings.ContainsRune(r.terminate, d.Digit) {
				core.stop, r.res.Digit = RecordDigit, d.Digit
			}
		case m := <-r.ctl:
			// What arrived before the request is handled under the old state.
			core.drain()
			switch m.op {
			case opPause:
				core.paused = true
			case opResume:
				core.paused = false
			case opStop:
				if core.stop == "" {
					core.stop = RecordStopped
				}
			}
			close(m.ack)
		case <-r.ctx.Done():
			core.drain()
			if core.stop == "" {
				core.stop = RecordCancelled
				if r.c.State() == StateEnded { // the handler's ctx ends with the call
					core.stop = RecordHangup
				}
			}
		case <-sessDone:
			core.drain()
			if core.stop == "" {
				core.stop = RecordHangup
			}
		case <-r.hang:
			core.drain()
			if core.stop == "" {
				core.stop = RecordHangup
			}
		}
	}
	r.finish()
}

// finish detaches the recording from the call, writes out what is left, closes the
// destination and reports the result.
func (r *Recording) finish() {
	r.stopListen()
	r.c.removeSentSub(r.sentSub)
	if r.unsubDigit != nil {
		r.unsubDigit()
	}
	core := r.core
	stop := core.stop
	if stop == RecordHangup {
		// The audio pump hands over the last frames it had buffered as the media
		// closes; take them too.
		core.stop = ""
		core.drain()
		if core.stop != RecordFailed {
			core.stop = stop
		}
		stop = core.stop
	}
	err := core.finish()
	size, cerr := r.closeDst()
	if err == nil {
		err = cerr
	}
	res := &r.res
	res.EndedAt = time.Now()
	res.Duration = core.w.Duration()
	res.Size = size
	res.FramesLost = core.lost()
	res.Reason = stop
	if core.err != nil {
		res.Err = core.err
	} else if err != nil {
		res.Err = fmt.Errorf("call: record: %w", err)
		res.Reason = RecordFailed
	}
	if res.Reason != RecordDigit {
		res.Digit = 0
	}
	if res.Err != nil {
		r.c.log.Warn("recording failed", "recording", r.id, "err", res.Err)
		r.c.events.push(RecordingFailed{base: now(), RecordingResult: *res})
	} else {
		r.c.events.push(RecordingSaved{base: now(), RecordingResult: *res})
	}
	r.c.recs.mu.Lock()
	delete(r.c.recs.active, r)
	r.c.recs.mu.Unlock()
	close(r.done)
}

// finishRecordings is called once when the call ends, after its media stopped and
// before its Hangup event: it ends every running recording and waits (a bounded
// time) until each has been written out and has emitted its event.
func (c *Call) finishRecordings() {
	c.recs.mu.Lock()
	c.recs.ended = true
	recs := make([]*Recording, 0, len(c.recs.active))
	for r := range c.recs.active {
		recs = append(recs, r)
	}
	c.recs.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	t := time.NewTimer(finishWait)
	defer t.Stop()
	for _, r := range recs {
		r.endOnHangup()
	}
	for _, r := range recs {
		select {
		case <-r.done:
		case <-t.C:
			c.log.Warn("recording still writing when the call ended; its event may follow the hangup and be lost", "recording", r.id)
			return
		}
	}
}

// playBeep plays t and waits until it has been sent. A beep cut short by Clear
// (barge-in, another verb) still lets the recording start.
func playBeep(ctx context.Context, s *rtpsession.Session, t media.Tone) error {
	tr, err := media.NewToneReader(t, s.SampleRate(), s.PTime())
	if err != nil {
		return fmt.Errorf("call: record: beep: %w: %w", ErrRecordOptions, err)
	}
	for {
		f, err := tr.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("call: record: beep: %w", err)
		}
		if err := s.WriteFrame(f); err != nil {
			return fmt.Errorf("call: record: beep: %w", err)
		}
		if err := ctx.Err(); err != nil {
			s.Clear()
			return err
		}
	}
	if err := s.WaitPlayout(ctx); err != nil && !errors.Is(err, rtpsession.ErrCleared) {
		if errors.Is(err, media.ErrClosed) {
			return ErrCallEnded
		}
		return err
	}
	return nil
}

// ---- destinations ----

// openDestination makes the WAV writer for opts and returns it with the function
// that closes it and reports the size written.
func openDestination(opts RecordOptions, rate int) (*wav.Writer, func() (int64, error), error) {
	wo := wav.WriterOptions{SampleRate: rate, Channels: 1}
	if opts.Channels == RecordDual {
		wo.Channels = 2
	}
	if opts.Format == FormatWAVMuLaw {
		wo.Encoding = wav.MuLaw
	}
	switch dst := opts.Writer.(type) {
	case nil:
		w, err := wav.Create(opts.Path, wo)
		if err != nil {
			return nil, nil, fmt.Errorf("call: record: %w", err)
		}
		return w, func() (int64, error) {
			err := w.Close()
			fi, serr := os.Stat(opts.Path)
			if serr != nil {
				return 0, errors.Join(err, serr)
			}
			return fi.Size(), err
		}, nil
	case io.WriteSeeker:
		base, err := dst.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, nil, fmt.Errorf("call: record: %w", err)
		}
		w, err := wav.NewWriter(dst, wo)
		if err != nil {
			return nil, nil, fmt.Errorf("call: record: %w", err)
		}
		return w, func() (int64, error) {
			err := w.Close()
			end, serr := dst.Seek(0, io.SeekCurrent)
			if serr != nil {
				return 0, errors.Join(err, serr)
			}
			return end - base, err
		}, nil
	default:
		sw := &streamWriter{w: dst}
		wo.SyncInterval = -1 // nothing to rewrite: the sizes stay "unknown"
		w, err := wav.NewWriter(sw, wo)
		if err != nil {
			return nil, nil, fmt.Errorf("call: record: %w", err)
		}
		return w, func() (int64, error) {
			err := w.Close()
			return sw.end, err
		}, nil
	}
}

// streamWriter lets wav.Writer write to a plain io.Writer: writes at the end go
// through, and the header rewrites a WriteSeeker would get (seek back, patch a size,
// seek to the end) are absorbed. The header, its first write, goes out with its
// RIFF and data sizes set to 0xFFFFFFFF, "unknown length".
type streamWriter struct {
	w        io.Writer
	pos, end int64
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.pos < s.end { // a header patch: the bytes are already gone
		s.pos += int64(len(p))
		return len(p), nil
	}
	out := p
	if s.end == 0 && len(p) >= 44 && string(p[:4]) == "RIFF" && string(p[len(p)-8:len(p)-4]) == "data" {
		out = append([]byte(nil), p...)
		copy(out[4:8], "\xff\xff\xff\xff")
		copy(out[len(out)-4:], "\xff\xff\xff\xff")
	}
	n, err := s.w.Write(out)
	s.pos += int64(n)
	s.end = s.pos
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

func (s *streamWriter) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += s.pos
	case io.SeekEnd:
		off += s.end
	default:
		return 0, fmt.Errorf("call: record: seek whence %d: %w", whence, os.ErrInvalid)
	}
	if off < 0 || off > s.end {
		return 0, fmt.Errorf("call: record: seek to %d of a %d-byte stream: %w", off, s.end, os.ErrInvalid)
	}
	s.pos = off
	return off, nil
}

// ---- the per-frame core ----

// recorder is the per-frame part of a recording: it pairs the caller's frames with
// ours, pauses, detects silence, trims, enforces the limits and writes the WAV file.
// It runs on the recording's goroutine only and allocates nothing per frame.
type recorder struct {
	layout   RecordChannels
	channels int
	caller   *frameRing
	sent     *frameRing // nil for RecordCaller
	w        *wav.Writer
	mix      []int16

	paused bool
	stop   RecordStop
	err    error

	frames    int64 // frames recorded (not paused)
	maxFrames int64

	detect       bool
	vad          *vad.Detector
	energyThr    float64 // the mean square of a silent frame's samples stays below this
	heard        bool    // a sound was heard
	silentRun    int64
	silenceLimit int64

	trim   bool
	pre    *heldAudio // leading silence kept in case sound follows
	hold   *heldAudio // trailing silence held back
	margin int        // frames of hold written at the end
}

func newRecorder(opts RecordOptions, rate, frameLen int, ptime time.Duration, w *wav.Writer, wake chan struct{}) (*recorder, error) {
	frames := func(d time.Duration) int64 { return int64((d + ptime - 1) / ptime) }
	ringN := int(frames(ringDuration))
	r := &recorder{
		layout:   opts.Channels,
		channels: 1,
		caller:   newFrameRing(ringN, frameLen, wake, int(frames(wakeEvery))),
		w:        w,
	}
	if opts.Channels != RecordCaller {
		// Our side only wakes the goroutine as a safety net: the caller's side, in
		// step with it, normally does.
		r.sent = newFrameRing(ringN, frameLen, wake, ringN/2)
		r.mix = make([]int16, frameLen)
	}
	if opts.Channels == RecordDual {
		r.channels = 2
	}
	r.maxFrames = frames(opts.MaxLength)
	r.silenceLimit = frames(opts.SilenceTimeout)
	r.detect = opts.SilenceTimeout > 0 || opts.TrimSilence
	if r.detect {
		useVAD := opts.Silence == SilenceVAD || (opts.Silence == SilenceAuto && (rate == 8000 || rate == 16000))
		if useVAD {
			d, err := vad.New(rate, vad.Config{Mode: opts.VADMode})
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrRecordOptions, err)
			}
			r.vad = d
		}
		amp := 32768 * math.Pow(10, opts.SilenceThreshold/20)
		r.energyThr = amp * amp
	}
	if opts.TrimSilence {
		r.trim = true
		lead := trimMargin
		if r.vad != nil {
			lead += vadOnset
		}
		trail := min(max(opts.SilenceTimeout+time.Second, minTrailHold), maxTrailHold)
		r.pre = newHeldAudio(int(frames(lead)), frameLen, r.channels == 2)
		r.hold = newHeldAudio(int(frames(trail)), frameLen, r.channels == 2)
		r.margin = int(frames(trimMargin))
	}
	return r, nil
}

// drain records every frame pair waiting in the rings, until a limit stops it.
func (r *recorder) drain() {
	for r.stop == "" {
		a, ok := r.caller.peek()
		if !ok {
			return
		}
		var b []int16
		if r.sent != nil {
			if b, ok = r.sent.peek(); !ok {
				return
			}
		}
		r.process(a, b)
		r.caller.advance()
		if r.sent != nil {
			r.sent.advance()
		}
	}
}

// process records one frame: a is the caller's audio, b ours (nil for RecordCaller).
func (r *recorder) process(a, b []int16) {
	if r.paused {
		return
	}
	r.frames++
	x, y := a, []int16(nil) // the frame in the file's layout: mono x, or x left and y right
	if r.sent != nil {
		n := min(len(a), len(b))
		a, b = a[:n], b[:n]
		m := r.mix[:n]
		for i := range m {
			m[i] = int16(min(max(int32(a[i])+int32(b[i]), math.MinInt16), math.MaxInt16))
		}
		switch r.layout {
		case RecordMixed:
			x = m
		case RecordDual:
			y = b
		}
	}
	sound := true
	if r.detect {
		if r.sent != nil {
			sound = r.isSound(r.mix[:len(a)])
		} else {
			sound = r.isSound(a)
		}
	}
	if r.trim {
		r.writeTrimmed(x, y, sound)
	} else {
		r.write(x, y)
	}
	if sound {
		r.heard, r.silentRun = true, 0
	} else if r.heard {
		r.silentRun++
	}
	switch {
	case r.stop != "":
	case r.silenceLimit > 0 && r.silentRun >= r.silenceLimit:
		r.stop = RecordSilence
	case r.maxFrames > 0 && r.frames >= r.maxFrames:
		r.stop = RecordMaxLength
	}
}

func (r *recorder) isSound(x []int16) bool {
	if r.vad != nil {
		return r.vad.Process(x).Speech
	}
	var sum float64
	for _, v := range x {
		f := float64(v)
		sum += f * f
	}
	return sum >= r.energyThr*float64(max(len(x), 1))
}

// write writes one frame in the file's layout: x mono, or x left and y right.
func (r *recorder) write(x, y []int16) {
	var err error
	if r.channels == 2 {
		err = r.w.WriteStereo(x, y)
	} else {
		err = r.w.Write(x)
	}
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("call: record: %w", err)
		r.stop = RecordFailed
	}
}

// writeHeld writes a frame kept in a heldAudio slot.
func (r *recorder) writeHeld(s []int16) {
	if r.channels == 2 {
		h := len(s) / 2
		r.write(s[:h], s[h:])
		return
	}
	r.write(s, nil)
}

// writeTrimmed writes one frame with TrimSilence: silence before the first sound
// waits in pre (the latest of it is written when sound comes), silence after a sound
// waits in hold (written when sound follows, dropped at the end).
func (r *recorder) writeTrimmed(x, y []int16, sound bool) {
	switch {
	case !r.heard && !sound:
		r.pre.put(x, y)
	case !r.heard:
		r.pre.flush(r.writeHeld)
		r.write(x, y)
	case sound:
		r.hold.flush(r.writeHeld)
		r.write(x, y)
	default:
		if r.hold.full() {
			r.writeHeld(r.hold.pop())
		}
		r.hold.put(x, y)
	}
}

// finish writes the trailing margin that TrimSilence keeps and reports the first
// write error. The destination is closed by its owner.
func (r *recorder) finish() error {
	if r.trim && r.heard {
		for range r.margin {
			if r.hold.n == 0 {
				break
			}
			r.writeHeld(r.hold.pop())
		}
	}
	return r.err
}

func (r *recorder) lost() uint64 {
	n := r.caller.lost.Load()
	if r.sent != nil {
		n += r.sent.lost.Load()
	}
	return n
}

// heldAudio is a ring of whole frames in the file's layout (for stereo, the left
// samples then the right), allocated once.
type heldAudio struct {
	buf     []int16
	lens    []int
	fl      int // samples per slot
	stereo  bool
	head, n int
}

func newHeldAudio(frames, frameLen int, stereo bool) *heldAudio {
	frames = max(frames, 1)
	fl := frameLen
	if stereo {
		fl *= 2
	}
	return &heldAudio{buf: make([]int16, frames*fl), lens: make([]int, frames), fl: fl, stereo: stereo}
}

func (h *heldAudio) full() bool { return h.n == len(h.lens) }

// put stores a frame (x, and y after it in stereo), dropping the oldest when full.
func (h *heldAudio) put(x, y []int16) {
	if h.full() {
		h.head = (h.head + 1) % len(h.lens)
		h.n--
	}
	i := (h.head + h.n) % len(h.lens)
	slot := h.buf[i*h.fl : (i+1)*h.fl]
	k := copy(slot, x)
	if h.stereo {
		k = min(k, len(slot)/2)
		c := copy(slot[k:2*k], y)
		clear(slot[k+c : 2*k])
		k *= 2
	}
	h.lens[i] = k
	h.n++
}

// pop takes the oldest frame; the slice is valid until the next put.
func (h *heldAudio) pop() []int16 {
	i := h.head
	h.head = (h.head + 1) % len(h.lens)
	h.n--
	return h.buf[i*h.fl : i*h.fl+h.lens[i]]
}

// flush writes every held frame, oldest first, and empties the ring.
func (h *heldAudio) flush(write func([]int16)) {
	for h.n > 0 {
		write(h.pop())
	}
}
