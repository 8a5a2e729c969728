package g722

// This file holds the parts of the algorithm that the encoder and the decoder share:
// 16-bit saturating arithmetic, the scale-factor adaptation (blocks 3L/3H) and the
// adaptive pole-zero predictor (block 4). The decoder runs exactly the same state
// updates as the encoder, which is what keeps the two in step without side information.

// sat16 limits x to the range of a 16-bit two's complement word, as every addition
// and multiplication of the Recommendation's fixed-point description does.
func sat16(x int32) int32 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return x
}

// add is a saturating 16-bit addition.
func add(a, b int32) int32 { return sat16(a + b) }

// mult is the 16x16 fractional multiply: (a*b) >> 15, saturated.
func mult(a, b int32) int32 { return sat16((a * b) >> 15) }

// band is the ADPCM state of one sub-band. Its zero value is the reset state of the
// Recommendation (all delay lines and coefficients zero, log scale factor zero); the
// quantizer scale factor is derived from nb, so no other initial value is needed.
type band struct {
	s  int32    // predicted signal (SL, SH)
	sp int32    // output of the pole section (SPL, SPH)
	sz int32    // output of the zero section (SZL, SZH)
	nb int32    // logarithmic quantizer scale factor (NBL, NBH)
	r  [3]int32 // reconstructed signal, r[1] and r[2] are the two previous values
	p  [3]int32 // partially reconstructed signal, p[1] and p[2] are delayed
	a  [3]int32 // pole predictor coefficients a[1], a[2]
	b  [7]int32 // zero predictor coefficients b[1]..b[6]
	d  [7]int32 // quantized difference signal, d[1]..d[6] are delayed
}

// scale converts the logarithmic scale factor into the linear one (SCALEL, SCALEH).
// shift is 8 for the lower band and 10 for the higher band.
func scale(nb, shift int32) int32 {
	wd1 := (nb >> 6) & 31
	wd2 := shift - (nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = ilb[wd1] << uint(-wd2)
	} else {
		wd3 = ilb[wd1] >> uint(wd2)
	}
	return wd3 << 2
}

// detLow is the lower-band quantizer scale factor DETL.
func (b *band) detLow() int32 { return scale(b.nb, 8) }

// detHigh is the higher-band quantizer scale factor DETH.
func (b *band) detHigh() int32 { return scale(b.nb, 10) }

// adaptLow is LOGSCL: it updates the lower-band log scale factor from the 4-bit core
// code.
func (b *band) adaptLow(il4 int32) {
	nb := mult(b.nb, 32512) + wl[rl42[il4]]
	b.nb = min(max(nb, 0), nbLowMax)
}

// adaptHigh is LOGSCH: it updates the higher-band log scale factor from the 2-bit code.
func (b *band) adaptHigh(ih int32) {
	nb := mult(b.nb, 32512) + wh[rh2[ih]]
	b.nb = min(max(nb, 0), nbHighMax)
}

// predict is block 4: given the quantized difference signal dlt of the current sample,
// it reconstructs the signal, adapts the pole and zero coefficients, shifts the delay
// lines and computes the prediction s for the next sample.
func (b *band) predict(dlt int32) {
	// RECONS and PARREC.
	r0 := add(b.s, dlt)
	p0 := add(b.sz, dlt)

	// UPPOL2: second pole coefficient. sgN is the sign bit (0 or -1) of p(n-N); zero
	// counts as positive.
	sg0, sg1, sg2 := p0>>15, b.p[1]>>15, b.p[2]>>15
	wd1 := sat16(b.a[1] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = -wd1
	}
	wd2 = min(wd2, 32767) >> 7
	wd3 := int32(-128)
	if sg0 == sg2 {
		wd3 = 128
	}
	ap2 := add(add(wd2, wd3), mult(b.a[2], 32512))
	ap2 = min(max(ap2, -12288), 12288)

	// UPPOL1: first pole coefficient, kept inside the stability triangle.
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	ap1 := add(wd1, mult(b.a[1], 32640))
	lim := 15360 - ap2
	ap1 = min(max(ap1, -lim), lim)

	// UPZERO: sign-sign adaptation of the six zero coefficients, with leakage.
	var step int32
	if dlt != 0 {
		step = 128
	}
	sgd := dlt >> 15
	for i := 1; i < 7; i++ {
		w := step
		if b.d[i]>>15 != sgd {
			w = -step
		}
		b.b[i] = add(w, mult(b.b[i], 32640))
	}

	// DELAYA: shift the delay lines.
	copy(b.d[2:7], b.d[1:6])
	b.d[1] = dlt
	b.r[2], b.r[1] = b.r[1], r0
	b.p[2], b.p[1] = b.p[1], p0
	b.a[1], b.a[2] = ap1, ap2

	// FILTEP: pole section.
	b.sp = add(mult(b.a[1], add(b.r[1], b.r[1])), mult(b.a[2], add(b.r[2], b.r[2])))

	// FILTEZ: zero section.
	var sz int32
	for i := 6; i > 0; i-- {
		sz = add(sz, mult(b.b[i], add(b.d[i], b.d[i])))
	}
	b.sz = sz

	// PREDIC.
	b.s = add(b.sp, sz)
}
