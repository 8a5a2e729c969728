package g722

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTables checks the tables against the relations the Recommendation defines them
// by, so a mistyped entry cannot hide.
func TestTables(t *testing.T) {
	// ILB is the anti-log table 2048 * 2^(i/32).
	for i, v := range ilb {
		assert.Equal(t, int32(math.Round(2048*math.Pow(2, float64(i)/32))), v, "ilb[%d]", i)
	}

	// The QMF is symmetric with taps summing to 2^13; even and odd phases each sum to
	// 2^12.
	var sum int32
	for _, h := range qmf {
		sum += h
	}
	assert.Equal(t, int32(4096), sum)

	// Decision levels increase.
	for i := 2; i < 30; i++ {
		assert.Less(t, q6[i-1], q6[i], "q6[%d]", i)
	}

	// ILP and ILN give 60 distinct codes; every 6-bit output level of interval i lies
	// between that interval's decision levels (scaled by 8 in qm6), with the sign of
	// the interval.
	seen := map[int32]bool{}
	for i := 1; i <= 30; i++ {
		for _, c := range []struct {
			code int32
			sign int32
		}{{ilpn[0][i], 1}, {ilpn[1][i], -1}} {
			require.False(t, seen[c.code], "code %d used twice", c.code)
			seen[c.code] = true
			level := qm6[c.code] * c.sign
			lo := 8 * q6[i-1]
			assert.GreaterOrEqual(t, level, lo, "qm6[%d]", c.code)
			if i < 30 {
				assert.LessOrEqual(t, level, 8*q6[i], "qm6[%d]", c.code)
			}
		}
	}
	assert.Len(t, seen, 60)
	for c := range 4 {
		assert.False(t, seen[int32(c)], "codes 0..3 are never produced")
	}

	// The 5- and 4-bit quantizers are the 6-bit one with low bits dropped: their level
	// for a shortened code has the sign of, and lies within the range spanned by, the
	// 6-bit levels it replaces.
	for c := int32(4); c < 64; c++ {
		l6, l5, l4 := qm6[c], qm5[c>>1], qm4[c>>2]
		if l6 > 0 {
			assert.GreaterOrEqual(t, l5, int32(0), "qm5[%d]", c>>1)
			assert.GreaterOrEqual(t, l4, int32(0), "qm4[%d]", c>>2)
		} else {
			assert.LessOrEqual(t, l5, int32(0), "qm5[%d]", c>>1)
			assert.LessOrEqual(t, l4, int32(0), "qm4[%d]", c>>2)
		}
	}
	// Scale-factor multipliers grow with the magnitude of the 4-bit code.
	for i := 1; i < 8; i++ {
		assert.Less(t, wl[i-1], wl[i])
	}
	for c := range 16 {
		if c == 0 || c == 15 {
			continue
		}
		mag := qm4[c]
		if mag < 0 {
			mag = -mag
		}
		for d := range 16 {
			if d == 0 || d == 15 {
				continue
			}
			md := qm4[d]
			if md < 0 {
				md = -md
			}
			if mag > md {
				assert.Greater(t, wl[rl42[c]], wl[rl42[d]], "rl42 ordering %d %d", c, d)
			}
		}
	}
	// The higher-band code tables.
	assert.Equal(t, [2][3]int32{{0, 3, 2}, {0, 1, 0}}, ihpn)
	// Reset scale factors: DETL = 32 and DETH = 8 (G.722 §6.2).
	assert.Equal(t, int32(32), scale(0, 8))
	assert.Equal(t, int32(8), scale(0, 10))
}

// TestKnownAnswer checks encoder outputs derived by hand from the Recommendation's
// block descriptions and tables.
//
// Input: a single sample of 16384 at index 1, zeros elsewhere. All state starts at
// zero, so DETL = 32 and DETH = 8 (SCALEL/SCALEH of NB = 0).
//
// Octet 0. The QMF delay line holds x[23] = 16384 only, so xA = 3*16384 = 49152
// (h0 = 3), xB = 0, and xL = xH = 49152 >> 14 = 3.
//   - QUANTL: el = 3. The thresholds (q6[i]*32) >> 12 are 0,0,0,1,1,1,2,2,2,3,3,4 for
//     i = 1..12; the first that exceeds 3 is i = 12, so IL = ILP[12] = 50.
//   - INVQAL: qm4[50>>2 = 12] = 4240, DLT = 32*4240 >> 15 = 4. LOGSCL: NBL = 0 +
//     wl[rl42[12] = 3] = 172. Block 4L: RLT = PLT = 4, APL2 = 128, APL1 = 192, all
//     BL = 128; SL = (192*8 >> 15) + (128*8 >> 15) = 0.
//   - QUANTH: eh = 3 >= (564*8) >> 12 = 1, so MIH = 2 and IH = IHP[2] = 2. INVQAH:
//     DH = 8*7408 >> 15 = 1; NBH = wh[rh2[2] = 2] = 798; SH = 0.
//   - Octet = 2<<6 | 50 = 0xB2.
//
// Octet 1. The impulse moved to x[21] (tap h2 of the even phase, i = 10 → qmf[1] =
// -11): xA = -180224, xL = xH = -180224 >> 14 = -11.
//   - DETL = (ilb[172>>6 = 2] = 2139 >> 8) << 2 = 32; el = -11 - 0, magnitude
//     -(el+1) = 10. (1339*32) >> 12 = 10 is not above 10, (1458*32) >> 12 = 11 is,
//     so i = 23 and IL = ILN[23] = 11.
//   - DETH = (ilb[798>>6 = 12] = 2656 >> 10) << 2 = 8; eh = -11, magnitude 10 >= 1,
//     IH = IHN[2] = 0.
//   - Octet = 0<<6 | 11 = 0x0B.
//   - Updates: DLT = 32*qm4[2] >> 15 = 32*-12896 >> 15 = -13 (floor); NBL =
//     (172*32512 >> 15) + wl[rl42[2] = 6] = 170 + 1198 = 1368. Block 4L with PLT = -13
//     against PLT1 = 4: APL2 = (768 >> 7) - 128 + (128*32512 >> 15) = 6 - 128 + 127 =
//     5, APL1 = -192 + 191 = -1, all BL = -128 + 127 = -1; FILTEZ gives
//     (-1*8) >> 15 = -1 for DLT2 = 4, so SL = -1. In the higher band DH =
//     8*-7408 >> 15 = -2, NBH = 791 + 798 = 1589, and by the same steps SH = -1.
//
// Octet 2. x[19] = 16384 meets h4 = 12: xL = xH = 196608 >> 14 = 12.
//   - DETL = (ilb[1368>>6 = 21] = 3228 >> 8) << 2 = 48; el = 12 - (-1) = 13.
//     (1121*48) >> 12 = 13 is not above 13, (1219*48) >> 12 = 14 is: i = 21,
//     IL = ILP[21] = 41.
//   - DETH = (ilb[1589>>6 = 24] = 3444 >> 10) << 2 = 12; eh = 13 >= (564*12) >> 12 =
//     1, IH = IHP[2] = 2.
//   - Octet = 2<<6 | 41 = 0xA9.
//
// Silence: with zero input, el = 0 falls in interval 4 (the first threshold above 0 is
// (150*32) >> 12 = 1), so IL = ILP[4] = 58 and DLT = 32*1200 >> 15 = 1, which keeps NBL
// at 0; eh = 0 is below 1, so IH = 3 and DH = 8*1616 >> 15 = 0. The octet is
// 3<<6 | 58 = 0xFA. It stays 0xFA while SL stays 0, which holds at least for the first
// eight octets: each BL grows by at most 128 and each AL by at most 192 per sample, so
// with DLT and RLT at most 1 every product (coefficient*2) >> 15 in FILTEZ and FILTEP
// is still 0.
func TestKnownAnswer(t *testing.T) {
	in := make([]int16, 6)
	in[1] = 16384
	assert.Equal(t, []byte{0xB2, 0x0B, 0xA9}, NewEncoder().Encode(nil, in))

	silence := NewEncoder().Encode(nil, make([]int16, 16))
	assert.Equal(t, []byte{0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA}, silence)
}

// TestRanges checks the bounds predict relies on to skip saturations.
func TestRanges(t *testing.T) {
	var maxDet int32
	for nb := int32(0); nb <= nbLowMax; nb++ {
		maxDet = max(maxDet, scale(nb, 8))
	}
	for nb := int32(0); nb <= nbHighMax; nb++ {
		maxDet = max(maxDet, scale(nb, 10))
	}
	assert.Equal(t, int32(16384), maxDet)
	var maxQ int32
	for _, q := range qm4 {
		maxQ = max(maxQ, q, -q)
	}
	for _, q := range qm2 {
		maxQ = max(maxQ, q, -q)
	}
	assert.Equal(t, int32(maxDlt), mult(maxDet, maxQ))
	assert.Equal(t, int32(-maxDlt), mult(maxDet, -maxQ))
}

// TestQuantlInterval compares the encoder's QUANTL with the Recommendation's scan for
// every magnitude and every scale factor the encoder can reach.
func TestQuantlInterval(t *testing.T) {
	dets := map[int32]bool{}
	for nb := int32(0); nb <= nbLowMax; nb++ {
		dets[scale(nb, 8)] = true
	}
	for det := range dets {
		var levels [30]int32
		for i := 1; i < 30; i++ {
			levels[i] = (q6[i] * det) >> 12
		}
		i := int32(1) // the scan's answer for the current wd; it only grows with wd
		for wd := int32(0); wd <= 32767; wd++ {
			for i < 30 && wd >= levels[i] {
				i++
			}
			if got := quantlInterval(wd, det); got != i {
				t.Fatalf("det %d, wd %d: interval %d, the scan gives %d", det, wd, got, i)
			}
		}
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func pcmBytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// TestGolden compares SHA-256 hashes of long encodings and decodings with values
// produced by an independent implementation, libspandsp 0.0.6 (the G.722 codec baresip
// uses), run on the same inputs by testdata/spandsp_ref.c. Encodings are identical for
// all signals, including full-scale noise and square waves that saturate every
// internal limit. Decodings are identical wherever the output stays within 16 bits;
// where the receive QMF overshoots full scale, spandsp 0.0.6 lets the value wrap
// around while this decoder saturates (as the Recommendation's LIMIT does), so those
// hashes (marked "saturates") are regression values of this implementation.
func TestGolden(t *testing.T) {
	const n = 16000 // one second
	signals := []struct {
		name string
		pcm  []int16
		enc  string
		dec  [3]string // Mode1, Mode2, Mode3 decodings of enc
		sat  bool      // decodings saturate (see above)
	}{
		{
			name: "tone", pcm: goldenTone(n),
			enc: "5a1854d09cb2c35afd22985c809a5c5424026002f7cbc9679fb694a0cf59b0b4",
			dec: [3]string{
				"8e327b50dbdd08463b87a11a366a676afc307fea7d06c3ad6b80f3fa141d51dc",
				"6672fe414884c00e1a64c5fb2124295cee256d09b63a19ce62b6259a73cb3c95",
				"d995801c127dbecfc7f9bac30a198aa52434848889d7f558155758c246a62e15",
			},
		},
		{
			name: "lowpass-noise", pcm: goldenLowpassNoise(n),
			enc: "6a575e75721d5ce4ff8c0e13fe8946e3b3da07b98b036754d17ba26baac57525",
			dec: [3]string{
				"a809df44964b139250d03b6ce043cf9675bd6df6e68ccdbc9ddb9f0c9683042f",
				"7dd224cab7ac8efeecf48a60f5979ee20af72438ba01efdab0466eb77ee7b311",
				"e7c3220fb1644c6a0feb3cfaf4f5e615b7be0789eb3617bc3f3c5983f22a1531",
			},
		},
		{
			name: "noise", pcm: goldenNoise(n), sat: true,
			enc: "a31c74e2ebf074b984354a592b593db7cd8d67d8e74743f06daf1062f769e784",
			dec: [3]string{
				"b4bc5e4308cbc4fcf13ab654f9cac4309a7f8c57b6ab80ad2b6df9659fd4bb11",
				"a3fbb024d6f838731c3c3b734b157fff64ed6f2cea0c3c57e17e78c67ae80bb7",
				"5e933dd0b4efa578b20afb10fb1728602e7cec0ac7adf5d2bfb21e3625da0dd6",
			},
		},
		{
			name: "square", pcm: goldenSquare(n), sat: true,
			enc: "08ad5876e0aebabfcac0face61c16d8ccf26b6963c14aab9cb1164e0633e3434",
			dec: [3]string{
				"0fe8afdccd9444c216e3d1bb2dbeb5067aa973169b04a7569bf2964e8787aa4e",
				"6dce2f279107af1c469876ebb30b1dd6a6aa012e42775d1b12be415cc5e8b184",
				"af48d19bae5fa3b641e825c0fa77832e74aee2422c682d2d89e45ba279e18cd1",
			},
		},
	}
	for _, sg := range signals {
		t.Run(sg.name, func(t *testing.T) {
			codes := NewEncoder().Encode(nil, sg.pcm)
			require.Len(t, codes, n/2)
			assert.Equal(t, sg.enc, sum(codes), "encoding")
			for i, mode := range []Mode{Mode1, Mode2, Mode3} {
				d, err := NewDecoder(mode)
				require.NoError(t, err)
				assert.Equal(t, sg.dec[i], sum(pcmBytes(d.Decode(nil, codes))), "decoding in mode %d (saturates: %v)", mode, sg.sat)
			}
		})
	}

	// Random octets exercise every entry of every inverse quantizer (saturates).
	random := goldenCodes(n / 2)
	for mode, want := range map[Mode]string{
		Mode1: "77952df2047da308dfa97e64fa7e5e5c5aabe2840f0b4103f5cd5730cc603d93",
		Mode2: "55abec57831a43049533ad5ae4489cec3068b1794f92d8c33e0bf3a69750d9bd",
		Mode3: "f624efa3de07456b70e691fa06b8afc652b639c7ab397a9ef41d1d1ea2add24b",
	} {
		d, err := NewDecoder(mode)
		require.NoError(t, err)
		assert.Equal(t, want, sum(pcmBytes(d.Decode(nil, random))), "random codes, mode %d", mode)
	}
}
