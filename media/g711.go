package media

// G.711 (ITU-T G.711, 11/1988) companding as lookup tables built once at package
// initialisation and never written again. The conventions match github.com/zaf/g711
// bit for bit (the tests check all inputs): a negative sample is folded to its one's
// complement (-1-x) before companding, so the two halves of the input range are mirror
// images, and decoding yields the midpoint of each quantization interval.

var (
	ulawEncodeTable = buildULawEncode()
	alawEncodeTable = buildALawEncode()
	ulawDecodeTable = buildULawDecode()
	alawDecodeTable = buildALawDecode()
)

// buildULawEncode tabulates μ-law encoding for every 14-bit input (a 16-bit sample
// shifted right by 2).
func buildULawEncode() *[1 << 14]uint8 {
	var t [1 << 14]uint8
	for i := range t {
		t[i] = ulawEncode(int16(uint16(i) << 2))
	}
	return &t
}

// ulawEncode companders one sample: bias the 14-bit magnitude by 33 so that segment
// boundaries fall on powers of two, find the segment (position of the leading one),
// keep the next four bits, and invert the whole code as G.711 prescribes.
func ulawEncode(x int16) uint8 {
	sign := uint8(0x80)
	if x < 0 {
		x = ^x
		sign = 0
	}
	v := int(x>>2) + 33
	v = min(v, 0x1FFF)
	seg := 0
	for v>>(seg+6) != 0 {
		seg++
	}
	mant := (v >> (seg + 1)) & 0x0F
	return sign | uint8(^(seg<<4|mant))&0x7F
}

// buildALawEncode tabulates A-law encoding for every 12-bit input (a 16-bit sample
// shifted right by 4).
func buildALawEncode() *[1 << 12]uint8 {
	var t [1 << 12]uint8
	for i := range t {
		t[i] = alawEncode(int16(uint16(i) << 4))
	}
	return &t
}

// alawEncode companders one sample: segment 0 is linear with a step of 16 (16-bit
// units), each further segment doubles the step; even bits are inverted (XOR 0x55).
func alawEncode(x int16) uint8 {
	sign := uint8(0x80)
	if x < 0 {
		x = ^x
		sign = 0
	}
	v := int(x >> 4) // 0..2047
	var code int
	if v < 16 {
		code = v
	} else {
		seg := 1
		for v>>(seg+4) != 0 {
			seg++
		}
		code = seg<<4 | (v>>(seg-1))&0x0F
	}
	return (sign | uint8(code)) ^ 0x55
}

func buildULawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		u := ^uint8(i)
		seg := int(u>>4) & 7
		mag := ((int(u&0x0F)<<3 + 0x84) << seg) - 0x84
		if u&0x80 != 0 {
			mag = -mag
		}
		t[i] = int16(mag)
	}
	return &t
}

func buildALawDecode() *[256]int16 {
	var t [256]int16
	for i := range t {
		a := uint8(i) ^ 0x55
		seg := int(a>>4) & 7
		mag := int(a&0x0F)<<4 + 8
		if seg > 0 {
			mag = (mag + 0x100) << (seg - 1)
		}
		if a&0x80 == 0 {
			mag = -mag
		}
		t[i] = int16(mag)
	}
	return &t
}
