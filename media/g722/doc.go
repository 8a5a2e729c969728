// Package g722 is a pure Go implementation of ITU-T G.722, the 7 kHz wideband audio
// codec used by SIP phones as RTP payload type 9 ("G722/8000" in SDP).
//
// # Algorithm
//
// G.722 is sub-band ADPCM. A 24-tap quadrature mirror filter (QMF) splits 16 kHz
// 16-bit input into a lower band (0-4 kHz) and a higher band (4-8 kHz), each at 8 kHz.
// The lower band is coded with a 6-bit adaptive quantizer (60 levels), the higher band
// with a 2-bit one. Each band has its own adaptive pole-zero predictor (two poles, six
// zeros, sign-sign adaptation) and logarithmic scale-factor adaptation. One octet
// carries both codes: two higher-band bits on top, six lower-band bits below.
//
// The predictor and scale factor of the lower band are driven by the 4 most
// significant bits of its code only. That is what makes the bit stream embedded: a
// decoder in mode 2 (56 kbit/s) or mode 3 (48 kbit/s) ignores one or two low bits of
// every octet (left to an auxiliary data channel) and still tracks the encoder.
//
// Arithmetic follows the Recommendation's fixed-point description, with 16-bit
// saturation wherever a result can overflow, so the bit stream is the one other
// conforming implementations produce and expect. The tests compare long encodings and
// decodings with an independent implementation (libspandsp, the one baresip uses):
// encodings are identical, and so are decodings except where the output would exceed
// 16 bits, which this decoder saturates and spandsp 0.0.6 lets wrap around. They also
// check a known-answer vector derived by hand from the Recommendation's tables.
//
// # Usage
//
// An [Encoder] turns pairs of samples into octets; a [Decoder] turns each octet into
// two samples. Both keep state across calls, so use one of each per stream and feed it
// the stream in order. Their zero values are ready to use (the decoder in mode 1).
// Neither allocates when the destination slice has room.
//
// The round trip delays the signal by 22 samples (1.375 ms), all of it in the QMF.
//
// # Scope
//
// The encoder produces the 64 kbit/s (mode 1) stream used over RTP; the decoder reads
// modes 1, 2 and 3. The optional packet loss concealment of G.722 Appendices III and IV
// is not part of this package: concealment is done on PCM by the media engine.
//
// This package does not import the rest of Switchboard; media.G722 adapts it to
// media.Codec.
package g722
