// Package switchboard is an embeddable SIP voice endpoint for Go programs.
//
// A program that imports Switchboard becomes a SIP user agent itself: it answers and places
// phone calls, plays audio into them and reads the caller's audio, sends and receives
// DTMF, and watches a channel of typed events per call. Signalling runs on an embedded SIP
// stack (sipgo) and audio on an in-process RTP media engine, so the application sees every
// frame of audio with no network hop and no PBX beside it.
//
// # Usage
//
// Serve inbound calls to a handler, the way net/http serves requests:
//
//	sb, err := switchboard.New(switchboard.Config{
//		ListenAddr: "0.0.0.0:5060",
//		Handler: call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
//			if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
//				return err
//			}
//			// play audio (c.AudioWriter), read it (c.AudioReader), watch c.Events() ...
//			<-ctx.Done() // the caller hung up; returning would hang up ourselves
//			return nil
//		}),
//	})
//	if err != nil { ... }
//	go sb.ListenAndServe()
//
// Place calls with Dial, which returns once the callee answered or a *call.DialError that
// says why not (busy, rejected, no answer, cancelled, failed):
//
//	c, err := sb.Dial(ctx, "sip:alice@pbx.example.com", call.DialOptions{})
//
// Register with a PBX or trunk with Register; it refreshes until Close.
//
// # Transports and security
//
// SIP runs over UDP and TCP on Config.ListenAddr and over TLS on Config.TLSAddr. Inbound
// calls can be limited to source networks and required to authenticate with digest
// credentials (Config.Access). Header values given by the application are checked so no
// input can inject headers.
//
// # Concurrency and lifecycle
//
// A Switchboard is safe for concurrent use. Each inbound call's handler runs on its own
// goroutine; each call owns a few goroutines (events, media), all stopped and waited for
// when the call ends. Shutdown drains: new INVITEs and OPTIONS health checks get 503, so a
// load balancer stops sending calls here, while live calls finish. Close hangs up every
// call and waits for every goroutine; it is idempotent.
//
// # Cancellation, events and errors
//
// See package call: blocking methods take a ctx that bounds the operation, not the call;
// a call's end is reported by its Context (context.Cause is a *call.HangupCause) and by its
// last event, Hangup. Config.OnEvent sees every event of every call, for logging and
// metrics.
//
// # Layout
//
//   - package switchboard: the user agent (serve, dial, register, drain).
//   - [github.com/switchboard-go/switchboard/call]: the Call, its verbs and events.
//   - [github.com/switchboard-go/switchboard/sip]: signalling, dialogs, SDP, REGISTER.
//   - [github.com/switchboard-go/switchboard/media]: frames, codecs, RTP, jitter buffer,
//     DTMF, resampling, WAV, VAD.
//   - [github.com/switchboard-go/switchboard/tts], [github.com/switchboard-go/switchboard/stt]:
//     speech synthesis and recognition.
//   - [github.com/switchboard-go/switchboard/amd]: answering machine and beep detection.
//
// Dependencies point one way: switchboard → call → {sip, media, tts, stt, amd}.
package switchboard
