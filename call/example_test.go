package call_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/sip"
)

// A handler that answers and collects DTMF until '#', then hangs up with a cause; the
// caller sends the digits and sees why the call ended.
func Example() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	got := make(chan string, 1)
	callee, _ := switchboard.New(switchboard.Config{Logger: quiet, Handler: call.HandlerFunc(
		func(ctx context.Context, c *call.Call) error {
			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
				return err
			}
			var digits string
			for ev := range c.Events() {
				if d, ok := ev.(call.DTMF); ok {
					if d.Digit == '#' {
						break
					}
					digits += string(d.Digit)
				}
			}
			got <- digits
			return c.Hangup(ctx, sip.CauseNormalClearing)
		})})
	caller, _ := switchboard.New(switchboard.Config{Logger: quiet})
	for _, sb := range []*switchboard.Switchboard{callee, caller} {
		conn, _ := net.ListenPacket("udp", "127.0.0.1:0")
		_ = sb.Start(conn)
		defer sb.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := caller.Dial(ctx, callee.URI("pin"), call.DialOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.SendDTMF(ctx, "4711#", 60*time.Millisecond)
	fmt.Println("callee got", <-got)
	<-c.Done()
	cause := context.Cause(c.Context()).(*call.HangupCause)
	fmt.Println("ended:", cause.Name, "by", cause.By, "Q.850", cause.Q850)
	// Output:
	// callee got 4711
	// ended: normal_clearing by remote Q.850 16
}
