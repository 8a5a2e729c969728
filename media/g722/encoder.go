package g722

// Encoder is a G.722 encoder at 64 kbit/s (mode 1). It turns 16 kHz 16-bit PCM into one
// code octet per pair of input samples.
//
// The zero value is an encoder in the reset state, ready to use. An Encoder keeps state
// between calls (QMF history and both sub-band predictors), so use one per stream. It
// is not safe for concurrent use.
type Encoder struct {
	low, high band
	x         qmfLine
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
	xa, xb := qmfFilter(e.x.push(x0, x1))
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
	// For negative el the magnitude is -(el+1), which is el's one's complement.
	neg := el >> 31
	wd := el ^ neg
	il := ilpn[neg&1][quantlInterval(wd, det)]

	// INVQAL: the predictor works on the 4-bit core of the code only.
	il4 := il >> 2
	dlt := mult(det, qm4[il4])

	// LOGSCL, SCALEL (folded into detLow on the next sample) and block 4L.
	b.adaptLow(il4)
	b.predict(dlt)
	return il
}

// quantlInterval returns the magnitude interval (1..30) of wd for scale factor det.
//
// The Recommendation scans intervals 1..29 for the first level (q6[i]*det) >> 12 above
// wd, and answers 30 if there is none. The levels increase with i, so the interval is
// one more than the number of levels at or below wd. For integers, wd >= (q6*det) >> 12
// holds exactly when q6*det < (wd+1) << 12, that is when q6 <= ((wd+1)<<12 - 1) / det,
// so one division and a table of counts replace the scan (det is at least 32). In the
// encoder this sits on the critical path from one sample to the next, where a scan or
// even a binary search costs more time than the division.
func quantlInterval(wd, det int32) int32 {
	v := min(((wd+1)<<12-1)/det, int32(len(quantlCount)-1))
	return int32(quantlCount[v]) + 1
}

// quantlCount[v] is the number of decision levels q6[1..29] that are at most v; past
// the last level every count is 29.
var quantlCount = func() *[2920]uint8 {
	var t [2920]uint8
	for v := range t {
		for i := 1; i < 30; i++ {
			if q6[i] <= int32(v) {
				t[v]++
			}
		}
	}
	return &t
}()

// encodeHigh codes one higher-band sample with the 2-bit adaptive quantizer (blocks 1H
// to 4H) and returns the code.
func (e *Encoder) encodeHigh(xh int32) int32 {
	b := &e.high
	det := b.detHigh()

	// SUBTRA.
	eh := sat16(xh - b.s)

	// QUANTH.
	neg := eh >> 31
	wd := eh ^ neg
	mih := 1
	if wd >= (quanthStep*det)>>12 {
		mih = 2
	}
	ih := ihpn[neg&1][mih]

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

// qmfLine is the 24-sample QMF delay line, stored twice over in a 48-entry buffer
// (buf[k] == buf[k+24]) so that the newest 24 samples are always contiguous. Pushing a
// pair costs four stores instead of shifting 22 samples. The zero value is an empty
// (all-zero) line.
type qmfLine struct {
	buf [48]int32
	pos int // start of the current window, even, 0..22
}

// push replaces the two oldest samples with x0 and x1 (x1 the newer) and returns the
// window, oldest sample first.
func (l *qmfLine) push(x0, x1 int32) *[24]int32 {
	q := l.pos
	l.buf[q], l.buf[q+1], l.buf[q+24], l.buf[q+25] = x0, x1, x0, x1
	q += 2
	if q == 24 {
		q = 0
	}
	l.pos = q
	return (*[24]int32)(l.buf[q : q+24])
}

// qmfFilter applies the 24-tap QMF to a window x (x[23] newest): xa is the sum over
// the samples at odd positions (the newer phase) with the even-indexed taps h0, h2,
// ..., and xb the sum over the even positions with the odd-indexed taps h1, h3, ....
// Written out so that each product is a multiplication by a table constant.
func qmfFilter(x *[24]int32) (xa, xb int32) {
	xa = x[23]*qmf[0] + x[21]*qmf[1] + x[19]*qmf[2] + x[17]*qmf[3] +
		x[15]*qmf[4] + x[13]*qmf[5] + x[11]*qmf[6] + x[9]*qmf[7] +
		x[7]*qmf[8] + x[5]*qmf[9] + x[3]*qmf[10] + x[1]*qmf[11]
	xb = x[0]*qmf[0] + x[2]*qmf[1] + x[4]*qmf[2] + x[6]*qmf[3] +
		x[8]*qmf[4] + x[10]*qmf[5] + x[12]*qmf[6] + x[14]*qmf[7] +
		x[16]*qmf[8] + x[18]*qmf[9] + x[20]*qmf[10] + x[22]*qmf[11]
	return xa, xb
}
