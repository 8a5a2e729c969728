package call

import (
	"context"
	"fmt"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/espeak"
)

// SpeakOptions say how Speak speaks. The zero value uses the engine's default voice,
// language and speed.
type SpeakOptions struct {
	// Voice is an engine-specific voice name ("en-us+f3" for espeak-ng, "slt" for
	// flite). Empty means the engine's default, or its voice for Language.
	Voice string
	// Language is a BCP 47 tag such as "en-US", used when Voice is empty.
	Language string
	// Rate scales the speaking rate: 1 (or 0) is normal, 2 twice as fast; within
	// [tts.MinRate, tts.MaxRate].
	Rate float64
	// Pitch shifts the voice, in semitones (±tts.MaxPitch).
	Pitch float64
	// SSML says the text is SSML markup; engines without SSML fail with
	// tts.ErrUnsupported.
	SSML bool
	// BargeIn says what stops the speech early.
	BargeIn BargeIn
}

// Speak speaks text to the caller through the Config's tts.Synthesizer and returns once
// the audio has played out. Speech is streamed: each frame goes to the playout queue as
// the engine produces it, so the caller hears the start of a long text while its end
// is still being synthesized.
//
// It plays in turn with the call's other audio verbs (see Play) and returns what Play
// returns: nil, an *InterruptError (BargeIn), ctx's error, ErrCallEnded, or the
// engine's error (tts.ErrUnknownVoice, tts.ErrUnsupported, tts.ErrUnavailable when the
// engine is missing, ...). Events call.speak.started and call.speak.ended report it.
func (c *Call) Speak(ctx context.Context, text string, opts SpeakOptions) error {
	synth, err := c.synthesizer()
	if err != nil {
		return fmt.Errorf("call: speak: %w", err)
	}
	to := tts.Options{Voice: opts.Voice, Language: opts.Language, Rate: opts.Rate, Pitch: opts.Pitch, SSML: opts.SSML}
	if err := to.Validate(); err != nil {
		return fmt.Errorf("call: speak: %w", err)
	}
	j := &playJob{speak: true, name: text, loop: 1, bargeIn: opts.BargeIn,
		open: func(ctx context.Context, rate int) (media.FrameReadCloser, error) {
			o := to
			o.SampleRate = rate
			return synth.Synthesize(ctx, text, o)
		}}
	return c.render(ctx, j)
}

// synthesizer is the Config's engine or, when it has none, espeak-ng (made once per
// call; a Switchboard shares one among its calls).
func (c *Call) synthesizer() (tts.Synthesizer, error) {
	if c.cfg.TTS != nil {
		return c.cfg.TTS, nil
	}
	c.verbs.mu.Lock()
	defer c.verbs.mu.Unlock()
	if c.verbs.tts == nil {
		s, err := espeak.New(espeak.Config{})
		if err != nil {
			return nil, fmt.Errorf("no Config.TTS and the default engine is missing: %w", err)
		}
		c.verbs.tts = s
	}
	return c.verbs.tts, nil
}
