package g722

// This file holds the parts of the algorithm that the encoder and the decoder share:
// 16-bit saturating arithmetic, the scale-factor adaptation (blocks 3L/3H) and the
// adaptive pole-zero predictor (block 4). The decoder runs exactly the same state
// updates as the encoder, which is what keeps the two in step without side information.

// sat16 limits x to the range of a 16-bit two's complement word, as every addition
// and multiplication of the Recommendation's fixed-point description does.
func sat16(x int32) int32 { return min(max(x, -32768), 32767) }

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

// Bounds that let predict skip saturations which can never trigger (skipping them
// changes no result): the scale factors DETL and DETH never exceed 16384 (SCALEL and
// SCALEH of the largest NBL and NBH), so the quantized difference signal dlt, a
// scale factor times at most 20456 (qm4) or 7408 (qm2) >> 15, stays within ±10228.
// TestRanges checks these bounds.
const maxDlt = 10228

// predict is block 4: given the quantized difference signal dlt of the current sample,
// it reconstructs the signal, adapts the pole and zero coefficients, shifts the delay
// lines and computes the prediction s for the next sample.
//
// Where a saturation is dropped below, a comment gives the bound that makes it
// redundant; every value stored in the state remains a 16-bit quantity.
func (b *band) predict(dlt int32) {
	// RECONS and PARREC.
	r0 := add(b.s, dlt)
	p0 := add(b.sz, dlt)

	// The sign tests compare sign bits (zero counts as positive). Every signal here is
	// a 16-bit value held in an int32, so bit 31 is its sign bit, and the XOR of two
	// values shifted right by 31 is -1 when their signs differ and 0 when they agree.
	// The adaptations use it to negate without branching: (v ^ m) - m is v when m is
	// 0 and -v when m is -1. Signs of speech samples are unpredictable, so branches
	// here would mostly be mispredicted.
	diff1 := (p0 ^ b.p[1]) >> 31
	diff2 := (p0 ^ b.p[2]) >> 31

	// UPPOL2: second pole coefficient; WD2 is -WD1 when p(n) and p(n-1) agree in sign.
	// The three terms are below 256, 128 and 12288 in magnitude, then limited.
	wd1 := sat16(b.a[1] << 2)
	same1 := ^diff1
	wd2 := min((wd1^same1)-same1, 32767) >> 7
	wd3 := (128 ^ diff2) - diff2 // +128 when p(n) and p(n-2) agree in sign
	ap2 := wd2 + wd3 + (b.a[2]*32512)>>15
	ap2 = min(max(ap2, -12288), 12288)

	// UPPOL1: first pole coefficient, kept inside the stability triangle. The limit
	// is at most 27648, so saturating the sum first would change nothing.
	ap1 := (192 ^ diff1) - diff1 + (b.a[1]*32640)>>15
	lim := 15360 - ap2
	ap1 = min(max(ap1, -lim), lim)

	// UPZERO: sign-sign adaptation of the six zero coefficients, with leakage; the
	// step is +128 when dlt and d(n-i) agree in sign, and 0 when dlt is 0. For any
	// 16-bit b, (b*32640) >> 15 lies in [-32640, 32639], so b ± 128 stays 16-bit.
	var step int32
	if dlt != 0 {
		step = 128
	}
	b.b[1] = upzero(b.b[1], b.d[1], dlt, step)
	b.b[2] = upzero(b.b[2], b.d[2], dlt, step)
	b.b[3] = upzero(b.b[3], b.d[3], dlt, step)
	b.b[4] = upzero(b.b[4], b.d[4], dlt, step)
	b.b[5] = upzero(b.b[5], b.d[5], dlt, step)
	b.b[6] = upzero(b.b[6], b.d[6], dlt, step)

	// DELAYA: shift the delay lines.
	b.d[6], b.d[5], b.d[4], b.d[3], b.d[2], b.d[1] = b.d[5], b.d[4], b.d[3], b.d[2], b.d[1], dlt
	b.r[2], b.r[1] = b.r[1], r0
	b.p[2], b.p[1] = b.p[1], p0
	b.a[1], b.a[2] = ap1, ap2

	// FILTEP: pole section. |a1| <= 27648 and |a2| <= 12288, so the products of the
	// coefficients with a doubled 16-bit signal fit and their >> 15 is 16-bit.
	b.sp = add((b.a[1]*add(b.r[1], b.r[1]))>>15, (b.a[2]*add(b.r[2], b.r[2]))>>15)

	// FILTEZ: zero section, summed from b6 down to b1. |2*d| <= 2*maxDlt, so neither
	// the doubling nor the products saturate; the running sum can, and does so at
	// each step.
	sz := (b.b[6] * (b.d[6] + b.d[6])) >> 15
	sz = add(sz, (b.b[5]*(b.d[5]+b.d[5]))>>15)
	sz = add(sz, (b.b[4]*(b.d[4]+b.d[4]))>>15)
	sz = add(sz, (b.b[3]*(b.d[3]+b.d[3]))>>15)
	sz = add(sz, (b.b[2]*(b.d[2]+b.d[2]))>>15)
	sz = add(sz, (b.b[1]*(b.d[1]+b.d[1]))>>15)
	b.sz = sz

	// PREDIC.
	b.s = add(b.sp, sz)
}

// upzero adapts one zero-predictor coefficient bi given the delayed difference signal
// di (see UPZERO in predict).
func upzero(bi, di, dlt, step int32) int32 {
	m := (di ^ dlt) >> 31
	return (step ^ m) - m + (bi*32640)>>15
}
