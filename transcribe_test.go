package switchboard_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
	"github.com/switchboard-go/switchboard/sip"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
	"github.com/switchboard-go/switchboard/stt/stttest"
)

// playFile plays a WAV file into the call at the call's rate.
func playFile(t *testing.T, c *call.Call, path string) {
	t.Helper()
	w, err := c.AudioWriter()
	require.NoError(t, err)
	r, err := wav.Open(path, wav.Options{SampleRate: w.SampleRate()})
	require.NoError(t, err)
	defer r.Close()
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return
		}
		if err := w.WriteFrame(f); err != nil {
			return
		}
	}
}

// transcribeCall runs a call where the caller says the words in wavPath, the callee
// transcribes with rec, and returns the final transcripts and every transcription event.
func transcribeCall(t *testing.T, rec stt.Recognizer, codecs media.CodecSet, wavPath string) ([]call.Transcript, []call.Transcript) {
	t.Helper()
	type result struct{ finals, events []call.Transcript }
	out := make(chan result, 1)
	a := startWith(t, switchboard.Config{MediaTimeout: -1, Codecs: codecs, STT: rec, Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		tr, err := c.Transcribe(ctx, call.TranscribeOptions{EndSilence: 400 * time.Millisecond})
		if err != nil {
			return err
		}
		var events []call.Transcript
		for ev := range c.Events() {
			if e, ok := ev.(call.Transcript); ok {
				events = append(events, e)
				if e.Final {
					break
				}
			}
		}
		require.NoError(t, tr.Stop())
		out <- result{tr.Finals(), events}
		return nil
	})})
	b := startWith(t, switchboard.Config{MediaTimeout: -1, Codecs: codecs})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := b.Dial(ctx, a.URI("x"), call.DialOptions{})
	require.NoError(t, err)
	playFile(t, c, wavPath)
	playTone(t, c, 0, 2*time.Second) // silence, so the utterance ends
	var r result
	select {
	case r = <-out:
	case <-ctx.Done():
		t.Fatal("no final transcript")
	}
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	return r.finals, r.events
}

func fliteWAV(t *testing.T, voice, text string) string {
	t.Helper()
	prog := peer.RequireProgram(t, "flite", "flite")
	p := filepath.Join(t.TempDir(), "speech.wav")
	require.NoError(t, exec.Command(prog, "-voice", voice, "-t", text, "-o", p).Run())
	return p
}

// Live transcription with a scripted recognizer: the partials and the final arrive as
// call.transcription events, in order, and the final is kept on the handle.
func TestTranscribeScripted(t *testing.T) {
	rec := &stttest.Script{Trigger: stttest.BySpeech, Partials: true,
		Utterances: []stttest.Utterance{{Text: "I would like to pay my bill", Confidence: 0.9}}}
	finals, events := transcribeCall(t, rec, media.CodecSet{media.PCMU()}, fliteWAV(t, "kal", "I would like to pay my bill"))
	require.Len(t, finals, 1)
	assert.Equal(t, "I would like to pay my bill", finals[0].Text)
	assert.Equal(t, "caller", finals[0].Track)
	require.Greater(t, len(events), 1, "partials first")
	assert.False(t, events[0].Final)
	assert.True(t, events[len(events)-1].Final)
}

// Live transcription with pocketsphinx over a wideband (G.722) call: what the caller
// says (flite's slt voice) comes out as text.
func TestTranscribePocketsphinx(t *testing.T) {
	rec, err := pocketsphinx.New(pocketsphinx.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rec.Close() })
	finals, _ := transcribeCall(t, rec, media.CodecSet{media.G722()}, fliteWAV(t, "slt", "one two three four"))
	require.NotEmpty(t, finals)
	assert.Equal(t, "one two three four", strings.TrimSpace(finals[0].Text))
}
