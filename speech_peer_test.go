package switchboard_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/internal/peer/baresip"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/sip"
	"github.com/switchboard-go/switchboard/stt"
	"github.com/switchboard-go/switchboard/stt/pocketsphinx"
	"github.com/switchboard-go/switchboard/stt/stttest"
	"github.com/switchboard-go/switchboard/tts/flite"
)

// Wideband speech end to end: we Speak with flite's slt voice over G.722 to baresip,
// which records what it receives; pocketsphinx transcribes baresip's recording, and the
// transcript holds most of the words spoken. The word error rate is reported.
func TestSpeakToBaresipTranscribed(t *testing.T) {
	synth, err := flite.New(flite.Config{Voice: "slt"})
	require.NoError(t, err)
	sentences := []string{
		"please transfer me to the sales department",
		"my account number is one two three four",
		"I would like to check the status of my order",
	}
	sb := startWith(t, switchboard.Config{MediaTimeout: -1, TTS: synth, Codecs: media.CodecSet{media.G722()}})
	ua := baresip.Start(t, baresip.Options{Codecs: []baresip.Codec{baresip.G722}, Pad: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := sb.Dial(ctx, ua.URI(), call.DialOptions{})
	require.NoError(t, err)
	require.Equal(t, "G722", c.Negotiated().Codec.Name())
	for _, s := range sentences {
		require.NoError(t, c.Speak(ctx, s, call.SpeakOptions{}))
		playTone(t, c, 0, 800*time.Millisecond) // a pause between sentences
	}
	m, err := c.Media()
	require.NoError(t, err)
	require.NoError(t, m.WaitPlayout(ctx))
	require.NoError(t, c.Hangup(ctx, sip.CauseNormalClearing))
	rec, rate, err := ua.ReceivedAudio(ctx)
	require.NoError(t, err)
	require.Equal(t, 16000, rate, "baresip recorded wideband audio")

	ps, err := pocketsphinx.New(pocketsphinx.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	sess, err := ps.Start(ctx, stt.Config{SampleRate: 16000, EndSilence: 500 * time.Millisecond})
	require.NoError(t, err)
	n := media.SamplesPer(16000, 20*time.Millisecond)
	for off := 0; off+n <= len(rec); off += n {
		require.NoError(t, sess.WriteFrame(media.Frame{Samples: rec[off : off+n], SampleRate: 16000}))
	}
	require.NoError(t, sess.Close())
	var hyp []string
	for {
		r, err := sess.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if r.Final && r.Text != "" {
			hyp = append(hyp, r.Text)
		}
	}
	ref := joinWords(sentences)
	got := joinWords(hyp)
	errs, words := stttest.WordErrors(ref, got)
	wer := float64(errs) / float64(words)
	t.Logf("said: %q\nheard: %q\nword error rate %.1f%% (%d of %d)", ref, got, 100*wer, errs, words)
	assert.Less(t, wer, 0.35, "most of the words came through")
}

func joinWords(parts []string) string {
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += " "
		}
		s += p
	}
	return s
}
