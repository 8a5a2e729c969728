package pocketsphinx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/vad"
	"github.com/switchboard-go/switchboard/stt"
)

// DefaultModelDir is where Debian's pocketsphinx-en-us package installs the US English
// model: the acoustic model "en-us", the language model "en-us.lm.bin" and the
// pronunciation dictionary "cmudict-en-us.dict".
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// Defaults of Config.
const (
	// DefaultPartialInterval is the audio time between partial results.
	DefaultPartialInterval = 200 * time.Millisecond
	// DefaultKeywordThreshold is the detection threshold of keyword spotting.
	DefaultKeywordThreshold = 1e-20
	// DefaultPreRoll is the audio kept from before the detected start of speech.
	DefaultPreRoll = 300 * time.Millisecond
	// DefaultMaxUtterance is the longest utterance before a final result is forced.
	DefaultMaxUtterance = 30 * time.Second
	// DefaultMaxBuffer is the most unprocessed audio a session holds.
	DefaultMaxBuffer = 60 * time.Second
)

// Errors of this package. Start also returns stt.ErrUnsupported and stt.ErrGrammar.
var (
	// ErrModel means the decoder could not be loaded: a model file is missing or
	// unreadable. Install Debian's pocketsphinx-en-us package or fix Config.
	ErrModel = errors.New("pocketsphinx: cannot load the model")
	// ErrNoCgo is returned by New when the package was built without cgo
	// (CGO_ENABLED=0): pocketsphinx is a C library.
	ErrNoCgo = errors.New("pocketsphinx: built without cgo; the recognizer needs cgo and libpocketsphinx")
	// ErrDecode is returned by Recv when the decoder fails while processing audio.
	ErrDecode = errors.New("pocketsphinx: decoding failed")
)

// errRecognizerClosed is returned by Start and Preload after Close.
var errRecognizerClosed = fmt.Errorf("pocketsphinx: recognizer closed: %w", media.ErrClosed)

// Config configures a Recognizer. The zero value uses the model of Debian's
// pocketsphinx-en-us package with the settings measured best in this package's tests.
type Config struct {
	// ModelDir is the directory holding the model. Empty means DefaultModelDir.
	ModelDir string
	// AcousticModel, LanguageModel and Dictionary are paths to the acoustic model
	// directory, the n-gram language model and the pronunciation dictionary. Empty
	// means "en-us", "en-us.lm.bin" and "cmudict-en-us.dict" inside ModelDir.
	AcousticModel, LanguageModel, Dictionary string
	// NoLanguageModel skips loading the language model, for recognizers used only with
	// grammars and keywords: decoders load in about a third of the time and memory,
	// and sessions without Grammar or Keywords fail with stt.ErrUnsupported.
	NoLanguageModel bool
	// Args are extra decoder arguments as name/value pairs, e.g. {"-lw", "8"}; they
	// override this package's settings. Front-end arguments (-lowerf, -upperf, -nfilt,
	// -cmn, ...) are taken from the acoustic model's feat.params, which wins over
	// arguments; see Narrowband for 8 kHz audio.
	Args []string
	// Narrowband chooses how sessions at 8000 Hz, whose audio is band-limited to
	// 4 kHz, are decoded. The zero value is NarrowbandTuned.
	Narrowband Narrowband
	// MaxIdle is the number of loaded decoders kept between sessions. Zero means
	// GOMAXPROCS; negative keeps none (every session loads a decoder, ~0.25 s).
	MaxIdle int
	// PartialInterval is the audio time between partial results; a partial is returned
	// only when the hypothesis changed. Zero means DefaultPartialInterval (200 ms);
	// negative disables partial results.
	PartialInterval time.Duration
	// KeywordThreshold is the detection threshold for stt.Config.Keywords, between
	// 1e-50 (most sensitive) and 1. Zero means DefaultKeywordThreshold (1e-20). A
	// keyword written as "phrase /1e-10/" carries its own threshold.
	KeywordThreshold float64
	// PreRoll is how much audio from before the detected start of speech is decoded
	// with the utterance, so that the first sound is not cut off. Zero means
	// DefaultPreRoll (300 ms).
	PreRoll time.Duration
	// MaxUtterance forces a final result when an utterance runs this long without a
	// pause. Zero means DefaultMaxUtterance (30 s).
	MaxUtterance time.Duration
	// MaxBuffer is the most audio a session buffers unprocessed before WriteFrame
	// drops frames with stt.ErrOverflow. Zero means DefaultMaxBuffer (60 s).
	MaxBuffer time.Duration
	// VAD is the aggressiveness of the voice activity detector that finds utterances.
	// The zero value, vad.Quality, misses the least speech.
	VAD vad.Mode
	// LogFile receives the C library's log. Empty discards it. The library keeps one
	// log for the whole process: the last decoder loaded decides where it goes.
	LogFile string
}

// Recognizer is an stt.Recognizer backed by pocketsphinx, the CMU Sphinx speech
// recognizer, running in-process.
//
// A pocketsphinx decoder (ps_decoder_t) holds the acoustic model, dictionary and
// language model and is not safe for concurrent use, and the library offers no way to
// share the loaded model between decoders. A Recognizer therefore keeps a pool of
// decoders: a session takes one when it starts (loading a new one when none is idle:
// about 0.2-0.3 s and 90 MB of memory with the language model, 0.1 s and 30 MB
// without) and gives it back when it ends.
// Decoders are loaded one at a time. Start, CheckGrammar and Close may be called
// concurrently.
type Recognizer struct {
	cfg     Config
	args    []string // decoder arguments
	narrow  narrowSetup
	maxIdle int

	load sync.Mutex // serialises decoder loading: the C library's log setup is global

	mu     sync.Mutex
	idle   map[profile][]*psDecoder
	closed bool
}

// profile names a decoder configuration: the pool keeps decoders of each apart.
type profile uint8

const (
	wideband profile = iota
	narrowband
)

var _ stt.GrammarRecognizer = (*Recognizer)(nil)

// New returns a Recognizer. It loads one decoder, so that a missing model fails here
// (with an error wrapping ErrModel that names the Debian package), and keeps it for the
// first session. Close the Recognizer to free its decoders.
func New(cfg Config) (*Recognizer, error) {
	if !cgoAvailable {
		return nil, ErrNoCgo
	}
	if len(cfg.Args)%2 != 0 {
		return nil, fmt.Errorf("pocketsphinx: Args must be name/value pairs, got %d strings", len(cfg.Args))
	}
	if _, err := vad.New(modelRate, vad.Config{Mode: cfg.VAD}); err != nil {
		return nil, fmt.Errorf("pocketsphinx: Config.VAD: %w", err)
	}
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir
	}
	def := func(p *string, name string) {
		if *p == "" {
			*p = filepath.Join(cfg.ModelDir, name)
		}
	}
	def(&cfg.AcousticModel, "en-us")
	def(&cfg.LanguageModel, "en-us.lm.bin")
	def(&cfg.Dictionary, "cmudict-en-us.dict")
	need := []string{filepath.Join(cfg.AcousticModel, "mdef"), cfg.Dictionary}
	if !cfg.NoLanguageModel {
		need = append(need, cfg.LanguageModel)
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: %v (the Debian package pocketsphinx-en-us installs the default model)", ErrModel, err)
		}
	}
	if cfg.PartialInterval == 0 {
		cfg.PartialInterval = DefaultPartialInterval
	}
	if cfg.KeywordThreshold == 0 {
		cfg.KeywordThreshold = DefaultKeywordThreshold
	}
	if cfg.PreRoll <= 0 {
		cfg.PreRoll = DefaultPreRoll
	}
	if cfg.MaxUtterance <= 0 {
		cfg.MaxUtterance = DefaultMaxUtterance
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = DefaultMaxBuffer
	}
	if cfg.LogFile == "" {
		cfg.LogFile = os.DevNull
	}
	r := &Recognizer{cfg: cfg, idle: map[profile][]*psDecoder{}}
	r.maxIdle = cfg.MaxIdle
	if r.maxIdle == 0 {
		r.maxIdle = runtime.GOMAXPROCS(0)
	}
	r.args = r.decoderArgs()
	r.narrow = newNarrowSetup(cfg.Narrowband)
	d, err := r.newDecoder(wideband)
	if err != nil {
		return nil, err
	}
	r.put(wideband, d)
	return r, nil
}

// decoderArgs builds the decoder arguments from the configuration.
func (r *Recognizer) decoderArgs() []string {
	a := []string{
		"-hmm", r.cfg.AcousticModel,
		"-dict", r.cfg.Dictionary,
		"-logfn", r.cfg.LogFile,
		// Utterances are found by this package's VAD; the decoder's own silence
		// removal would drop frames and shift word times.
		"-remove_silence", "no",
	}
	if !r.cfg.NoLanguageModel {
		a = append(a, "-lm", r.cfg.LanguageModel)
	}
	return append(a, r.cfg.Args...)
}

func (r *Recognizer) newDecoder(p profile) (*psDecoder, error) {
	r.load.Lock()
	defer r.load.Unlock()
	d, err := newDecoder(r.args)
	if err != nil {
		return nil, err
	}
	if p == narrowband && len(r.narrow.cmn) == len(d.cmn) {
		copy(d.cmn, r.narrow.cmn)
	}
	return d, nil
}

// get returns a decoder for profile p, idle or newly loaded.
func (r *Recognizer) get(p profile) (*psDecoder, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errRecognizerClosed
	}
	if n := len(r.idle[p]); n > 0 {
		d := r.idle[p][n-1]
		r.idle[p] = r.idle[p][:n-1]
		r.mu.Unlock()
		return d, nil
	}
	r.mu.Unlock()
	return r.newDecoder(p)
}

// put returns a decoder to the pool, or frees it when the pool is full or closed.
func (r *Recognizer) put(p profile, d *psDecoder) {
	r.mu.Lock()
	if !r.closed && len(r.idle[p]) < r.maxIdle {
		r.idle[p] = append(r.idle[p], d)
		d = nil
	}
	r.mu.Unlock()
	if d != nil {
		d.free()
	}
}

// Preload loads decoders until n are idle for each of the given sample rates, so
// that the first n concurrent sessions start without loading delay. It is bounded by
// Config.MaxIdle.
func (r *Recognizer) Preload(n int, sampleRates ...int) error {
	if len(sampleRates) == 0 {
		sampleRates = []int{16000}
	}
	for _, rate := range sampleRates {
		p := profileFor(rate)
		for {
			r.mu.Lock()
			have := len(r.idle[p])
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return errRecognizerClosed
			}
			if have >= min(n, r.maxIdle) {
				break
			}
			d, err := r.newDecoder(p)
			if err != nil {
				return err
			}
			r.put(p, d)
		}
	}
	return nil
}

// Close frees the idle decoders. Sessions still open keep theirs until they are
// closed; Start fails with an error wrapping media.ErrClosed
// afterwards. Close is idempotent.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()
	for _, ds := range idle {
		for _, d := range ds {
			d.free()
		}
	}
	return nil
}

// profileFor picks the decoder configuration for audio at rate Hz.
func profileFor(rate int) profile {
	if rate <= 8000 {
		return narrowband
	}
	return wideband
}

// CheckGrammar compiles grammar with a pooled decoder: nil, or an error wrapping
// stt.ErrGrammar (syntax errors and words missing from the dictionary are both
// reported; the C library does not say which).
func (r *Recognizer) CheckGrammar(grammar string) error {
	d, err := r.get(wideband)
	if err != nil {
		return err
	}
	err = d.useJSGF(sessionSearch, grammar)
	r.restore(d)
	r.put(wideband, d)
	if err != nil {
		return fmt.Errorf("pocketsphinx: %w: %v", stt.ErrGrammar, err)
	}
	return nil
}

// sessionSearch is the name of the search a session adds for its grammar or keywords.
const sessionSearch = "session"

// restore puts a decoder back into its initial search, dropping a session's own.
func (r *Recognizer) restore(d *psDecoder) {
	if !r.cfg.NoLanguageModel {
		_ = d.useLM()
	}
	d.dropSearch(sessionSearch)
}

// Start opens a recognition session; see stt.Session and the package documentation.
// cfg.SampleRate must be 8000 Hz or more (audio is converted to the model's 16 kHz).
// cfg.Language must be empty or English. cfg.Hints are ignored.
func (r *Recognizer) Start(ctx context.Context, cfg stt.Config) (stt.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.SampleRate < 8000 {
		return nil, fmt.Errorf("pocketsphinx: sample rate %d Hz (want 8000 or more): %w", cfg.SampleRate, stt.ErrUnsupported)
	}
	if l := strings.ToLower(cfg.Language); l != "" && l != "en" && !strings.HasPrefix(l, "en-") {
		return nil, fmt.Errorf("pocketsphinx: language %q (the model is US English): %w", cfg.Language, stt.ErrUnsupported)
	}
	if cfg.Grammar != "" && len(cfg.Keywords) > 0 {
		return nil, fmt.Errorf("pocketsphinx: grammar and keywords together: %w", stt.ErrUnsupported)
	}
	if cfg.Grammar == "" && len(cfg.Keywords) == 0 && r.cfg.NoLanguageModel {
		return nil, fmt.Errorf("pocketsphinx: free speech needs the language model (Config.NoLanguageModel is set): %w", stt.ErrUnsupported)
	}
	p := profileFor(cfg.SampleRate)
	d, err := r.get(p)
	if err != nil {
		return nil, err
	}
	if err := r.setSearch(d, cfg); err != nil {
		r.restore(d)
		r.put(p, d)
		return nil, err
	}
	d.resetCMN()
	s, err := newSession(ctx, r, p, d, cfg)
	if err != nil {
		r.restore(d)
		r.put(p, d)
		return nil, err
	}
	return s, nil
}

// setSearch switches d to the search cfg asks for.
func (r *Recognizer) setSearch(d *psDecoder, cfg stt.Config) error {
	switch {
	case cfg.Grammar != "":
		if err := d.useJSGF(sessionSearch, cfg.Grammar); err != nil {
			return fmt.Errorf("pocketsphinx: %w: %v", stt.ErrGrammar, err)
		}
	case len(cfg.Keywords) > 0:
		f, err := os.CreateTemp("", "switchboard-kws-*.txt")
		if err != nil {
			return fmt.Errorf("pocketsphinx: keyword list: %w", err)
		}
		defer os.Remove(f.Name())
		var b strings.Builder
		for _, k := range cfg.Keywords {
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" || strings.ContainsAny(k, "\n\r") {
				_ = f.Close()
				return fmt.Errorf("pocketsphinx: keyword %q: %w", k, stt.ErrUnsupported)
			}
			if !strings.Contains(k, "/") {
				k = fmt.Sprintf("%s /%g/", k, r.cfg.KeywordThreshold)
			}
			b.WriteString(k + "\n")
		}
		if _, err := f.WriteString(b.String()); err != nil {
			_ = f.Close()
			return fmt.Errorf("pocketsphinx: keyword list: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("pocketsphinx: keyword list: %w", err)
		}
		if err := d.useKeywords(sessionSearch, f.Name()); err != nil {
			return fmt.Errorf("pocketsphinx: keywords %q: %w: %v", cfg.Keywords, stt.ErrUnsupported, err)
		}
	default:
		return d.useLM()
	}
	return nil
}
