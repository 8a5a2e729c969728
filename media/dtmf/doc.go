// Package dtmf carries and recognises DTMF key presses, both ways they travel in
// a call: as RFC 4733 telephone-event RTP packets ("out-of-band", or "RFC 2833")
// and as dual tones inside the audio ("in-band").
//
// # Telephone events (RFC 4733)
//
// [Event] is the 4-byte payload; [Event.Marshal] appends it without allocating
// and [Event.Unmarshal] decodes exactly one event, rejecting short, ragged or
// multi-event payloads with [ErrShortPayload], [ErrPayloadLength] and
// [ErrMultipleEvents]. [DigitCode] and [CodeDigit] map keys to event codes.
//
// A [Sender] turns queued keys into the packet sequence RFC 4733 prescribes: a
// first packet with the marker bit, updates every packet interval, the final
// packet three times, all with the event's start timestamp, segments for events
// longer than the 16-bit duration field, and a pause between keys. It owns no
// goroutine: the call's pacer calls [Sender.Next] once per packet interval with
// the current RTP timestamp, and sends the returned packet instead of that
// interval's audio. The payload type and clock rate are the ones negotiated in
// SDP (a=rtpmap:<pt> telephone-event/<rate>); nothing is hard-coded.
//
// A [Receiver] turns received packets back into exactly one [DigitStart] and one
// [DigitEnd] per key press, whatever the network lost, repeated or reordered. It
// reads no clock of its own: the caller passes the arrival time, and calls
// [Receiver.Tick] so that a press whose end packets were all lost still ends.
//
// # In-band DTMF
//
// [Tone] is a [media.FrameReader] playing a key, and [Generator] writes dual
// tones into caller buffers, phase-continuously across calls.
//
// [Detector] finds keys in audio at 8 kHz, 16 kHz (or any rate up to 48 kHz, each
// with its own filter coefficients), fed frames of any size. It follows ITU-T
// Q.24 practice: it accepts components within ±1.5% of nominal and rejects them
// beyond ±3.5%, accepts 40 ms tones and 40 ms pauses and rejects 20 ms tones,
// accepts twist from -8 dB to +4 dB (high group level minus low group level),
// works at 15 dB signal-to-noise ratio, and rejects speech (tested on minutes of
// synthesised speech in several languages and voices). It is a stage: it is a
// [media.FrameWriter] that reports through a callback and passes frames on.
//
// # Allocation and concurrency
//
// Per-packet and per-frame methods (Marshal, Unmarshal, Sender.Next,
// Receiver.Receive and Tick, Detector.Detect and WriteFrame, Generator.Generate,
// ToneReader.ReadFrame) do not allocate. No type in this package is safe for
// concurrent use; each belongs to one call's media path.
package dtmf
