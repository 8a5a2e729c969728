package call_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts/ttstest"
)

// pair starts a Switchboard serving h and another to call it from, and returns the
// caller's leg once answered, with a function that closes both.
func pair(h call.HandlerFunc, cfg switchboard.Config) (*call.Call, func(), error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Handler, cfg.Logger = h, quiet
	callee, err := switchboard.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	caller, err := switchboard.New(switchboard.Config{Logger: quiet})
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() { _ = caller.Close(); _ = callee.Close() }
	for _, sb := range []*switchboard.Switchboard{callee, caller} {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		if err := sb.Start(conn); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := caller.Dial(ctx, callee.URI("ivr"), call.DialOptions{})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return c, closeAll, nil
}

// waitForAudio reads what c hears until something is loud.
func waitForAudio(c *call.Call) error {
	r, err := c.AudioReader(0)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return err
		}
		for _, x := range f.Samples {
			if x > 3000 || x < -3000 {
				return nil
			}
		}
	}
}

// An IVR menu: a spoken prompt that the caller interrupts by keying in an extension,
// terminated by '#'. (A deterministic fake engine speaks here; by default Speak uses
// espeak-ng.)
func ExampleCall_Gather() {
	results := make(chan call.GatherResult, 1)
	caller, closeAll, err := pair(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		res, err := c.Gather(ctx, call.GatherOptions{
			Prompt:    call.Prompt{Text: "please enter the extension you want followed by the hash key"},
			MaxDigits: 4,
		})
		if err != nil {
			return err
		}
		results <- res
		return c.Hangup(ctx, 0)
	}, switchboard.Config{TTS: &ttstest.Tone{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeAll()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = waitForAudio(caller) // the menu plays
	_ = caller.SendDTMF(ctx, "42#", 80*time.Millisecond)
	res := <-results
	fmt.Printf("gathered %q: %s (%s)\n", res.Digits, res.Status, res.Reason)
	// Output:
	// gathered "42": valid (terminator)
}

// Hold music that stops when the caller presses a key.
func ExampleCall_Play() {
	outcome := make(chan string, 1)
	caller, closeAll, err := pair(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		music := media.Tone{Frequencies: []float64{440, 660}, Level: -18, Cadence: []time.Duration{time.Second, time.Second}}
		err := c.Play(ctx, call.PlayOptions{Tone: &music, BargeIn: call.BargeIn{DTMF: true}})
		var ie *call.InterruptError
		if errors.As(err, &ie) {
			outcome <- fmt.Sprintf("interrupted by %s %c", ie.By, ie.Digit)
		} else {
			outcome <- fmt.Sprint("played to the end: ", err)
		}
		return c.Hangup(ctx, 0)
	}, switchboard.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeAll()
	_ = waitForAudio(caller)
	_ = caller.SendDTMF(context.Background(), "0", 80*time.Millisecond)
	fmt.Println(<-outcome)
	// Output:
	// interrupted by dtmf 0
}
