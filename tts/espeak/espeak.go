package espeak

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
)

// NativeRate is the rate of the audio espeak-ng writes, in Hz.
const NativeRate = 22050

// DefaultVoice is the voice used when Options name neither a voice nor a language.
const DefaultVoice = "en-us"

// ErrNotFound is returned by New when the espeak-ng program cannot be found. It wraps
// tts.ErrUnavailable.
var ErrNotFound = fmt.Errorf("%w: espeak-ng not found: install the Debian package espeak-ng", tts.ErrUnavailable)

// Config configures a Synthesizer. The zero value runs "espeak-ng" from PATH with its
// own data and the voice en-us.
type Config struct {
	// Program is the espeak-ng executable, a path or a name looked up in PATH. Empty
	// means "espeak-ng".
	Program string
	// DataPath, when set, is passed as --path: the directory that contains
	// espeak-ng-data. Empty means the program's built-in location.
	DataPath string
	// Voice is the default voice, used when Options name neither Voice nor Language,
	// in the syntax of Options.Voice. Empty means DefaultVoice.
	Voice string
}

// Synthesizer speaks with espeak-ng. It is safe for concurrent use; each synthesis
// runs its own process.
type Synthesizer struct {
	program string // resolved path
	cfg     Config

	mu     sync.Mutex
	voices *voiceTable // loaded on first use
}

var (
	_ tts.Synthesizer  = (*Synthesizer)(nil)
	_ tts.TextStreamer = (*Synthesizer)(nil)
	_ tts.VoiceLister  = (*Synthesizer)(nil)
)

// New returns a Synthesizer for cfg. It fails with an error wrapping ErrNotFound when
// the program is missing. The voice list is read on first use, not here.
func New(cfg Config) (*Synthesizer, error) {
	prog := cfg.Program
	if prog == "" {
		prog = "espeak-ng"
	}
	p, err := exec.LookPath(prog)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", ErrNotFound, err)
	}
	if cfg.Voice == "" {
		cfg.Voice = DefaultVoice
	}
	return &Synthesizer{program: p, cfg: cfg}, nil
}

// String names the engine and the configuration that changes its output, e.g. for
// cache keys and logs: "espeak-ng(/usr/bin/espeak-ng en-us)".
func (s *Synthesizer) String() string {
	return strings.TrimSpace("espeak-ng("+s.program+" "+s.cfg.Voice+" "+s.cfg.DataPath) + ")"
}

// table returns the voice table, running espeak-ng to read it the first time. A
// failure is not remembered, so a later call tries again.
func (s *Synthesizer) table(ctx context.Context) (*voiceTable, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.voices != nil {
		return s.voices, nil
	}
	list, err := s.run(ctx, "--voices")
	if err != nil {
		return nil, err
	}
	variants, err := s.run(ctx, "--voices=variant")
	if err != nil {
		return nil, err
	}
	t, err := parseVoices(list, variants)
	if err != nil {
		return nil, err
	}
	s.voices = t
	return t, nil
}

// run runs espeak-ng with args and returns its standard output.
func (s *Synthesizer) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.program, append(s.baseArgs(), args...)...)
	var stderr tail
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("espeak: %w", cerr)
		}
		return nil, fmt.Errorf("espeak: %s %v: %w%s", s.program, args, err, stderr.suffix())
	}
	return out, nil
}

func (s *Synthesizer) baseArgs() []string {
	if s.cfg.DataPath == "" {
		return nil
	}
	return []string{"--path=" + s.cfg.DataPath}
}

// Voices implements tts.VoiceLister: the voices of the installed espeak-ng (MBROLA
// voices aside). Append "+variant" to a name to change its character ("en-us+f3";
// `espeak-ng --voices=variant` lists the variants).
func (s *Synthesizer) Voices(ctx context.Context) ([]tts.Voice, error) {
	t, err := s.table(ctx)
	if err != nil {
		return nil, err
	}
	return t.list(), nil
}

// args validates opts and builds the espeak-ng arguments.
func (s *Synthesizer) args(ctx context.Context, opts tts.Options) ([]string, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	t, err := s.table(ctx)
	if err != nil {
		return nil, err
	}
	var voice string
	switch {
	case opts.Voice != "":
		voice, err = t.resolveVoice(opts.Voice)
	case opts.Language != "":
		voice, err = t.resolveLanguage(opts.Language)
	default:
		voice, err = t.resolveVoice(s.cfg.Voice)
	}
	if err != nil {
		return nil, err
	}
	args := append(s.baseArgs(),
		"--stdout",
		"-b", "1", // text is UTF-8
		"-v", voice,
		"-s", strconv.Itoa(wpm(opts.SpeakingRate())),
		"-p", strconv.Itoa(pitchArg(opts.Pitch)),
	)
	if opts.SSML {
		args = append(args, "-m")
	}
	return args, nil
}

func outputRate(opts tts.Options) int {
	if opts.SampleRate != 0 {
		return opts.SampleRate
	}
	return NativeRate
}

// Synthesize implements tts.Synthesizer. The text goes to espeak-ng on its standard
// input (never on the command line) and the audio is read from its standard output as
// espeak-ng writes it.
func (s *Synthesizer) Synthesize(ctx context.Context, text string, opts tts.Options) (media.FrameReadCloser, error) {
	args, err := s.args(ctx, opts)
	if err != nil {
		return nil, err
	}
	if tts.Blank(text) {
		return tts.Empty(outputRate(opts)), nil
	}
	r, err := s.start(ctx, append(args, "--stdin"), outputRate(opts))
	if err != nil {
		return nil, err
	}
	// espeak-ng reads all of its input before it speaks, so this write completes
	// however long the text, without anyone reading the audio yet.
	if _, err := r.stdin.Write([]byte(text)); err != nil {
		_ = r.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("espeak: %w", cerr)
		}
		return nil, fmt.Errorf("espeak: writing text: %w", err)
	}
	if err := r.stdin.Close(); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("espeak: writing text: %w", err)
	}
	return r, nil
}

// StreamText implements tts.TextStreamer with a single espeak-ng process that reads
// its input line by line: each complete sentence is written to it as one line as soon
// as it is complete, and espeak-ng speaks it while the next is being written, into one
// continuous WAV stream.
func (s *Synthesizer) StreamText(ctx context.Context, opts tts.Options) (tts.TextStream, error) {
	if opts.SSML {
		return nil, fmt.Errorf("%w: SSML in an espeak-ng text stream", tts.ErrUnsupported)
	}
	args, err := s.args(ctx, opts)
	if err != nil {
		return nil, err
	}
	r, err := s.start(ctx, args, outputRate(opts))
	if err != nil {
		return nil, err
	}
	return &stream{reader: r}, nil
}

// errProgram wraps a failure of the espeak-ng process with what it wrote to stderr.
func errProgram(err error, stderr *tail) error {
	return fmt.Errorf("espeak: espeak-ng failed: %w%s", err, stderr.suffix())
}
