package g722

import (
	"errors"
	"fmt"
)

// Mode is a G.722 operating mode: how many bits of each octet carry the lower band.
// The higher band always uses the two most significant bits.
type Mode int

// The three modes of G.722 §1.4. Modes 2 and 3 leave one or two least significant bits
// of every octet to an auxiliary data channel, which the decoder ignores. A mode 1
// stream can be decoded in any mode (at lower quality) because the predictor of all
// three modes runs on the same 4-bit core of the lower-band code.
const (
	Mode1 Mode = 1 // 64 kbit/s: 6-bit lower band. The mode used over RTP.
	Mode2 Mode = 2 // 56 kbit/s: 5-bit lower band, 8 kbit/s auxiliary data.
	Mode3 Mode = 3 // 48 kbit/s: 4-bit lower band, 16 kbit/s auxiliary data.
)

// ErrMode is returned by NewDecoder for a mode other than Mode1, Mode2 or Mode3.
var ErrMode = errors.New("g722: invalid mode")

// Decoder is a G.722 decoder. It turns each code octet into two samples of 16 kHz
// 16-bit PCM.
//
// The zero value is a mode 1 (64 kbit/s) decoder in the reset state, ready to use. A
// Decoder keeps state between calls, so use one per stream. It is not safe for
// concurrent use.
type Decoder struct {
	low, high band
	// x is the receive QMF delay line: each pair holds rl+rh then rl-rh of one
	// sub-band sample pair.
	x    qmfLine
	mode Mode
}

// NewDecoder returns a decoder for the given mode in the reset state.
func NewDecoder(mode Mode) (*Decoder, error) {
	if mode < Mode1 || mode > Mode3 {
		return nil, fmt.Errorf("%w: %d", ErrMode, int(mode))
	}
	return &Decoder{mode: mode}, nil
}

// Mode reports the decoder's operating mode.
func (d *Decoder) Mode() Mode {
	if d.mode == 0 {
		return Mode1
	}
	return d.mode
}

// Reset returns the decoder to its initial state, keeping its mode.
func (d *Decoder) Reset() { *d = Decoder{mode: d.mode} }

// Decode appends two samples per octet of payload to dst and returns the extended
// slice. Every octet is a valid code, so any input decodes. Decode allocates only when
// dst lacks capacity.
func (d *Decoder) Decode(dst []int16, payload []byte) []int16 {
	dst = grow(dst, 2*len(payload))
	for _, code := range payload {
		rl := d.decodeLow(int32(code))
		rh := d.decodeHigh(int32(code>>6) & 3)

		// Receive QMF: interpolate both bands back to 16 kHz. The difference signal
		// through the even taps gives the first output sample, the sum through the
		// odd taps the second.
		xo0, xo1 := qmfFilter(d.x.push(rl+rh, rl-rh))
		dst = append(dst, int16(sat16(xo0>>11)), int16(sat16(xo1>>11)))
	}
	return dst
}

// decodeLow reconstructs one lower-band sample from a code octet (blocks 5L, 6L, 2L,
// 3L and 4L).
func (d *Decoder) decodeLow(code int32) int32 {
	b := &d.low
	det := b.detLow()

	// INVQBL: the output quantizer depends on the mode; the 4-bit core does not.
	var wd, il4 int32
	switch d.mode {
	case Mode2:
		il5 := (code >> 1) & 0x1f
		wd, il4 = qm5[il5], il5>>1
	case Mode3:
		il4 = (code >> 2) & 0x0f
		wd = qm4[il4]
	default:
		il6 := code & 0x3f
		wd, il4 = qm6[il6], il6>>2
	}

	// RECONS and LIMIT.
	rl := min(max(b.s+mult(det, wd), -16384), 16383)

	// INVQAL, LOGSCL, SCALEL and block 4L: the same updates as in the encoder.
	dlt := mult(det, qm4[il4])
	b.adaptLow(il4)
	b.predict(dlt)
	return rl
}

// decodeHigh reconstructs one higher-band sample from its 2-bit code (blocks 2H, 5H,
// 6H, 3H and 4H).
func (d *Decoder) decodeHigh(ih int32) int32 {
	b := &d.high
	det := b.detHigh()
	dh := mult(det, qm2[ih])
	rh := min(max(b.s+dh, -16384), 16383)
	b.adaptHigh(ih)
	b.predict(dh)
	return rh
}
