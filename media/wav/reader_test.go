package wav

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"

	"github.com/switchboard-go/switchboard/media"
)

// TestDecodeFormats builds one file per supported encoding holding the same known
// values and checks the decoded 16-bit samples exactly.
func TestDecodeFormats(t *testing.T) {
	want := []int16{0, 1000, -1000, 32767, -32768, 12345, -256}
	le := binary.LittleEndian
	enc := func(f func(b []byte, v int16) []byte) []byte {
		var b []byte
		for _, v := range want {
			b = f(b, v)
		}
		return b
	}
	pcm16 := enc(func(b []byte, v int16) []byte { return le.AppendUint16(b, uint16(v)) })
	pcm24 := enc(func(b []byte, v int16) []byte {
		x := int32(v)<<8 | 0x7F
		return append(b, byte(x), byte(x>>8), byte(x>>16))
	})
	pcm32 := enc(func(b []byte, v int16) []byte { return le.AppendUint32(b, uint32(int32(v)<<16|0x7FFF)) })
	f32 := enc(func(b []byte, v int16) []byte { return le.AppendUint32(b, math.Float32bits(float32(v)/32768)) })
	f64 := enc(func(b []byte, v int16) []byte { return le.AppendUint64(b, math.Float64bits(float64(v)/32768)) })
	stereo16 := enc(func(b []byte, v int16) []byte {
		// left = v, right = v too except a +2/-2 split, so the mean is v.
		l, r := int32(v), int32(v)
		if v < 32766 && v > -32767 {
			l, r = l+2, r-2
		}
		return le.AppendUint16(le.AppendUint16(b, uint16(l)), uint16(r))
	})
	// 8-bit and G.711 cannot hold every value; their expectations are computed.
	var u8 []byte
	var want8 []int16
	for _, v := range want {
		b := byte(int(v)>>8 + 128)
		u8 = append(u8, b)
		want8 = append(want8, int16((int(b)-128)<<8))
	}
	var ulaw, alaw []byte
	var wantU, wantA []int16
	for _, v := range want {
		ulaw = append(ulaw, g711.EncodeUlawFrame(v))
		wantU = append(wantU, g711.DecodeUlawFrame(ulaw[len(ulaw)-1]))
		alaw = append(alaw, g711.EncodeAlawFrame(v))
		wantA = append(wantA, g711.DecodeAlawFrame(alaw[len(alaw)-1]))
	}
	cases := []struct {
		name   string
		fmt    chunk
		data   []byte
		want   []int16
		format Format
		tag    Format
	}{
		{"pcm8", fmtChunk(FormatPCM, 1, 8000, 8), u8, want8, FormatPCM, FormatPCM},
		{"pcm16", fmtChunk(FormatPCM, 1, 8000, 16), pcm16, want, FormatPCM, FormatPCM},
		{"pcm16 stereo", fmtChunk(FormatPCM, 2, 8000, 16), stereo16, want, FormatPCM, FormatPCM},
		{"pcm24", fmtChunk(FormatPCM, 1, 8000, 24), pcm24, want, FormatPCM, FormatPCM},
		{"pcm32", fmtChunk(FormatPCM, 1, 8000, 32), pcm32, want, FormatPCM, FormatPCM},
		{"float32", fmtChunk(FormatFloat, 1, 8000, 32), f32, want, FormatFloat, FormatFloat},
		{"float64", fmtChunk(FormatFloat, 1, 8000, 64), f64, want, FormatFloat, FormatFloat},
		{"mulaw", fmtChunk(FormatMuLaw, 1, 8000, 8), ulaw, wantU, FormatMuLaw, FormatMuLaw},
		{"alaw", fmtChunk(FormatALaw, 1, 8000, 8), alaw, wantA, FormatALaw, FormatALaw},
		{"extensible pcm24", extFmt(FormatPCM, 1, 8000, 24, 24), pcm24, want, FormatPCM, FormatExtensible},
		{"extensible pcm24 in 32", extFmt(FormatPCM, 1, 8000, 32, 24), pcm32, want, FormatPCM, FormatExtensible},
		{"extensible float", extFmt(FormatFloat, 1, 8000, 32, 32), f32, want, FormatFloat, FormatExtensible},
		{"extensible stereo16", extFmt(FormatPCM, 2, 8000, 16, 16), stereo16, want, FormatPCM, FormatExtensible},
		{"extensible mulaw", extFmt(FormatMuLaw, 1, 8000, 8, 8), ulaw, wantU, FormatMuLaw, FormatExtensible},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := riff(c.fmt, chunk{id: "data", data: c.data})
			r, err := NewReader(bytes.NewReader(file), Options{})
			require.NoError(t, err)
			h := r.Header()
			assert.Equal(t, c.format, h.Format)
			assert.Equal(t, c.tag, h.Tag)
			assert.Equal(t, 8000, h.SampleRate)
			assert.Equal(t, int64(len(c.data)), h.DataSize)
			assert.Equal(t, int64(len(want)), h.Frames())
			assert.Equal(t, int64(len(file)-len(c.data)-len(c.data)%2), h.DataOffset)
			require.Equal(t, c.want, readAll(t, r))
		})
	}
}

// TestChunkTolerance checks the reader skips what it should and finds the data: odd
// sized chunks with pad bytes, LIST/fact/JUNK before and after fmt, and open-ended data
// sizes from streaming writers.
func TestChunkTolerance(t *testing.T) {
	samples := tone(800, 8000, 440, 8000)
	var pcm []byte
	for _, v := range samples {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	f := fmtChunk(FormatPCM, 1, 8000, 16)
	list := chunk{id: "LIST", data: []byte("INFOISFT\x05\x00\x00\x00sox\x00\x00")} // odd: 17 bytes + pad
	cases := []struct {
		name   string
		file   []byte
		want   []int16
		frames int64
	}{
		{"LIST odd before fmt", riff(list, f, chunk{id: "data", data: pcm}), samples, 800},
		{"fact and JUNK", riff(chunk{id: "JUNK", data: make([]byte, 28)}, f, chunk{id: "fact", data: []byte{0x20, 3, 0, 0}}, chunk{id: "data", data: pcm}), samples, 800},
		{"unknown odd chunk after fmt", riff(f, chunk{id: "abcd", data: []byte{1, 2, 3}}, chunk{id: "data", data: pcm}), samples, 800},
		{"data size 0 means to EOF", riff(f, chunk{id: "data", data: pcm, size: u32(0)}), samples, -1},
		{"data size 0xFFFFFFFF means to EOF", riff(f, chunk{id: "data", data: pcm, size: u32(0xFFFFFFFF)}), samples, -1},
		{"data shorter than file", riff(f, chunk{id: "data", data: pcm, size: u32(200)}, chunk{id: "LIST", data: []byte("xx")}), samples[:100], 100},
		{"data cut short (crashed writer)", riff(f, chunk{id: "data", data: pcm[:1001], size: u32(1600), noPad: true}), samples[:500], 800},
		{"trailing chunk after data", riff(f, chunk{id: "data", data: pcm}, list), samples, 800},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, seekable := range []bool{true, false} {
				var src io.Reader = bytes.NewReader(c.file)
				if !seekable {
					src = io.MultiReader(src) // hides Seek
				}
				r, err := NewReader(src, Options{})
				require.NoError(t, err)
				assert.Equal(t, c.frames, r.Header().Frames())
				require.Equal(t, c.want, readAll(t, r))
			}
		})
	}
}

// TestMalformed checks that broken headers fail with the right sentinel.
func TestMalformed(t *testing.T) {
	pcm := make([]byte, 320)
	f := fmtChunk(FormatPCM, 1, 8000, 16)
	patch := func(c chunk, off int, v uint16) chunk {
		d := append([]byte(nil), c.data...)
		binary.LittleEndian.PutUint16(d[off:], v)
		return chunk{id: c.id, data: d}
	}
	patch32 := func(c chunk, off int, v uint32) chunk {
		d := append([]byte(nil), c.data...)
		binary.LittleEndian.PutUint32(d[off:], v)
		return chunk{id: c.id, data: d}
	}
	data := chunk{id: "data", data: pcm}
	good := riff(f, data)
	badGUID := extFmt(FormatPCM, 1, 8000, 16, 16)
	badGUID.data[30] ^= 0xFF
	cases := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"short", good[:7], ErrFormat},
		{"not RIFF", append([]byte("FORM"), good[4:]...), ErrFormat},
		{"RIFX", append([]byte("RIFX"), good[4:]...), ErrUnsupported},
		{"not WAVE", append(append(append([]byte{}, good[:8]...), "AVI "...), good[12:]...), ErrFormat},
		{"tiny RIFF size", append([]byte("RIFF\x02\x00\x00\x00"), good[8:]...), ErrFormat},
		{"no chunks", good[:12], ErrFormat},
		{"no fmt", riff(data), ErrFormat},
		{"no data", riff(f), ErrFormat},
		{"fmt truncated", good[:30], ErrFormat},
		{"fmt too small", riff(chunk{id: "fmt ", data: f.data[:14]}, data), ErrFormat},
		{"fmt too large", riff(chunk{id: "fmt ", data: make([]byte, 4000)}, data), ErrFormat},
		{"two fmt", riff(f, f, data), ErrFormat},
		{"zero channels", riff(patch(f, 2, 0), data), ErrFormat},
		{"zero rate", riff(patch32(f, 4, 0), data), ErrFormat},
		{"bad block align", riff(patch(f, 12, 3), data), ErrFormat},
		{"12-bit PCM", riff(patch(patch(f, 14, 12), 12, 2), data), ErrUnsupported},
		{"ADPCM", riff(patch(f, 0, 2), data), ErrUnsupported},
		{"16-bit mu-law", riff(patch(fmtChunk(FormatMuLaw, 1, 8000, 8), 14, 16), data), ErrFormat},
		{"24-bit float", riff(fmtChunk(FormatFloat, 1, 8000, 24), data), ErrUnsupported},
		{"nine channels", riff(fmtChunk(FormatPCM, 9, 8000, 16), data), ErrUnsupported},
		{"rate too high", riff(fmtChunk(FormatPCM, 1, 1000000, 16), data), ErrUnsupported},
		{"extensible too short", riff(chunk{id: "fmt ", data: extFmt(FormatPCM, 1, 8000, 16, 16).data[:24]}, data), ErrFormat},
		{"extensible cbSize 0", riff(patch(extFmt(FormatPCM, 1, 8000, 16, 16), 16, 0), data), ErrFormat},
		{"extensible bad GUID", riff(badGUID, data), ErrUnsupported},
		{"extensible valid > container", riff(extFmt(FormatPCM, 1, 8000, 16, 24), data), ErrFormat},
		{"data before fmt", riff(data, f), ErrFormat},
		{"chunk past end", riff(chunk{id: "LIST", data: []byte{1, 2}, size: u32(1000)}, f, data), ErrFormat},
		{"chunk size overflow", riff(chunk{id: "LIST", data: nil, size: u32(0xFFFFFFFF)}), ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, seekable := range []bool{true, false} {
				var src io.Reader = bytes.NewReader(c.file)
				if !seekable {
					src = io.MultiReader(src)
				}
				_, err := NewReader(src, Options{})
				require.ErrorIs(t, err, c.want)
				t.Log(err)
			}
		})
	}
	_, err := NewReader(bytes.NewReader(good), Options{})
	require.NoError(t, err, "the unbroken file parses")
	_, err = NewReader(bytes.NewReader(good), Options{SampleRate: -1})
	require.ErrorIs(t, err, ErrUnsupported)
	_, err = NewReader(bytes.NewReader(good), Options{SampleRate: 8001})
	require.ErrorIs(t, err, ErrUnsupported)
	_, err = NewReader(bytes.NewReader(good), Options{FrameDuration: time.Microsecond})
	require.ErrorIs(t, err, ErrUnsupported)
	_, err = NewReader(bytes.NewReader(good), Options{FrameDuration: 2 * time.Second})
	require.ErrorIs(t, err, ErrUnsupported)
}

// TestFrameDuration checks frame sizes and the short last frame.
func TestFrameDuration(t *testing.T) {
	samples := tone(8100, 8000, 440, 8000)
	var pcm []byte
	for _, v := range samples {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	file := riff(fmtChunk(FormatPCM, 1, 8000, 16), chunk{id: "data", data: pcm})
	for _, d := range []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond, time.Second} {
		r, err := NewReader(bytes.NewReader(file), Options{FrameDuration: d})
		require.NoError(t, err)
		if d == 0 {
			d = media.DefaultFrameDuration
		}
		n := media.SamplesPer(8000, d)
		var got []int16
		for {
			f, err := r.ReadFrame()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			if len(got)+n <= len(samples) {
				require.Len(t, f.Samples, n)
			} else {
				require.Len(t, f.Samples, len(samples)-len(got), "short last frame")
			}
			got = append(got, f.Samples...)
		}
		require.Equal(t, samples, got)
	}
}

// TestResampledTiming reads a 48 kHz file with clicks at known times at 8 and 16 kHz
// and checks the clicks stay where they were: the resampler's delay is compensated and
// the length is preserved.
func TestResampledTiming(t *testing.T) {
	const n = 48000
	samples := make([]int16, n)
	clicks := []int{4800, 24000, 43200} // 0.1 s, 0.5 s, 0.9 s
	for _, c := range clicks {
		samples[c] = 30000
	}
	var pcm []byte
	for _, v := range samples {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	file := riff(fmtChunk(FormatPCM, 1, 48000, 16), chunk{id: "data", data: pcm})
	for _, rate := range []int{8000, 16000, 44100} {
		r, err := NewReader(bytes.NewReader(file), Options{SampleRate: rate})
		require.NoError(t, err)
		require.Equal(t, rate, r.SampleRate())
		got := readAll(t, r)
		assert.InDelta(t, rate, len(got), 1, "length at %d Hz", rate)
		for _, c := range clicks {
			at := c * rate / 48000
			peak := at - 5
			for i := at - 5; i <= at+5; i++ {
				if got[i] > got[peak] {
					peak = i
				}
			}
			assert.InDelta(t, at, peak, 1, "click at %d Hz", rate)
		}
	}
}

func TestOpenClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	var pcm []byte
	for _, v := range tone(1600, 8000, 440, 8000) {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	require.NoError(t, os.WriteFile(path, riff(fmtChunk(FormatPCM, 1, 8000, 16), chunk{id: "data", data: pcm}), 0o644))
	r, err := Open(path, Options{SampleRate: 16000})
	require.NoError(t, err)
	assert.Equal(t, "wav(8k PCM16 mono)", r.String())
	assert.Equal(t, 200*time.Millisecond, r.Header().Duration())
	_, err = r.ReadFrame()
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	_, err = r.ReadFrame()
	require.ErrorIs(t, err, media.ErrClosed)

	_, err = Open(filepath.Join(t.TempDir(), "missing.wav"), Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(path, []byte("RIFF"), 0o644))
	_, err = Open(path, Options{})
	require.ErrorIs(t, err, ErrFormat)
	require.ErrorContains(t, err, path)
}

// TestReaderZeroAllocs is the per-frame budget: ReadFrame allocates nothing, at the
// file's rate and resampled.
func TestReaderZeroAllocs(t *testing.T) {
	var pcm []byte
	for _, v := range tone(48000*4, 48000, 440, 8000) {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	file := riff(fmtChunk(FormatPCM, 1, 48000, 16), chunk{id: "data", data: pcm})
	for _, rate := range []int{0, 8000} {
		r, err := NewReader(bytes.NewReader(file), Options{SampleRate: rate})
		require.NoError(t, err)
		_, err = r.ReadFrame()
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := r.ReadFrame(); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "ReadFrame at %d Hz", rate)
	}
}

// TestRF64 reads an RF64 file, whose 64-bit sizes live in a ds64 chunk.
func TestRF64(t *testing.T) {
	samples := tone(400, 8000, 440, 8000)
	var pcm []byte
	for _, v := range samples {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	ds := binary.LittleEndian.AppendUint64(nil, 0) // RIFF size (unused)
	ds = binary.LittleEndian.AppendUint64(ds, 600) // data size: 300 frames of the 400
	ds = binary.LittleEndian.AppendUint64(ds, 300) // sample count
	ds = binary.LittleEndian.AppendUint32(ds, 0)   // table length
	file := riff(chunk{id: "ds64", data: ds}, fmtChunk(FormatPCM, 1, 8000, 16), chunk{id: "data", data: pcm, size: u32(0xFFFFFFFF)})
	copy(file, "RF64")
	binary.LittleEndian.PutUint32(file[4:], 0xFFFFFFFF)
	r, err := NewReader(bytes.NewReader(file), Options{})
	require.NoError(t, err)
	assert.Equal(t, int64(600), r.Header().DataSize)
	require.Equal(t, samples[:300], readAll(t, r))

	// A ds64 chunk that is too short is malformed.
	bad := riff(chunk{id: "ds64", data: ds[:16]}, fmtChunk(FormatPCM, 1, 8000, 16), chunk{id: "data", data: pcm})
	copy(bad, "RF64")
	_, err = NewReader(bytes.NewReader(bad), Options{})
	require.ErrorIs(t, err, ErrFormat)
}
