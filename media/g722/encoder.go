package g722

// Encoder is a G.722 encoder at 64 kbit/s (mode 1). It turns 16 kHz 16-bit PCM into one
// code octet per pair of input samples.
//
// The zero value is an encoder in the reset state, ready to use. An Encoder keeps state
// between calls (QMF history and both sub-band predictors), so use one per stream. It
// is not safe for concurrent use.
type Encoder struct {
	low, high band
	// x is the QMF delay line: x[23] is the newest input sample.
	x [24]int32
	// pending holds an odd trailing input sample until its pair arrives.
	pending    int16
	hasPending bool
}

// NewEncoder returns an encoder in the reset state.
func NewEncoder() *Encoder { return new(Encoder) }

// Reset returns the encoder to its initial state, as at the start of a stream.
func (e *Encoder) Reset() { *e = Encoder{} }

// Encode appends the G.722 codes for pcm to dst and returns the extended slice. Each
// pair of samples gives one octet. An odd trailing sample is kept and paired with the
// first sample of the next call, so a stream split at arbitrary points encodes exactly
// as if it had been passed in one call. Encode allocates only when dst lacks capacity.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	n := len(pcm)
	if e.hasPending {
		n++
	}
	dst = grow(dst, n/2)
	if e.hasPending && len(pcm) > 0 {
		dst = append(dst, e.encodePair(int32(e.pending), int32(pcm[0])))
		pcm = pcm[1:]
		e.hasPending = false
	}
	for len(pcm) >= 2 {
		dst = append(dst, e.encodePair(int32(pcm[0]), int32(pcm[1])))
		pcm = pcm[2:]
	}
	if len(pcm) == 1 {
		e.pending, e.hasPending = pcm[0], true
	}
	return dst
}

// encodePair runs the transmit QMF on two input samples (x0 is the older) and encodes
// the resulting lower- and higher-band samples into one octet.
func (e *Encoder) encodePair(x0, x1 int32) byte {
	// Transmit QMF: xa filters the newer (even-phase) samples with the even taps, xb
	// the older ones with the odd taps; their sum is the lower band and their
	// difference the higher band, both decimated to 8 kHz.
	copy(e.x[:22], e.x[2:])
	e.x[22], e.x[23] = x0, x1
	var xa, xb int32
	for i := range 12 {
		xb += e.x[2*i] * qmf[i]
		xa += e.x[2*i+1] * qmf[11-i]
	}
	xl := (xa + xb) >> 14
	xh := (xa - xb) >> 14
	return byte(e.encodeHigh(xh)<<6 | e.encodeLow(xl))
}

// encodeLow codes one lower-band sample with the 6-bit adaptive quantizer (blocks 1L to
// 4L) and returns the code.
func (e *Encoder) encodeLow(xl int32) int32 {
	b := &e.low
	det := b.detLow()

	// SUBTRA.
	el := sat16(xl - b.s)

	// QUANTL: find the magnitude interval of el among the scaled decision levels.
	wd := el
	if el < 0 {
		wd = -(el + 1)
	}
	// The Recommendation scans intervals 1..29 for the first scaled level above wd;
	// the levels increase with i, so a binary search finds the same interval.
	lo, hi := int32(1), int32(30) // the answer lies in [lo, hi]
	for lo < hi {
		mid := (lo + hi) / 2
		if wd < (q6[mid&31]*det)>>12 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	i := lo & 31
	var il int32
	if el < 0 {
		il = iln[i]
	} else {
		il = ilp[i]
	}

	// INVQAL: the predictor works on the 4-bit core of the code only.
	il4 := il >> 2
	dlt := mult(det, qm4[il4])

	// LOGSCL, SCALEL (folded into detLow on the next sample) and block 4L.
	b.adaptLow(il4)
	b.predict(dlt)
	return il
}

// encodeHigh codes one higher-band sample with the 2-bit adaptive quantizer (blocks 1H
// to 4H) and returns the code.
func (e *Encoder) encodeHigh(xh int32) int32 {
	b := &e.high
	det := b.detHigh()

	// SUBTRA.
	eh := sat16(xh - b.s)

	// QUANTH.
	wd := eh
	if eh < 0 {
		wd = -(eh + 1)
	}
	mih := 1
	if wd >= (quanthStep*det)>>12 {
		mih = 2
	}
	var ih int32
	if eh < 0 {
		ih = ihn[mih]
	} else {
		ih = ihp[mih]
	}

	// INVQAH, LOGSCH, SCALEH and block 4H.
	dh := mult(det, qm2[ih])
	b.adaptHigh(ih)
	b.predict(dh)
	return ih
}

// grow makes room for n more elements in s without changing its length.
func grow[S ~[]E, E any](s S, n int) S {
	if cap(s)-len(s) < n {
		ns := make(S, len(s), len(s)+n)
		copy(ns, s)
		return ns
	}
	return s
}
