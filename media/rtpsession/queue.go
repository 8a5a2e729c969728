package rtpsession

// sampleRing is the playout queue: a fixed ring of PCM samples allocated once. Frames
// of any length are copied in and the pacer takes exactly one packet's worth per tick,
// so producers need not match ptime. Not safe for concurrent use; Session guards it.
type sampleRing struct {
	buf  []int16
	head int // index of the oldest sample
	n    int // samples queued
}

func newSampleRing(capacity int) sampleRing { return sampleRing{buf: make([]int16, capacity)} }

// write copies as much of p as fits and returns how many samples it took.
func (r *sampleRing) write(p []int16) int {
	total := 0
	for len(p) > 0 && r.n < len(r.buf) {
		tail := (r.head + r.n) % len(r.buf)
		end := len(r.buf)
		if tail < r.head {
			end = r.head
		}
		c := copy(r.buf[tail:end], p)
		r.n += c
		p = p[c:]
		total += c
	}
	return total
}

// read moves up to len(dst) samples into dst and returns how many.
func (r *sampleRing) read(dst []int16) int {
	total := 0
	for len(dst) > 0 && r.n > 0 {
		end := r.head + r.n
		if end > len(r.buf) {
			end = len(r.buf)
		}
		c := copy(dst, r.buf[r.head:end])
		r.head = (r.head + c) % len(r.buf)
		r.n -= c
		dst = dst[c:]
		total += c
	}
	if r.n == 0 {
		r.head = 0
	}
	return total
}

func (r *sampleRing) reset() { r.head, r.n = 0, 0 }
