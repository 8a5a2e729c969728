package resample

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

var fuzzRates = [...]int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000}

// fuzzRate maps a byte to a rate: mostly the common ones, sometimes an odd rate
// between 20 and 25.5 kHz, to exercise unusual ratios.
func fuzzRate(b uint8) int {
	if b < 200 {
		return fuzzRates[int(b)%len(fuzzRates)]
	}
	return int(b) * 100
}

// FuzzResample feeds arbitrary samples in arbitrary block sizes through arbitrary
// conversions and checks that nothing panics, that every Process call appends exactly
// OutputLen samples, that the stream length is ceil(n·to/from) (plus the delay after
// Flush), and that the blocking does not change a single output sample.
func FuzzResample(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(0), uint8(2), []byte{3, 1, 4})
	f.Add(make([]byte, 2000), uint8(7), uint8(0), []byte{200, 1, 0, 37})
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80}, uint8(3), uint8(2), []byte{1})
	f.Add([]byte{9, 9, 9}, uint8(201), uint8(255), []byte{})
	f.Fuzz(fuzzResample)
}

func fuzzResample(t *testing.T, data []byte, fromSel, toSel uint8, cuts []byte) {
	from, to := fuzzRate(fromSel), fuzzRate(toSel)
	r, err := New(from, to)
	if err != nil {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("New(%d, %d): unexpected error %v", from, to, err)
		}
		return
	}
	// Long inputs add nothing the block cuts do not already cover, and slow the
	// minimiser to a crawl.
	in := make([]int16, min(len(data)/2, 4096))
	for i := range in {
		in[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	ref, _ := New(from, to)
	whole := ref.Process(nil, in)
	want := (int64(len(in))*int64(to) + int64(from) - 1) / int64(from)
	if int64(len(whole)) != want {
		t.Fatalf("%v: %d inputs gave %d outputs, want %d", r, len(in), len(whole), want)
	}
	whole = ref.Flush(whole)
	if r.Taps() > 0 {
		g := int64(gcd(from, to))
		l, m := int64(to)/g, int64(from)/g
		n := int64(r.Taps() - 1)
		wantAll := (2*int64(len(in))*l + n + 2*m - 1) / (2 * m)
		if int64(len(whole)) != wantAll {
			t.Fatalf("%v: flushed length %d, want %d", r, len(whole), wantAll)
		}
	}

	var got []int16
	src := in
	for i := 0; len(src) > 0; i++ {
		k := len(src)
		if len(cuts) > 0 {
			k = min(int(cuts[i%len(cuts)]), len(src))
		}
		n := r.OutputLen(k)
		before := len(got)
		got = r.Process(got, src[:k])
		if len(got)-before != n {
			t.Fatalf("%v: Process(%d) appended %d, OutputLen said %d", r, k, len(got)-before, n)
		}
		src = src[max(k, 1):] // a zero cut is a valid empty call; step on regardless
		if k == 0 {
			got = r.Process(got, in[len(in)-len(src)-1:len(in)-len(src)])
		}
	}
	got = r.Flush(got)
	if !slices.Equal(got, whole) {
		t.Fatalf("%v: blocked output differs from one-block output", r)
	}
}
