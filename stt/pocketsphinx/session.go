package pocketsphinx

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/resample"
	"github.com/switchboard-go/switchboard/media/vad"
	"github.com/switchboard-go/switchboard/stt"
)

// modelRate is the sample rate of the acoustic model.
const modelRate = 16000

// chunk is the most input audio Recv decodes before it checks for results and for
// cancellation again.
const chunk = 100 * time.Millisecond

// block is the unit of audio the VAD and the decoder are fed: 10 ms, one decoder frame.
const block = 10 * time.Millisecond

// session is one stream of audio decoded by one pooled decoder.
//
// Locking: mu guards the input buffer, the result queue and the flags; work is held
// by whoever decodes (Recv, Finalize, Close) and guards the decoder and everything
// after it. work is taken before mu, never the other way round.
type session struct {
	r       *Recognizer
	ctx     context.Context
	prof    profile
	rate    int
	maxBuf  int  // input samples
	partial bool // partial results wanted

	wake chan struct{} // signalled (without blocking) when Recv may have work

	mu     sync.Mutex
	in     []int16 // input not yet decoded: in[head:]
	head   int
	queue  []stt.Result
	qhead  int
	closed bool  // Close was called: no more audio
	done   bool  // the decoder is released; nothing more will be queued
	err    error // a decoding failure, returned after the queued results

	work     sync.Mutex
	dec      *psDecoder
	grammar  bool                // a JSGF search: the decoder gives no posteriors
	rs       *resample.Resampler // nil when the input is at modelRate
	delay    int64               // resampler delay, in model-rate samples
	det      *vad.Detector
	take     []int16 // input being decoded
	pre      []int16 // pre-roll ring at modelRate
	preLen   int     // samples in pre
	prePos   int     // next write position in pre
	inUtt    bool
	uttFrom  int64   // model-rate sample where the utterance's audio begins
	n16      int64   // model-rate samples produced so far
	pending  []int16 // input converted to modelRate, not yet a whole block
	partStep int64   // model-rate samples between partials
	partDue  int64
	lastHyp  string
	maxUtt   int64
	bwe      float64 // narrowband: gain of the mirrored band
	nOut     int64   // model-rate samples converted so far
}

var (
	_ stt.Session   = (*session)(nil)
	_ stt.Finalizer = (*session)(nil)
)

func newSession(ctx context.Context, r *Recognizer, p profile, d *psDecoder, cfg stt.Config) (*session, error) {
	s := &session{
		r:       r,
		ctx:     ctx,
		prof:    p,
		rate:    cfg.SampleRate,
		maxBuf:  media.SamplesPer(cfg.SampleRate, r.cfg.MaxBuffer),
		partial: r.cfg.PartialInterval > 0,
		wake:    make(chan struct{}, 1),
		dec:     d,
		grammar: cfg.Grammar != "",
		maxUtt:  int64(media.SamplesPer(modelRate, r.cfg.MaxUtterance)),
	}
	if s.rate != modelRate {
		rs, err := resample.New(s.rate, modelRate)
		if err != nil {
			return nil, fmt.Errorf("pocketsphinx: %d Hz input: %w: %w", s.rate, stt.ErrUnsupported, err)
		}
		s.rs = rs
		s.delay = int64(rs.Delay() + 0.5)
	}
	if p == narrowband {
		s.bwe = r.narrow.bwe
	}
	det, err := vad.New(modelRate, vad.Config{
		Mode:     r.cfg.VAD,
		Hangover: cfg.EndSilenceOrDefault(),
	})
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	s.det = det
	s.partStep = int64(media.SamplesPer(modelRate, r.cfg.PartialInterval))
	s.pre = make([]int16, media.SamplesPer(modelRate, r.cfg.PreRoll))
	s.in = make([]int16, 0, media.SamplesPer(s.rate, 2*time.Second))
	s.take = make([]int16, 0, media.SamplesPer(s.rate, chunk))
	s.pending = make([]int16, 0, media.SamplesPer(modelRate, chunk+block)+64)
	return s, nil
}

// SampleRate is the rate the session takes, stt.Config.SampleRate.
func (s *session) SampleRate() int { return s.rate }

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// WriteFrame buffers the frame for Recv to decode. It does no recognition work and
// allocates nothing once the buffer has grown to the session's working size.
func (s *session) WriteFrame(f media.Frame) error {
	if f.SampleRate != s.rate {
		return fmt.Errorf("pocketsphinx: %d Hz frame into %d Hz session: %w", f.SampleRate, s.rate, media.ErrRateMismatch)
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("pocketsphinx: write: %w", media.ErrClosed)
	}
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return err
	}
	if len(s.in)-s.head+len(f.Samples) > s.maxBuf {
		s.mu.Unlock()
		return fmt.Errorf("pocketsphinx: %v of audio waiting for Recv: %w", s.r.cfg.MaxBuffer, stt.ErrOverflow)
	}
	if s.head > 0 && len(s.in)+len(f.Samples) > cap(s.in) {
		n := copy(s.in, s.in[s.head:])
		s.in, s.head = s.in[:n], 0
	}
	s.in = append(s.in, f.Samples...)
	s.mu.Unlock()
	s.signal()
	return nil
}

// Recv decodes buffered audio until a result is ready, and returns it. Decoding
// happens here, on the caller's goroutine, at about 5-15 % of real time.
func (s *session) Recv() (stt.Result, error) {
	for {
		if err := s.ctx.Err(); err != nil {
			return stt.Result{}, err
		}
		s.mu.Lock()
		if s.qhead < len(s.queue) {
			r := s.queue[s.qhead]
			s.queue[s.qhead] = stt.Result{}
			s.qhead++
			if s.qhead == len(s.queue) {
				s.queue, s.qhead = s.queue[:0], 0
			}
			s.mu.Unlock()
			return r, nil
		}
		if s.done {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return stt.Result{}, err
		}
		avail := len(s.in) - s.head
		s.mu.Unlock()
		if avail > 0 {
			s.work.Lock()
			s.decodeSome(media.SamplesPer(s.rate, chunk))
			s.work.Unlock()
			continue
		}
		select {
		case <-s.ctx.Done():
		case <-s.wake:
		}
	}
}

// Finalize ends the utterance in progress after decoding the audio written so far; its
// final result is returned by Recv. Speech that goes on after it starts a new
// utterance.
func (s *session) Finalize() error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.work.Lock()
	defer s.work.Unlock()
	if s.dec == nil {
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		if err == nil {
			err = fmt.Errorf("pocketsphinx: finalize: %w", media.ErrClosed)
		}
		return err
	}
	s.decodeAll()
	if s.inUtt {
		s.endUtterance()
	}
	s.signal()
	return nil
}

// Close decodes the audio still buffered (unless the session's context is cancelled),
// finishes the utterance in progress, and returns the decoder to the pool.
func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.work.Lock()
	defer s.work.Unlock()
	if s.ctx.Err() == nil {
		s.decodeAll()
		if s.inUtt {
			s.endUtterance()
		}
	} else if s.inUtt && s.dec != nil {
		_ = s.dec.endUtt()
		s.inUtt = false
	}
	s.release()
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.signal()
	return nil
}

// release hands the decoder back to the pool (or frees it after a failure). Called
// with work held.
func (s *session) release() {
	if s.dec == nil {
		return
	}
	d := s.dec
	s.dec = nil
	s.mu.Lock()
	failed := s.err != nil
	s.mu.Unlock()
	if failed {
		d.free()
		return
	}
	s.r.restore(d)
	s.r.put(s.prof, d)
}

// fail records a decoding error; Recv returns it after the results already queued.
// Called with work held.
func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("%w: %w", ErrDecode, err)
	}
	s.in, s.head = s.in[:0], 0
	s.mu.Unlock()
	s.inUtt = false
	d := s.dec
	s.dec = nil
	d.free()
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// decodeAll decodes everything buffered. Called with work held.
func (s *session) decodeAll() {
	for s.dec != nil && s.decodeSome(media.SamplesPer(s.rate, chunk)) {
	}
}

// decodeSome decodes up to max buffered input samples, and reports whether there was
// any. Called with work held.
func (s *session) decodeSome(max int) bool {
	if s.dec == nil {
		return false
	}
	s.mu.Lock()
	n := min(max, len(s.in)-s.head)
	s.take = append(s.take[:0], s.in[s.head:s.head+n]...)
	s.head += n
	if s.head == len(s.in) {
		s.in, s.head = s.in[:0], 0
	}
	s.mu.Unlock()
	if n == 0 {
		return false
	}
	if s.rs != nil {
		n0 := len(s.pending)
		s.pending = s.rs.Process(s.pending, s.take)
		if s.bwe > 0 {
			s.mirror(s.pending[n0:])
		}
	} else {
		s.pending = append(s.pending, s.take...)
	}
	step := media.SamplesPer(modelRate, block)
	i := 0
	for ; i+step <= len(s.pending) && s.dec != nil; i += step {
		s.step(s.pending[i : i+step])
	}
	// Keep the remainder at the front of the buffer, so that it does not grow.
	s.pending = s.pending[:copy(s.pending, s.pending[i:])]
	return true
}

// mirror adds the mirrored band to the model-rate samples just converted.
func (s *session) mirror(x []int16) {
	mirrorBand(x, s.bwe, s.nOut)
	s.nOut += int64(len(x))
}

// mirrorBand adds to x a copy of itself mirrored around 4 kHz at gain g: x[n]·(-1)^n
// moves every frequency f to 8 kHz - f, so the band a telephone channel removed is
// filled with a faint image of the one it kept. n0 is the stream index of x[0], which
// keeps the sign pattern continuous across calls.
func mirrorBand(x []int16, g float64, n0 int64) {
	for i, v := range x {
		k := 1 + g
		if (n0+int64(i))&1 == 1 {
			k = 1 - g
		}
		x[i] = int16(min(max(float64(v)*k, -32768), 32767))
	}
}

// step runs one 10 ms block at modelRate through the VAD and, inside an utterance,
// the decoder.
func (s *session) step(b []int16) {
	res := s.det.Process(b)
	s.n16 += int64(len(b))
	if !s.inUtt {
		if !res.Speech {
			s.remember(b)
			return
		}
		// Speech began: decode from the pre-roll on.
		s.inUtt = true
		s.uttFrom = s.n16 - int64(len(b)+s.preLen)
		s.partDue = s.partStep
		s.lastHyp = ""
		if err := s.dec.startUtt(); err != nil {
			s.fail(err)
			return
		}
		first := (s.prePos - s.preLen + len(s.pre)) % len(s.pre)
		if first+s.preLen <= len(s.pre) {
			s.feed(s.pre[first : first+s.preLen])
		} else {
			s.feed(s.pre[first:])
			s.feed(s.pre[:s.prePos])
		}
		s.preLen, s.prePos = 0, 0
	}
	s.feed(b)
	if s.dec == nil {
		return
	}
	fed := s.n16 - s.uttFrom
	switch {
	case res.Event.Type == vad.SpeechEnd || fed >= s.maxUtt:
		s.endUtterance()
	case s.partial && fed >= s.partDue:
		s.partDue += s.partStep
		if h := s.dec.hyp(); h != s.lastHyp {
			s.lastHyp = h
			if h = strings.TrimSpace(h); h != "" {
				s.push(stt.Result{Text: h, Start: s.at(s.uttFrom), End: s.at(s.n16)})
			}
		}
	}
}

// remember keeps b in the pre-roll ring.
func (s *session) remember(b []int16) {
	for len(b) > 0 {
		n := copy(s.pre[s.prePos:], b)
		b = b[n:]
		s.prePos = (s.prePos + n) % len(s.pre)
		s.preLen = min(s.preLen+n, len(s.pre))
	}
}

func (s *session) feed(b []int16) {
	if s.dec == nil {
		return
	}
	if err := s.dec.process(b); err != nil {
		s.fail(err)
	}
}

// at converts a model-rate sample count into session time, removing the resampler's
// delay.
func (s *session) at(n16 int64) time.Duration {
	n16 -= s.delay
	if n16 < 0 {
		return 0
	}
	return time.Duration(n16 * int64(time.Second) / modelRate)
}

func (s *session) push(r stt.Result) {
	s.mu.Lock()
	s.queue = append(s.queue, r)
	s.mu.Unlock()
}

// endUtterance ends the decoder's utterance and queues its final result. Called with
// work held.
func (s *session) endUtterance() {
	s.inUtt = false
	if err := s.dec.endUtt(); err != nil {
		s.fail(err)
		return
	}
	text := strings.Join(strings.Fields(s.dec.hyp()), " ")
	res := stt.Result{Text: text, Final: true, Start: s.at(s.uttFrom), End: s.at(s.n16)}
	frate := int64(s.dec.framesPerSecond())
	var sum float64
	for _, w := range s.dec.segments() {
		t := strings.TrimSpace(w.text)
		if t == "" || t[0] == '<' || t[0] == '[' || t[0] == '(' {
			continue // <s>, </s>, <sil>, [NOISE], (NULL): fillers and grammar nodes
		}
		if i := strings.IndexByte(t, '('); i > 0 {
			t = t[:i] // "one(2)": an alternative pronunciation
		}
		from := s.uttFrom + int64(w.from)*modelRate/frate
		to := s.uttFrom + int64(w.to+1)*modelRate/frate
		conf := clamp01(w.post)
		if s.grammar {
			// Grammar searches report a posterior of 1 for every word, which says
			// nothing: report none.
			conf = 0
		}
		res.Words = append(res.Words, stt.Word{
			Text:       t,
			Start:      s.at(from),
			End:        min(s.at(to), res.End),
			Confidence: conf,
		})
		sum += conf
	}
	if len(res.Words) > 0 {
		res.Start = res.Words[0].Start
		res.End = res.Words[len(res.Words)-1].End
		res.Confidence = sum / float64(len(res.Words))
		// The hypothesis and the segmentation come from different passes of the
		// decoder and may disagree; the words are what the times describe.
		var words []string
		for _, w := range res.Words {
			words = append(words, w.Text)
		}
		res.Text = strings.Join(words, " ")
	} else {
		res.Text = ""
	}
	s.push(res)
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }
