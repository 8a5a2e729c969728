package switchboard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/sip"
)

// Two Switchboards on loopback: one answers, the other calls it and hangs up.
func Example() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	answered := make(chan string, 1)
	callee, _ := switchboard.New(switchboard.Config{
		Logger: quiet,
		Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			answered <- c.Negotiated().Codec.Name()
			<-ctx.Done() // until the caller hangs up
			return nil
		}),
	})
	caller, _ := switchboard.New(switchboard.Config{Logger: quiet})
	for _, sb := range []*switchboard.Switchboard{callee, caller} {
		conn, _ := net.ListenPacket("udp", "127.0.0.1:0")
		if err := sb.Start(conn); err != nil {
			fmt.Println(err)
			return
		}
	}
	defer caller.Close()
	defer callee.Close()

	ctx := context.Background()
	c, err := caller.Dial(ctx, callee.URI("alice"), call.DialOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("callee answered with", <-answered)
	_ = c.Hangup(ctx, sip.CauseNormalClearing)
	for ev := range c.Events() {
		fmt.Println(ev.Name())
	}
	// Output:
	// callee answered with G722
	// call.initiated
	// call.answered
	// call.hangup
}
