package jitter

import (
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/media"
)

// ReceiverConfig configures a [Receiver].
type ReceiverConfig struct {
	// Codec decodes the payloads. Required.
	Codec media.Codec
	// Buffer configures the jitter buffer. Its ClockRate defaults to the codec's.
	Buffer Config
	// Concealer conceals lost frames. Default NewConcealer(Codec.SampleRate()).
	Concealer Concealer
}

// Receiver ties a [Buffer], a codec's decoder and a [Concealer] together: it takes
// RTP packets with Push and produces one frame of PCM per Pop, decoded, concealed
// or silent, ready for the application.
//
// Push and Stats may be called concurrently with Pop. Pop must not be called
// concurrently with itself (it is driven by one playout clock).
type Receiver struct {
	buf  *Buffer
	rate int // PCM sample rate

	mu      sync.Mutex // serialises Pop/Reset: decoder and concealer state
	dec     media.Decoder
	codec   media.Codec
	conceal Concealer
	pcm     []int16
	// concealing is how many samples were concealed since the last good frame;
	// started says a good frame was decoded since the start or the last Reset.
	concealing int
	started    bool
	inSpeech   bool // the last frame was decoded or concealed audio
	lastLen    int
	concealMax int
	silence    uint64
	concealed  uint64
	decoded    uint64
}

// ReceiverStats adds the frame counts of a Receiver to its buffer's Stats.
type ReceiverStats struct {
	Stats
	// Decoded counts frames decoded from packets.
	Decoded uint64
	// ConcealedFrames counts frames synthesised by the concealer.
	ConcealedFrames uint64
	// SilenceFrames counts frames of filler silence.
	SilenceFrames uint64
}

// NewReceiver returns a Receiver for cfg.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.Codec == nil {
		return nil, fmt.Errorf("%w: no codec", ErrInvalidConfig)
	}
	bc := cfg.Buffer
	if bc.ClockRate == 0 {
		bc.ClockRate = cfg.Codec.ClockRate()
	}
	buf, err := New(bc)
	if err != nil {
		return nil, err
	}
	rate := cfg.Codec.SampleRate()
	conceal := cfg.Concealer
	if conceal == nil {
		conceal = NewConcealer(rate)
	}
	frame := media.SamplesPer(rate, bc.FrameDuration)
	if frame == 0 {
		frame = media.SamplesPer(rate, buf.cfg.FrameDuration)
	}
	return &Receiver{
		buf:        buf,
		rate:       rate,
		dec:        cfg.Codec.NewDecoder(),
		codec:      cfg.Codec,
		conceal:    conceal,
		pcm:        make([]int16, 0, max(frame, 1)*4),
		lastLen:    frame,
		concealMax: media.SamplesPer(rate, concealLimit),
	}, nil
}

// Buffer returns the underlying jitter buffer.
func (r *Receiver) Buffer() *Buffer { return r.buf }

// SampleRate returns the rate of the frames Pop returns.
func (r *Receiver) SampleRate() int { return r.rate }

// Push offers a received RTP packet; see [Buffer.Push].
func (r *Receiver) Push(seq uint16, ts uint32, marker bool, payload []byte, arrival time.Time) error {
	return r.buf.Push(seq, ts, marker, payload, arrival)
}

// Reset forgets the stream, for a new SSRC; see [Buffer.Reset]. The decoder is
// replaced too, since codecs such as G.722 carry state between frames.
func (r *Receiver) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Reset()
	r.dec = r.codec.NewDecoder()
	r.started, r.inSpeech = false, false
	r.concealing = 0
}

// Pop returns the frame to play at now, and the buffer status it came from:
//   - Ready: decoded audio, flagged media.FlagRTP with the packet's timestamp and
//     sequence number;
//   - Missing: concealed audio, flagged media.FlagConcealed;
//   - Buffering: concealed audio (FlagConcealed) for up to 60 ms after audio, so
//     that a pause the buffer inserts to grow its depth, or the end of a
//     talkspurt, fades out instead of stopping dead; silence (FlagSilence) after
//     that.
//
// Before the first packet, and after long silence, frames are silent. Samples are
// valid until the next Pop.
func (r *Receiver) Pop(now time.Time) (media.Frame, Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pkt, st := r.buf.Pop(now)
	f := media.Frame{SampleRate: r.rate}
	switch {
	case st == Ready:
		r.pcm = r.dec.Decode(r.pcm[:0], pkt.Payload)
		r.conceal.Good(r.pcm)
		r.started, r.inSpeech = true, true
		r.concealing = 0
		if len(r.pcm) > 0 {
			r.lastLen = len(r.pcm)
		}
		f.Samples = r.pcm
		f.Timestamp, f.Sequence, f.Flags = pkt.Timestamp, pkt.Sequence, media.FlagRTP
		r.decoded++
		return f, st
	case r.started && (st == Missing || r.inSpeech && r.concealing < r.concealMax):
		r.pcm = r.conceal.Conceal(r.grow(r.lastLen))
		r.concealing += len(r.pcm)
		f.Samples, f.Flags = r.pcm, media.FlagConcealed
		r.concealed++
	default:
		r.pcm = r.grow(r.lastLen)
		clear(r.pcm)
		f.Samples, f.Flags = r.pcm, media.FlagSilence
		r.inSpeech = false
		r.silence++
	}
	return f, st
}

func (r *Receiver) grow(n int) []int16 {
	if cap(r.pcm) < n {
		r.pcm = make([]int16, n)
	}
	return r.pcm[:n]
}

// Stats returns the buffer's counters with the receiver's frame counts. It is
// safe to call from any goroutine.
func (r *Receiver) Stats() ReceiverStats {
	s := ReceiverStats{Stats: r.buf.Stats()}
	r.mu.Lock()
	s.Decoded, s.ConcealedFrames, s.SilenceFrames = r.decoded, r.concealed, r.silence
	r.mu.Unlock()
	return s
}
