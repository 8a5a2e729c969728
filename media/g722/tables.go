package g722

// The tables below are those of ITU-T G.722 (09/2012) §6, in the fixed-point scaling
// the Recommendation uses. They are read-only.

// qmf holds the even-indexed coefficients h0, h2, ..., h22 of the 24-tap transmit and
// receive QMF. The filter is symmetric (h[i] == h[23-i]), so the odd-indexed
// coefficients h1, h3, ..., h23 are the same values in reverse order. The taps sum to
// 8192 (2^13).
var qmf = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// q6 holds the lower-band decision levels of the 6-bit (60-level) quantizer for
// magnitude intervals 1..29, scaled by 2^3 relative to DETL. q6[0] and q6[30..31] are
// not thresholds: interval 30 is everything above q6[29].
var q6 = [32]int32{
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
	786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
}

// ilpn maps a magnitude interval (1..30) to the 6-bit lower-band code: ILP for a
// non-negative difference signal (row 0) and ILN for a negative one (row 1).
var ilpn = [2][32]int32{
	{
		0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
		46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0,
	},
	{
		0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
		18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0,
	},
}

// qm6 is the 6-bit lower-band inverse quantizer (64 kbit/s mode), indexed by the code.
// Codes 0..3 are never produced by the encoder; the Recommendation maps them to the
// smallest negative level.
var qm6 = [64]int32{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
}

// qm5 is the 5-bit lower-band inverse quantizer (56 kbit/s mode), indexed by the six-bit
// code without its least significant bit.
var qm5 = [32]int32{
	-280, -280, -23352, -17560, -14120, -11664, -9752, -8184,
	-6864, -5712, -4696, -3784, -2960, -2208, -1520, -880,
	23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712,
	4696, 3784, 2960, 2208, 1520, 880, 280, -280,
}

// qm4 is the 4-bit lower-band inverse quantizer, indexed by the six-bit code without
// its two least significant bits. It feeds the predictor and scale-factor adaptation in
// every mode (the "embedded" core that makes modes 2 and 3 decodable from a mode 1
// stream), and is the output quantizer of the 48 kbit/s mode.
var qm4 = [16]int32{
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
}

// rl42 maps the 4-bit core code to the index into wl.
var rl42 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}

// wl holds the lower-band logarithmic scale factor multipliers.
var wl = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}

// ilb is the anti-logarithm table used by both scale-factor blocks:
// ilb[i] = round(2048 * 2^(i/32)).
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// qm2 is the 2-bit higher-band inverse quantizer, indexed by the code.
var qm2 = [4]int32{-7408, -1616, 7408, 1616}

// ihpn maps the higher-band magnitude interval (1 or 2) to the 2-bit code: IHP for a
// non-negative difference signal (row 0) and IHN for a negative one (row 1).
var ihpn = [2][3]int32{{0, 3, 2}, {0, 1, 0}}

// rh2 maps the higher-band code to the index into wh.
var rh2 = [4]int32{2, 1, 2, 1}

// wh holds the higher-band logarithmic scale factor multipliers.
var wh = [3]int32{0, -214, 798}

// Limits of the logarithmic scale factors (NBL, NBH) and the QUANTH threshold.
const (
	nbLowMax   = 18432
	nbHighMax  = 22528
	quanthStep = 564
)
