package media

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-go/switchboard/media/g722"
)

// Codec describes an RTP payload format and makes encoders and decoders for it.
//
// A Codec value is immutable and safe for concurrent use; the Encoders and Decoders it
// makes are per stream and not safe for concurrent use (G.722 keeps state between
// frames).
type Codec interface {
	// Name is the SDP encoding name, e.g. "PCMU", "G722", "L16".
	Name() string
	// ClockRate is the RTP clock rate written in SDP (G.722 says 8000 for
	// historical reasons, although it carries 16 kHz audio).
	ClockRate() int
	// SampleRate is the rate of the PCM the decoder produces and the encoder takes.
	SampleRate() int
	// StaticPayloadType is the RFC 3551 static payload type, or -1 when the payload
	// type must be assigned dynamically in SDP.
	StaticPayloadType() int
	// NewEncoder returns a fresh encoder for one stream.
	NewEncoder() Encoder
	// NewDecoder returns a fresh decoder for one stream.
	NewDecoder() Decoder
}

// Encoder turns PCM into RTP payload bytes.
type Encoder interface {
	// Encode appends the payload for pcm to dst and returns the extended slice.
	// It allocates only when dst lacks capacity.
	Encode(dst []byte, pcm []int16) []byte
}

// Decoder turns RTP payload bytes into PCM.
type Decoder interface {
	// Decode appends the samples carried in payload to dst and returns the extended
	// slice. Any byte string is a valid input; trailing bytes that do not make a whole
	// sample are ignored. It allocates only when dst lacks capacity.
	Decode(dst []int16, payload []byte) []int16
}

// CodecSet is an ordered list of codecs, most preferred first. It is a plain value
// passed in configuration: nothing registers codecs by import side effect.
type CodecSet []Codec

// DefaultCodecs returns the codecs Switchboard offers when configuration names none,
// most preferred first:
//
//  1. G722: wideband (50-7000 Hz) at the same 64 kbit/s as G.711, and supported by
//     nearly every desk phone and softphone. Speech recognition and the caller's ear
//     both gain from the doubled bandwidth, so it goes first when the peer has it.
//  2. PCMU and 3. PCMA: G.711, which every SIP peer and trunk implements (RFC 3551
//     makes it the baseline). μ-law comes first because it is the default of North
//     American networks and of most SIP stacks; A-law still wins in an answer when the
//     offerer prefers it.
//  4. L16/16000 and 5. L16/8000: uncompressed 16-bit PCM. Lossless, but 256 and
//     128 kbit/s and rarely offered by trunks; useful for local peers and tests, so
//     they come last.
//
// Each call returns a fresh slice that the caller may modify.
func DefaultCodecs() CodecSet {
	return CodecSet{G722(), PCMU(), PCMA(), L16(16000), L16(8000)}
}

// ByName returns the codec with the given SDP encoding name and clock rate
// (case-insensitive name), or nil.
func (s CodecSet) ByName(name string, clockRate int) Codec {
	for _, c := range s {
		if strings.EqualFold(c.Name(), name) && c.ClockRate() == clockRate {
			return c
		}
	}
	return nil
}

// ByPayloadType returns the codec whose static RTP payload type is pt, or nil. Dynamic
// payload types (96-127) are assigned per session in SDP and never match here.
func (s CodecSet) ByPayloadType(pt int) Codec {
	if pt < 0 {
		return nil
	}
	for _, c := range s {
		if c.StaticPayloadType() == pt {
			return c
		}
	}
	return nil
}

// Without returns a copy of s without the codecs with the given SDP encoding names
// (case-insensitive), e.g. DefaultCodecs().Without("L16").
func (s CodecSet) Without(names ...string) CodecSet {
	out := make(CodecSet, 0, len(s))
	for _, c := range s {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, c.Name()) }) {
			out = append(out, c)
		}
	}
	return out
}

// String lists the codecs as SDP rtpmap values, e.g. "G722/8000 PCMU/8000".
func (s CodecSet) String() string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s/%d", c.Name(), c.ClockRate())
	}
	return b.String()
}

// ---- G.711 ----

// PCMU is G.711 μ-law (payload type 0), 8 kHz.
func PCMU() Codec { return g711Codec{name: "PCMU", pt: 0} }

// PCMA is G.711 A-law (payload type 8), 8 kHz.
func PCMA() Codec { return g711Codec{name: "PCMA", pt: 8} }

type g711Codec struct {
	name string
	pt   int
}

func (c g711Codec) Name() string           { return c.name }
func (c g711Codec) ClockRate() int         { return 8000 }
func (c g711Codec) SampleRate() int        { return 8000 }
func (c g711Codec) StaticPayloadType() int { return c.pt }
func (c g711Codec) String() string         { return c.name }

func (c g711Codec) NewEncoder() Encoder {
	if c.pt == 0 {
		return ulawEncoder{}
	}
	return alawEncoder{}
}

func (c g711Codec) NewDecoder() Decoder {
	if c.pt == 0 {
		return ulawDecoder{}
	}
	return alawDecoder{}
}

// The G.711 coders are table lookups (see g711.go). They are stateless values, so
// sharing one between streams is harmless.

type ulawEncoder struct{}

func (ulawEncoder) Encode(dst []byte, pcm []int16) []byte {
	dst, out := extend(dst, len(pcm))
	for i, s := range pcm {
		// μ-law resolves 14 bits; the two low bits of a 16-bit sample never matter.
		out[i] = ulawEncodeTable[uint16(s)>>2]
	}
	return dst
}

type alawEncoder struct{}

func (alawEncoder) Encode(dst []byte, pcm []int16) []byte {
	dst, out := extend(dst, len(pcm))
	for i, s := range pcm {
		// A-law's finest step is 16 in 16-bit units, so 12 bits index every decision.
		out[i] = alawEncodeTable[uint16(s)>>4]
	}
	return dst
}

type ulawDecoder struct{}

func (ulawDecoder) Decode(dst []int16, payload []byte) []int16 {
	dst, out := extend(dst, len(payload))
	for i, b := range payload {
		out[i] = ulawDecodeTable[b]
	}
	return dst
}

type alawDecoder struct{}

func (alawDecoder) Decode(dst []int16, payload []byte) []int16 {
	dst, out := extend(dst, len(payload))
	for i, b := range payload {
		out[i] = alawDecodeTable[b]
	}
	return dst
}

// extend grows s by n elements and returns it along with the new tail of exactly n
// elements, allocating only when s lacks capacity.
func extend[E any](s []E, n int) (all, tail []E) {
	l := len(s)
	s = slices.Grow(s, n)[:l+n]
	return s, s[l : l+n : l+n]
}

// ---- L16 ----

// L16 is uncompressed 16-bit linear PCM, mono, at the given rate (RFC 3551 §4.5.11):
// samples in network byte order (big-endian), one per sample period, with the RTP
// clock equal to the sample rate. Only 44100 Hz mono has a static payload type (11);
// at every other rate the payload type is assigned dynamically in SDP.
//
// L16 panics if rate is not positive, as a programming error.
func L16(rate int) Codec {
	if rate <= 0 {
		panic(fmt.Sprintf("media: L16 with non-positive rate %d", rate))
	}
	return l16Codec{rate: rate}
}

type l16Codec struct{ rate int }

func (c l16Codec) Name() string        { return "L16" }
func (c l16Codec) ClockRate() int      { return c.rate }
func (c l16Codec) SampleRate() int     { return c.rate }
func (c l16Codec) NewEncoder() Encoder { return l16Coder{} }
func (c l16Codec) NewDecoder() Decoder { return l16Coder{} }
func (c l16Codec) String() string      { return fmt.Sprintf("L16/%d", c.rate) }

func (c l16Codec) StaticPayloadType() int {
	if c.rate == 44100 {
		return 11
	}
	return -1
}

type l16Coder struct{}

func (l16Coder) Encode(dst []byte, pcm []int16) []byte {
	dst, out := extend(dst, 2*len(pcm))
	for i, s := range pcm {
		binary.BigEndian.PutUint16(out[2*i:2*i+2], uint16(s))
	}
	return dst
}

func (l16Coder) Decode(dst []int16, payload []byte) []int16 {
	n := len(payload) / 2
	dst, out := extend(dst, n)
	for i := range out {
		out[i] = int16(binary.BigEndian.Uint16(payload[2*i : 2*i+2]))
	}
	return dst
}

// ---- G.722 ----

// G722 is ITU-T G.722 at 64 kbit/s (payload type 9): 16 kHz audio, although SDP and the
// RTP timestamps use an 8000 Hz clock (RFC 3551 §4.5.2). Its encoders and decoders keep
// state between frames, so each stream needs its own. See package media/g722.
func G722() Codec { return g722Codec{} }

type g722Codec struct{}

func (g722Codec) Name() string           { return "G722" }
func (g722Codec) ClockRate() int         { return 8000 }
func (g722Codec) SampleRate() int        { return 16000 }
func (g722Codec) StaticPayloadType() int { return 9 }
func (g722Codec) NewEncoder() Encoder    { return g722.NewEncoder() }
func (g722Codec) NewDecoder() Decoder    { return new(g722.Decoder) }
func (g722Codec) String() string         { return "G722" }
