package call

import "context"

// Handler serves inbound calls, like http.Handler serves requests.
//
// ServeCall runs on a goroutine of its own for each incoming INVITE. The call lives
// while ServeCall runs: when it returns, the library ends the call — with a BYE if it
// was answered, otherwise with a final response chosen by the returned error (a
// *RejectError's status, or 480 Temporarily Unavailable by default; 500 if the handler
// panicked). ctx is cancelled when the call ends for any other reason (the caller hung up
// or cancelled, media timed out, the server closed); context.Cause(ctx) is the
// *HangupCause.
type Handler interface {
	ServeCall(ctx context.Context, c *Call) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, c *Call) error

// ServeCall calls f(ctx, c).
func (f HandlerFunc) ServeCall(ctx context.Context, c *Call) error { return f(ctx, c) }

// Middleware wraps a Handler (logging, metrics, routing, authentication).
type Middleware func(Handler) Handler
