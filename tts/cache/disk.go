package cache

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/wav"
)

// errTruncated marks a cache file with fewer samples than its header announces.
var errTruncated = errors.New("tts/cache: file shorter than its header says")

func (c *Cache) path(key string) string { return filepath.Join(c.dir, key+".wav") }

// store writes a completed entry to Dir, atomically: to a temporary file, synced, then
// renamed over the final name.
func (c *Cache) store(e *entry) {
	if c.dir == "" {
		return
	}
	final := c.path(e.key)
	if _, err := os.Stat(final); err == nil {
		return // another process (or an earlier run) has it
	}
	f, err := os.CreateTemp(c.dir, ".tmp-"+e.key[:16]+"-*")
	if err != nil {
		c.log.Warn("tts/cache: cannot store audio", slog.String("dir", c.dir), slog.Any("error", err))
		return
	}
	tmp := f.Name()
	err = func() error {
		w, err := wav.NewWriter(f, wav.WriterOptions{SampleRate: e.rate, SyncInterval: -1})
		if err != nil {
			return err
		}
		if err := w.Write(e.samples); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return f.Sync()
	}()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		c.log.Warn("tts/cache: cannot store audio", slog.String("file", final), slog.Any("error", err))
	}
}

// load reads the entry for key from Dir. A file that cannot be read whole is removed,
// so that the next synthesis replaces it.
func (c *Cache) load(key string) (samples []int16, rate int, ok bool) {
	p := c.path(key)
	r, err := wav.Open(p, wav.Options{})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, false
	}
	if err == nil {
		defer r.Close()
		samples = make([]int16, 0, max(r.Header().Frames(), 0))
		for {
			var f media.Frame
			f, err = r.ReadFrame()
			if err != nil {
				break
			}
			samples = append(samples, f.Samples...)
		}
		if errors.Is(err, io.EOF) {
			err = nil
			if int64(len(samples)) != r.Header().Frames() {
				err = errTruncated
			}
		}
	}
	if err != nil {
		c.log.Warn("tts/cache: removing unreadable cache file", slog.String("file", p), slog.Any("error", err))
		_ = os.Remove(p)
		return nil, 0, false
	}
	return samples, r.SampleRate(), true
}
