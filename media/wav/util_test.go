package wav

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// chunk is one RIFF chunk for hand-built test files. size overrides the size field
// when non-nil; the pad byte for odd sizes is added unless noPad.
type chunk struct {
	id    string
	data  []byte
	size  *uint32
	noPad bool
}

func u32(v uint32) *uint32 { return &v }

// riff assembles a RIFF/WAVE file from chunks.
func riff(chunks ...chunk) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b = append(b, c.id...)
		size := uint32(len(c.data))
		if c.size != nil {
			size = *c.size
		}
		b = binary.LittleEndian.AppendUint32(b, size)
		b = append(b, c.data...)
		if len(c.data)%2 == 1 && !c.noPad {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// fmtChunk is a plain fmt chunk (16 bytes, 18 with cbSize for non-PCM tags).
func fmtChunk(tag Format, ch, rate, bits int) chunk {
	le := binary.LittleEndian
	var d []byte
	d = le.AppendUint16(d, uint16(tag))
	d = le.AppendUint16(d, uint16(ch))
	d = le.AppendUint32(d, uint32(rate))
	d = le.AppendUint32(d, uint32(rate*ch*bits/8))
	d = le.AppendUint16(d, uint16(ch*bits/8))
	d = le.AppendUint16(d, uint16(bits))
	if tag != FormatPCM {
		d = le.AppendUint16(d, 0)
	}
	return chunk{id: "fmt ", data: d}
}

// extFmt is a WAVE_FORMAT_EXTENSIBLE fmt chunk wrapping sub.
func extFmt(sub Format, ch, rate, bits, valid int) chunk {
	c := fmtChunk(FormatExtensible, ch, rate, bits)
	le := binary.LittleEndian
	d := c.data[:16]
	d = le.AppendUint16(d, 22)
	d = le.AppendUint16(d, uint16(valid))
	d = le.AppendUint32(d, 0x3) // front left | front right
	d = le.AppendUint16(d, uint16(sub))
	d = append(d, ksDataFormatSuffix[:]...)
	return chunk{id: "fmt ", data: d}
}

// memFile is an in-memory io.WriteSeeker (deliberately not an io.WriterAt, so the
// Writer's seek path is exercised).
type memFile struct {
	b   []byte
	pos int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.pos + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[m.pos:], p)
	m.pos += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.pos
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("negative seek")
	}
	m.pos = off
	return off, nil
}

// readAll drains a Reader into one slice, checking frame lengths on the way.
func readAll(t testing.TB, r *Reader) []int16 {
	t.Helper()
	var out []int16
	first, short := 0, false
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		require.Equal(t, r.SampleRate(), f.SampleRate)
		require.NotEmpty(t, f.Samples)
		require.False(t, short, "only the last frame may be short")
		if first == 0 {
			first = len(f.Samples)
		}
		short = len(f.Samples) < first
		out = append(out, f.Samples...)
	}
}

// tone returns n samples of amp·sin(2πf·i/rate).
func tone(n, rate int, f, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))))
	}
	return s
}

// goertzel returns the amplitude of the component of x at frequency f.
func goertzel(x []int16, rate int, f float64) float64 {
	w := 2 * math.Pi * f / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	return 2 * math.Hypot(re, im) / float64(len(x))
}

// zeroCrossingFreq estimates a tone's frequency from its interpolated rising zero
// crossings.
func zeroCrossingFreq(x []int16, rate int) float64 {
	first, last, n := -1.0, -1.0, 0
	for i := 1; i < len(x); i++ {
		if x[i-1] < 0 && x[i] >= 0 {
			t := float64(i-1) + float64(-x[i-1])/float64(int(x[i])-int(x[i-1]))
			if first < 0 {
				first = t
			}
			last = t
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) * float64(rate) / (last - first)
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

// requireTool fails (never skips) when a command the tests rely on is missing.
func requireTool(t testing.TB, name, debPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH: install the Debian package %q (apt-get install %s)", name, debPackage, debPackage)
	}
	return p
}
