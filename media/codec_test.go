package media

import (
	"encoding/binary"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"
)

// TestG711MatchesZaf checks the lookup tables against github.com/zaf/g711 for every
// 16-bit input and every code.
func TestG711MatchesZaf(t *testing.T) {
	uenc, aenc := PCMU().NewEncoder(), PCMA().NewEncoder()
	udec, adec := PCMU().NewDecoder(), PCMA().NewDecoder()
	all := make([]int16, 0, 1<<16)
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		all = append(all, int16(i))
	}
	u := uenc.Encode(nil, all)
	a := aenc.Encode(nil, all)
	for i, s := range all {
		if u[i] != g711.EncodeUlawFrame(s) {
			t.Fatalf("μ-law encode %d: got %#x want %#x", s, u[i], g711.EncodeUlawFrame(s))
		}
		if a[i] != g711.EncodeAlawFrame(s) {
			t.Fatalf("A-law encode %d: got %#x want %#x", s, a[i], g711.EncodeAlawFrame(s))
		}
	}
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	ud := udec.Decode(nil, codes)
	ad := adec.Decode(nil, codes)
	for i, c := range codes {
		require.Equal(t, g711.DecodeUlawFrame(c), ud[i], "μ-law decode %#x", c)
		require.Equal(t, g711.DecodeAlawFrame(c), ad[i], "A-law decode %#x", c)
	}
}

// TestG711Properties checks properties of the companding laws themselves: decoding is
// a fixed point of encoding, and the reconstruction error stays within half a
// quantization step (which doubles with each segment, so relative error is bounded).
func TestG711Properties(t *testing.T) {
	for _, c := range []Codec{PCMU(), PCMA()} {
		enc, dec := c.NewEncoder(), c.NewDecoder()
		for code := range 256 {
			v := dec.Decode(nil, []byte{byte(code)})[0]
			back := dec.Decode(nil, enc.Encode(nil, []int16{v}))[0]
			assert.Equal(t, v, back, "%s: code %#x", c.Name(), code)
		}
		for x := -32768; x <= 32767; x += 7 {
			y := dec.Decode(nil, enc.Encode(nil, []int16{int16(x)}))[0]
			err := math.Abs(float64(x) - float64(y))
			// Half a step: 8 in the finest segments, up to 512 in the top one.
			bound := math.Max(16, math.Abs(float64(x))/16) + 8
			assert.LessOrEqual(t, err, bound, "%s: %d -> %d", c.Name(), x, y)
		}
	}
}

// codecCases is the one table of codec facts and vectors that encoding and decoding
// tests share.
var codecCases = []struct {
	codec      Codec
	name       string
	clock      int
	rate       int
	pt         int
	pcm        []int16 // encodes to payload (for stateless codecs)
	payload    []byte  // decodes to decoded
	decoded    []int16
	bytesPerSm float64 // payload bytes per sample
}{
	{PCMU(), "PCMU", 8000, 8000, 0,
		[]int16{0, -1, 1000, -1000, 32767, -32768},
		[]byte{0xFF, 0x7F, 0xCE, 0x4E, 0x80, 0x00},
		[]int16{0, 0, 988, -988, 32124, -32124}, 1},
	{PCMA(), "PCMA", 8000, 8000, 8,
		[]int16{0, -1, 1000, -1000, 32767, -32768},
		[]byte{0xD5, 0x55, 0xFA, 0x7A, 0xAA, 0x2A},
		[]int16{8, -8, 1008, -1008, 32256, -32256}, 1},
	{L16(8000), "L16", 8000, 8000, -1,
		[]int16{0, -1, 1000, -1000, 32767, -32768},
		[]byte{0x00, 0x00, 0xFF, 0xFF, 0x03, 0xE8, 0xFC, 0x18, 0x7F, 0xFF, 0x80, 0x00},
		[]int16{0, -1, 1000, -1000, 32767, -32768}, 2},
	{L16(16000), "L16", 16000, 16000, -1,
		[]int16{0x0102},
		[]byte{0x01, 0x02},
		[]int16{0x0102}, 2},
	{G722(), "G722", 8000, 16000, 9,
		make([]int16, 8),
		[]byte{0xFA, 0xFA, 0xFA, 0xFA},
		nil, 0.5},
}

func TestCodecs(t *testing.T) {
	for _, tc := range codecCases {
		t.Run(tc.name+"/"+strconv.Itoa(tc.rate), func(t *testing.T) {
			c := tc.codec
			assert.Equal(t, tc.name, c.Name())
			assert.Equal(t, tc.clock, c.ClockRate())
			assert.Equal(t, tc.rate, c.SampleRate())
			assert.Equal(t, tc.pt, c.StaticPayloadType())

			got := c.NewEncoder().Encode([]byte{0xAB}, tc.pcm)
			assert.Equal(t, append([]byte{0xAB}, tc.payload...), got, "encode appends")
			assert.Len(t, tc.payload, int(float64(len(tc.pcm))*tc.bytesPerSm))

			dec := c.NewDecoder().Decode([]int16{7}, tc.payload)
			assert.Equal(t, int16(7), dec[0], "decode appends")
			assert.Len(t, dec, 1+int(float64(len(tc.payload))/tc.bytesPerSm))
			if tc.decoded != nil {
				assert.Equal(t, tc.decoded, dec[1:])
			}
		})
	}
}

func TestL16(t *testing.T) {
	// A trailing odd byte is not a sample and is ignored.
	assert.Equal(t, []int16{0x0102}, L16(8000).NewDecoder().Decode(nil, []byte{1, 2, 3}))
	assert.Empty(t, L16(8000).NewDecoder().Decode(nil, []byte{9}))
	assert.Equal(t, 11, L16(44100).StaticPayloadType(), "RFC 3551: L16 44100 Hz mono is PT 11")
	assert.Equal(t, "L16/48000", L16(48000).(interface{ String() string }).String())
	assert.Panics(t, func() { L16(0) })
}

func TestG722Adapter(t *testing.T) {
	c := G722()
	// Encoders keep state: a second stream starts fresh.
	tone := sineWave(320, 16000, 1000, -10)
	e1, e2 := c.NewEncoder(), c.NewEncoder()
	p1 := e1.Encode(nil, tone)
	p2 := e1.Encode(nil, tone)
	assert.NotEqual(t, p1, p2, "state carries across frames")
	assert.Equal(t, p1, e2.Encode(nil, tone), "fresh encoder, fresh state")
	assert.Len(t, p1, 160)

	d := c.NewDecoder()
	out := d.Decode(nil, p1)
	out = d.Decode(out, p2)
	require.Len(t, out, 640)
	// The decoded tone keeps its energy (the codec delays it by 22 samples).
	assert.InDelta(t, rms(tone), rms(out[320:]), rms(tone)*0.05)
}

func TestCodecSet(t *testing.T) {
	s := DefaultCodecs()
	assert.Equal(t, "G722/8000 PCMU/8000 PCMA/8000 L16/16000 L16/8000", s.String())
	assert.Equal(t, "PCMA", s.ByName("pcma", 8000).Name())
	assert.Equal(t, 16000, s.ByName("L16", 16000).SampleRate())
	assert.Nil(t, s.ByName("L16", 44100))
	assert.Nil(t, s.ByName("opus", 48000))
	assert.Equal(t, "G722", s.ByPayloadType(9).Name())
	assert.Equal(t, "PCMU", s.ByPayloadType(0).Name())
	assert.Nil(t, s.ByPayloadType(-1), "dynamic codecs never match")
	assert.Nil(t, s.ByPayloadType(96))
	assert.Equal(t, "G722/8000 PCMU/8000 PCMA/8000", s.Without("l16").String())
	assert.Len(t, s, 5, "Without does not modify its receiver")

	// DefaultCodecs returns a fresh slice every time.
	s[0] = PCMA()
	assert.Equal(t, "G722", DefaultCodecs()[0].Name())
}

func TestCodecsZeroAllocs(t *testing.T) {
	for _, c := range DefaultCodecs() {
		n := SamplesPer(c.SampleRate(), DefaultFrameDuration)
		pcm := sineWave(n, c.SampleRate(), 1000, -10)
		enc, dec := c.NewEncoder(), c.NewDecoder()
		payload := make([]byte, 0, 2*n)
		out := make([]int16, 0, n)
		allocs := testing.AllocsPerRun(50, func() {
			payload = enc.Encode(payload[:0], pcm)
			out = dec.Decode(out[:0], payload)
		})
		assert.Zero(t, allocs, c.Name())
	}
}

// sineWave returns n samples of a sine at freq Hz and dbfs at rate Hz.
func sineWave(n, rate int, freq, dbfs float64) []int16 {
	amp := 32767 * math.Pow(10, dbfs/20)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

func rms(s []int16) float64 {
	var e float64
	for _, x := range s {
		e += float64(x) * float64(x)
	}
	return math.Sqrt(e / float64(len(s)))
}

// Benchmarks encode and decode one 20 ms frame. Budget: well under 1 µs per G.711
// frame, zero allocations per frame for every codec.
func BenchmarkCodecs(b *testing.B) {
	for _, c := range DefaultCodecs() {
		n := SamplesPer(c.SampleRate(), DefaultFrameDuration)
		pcm := sineWave(n, c.SampleRate(), 1000, -10)
		name := c.Name() + "-" + strconv.Itoa(c.SampleRate())
		b.Run(name+"/encode", func(b *testing.B) {
			enc := c.NewEncoder()
			buf := make([]byte, 0, 2*n)
			b.ReportAllocs()
			for b.Loop() {
				buf = enc.Encode(buf[:0], pcm)
			}
		})
		b.Run(name+"/decode", func(b *testing.B) {
			payload := c.NewEncoder().Encode(nil, pcm)
			dec := c.NewDecoder()
			out := make([]int16, 0, n)
			b.ReportAllocs()
			for b.Loop() {
				out = dec.Decode(out[:0], payload)
			}
		})
	}
}

// FuzzDecode decodes arbitrary payloads with every default codec: no panics, the
// documented number of samples, and stateless codecs re-encode their own output to the
// same samples.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xFF, 0x7F, 0x00, 0x80})
	f.Add([]byte{0xFA, 0xFA, 0x01})
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, c := range DefaultCodecs() {
			out := c.NewDecoder().Decode(nil, payload)
			var want int
			switch c.Name() {
			case "G722":
				want = 2 * len(payload)
			case "L16":
				want = len(payload) / 2
			default:
				want = len(payload)
			}
			if len(out) != want {
				t.Fatalf("%s: %d bytes gave %d samples, want %d", c.Name(), len(payload), len(out), want)
			}
			if c.Name() != "G722" {
				again := c.NewDecoder().Decode(nil, c.NewEncoder().Encode(nil, out))
				for i := range out {
					if again[i] != out[i] {
						t.Fatalf("%s: sample %d decodes to %d, re-encodes to %d", c.Name(), i, out[i], again[i])
					}
				}
			}
		}
	})
}

// FuzzL16Decode checks that L16 decoding reads exactly the big-endian samples of the
// payload and that encoding restores the payload (minus an odd trailing byte).
func FuzzL16Decode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x7F, 0xFF, 0x80, 0x00})
	f.Add([]byte{0x01, 0x02, 0x03})
	f.Fuzz(func(t *testing.T, payload []byte) {
		c := L16(16000)
		out := c.NewDecoder().Decode(nil, payload)
		if len(out) != len(payload)/2 {
			t.Fatalf("%d bytes gave %d samples", len(payload), len(out))
		}
		for i, s := range out {
			if want := int16(binary.BigEndian.Uint16(payload[2*i:])); s != want {
				t.Fatalf("sample %d: got %d want %d", i, s, want)
			}
		}
		back := c.NewEncoder().Encode(nil, out)
		if string(back) != string(payload[:len(payload)&^1]) {
			t.Fatalf("re-encoding changed the payload")
		}
	})
}
