package ttstest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// broken wraps Tone and breaks one rule of the contract.
type broken struct {
	ttstest.Tone
	rule string
}

// Synthesize hides Tone's StreamText, so the kit checks only Synthesize.
func (b *broken) Synthesize(ctx context.Context, text string, opts tts.Options) (media.FrameReadCloser, error) {
	switch b.rule {
	case "ignores-cancel":
		ctx = context.WithoutCancel(ctx)
	case "accepts-any-voice":
		opts.Voice = ""
	}
	r, err := b.Tone.Synthesize(ctx, text, opts)
	if err != nil {
		return nil, err
	}
	return &brokenReader{FrameReadCloser: r, rule: b.rule, stop: make(chan struct{})}, nil
}

type brokenReader struct {
	media.FrameReadCloser
	rule    string
	stop    chan struct{}
	started bool
}

func (r *brokenReader) ReadFrame() (media.Frame, error) {
	f, err := r.FrameReadCloser.ReadFrame()
	if err != nil {
		return f, err
	}
	switch r.rule {
	case "long-frames":
		f.Samples = append(f.Samples, make([]int16, 80)...)
	case "silent":
		clear(f.Samples)
	case "leaks-goroutine":
		if !r.started {
			r.started = true
			go func() { <-r.stop }() // never stopped by Close
		}
	}
	return f, nil
}

// TestBrokenProvider is run by TestKitCatchesBrokenProviders in a child process.
func TestBrokenProvider(t *testing.T) {
	rule := os.Getenv("TTSTEST_BROKEN")
	if rule == "" {
		t.Log("runs only as a child of TestKitCatchesBrokenProviders")
		return
	}
	ttstest.Run(t, func(t *testing.T) tts.Synthesizer { return &broken{rule: rule} })
}

// TestKitCatchesBrokenProviders checks that Run fails providers that break the
// contract, each in a child process since a failing Run fails its test.
func TestKitCatchesBrokenProviders(t *testing.T) {
	cases := []struct{ rule, want string }{
		{"ignores-cancel", "ReadFrame after ctx is cancelled"},
		{"accepts-any-voice", "unknown voice"},
		{"long-frames", "want 160 (20 ms)"},
		{"silent", "sounding for 0s"},
		{"leaks-goroutine", "found unexpected goroutines"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenProvider$", "-test.v")
			cmd.Env = append(os.Environ(), "TTSTEST_BROKEN="+c.rule)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "Run passed a provider that %s:\n%s", c.rule, out)
			assert.Contains(t, string(out), c.want, fmt.Sprintf("output:\n%s", out))
		})
	}
}
