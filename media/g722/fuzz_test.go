package g722

import (
	"testing"
)

// FuzzDecode feeds arbitrary octets to decoders in every mode: decoding must never
// panic, must produce exactly two samples per octet, and, because every octet is a
// valid code, must agree with a decoder fed the same octets one at a time. The octets
// are also split into 16-bit samples and round-tripped through the encoder.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xFA, 0xFA, 0xFA, 0xFA})
	f.Add([]byte{0xB2, 0x0B, 0xA9})
	f.Add([]byte{0x00, 0x01, 0x02, 0x03, 0xFF, 0x7F, 0x80})
	f.Add(goldenCodes(64))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mode := range []Mode{Mode1, Mode2, Mode3} {
			whole, err := NewDecoder(mode)
			if err != nil {
				t.Fatal(err)
			}
			out := whole.Decode(nil, data)
			if len(out) != 2*len(data) {
				t.Fatalf("mode %d: %d octets gave %d samples", mode, len(data), len(out))
			}
			split, _ := NewDecoder(mode)
			var out2 []int16
			for i := range data {
				out2 = split.Decode(out2, data[i:i+1])
			}
			for i := range out {
				if out[i] != out2[i] {
					t.Fatalf("mode %d: split decoding differs at sample %d", mode, i)
				}
			}
		}

		pcm := make([]int16, len(data)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		codes := NewEncoder().Encode(nil, pcm)
		if len(codes) != len(pcm)/2 {
			t.Fatalf("%d samples gave %d octets", len(pcm), len(codes))
		}
		var d Decoder
		if got := d.Decode(nil, codes); len(got) != 2*len(codes) {
			t.Fatalf("round trip length %d", len(got))
		}
	})
}
