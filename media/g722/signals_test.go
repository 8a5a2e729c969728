package g722

// Deterministic test signals built from integer arithmetic only, so that golden hashes
// of their encodings do not depend on the platform's floating-point library.

// lcg is a 32-bit linear congruential generator (Numerical Recipes constants).
type lcg uint32

func (g *lcg) next() uint32 {
	*g = *g*1664525 + 1013904223
	return uint32(*g)
}

// sine1k is one period of a 1 kHz sine at 16 kHz: round(8000*sin(2*pi*k/16)).
var sine1k = [16]int16{
	0, 3061, 5657, 7391, 8000, 7391, 5657, 3061,
	0, -3061, -5657, -7391, -8000, -7391, -5657, -3061,
}

// goldenTone is n samples of a 1 kHz sine at about -12 dBFS.
func goldenTone(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = sine1k[i%16]
	}
	return s
}

// goldenNoise is n samples of full-scale white noise.
func goldenNoise(n int) []int16 {
	s := make([]int16, n)
	g := lcg(1)
	for i := range s {
		s[i] = int16(g.next() >> 16)
	}
	return s
}

// goldenLowpassNoise is n samples of white noise through a one-pole low-pass filter,
// giving a spectrum that falls off like speech.
func goldenLowpassNoise(n int) []int16 {
	s := make([]int16, n)
	g := lcg(7)
	var y int32
	for i := range s {
		x := int32(int16(g.next()>>16)) / 2
		y += (x - y) >> 3
		s[i] = int16(y * 3)
	}
	return s
}

// goldenSquare is n samples of a full-scale square wave with a period of 74 samples,
// which drives both sub-band quantizers to their limits.
func goldenSquare(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		if (i/37)%2 == 0 {
			s[i] = 32767
		} else {
			s[i] = -32768
		}
	}
	return s
}

// goldenCodes is n pseudo-random code octets: every lower- and higher-band code.
func goldenCodes(n int) []byte {
	b := make([]byte, n)
	g := lcg(3)
	for i := range b {
		b[i] = byte(g.next() >> 24)
	}
	return b
}
