package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zaf/g711"

	"github.com/switchboard-go/switchboard/media"
)

// TestWriterRoundTrip writes each encoding and channel layout and reads it back.
func TestWriterRoundTrip(t *testing.T) {
	left := tone(8123, 8000, 440, 12000) // not a whole number of frames
	right := tone(8123, 8000, 1000, 6000)
	mulaw := func(x []int16) []int16 {
		out := make([]int16, len(x))
		for i, v := range x {
			out[i] = g711.DecodeUlawFrame(g711.EncodeUlawFrame(v))
		}
		return out
	}
	for _, enc := range []Encoding{PCM16, MuLaw} {
		for _, ch := range []int{1, 2} {
			t.Run(enc.String()+map[int]string{1: " mono", 2: " stereo"}[ch], func(t *testing.T) {
				mf := &memFile{}
				w, err := NewWriter(mf, WriterOptions{SampleRate: 8000, Channels: ch, Encoding: enc})
				require.NoError(t, err)
				for i := 0; i < len(left); i += 160 {
					j := min(i+160, len(left))
					if ch == 1 {
						require.NoError(t, w.WriteFrame(media.Frame{Samples: left[i:j], SampleRate: 8000}))
					} else {
						require.NoError(t, w.WriteStereo(left[i:j], right[i:j]))
					}
				}
				require.NoError(t, w.Close())
				assert.Zero(t, len(mf.b)%2, "RIFF data is padded to an even size")

				r, err := NewReader(bytes.NewReader(mf.b), Options{})
				require.NoError(t, err)
				h := r.Header()
				assert.Equal(t, ch, h.Channels)
				assert.Equal(t, int64(len(left)), h.Frames())
				assert.Equal(t, binary.LittleEndian.Uint32(mf.b[4:]), uint32(len(mf.b)-8), "RIFF size")
				got := readAll(t, r)
				// Check each channel from the raw interleaved data too.
				data := mf.b[h.DataOffset : h.DataOffset+h.DataSize]
				chanL, chanR := deinterleave(data, h)
				wantL, wantR := left, right
				if enc == MuLaw {
					wantL, wantR = mulaw(left), mulaw(right)
				}
				require.Equal(t, wantL, chanL)
				if ch == 2 {
					require.Equal(t, wantR, chanR)
					for i := range got {
						require.Equal(t, int16((int32(wantL[i])+int32(wantR[i]))/2), got[i], "downmix at %d", i)
					}
				} else {
					require.Equal(t, wantL, got)
				}
			})
		}
	}
}

func deinterleave(data []byte, h Header) (l, r []int16) {
	bps := h.BitsPerSample / 8
	for i := 0; i+h.BlockAlign <= len(data); i += h.BlockAlign {
		for c := range h.Channels {
			b := data[i+c*bps:]
			var v int16
			if h.Format == FormatMuLaw {
				v = g711.DecodeUlawFrame(b[0])
			} else {
				v = int16(binary.LittleEndian.Uint16(b))
			}
			if c == 0 {
				l = append(l, v)
			} else {
				r = append(r, v)
			}
		}
	}
	return l, r
}

// TestWriterStereoPadding checks that WriteStereo pads the shorter channel with
// silence and that mono and stereo calls mix sensibly.
func TestWriterStereoPadding(t *testing.T) {
	mf := &memFile{}
	w, err := NewWriter(mf, WriterOptions{SampleRate: 16000, Channels: 2})
	require.NoError(t, err)
	require.NoError(t, w.WriteStereo([]int16{1, 2, 3}, nil))
	require.NoError(t, w.WriteStereo(nil, []int16{4, 5}))
	require.NoError(t, w.Write([]int16{6}))
	require.NoError(t, w.Close())
	h, err := parseHeader(bytes.NewReader(mf.b))
	require.NoError(t, err)
	l, r := deinterleave(mf.b[h.DataOffset:], h)
	assert.Equal(t, []int16{1, 2, 3, 0, 0, 6}, l)
	assert.Equal(t, []int16{0, 0, 0, 4, 5, 6}, r)

	mf = &memFile{}
	w, err = NewWriter(mf, WriterOptions{SampleRate: 16000})
	require.NoError(t, err)
	require.NoError(t, w.WriteStereo([]int16{100, 200}, []int16{300}))
	require.NoError(t, w.Close())
	l, _ = deinterleave(mf.b[44:], Header{Format: FormatPCM, Channels: 1, BitsPerSample: 16, BlockAlign: 2})
	assert.Equal(t, []int16{200, 100}, l, "a mono file gets the average")
}

// TestWriterLiveFile reads a recording while it is being written, through a second
// file handle, and checks that the header always describes exactly the audio up to
// the last sync point: a crash at any moment loses at most SyncInterval.
func TestWriterLiveFile(t *testing.T) {
	for _, enc := range []Encoding{PCM16, MuLaw} {
		t.Run(enc.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "live.wav")
			w, err := Create(path, WriterOptions{SampleRate: 8000, Encoding: enc, Channels: 2})
			require.NoError(t, err)
			frame := tone(160, 8000, 400, 10000)
			check := func(wantDur time.Duration) {
				t.Helper()
				r, err := Open(path, Options{})
				require.NoError(t, err)
				defer r.Close()
				if wantDur == 0 {
					// Before the first sync the data size is 0: read to end of file.
					assert.Equal(t, int64(-1), r.Header().DataSize)
				} else {
					assert.Equal(t, wantDur, r.Header().Duration())
				}
				got := readAll(t, r)
				if wantDur > 0 {
					assert.Len(t, got, media.SamplesPer(8000, wantDur))
				}
				// The second handle sees a valid file: a copy taken now (a crash) parses too.
				raw, err := os.ReadFile(path)
				require.NoError(t, err)
				_, err = NewReader(bytes.NewReader(raw), Options{})
				require.NoError(t, err)
			}
			check(0)
			written := time.Duration(0)
			for _, until := range []time.Duration{500 * time.Millisecond, 2500 * time.Millisecond, 3 * time.Second, 3020 * time.Millisecond} {
				for written < until {
					require.NoError(t, w.WriteStereo(frame, frame))
					written += 20 * time.Millisecond
				}
				require.Equal(t, written, w.Duration())
				// The header lags by less than one second of audio.
				check(written.Truncate(time.Second))
			}
			require.NoError(t, w.Close())
			check(written)
		})
	}
}

// TestWriterSyncInterval checks the configurable interval and the only-on-close mode.
func TestWriterSyncInterval(t *testing.T) {
	frame := tone(320, 16000, 400, 10000)
	dataSize := func(b []byte) uint32 { return binary.LittleEndian.Uint32(b[40:]) }

	mf := &memFile{}
	w, err := NewWriter(mf, WriterOptions{SampleRate: 16000, SyncInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	for i := 1; i <= 20; i++ {
		require.NoError(t, w.Write(frame))
		assert.Equal(t, uint32(i/5*5*640), dataSize(mf.b), "after frame %d", i)
	}

	mf = &memFile{}
	w, err = NewWriter(mf, WriterOptions{SampleRate: 16000, SyncInterval: -1})
	require.NoError(t, err)
	for range 100 {
		require.NoError(t, w.Write(frame))
	}
	assert.Zero(t, dataSize(mf.b), "no rewrite before Flush")
	require.NoError(t, w.Flush())
	assert.Equal(t, uint32(100*640), dataSize(mf.b))
	require.NoError(t, w.Close())
}

func TestWriterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd.wav")
	w, err := Create(path, WriterOptions{SampleRate: 8000, Encoding: MuLaw})
	require.NoError(t, err)
	require.NoError(t, w.Write(make([]int16, 161))) // odd data size: needs a pad byte
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "Close is idempotent")
	require.NoError(t, w.Close())
	require.ErrorIs(t, w.Write([]int16{1}), media.ErrClosed)
	require.ErrorIs(t, w.WriteStereo([]int16{1}, nil), media.ErrClosed)
	require.ErrorIs(t, w.Flush(), media.ErrClosed)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Len(t, raw, 58+161+1)
	assert.Equal(t, uint32(len(raw)-8), binary.LittleEndian.Uint32(raw[4:]), "RIFF size counts the pad")
	assert.Equal(t, uint32(161), binary.LittleEndian.Uint32(raw[54:]), "data size excludes the pad")
	assert.Equal(t, uint32(161), binary.LittleEndian.Uint32(raw[46:]), "fact sample count")
	r, err := Open(path, Options{})
	require.NoError(t, err)
	assert.Len(t, readAll(t, r), 161)
	require.NoError(t, r.Close())
}

func TestWriterErrors(t *testing.T) {
	for _, o := range []WriterOptions{
		{},
		{SampleRate: -8000},
		{SampleRate: 8000, Channels: 3},
		{SampleRate: 8000, Encoding: 9},
	} {
		_, err := NewWriter(&memFile{}, o)
		require.ErrorIs(t, err, ErrUnsupported, "%+v", o)
		_, err = Create(filepath.Join(t.TempDir(), "x.wav"), o)
		require.ErrorIs(t, err, ErrUnsupported, "%+v", o)
	}
	_, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), WriterOptions{SampleRate: 8000})
	require.ErrorIs(t, err, os.ErrNotExist)

	w, err := NewWriter(&memFile{}, WriterOptions{SampleRate: 8000})
	require.NoError(t, err)
	require.ErrorIs(t, w.WriteFrame(media.Frame{Samples: []int16{1}, SampleRate: 16000}), media.ErrRateMismatch)

	// A failing destination makes the error sticky.
	fw := &failWriter{memFile: memFile{}, failAfter: 100}
	w, err = NewWriter(fw, WriterOptions{SampleRate: 8000, SyncInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	err = w.Write(make([]int16, 320))
	require.ErrorIs(t, err, errDisk)
	require.ErrorIs(t, w.Write(make([]int16, 1)), errDisk)
	require.ErrorIs(t, w.Close(), errDisk)
	require.NoError(t, w.Close())

	// The 4 GiB limit, without writing 4 GiB.
	w, err = NewWriter(&memFile{}, WriterOptions{SampleRate: 8000})
	require.NoError(t, err)
	w.written = 0xFFFFFFFF - 44 - 10
	require.ErrorIs(t, w.Write(make([]int16, 10)), ErrTooLarge)
	require.NoError(t, w.Write(make([]int16, 4)))
}

var errDisk = errors.New("disk full")

type failWriter struct {
	memFile
	failAfter int
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(f.b)+len(p) > f.failAfter {
		return 0, errDisk
	}
	return f.memFile.Write(p)
}

// TestWriterConcurrent writes from two goroutines, as a recorder fed by the receive
// and send paths would; run with -race.
func TestWriterConcurrent(t *testing.T) {
	mf := &memFile{}
	w, err := NewWriter(mf, WriterOptions{SampleRate: 8000, Channels: 2, SyncInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	frame := tone(160, 8000, 300, 5000)
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for range 100 {
				if g == 0 {
					assert.NoError(t, w.WriteStereo(frame, nil))
				} else {
					assert.NoError(t, w.WriteStereo(nil, frame))
				}
				_ = w.Duration()
			}
		})
	}
	wg.Wait()
	require.NoError(t, w.Close())
	r, err := NewReader(bytes.NewReader(mf.b), Options{})
	require.NoError(t, err)
	assert.Equal(t, 4*time.Second, r.Header().Duration())
}

// TestWriterZeroAllocs is the per-frame budget, header rewrites included.
func TestWriterZeroAllocs(t *testing.T) {
	for _, enc := range []Encoding{PCM16, MuLaw} {
		path := filepath.Join(t.TempDir(), "a.wav")
		w, err := Create(path, WriterOptions{SampleRate: 8000, Channels: 2, Encoding: enc, SyncInterval: 100 * time.Millisecond})
		require.NoError(t, err)
		f := media.Frame{Samples: tone(160, 8000, 300, 5000), SampleRate: 8000}
		allocs := testing.AllocsPerRun(200, func() {
			if err := w.WriteFrame(f); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "%v WriteFrame", enc)
		require.NoError(t, w.Close())
	}
}
