package cache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/tts"
)

// DefaultMaxBytes is the memory bound used when Options.MaxBytes is zero: about 17
// minutes of 16 kHz audio.
const DefaultMaxBytes = 32 << 20

// entryOverhead approximates the memory an entry takes besides its samples.
const entryOverhead = 256

// errAborted ends a synthesis that every reader left before it was done.
var errAborted = errors.New("tts/cache: synthesis abandoned by all readers")

// Options configures a Cache.
type Options struct {
	// Name identifies the provider in cache keys, so that two caches sharing a
	// directory never mix up two engines or configurations. Empty means the
	// provider's String() when it has one (the providers of this module include their
	// configuration in it), else its Go type. Set it when two differently configured
	// providers would otherwise look alike.
	Name string
	// MaxBytes bounds the memory the cached audio takes, in bytes (two per sample plus
	// a small overhead per entry); the least recently used entries are evicted beyond
	// it. Zero means DefaultMaxBytes; negative keeps nothing in memory (then only Dir,
	// if set, caches). Syntheses in progress are not counted.
	MaxBytes int64
	// Dir, when set, is a directory where every completed synthesis is also stored, as
	// a 16-bit mono WAV file named by the hash of its key, so that it survives the
	// process. It is created if missing. Files are written to a temporary name and
	// renamed, so a reader never sees a partial file. Nothing is ever deleted from it
	// but unreadable files.
	Dir string
	// Logger receives failures to read or write Dir, which only cost a synthesis.
	// nil discards them.
	Logger *slog.Logger
}

// Stats counts what a Cache did.
type Stats struct {
	// Hits were served from memory; DiskHits from Dir.
	Hits, DiskHits int64
	// Misses started a synthesis; Joined attached to one already in progress.
	Misses, Joined int64
	// Evictions dropped entries from memory to keep within MaxBytes.
	Evictions int64
	// Entries and Bytes are the entries in memory and the memory they take.
	Entries int
	Bytes   int64
}

// Cache is a tts.Synthesizer that synthesizes each distinct request (provider, text and
// options) once and replays it afterwards. It is safe for concurrent use.
type Cache struct {
	s    tts.Synthesizer
	name string
	max  int64
	dir  string
	log  *slog.Logger

	mu       sync.Mutex // guards everything below, and the entries' shared state
	lru      list.List  // of *entry in memory, most recently used first
	mem      map[string]*entry
	inflight map[string]*entry
	bytes    int64
	stats    Stats
}

var _ tts.Synthesizer = (*Cache)(nil)

// New returns a Cache in front of s. It fails only when Options.Dir cannot be created.
func New(s tts.Synthesizer, opts Options) (*Cache, error) {
	c := &Cache{
		s:        s,
		name:     opts.Name,
		max:      opts.MaxBytes,
		dir:      opts.Dir,
		log:      opts.Logger,
		mem:      map[string]*entry{},
		inflight: map[string]*entry{},
	}
	if c.name == "" {
		if st, ok := s.(fmt.Stringer); ok {
			c.name = st.String()
		} else {
			c.name = fmt.Sprintf("%T", s)
		}
	}
	if c.max == 0 {
		c.max = DefaultMaxBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.dir != "" {
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			return nil, fmt.Errorf("tts/cache: %w", err)
		}
	}
	return c, nil
}

// Unwrap returns the Synthesizer behind the cache, to reach its optional interfaces.
func (c *Cache) Unwrap() tts.Synthesizer { return c.s }

// String describes the cache, e.g. "cache(flite(slt))".
func (c *Cache) String() string { return "cache(" + c.name + ")" }

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Entries = c.lru.Len()
	st.Bytes = c.bytes
	return st
}

// Key returns the cache key of a request: the hex SHA-256 of the provider name, the text
// and every option (Rate 0 and 1 count as the same). It is also the file name in Dir,
// with ".wav".
func (c *Cache) Key(text string, opts tts.Options) string {
	h := sha256.New()
	var num [24]byte
	field := func(s string) { // length-prefixed, so field boundaries are unambiguous
		_, _ = h.Write(append(strconv.AppendInt(num[:0], int64(len(s)), 10), ':'))
		_, _ = io.WriteString(h, s)
	}
	field("switchboard tts cache v1")
	field(c.name)
	field(text)
	field(opts.Voice)
	field(opts.Language)
	field(strconv.FormatFloat(opts.SpeakingRate(), 'g', -1, 64))
	field(strconv.FormatFloat(opts.Pitch, 'g', -1, 64))
	field(strconv.Itoa(opts.SampleRate))
	field(strconv.FormatBool(opts.SSML))
	return hex.EncodeToString(h.Sum(nil))
}

// Synthesize implements tts.Synthesizer.
//
// A request already cached is replayed from memory or Dir without calling the
// provider. A request being synthesized for another caller joins that synthesis: it
// gets the audio produced so far at once and the rest as it comes. Otherwise the
// provider is called, and the audio is streamed to the caller as it arrives and kept.
//
// A shared synthesis does not depend on any one caller: it runs under a context that
// keeps the values of the first caller's ctx but not its cancellation, and goes on as
// long as one of its readers is open and its ctx alive; when the last one leaves it is
// stopped and nothing is kept. Each reader returns its own ctx's error when its ctx
// ends. Whichever reader needs the next frame pulls it from the provider, so no
// goroutine is started; a reader whose ctx ends while it is pulling returns once that
// frame has arrived (promptly when it is the only reader, since the synthesis is then
// cancelled). If the first caller's ctx ends while the provider's Synthesize is still
// starting and others have joined, its Synthesize returns when the provider's does.
//
// Blank text and failed syntheses are not cached. A completed synthesis is written to
// Dir by the reader that reads its end, inside that ReadFrame call.
func (c *Cache) Synthesize(ctx context.Context, text string, opts tts.Options) (media.FrameReadCloser, error) {
	if tts.Blank(text) {
		return c.s.Synthesize(ctx, text, opts)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tts/cache: %w", err)
	}
	key := c.Key(text, opts)
	c.mu.Lock()
	if r := c.hitLocked(ctx, key); r != nil {
		c.mu.Unlock()
		return r, nil
	}
	if e := c.inflight[key]; e != nil {
		c.stats.Joined++
		r := c.attachLocked(e, ctx)
		c.mu.Unlock()
		return r.awaitStart()
	}
	c.mu.Unlock()

	if c.dir != "" {
		if samples, rate, ok := c.load(key); ok {
			c.mu.Lock()
			c.stats.DiskHits++
			if c.mem[key] == nil {
				c.insertLocked(&entry{key: key, rate: rate, samples: samples, done: true})
			}
			c.mu.Unlock()
			return newReplay(ctx, samples, rate), nil
		}
	}

	c.mu.Lock()
	// Someone may have got there while the lock was released.
	if r := c.hitLocked(ctx, key); r != nil {
		c.mu.Unlock()
		return r, nil
	}
	if e := c.inflight[key]; e != nil {
		c.stats.Joined++
		r := c.attachLocked(e, ctx)
		c.mu.Unlock()
		return r.awaitStart()
	}
	c.stats.Misses++
	e := c.newEntryLocked(ctx, key)
	r := c.attachLocked(e, ctx)
	c.mu.Unlock()
	return c.start(r, text, opts)
}

// hitLocked returns a replay of the entry for key in memory, or nil.
func (c *Cache) hitLocked(ctx context.Context, key string) media.FrameReadCloser {
	e := c.mem[key]
	if e == nil {
		return nil
	}
	c.stats.Hits++
	c.lru.MoveToFront(e.elem)
	return newReplay(ctx, e.samples, e.rate)
}

// insertLocked adds a completed entry to memory and evicts beyond MaxBytes.
func (c *Cache) insertLocked(e *entry) {
	e.size = int64(2*len(e.samples)) + int64(len(e.key)) + entryOverhead
	if c.max < 0 || e.size > c.max {
		return
	}
	e.elem = c.lru.PushFront(e)
	c.mem[e.key] = e
	c.bytes += e.size
	for c.bytes > c.max {
		old := c.lru.Remove(c.lru.Back()).(*entry)
		delete(c.mem, old.key)
		c.bytes -= old.size
		c.stats.Evictions++
	}
}

// start calls the provider for the entry r leads, and settles the entry's start.
func (c *Cache) start(r *reader, text string, opts tts.Options) (media.FrameReadCloser, error) {
	e := r.e
	inner, err := c.s.Synthesize(e.ictx, text, opts)
	c.mu.Lock()
	switch {
	case err == nil && e.done: // every reader left meanwhile
		err = errAborted
		c.mu.Unlock()
		_ = inner.Close()
		c.mu.Lock()
	case err == nil:
		e.inner = inner
		e.rate = inner.SampleRate()
		e.frameLen = media.SamplesPer(e.rate, media.DefaultFrameDuration)
		e.samples = make([]int16, 0, e.rate) // a second; grows as needed
	}
	if err != nil {
		e.startErr = err
		c.finishLocked(e, err)
	}
	close(e.started)
	c.mu.Unlock()
	if err == nil {
		err = r.ctx.Err() // the caller gave up while the provider was starting
	}
	if err != nil {
		_ = r.Close()
		return nil, r.startError(err)
	}
	return r, nil
}

// finishLocked ends an entry that failed or was abandoned: it is no longer in flight
// and its readers see err.
func (c *Cache) finishLocked(e *entry, err error) {
	if e.done {
		return
	}
	e.done = true
	e.err = err
	e.cancel()
	if c.inflight[e.key] == e {
		delete(c.inflight, e.key)
	}
	e.broadcastLocked()
}

// completeLocked makes a fully read synthesis a cache entry.
func (c *Cache) completeLocked(e *entry) {
	e.done = true
	e.cancel()
	if c.inflight[e.key] == e {
		delete(c.inflight, e.key)
	}
	e.broadcastLocked()
	c.insertLocked(e)
}

// entry is one request's audio: complete once done without err, else being
// synthesized. Fields other than key, ictx, cancel, started and drive are guarded by
// the Cache's mu.
type entry struct {
	key     string
	ictx    context.Context // the synthesis' context: the first caller's values, no cancellation
	cancel  context.CancelFunc
	started chan struct{} // closed when the provider's Synthesize has returned
	drive   chan struct{} // a token: its holder pulls the next frame from inner

	startErr error
	inner    media.FrameReadCloser
	rate     int
	frameLen int
	samples  []int16 // appended while in flight, never changed once written
	done     bool
	err      error
	live     int           // attached readers neither closed nor with their ctx ended
	waiters  int           // readers waiting on update
	update   chan struct{} // closed (and replaced) when samples grow or done is set

	elem *list.Element // in the LRU, when in memory
	size int64
}

func (c *Cache) newEntryLocked(ctx context.Context, key string) *entry {
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &entry{
		key:     key,
		ictx:    ictx,
		cancel:  cancel,
		started: make(chan struct{}),
		drive:   make(chan struct{}, 1),
		update:  make(chan struct{}),
	}
	c.inflight[key] = e
	return e
}

func (e *entry) broadcastLocked() {
	if e.waiters > 0 {
		close(e.update)
		e.update = make(chan struct{})
	}
}

// attachLocked adds a reader to an entry in flight. The reader leaves the synthesis
// when it is closed or its ctx ends.
func (c *Cache) attachLocked(e *entry, ctx context.Context) *reader {
	e.live++
	r := &reader{c: c, e: e, ctx: ctx, closing: make(chan struct{})}
	r.stopHook = context.AfterFunc(ctx, r.leave)
	return r
}
