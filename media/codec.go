package media

import (
	"strings"

	"github.com/zaf/g711"
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

// ---- G.711 ----

type g711Codec struct {
	name string
	pt   int
	enc  func(int16) uint8
	dec  func(uint8) int16
}

// PCMU is G.711 μ-law (payload type 0), 8 kHz.
func PCMU() Codec {
	return g711Codec{name: "PCMU", pt: 0, enc: g711.EncodeUlawFrame, dec: g711.DecodeUlawFrame}
}

// PCMA is G.711 A-law (payload type 8), 8 kHz.
func PCMA() Codec {
	return g711Codec{name: "PCMA", pt: 8, enc: g711.EncodeAlawFrame, dec: g711.DecodeAlawFrame}
}

func (c g711Codec) Name() string           { return c.name }
func (c g711Codec) ClockRate() int         { return 8000 }
func (c g711Codec) SampleRate() int        { return 8000 }
func (c g711Codec) StaticPayloadType() int { return c.pt }
func (c g711Codec) NewEncoder() Encoder    { return g711Encoder{c.enc} }
func (c g711Codec) NewDecoder() Decoder    { return g711Decoder{c.dec} }

type g711Encoder struct{ enc func(int16) uint8 }

func (e g711Encoder) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, e.enc(s))
	}
	return dst
}

type g711Decoder struct{ dec func(uint8) int16 }

func (d g711Decoder) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		dst = append(dst, d.dec(b))
	}
	return dst
}
