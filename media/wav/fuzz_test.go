package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateCorpus = flag.Bool("update-corpus", false, "regenerate the named FuzzReader seeds in testdata (needs sox)")

var fuzzOutRates = [...]int{0, 8000, 16000}

// FuzzReader parses arbitrary bytes as a WAV file and reads all of it, at the file's
// rate and resampled. It checks that nothing panics, that every failure wraps
// ErrFormat or ErrUnsupported, and that the audio read is exactly what the header and
// the bytes available allow.
func FuzzReader(f *testing.F) {
	f.Add(riff(fmtChunk(FormatPCM, 1, 8000, 16), chunk{id: "data", data: []byte{1, 2, 3, 4}}), uint8(0))
	f.Add(riff(extFmt(FormatPCM, 2, 16000, 24, 24), chunk{id: "data", data: make([]byte, 60), size: u32(0)}), uint8(1))
	f.Add(riff(chunk{id: "LIST", data: []byte("abc")}, fmtChunk(FormatMuLaw, 1, 8000, 8), chunk{id: "data", data: []byte{0xFF, 0x7F, 0x00}}), uint8(2))
	rf64 := riff(chunk{id: "ds64", data: make([]byte, 28)}, fmtChunk(FormatPCM, 1, 8000, 16), chunk{id: "data", data: make([]byte, 10), size: u32(0xFFFFFFFF)})
	copy(rf64, "RF64")
	rf64[28] = 8 // ds64 data size
	f.Add(rf64, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, rateSel uint8) {
		rate := fuzzOutRates[int(rateSel)%len(fuzzOutRates)]
		// Resample only from common rates: odd ratios design filters of up to a million
		// taps, which is correct but slows the fuzzer to a crawl (resample has its own
		// fuzz target for the ratios themselves).
		if h, err := parseHeader(bytes.NewReader(data)); err == nil && h.SampleRate%1000 != 0 && h.SampleRate%11025 != 0 {
			rate = 0
		}
		r, err := NewReader(bytes.NewReader(data), Options{SampleRate: rate})
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error wraps neither ErrFormat nor ErrUnsupported: %v", err)
			}
			return
		}
		h := r.Header()
		if h.DataOffset > int64(len(data)) || h.BlockAlign <= 0 || h.Channels <= 0 || h.SampleRate <= 0 {
			t.Fatalf("implausible header %+v for %d bytes", h, len(data))
		}
		avail := int64(len(data)) - h.DataOffset
		if h.DataSize >= 0 {
			avail = min(avail, h.DataSize)
		}
		frames := avail / int64(h.BlockAlign)
		frameLen := r.frameLen
		var n int64
		var first []int16
		for {
			fr, err := r.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("ReadFrame: %v", err)
			}
			if len(fr.Samples) == 0 || len(fr.Samples) > frameLen {
				t.Fatalf("frame of %d samples, frame length %d", len(fr.Samples), frameLen)
			}
			if first == nil {
				first = append([]int16{}, fr.Samples...)
			}
			n += int64(len(fr.Samples))
		}
		if rate == 0 || rate == h.SampleRate {
			if n != frames {
				t.Fatalf("read %d samples, header and size allow %d", n, frames)
			}
			if h.Format == FormatPCM && h.BitsPerSample == 16 && h.Channels == 1 && len(first) > 0 {
				for i, v := range first {
					if w := int16(binary.LittleEndian.Uint16(data[h.DataOffset+int64(2*i):])); v != w {
						t.Fatalf("sample %d: got %d, data holds %d", i, v, w)
					}
				}
			}
		} else {
			want := float64(frames) * float64(rate) / float64(h.SampleRate)
			if float64(n) < want-1 || float64(n) > want+2 {
				t.Fatalf("read %d samples at %d Hz from %d at %d Hz, want about %.1f", n, rate, frames, h.SampleRate, want)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzWriterRoundTrip writes arbitrary samples in each layout and reads them back.
func FuzzWriterRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5}, false, false)
	f.Add([]byte{0xFF, 0x7F, 0x00, 0x80, 0, 0}, true, true)
	f.Fuzz(func(t *testing.T, data []byte, stereo, mulaw bool) {
		s := make([]int16, len(data)/2)
		for i := range s {
			s[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
		opts := WriterOptions{SampleRate: 8000, Channels: 1, SyncInterval: 1000000}
		if stereo {
			opts.Channels = 2
		}
		if mulaw {
			opts.Encoding = MuLaw
		}
		mf := &memFile{}
		w, err := NewWriter(mf, opts)
		if err != nil {
			t.Fatal(err)
		}
		half := len(s) / 2
		if stereo {
			err = w.WriteStereo(s[:half], s[half:])
		} else {
			err = w.Write(s)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(mf.b), Options{})
		if err != nil {
			t.Fatalf("reading our own file: %v", err)
		}
		got := readAll(t, r)
		want := len(s)
		if stereo {
			want = max(half, len(s)-half)
		}
		if len(got) != want {
			t.Fatalf("read %d samples, wrote %d frames", len(got), want)
		}
		if !stereo && !mulaw {
			for i := range s {
				if got[i] != s[i] {
					t.Fatalf("sample %d: %d, want %d", i, got[i], s[i])
				}
			}
		}
	})
}

// TestFuzzCorpus checks the committed FuzzReader seeds: a valid file of every encoding
// and layout, made by SoX and by Writer, each of which must parse. Run with
// -update-corpus to regenerate them.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	if *updateCorpus {
		writeCorpus(t, dir)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "sox-") && !strings.HasPrefix(name, "writer-") {
			continue // fuzzer-found inputs, kept as regressions
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		data := decodeCorpusBytes(t, raw)
		r, err := NewReader(bytes.NewReader(data), Options{})
		require.NoError(t, err, name)
		h := r.Header()
		require.Positive(t, h.Frames(), name)
		require.Len(t, readAll(t, r), int(h.Frames()), name)
		covered[fmt.Sprintf("%v/%d/%d", h.Format, h.BitsPerSample, h.Channels)] = true
		if h.Tag == FormatExtensible {
			covered["extensible"] = true
		}
	}
	for _, k := range []string{
		"PCM/8/1", "PCM/16/1", "PCM/16/2", "PCM/24/1", "PCM/32/1", "float/32/1", "float/64/1",
		"μ-law/8/1", "μ-law/8/2", "A-law/8/1", "extensible",
	} {
		assert.True(t, covered[k], "corpus lacks a %s file", k)
	}
}

// writeCorpus regenerates the named seeds: tiny SoX files of each encoding, and files
// from Writer.
func writeCorpus(t *testing.T, dir string) {
	require.NoError(t, os.MkdirAll(dir, 0o755))
	tmp := t.TempDir()
	for _, c := range soxCases {
		path := makeSoxFile(t, tmp, c, 0.005)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		writeSeed(t, dir, "sox-"+strings.ReplaceAll(c.name, " ", "-"), data)
	}
	for _, enc := range []Encoding{PCM16, MuLaw} {
		for _, ch := range []int{1, 2} {
			mf := &memFile{}
			w, err := NewWriter(mf, WriterOptions{SampleRate: 8000, Channels: ch, Encoding: enc})
			require.NoError(t, err)
			require.NoError(t, w.WriteStereo(tone(41, 8000, 440, 9000), tone(41, 8000, 660, 9000)))
			require.NoError(t, w.Close())
			writeSeed(t, dir, fmt.Sprintf("writer-%s-%dch", map[Encoding]string{PCM16: "pcm16", MuLaw: "mulaw"}[enc], ch), mf.b)
		}
	}
}

func writeSeed(t *testing.T, dir, name string, data []byte) {
	body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\nuint8(0)\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
}

// decodeCorpusBytes extracts the []byte argument of a corpus file.
func decodeCorpusBytes(t *testing.T, raw []byte) []byte {
	lines := strings.Split(string(raw), "\n")
	require.Equal(t, "go test fuzz v1", lines[0])
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	require.True(t, ok)
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	require.NoError(t, err)
	return []byte(s)
}
