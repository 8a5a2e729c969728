package jitter

const (
	// window is how many recent packets the delay estimate looks at: about five
	// seconds of 20 ms packets, long enough for a stable high percentile and short
	// enough to follow a change of network conditions.
	window = 256
	// warmup is how many packets the estimate needs before it replaces the
	// configured starting depth.
	warmup = 32
	// recomputeEvery spreads the cost of the percentile over several packets.
	recomputeEvery = 16
	// quantile is the share of packets the target depth aims to play on time.
	quantilePermille = 980
)

// estimator tracks the transit time (arrival time minus RTP timestamp, both in RTP
// clock units, with an arbitrary common offset) of recent packets. The fastest
// recent transit is the reference path; a packet's delay is how much slower than
// that it was, and the target depth is a high percentile of those delays.
type estimator struct {
	tr      [window]int64
	scratch [window]int64
	n       int // samples held, ≤ window
	pos     int
	since   int
	dmin    int64 // minimum transit in the window
	high    int64 // quantile of transit in the window
	jitter  int64 // RFC 3550 interarrival jitter ×16
	last    int64
}

func (e *estimator) reset() { *e = estimator{} }

func (e *estimator) add(transit int64) {
	if e.n > 0 {
		// RFC 3550 section 6.4.1: J += (|D| - J) / 16, kept scaled by 16.
		d := abs(transit - e.last)
		e.jitter += d - (e.jitter+8)>>4
	}
	e.last = transit
	e.tr[e.pos] = transit
	e.pos = (e.pos + 1) % window
	if e.n < window {
		e.n++
	}
	if e.n == 1 || transit < e.dmin {
		e.dmin = transit
	}
	if e.since++; e.since >= recomputeEvery || e.n <= warmup {
		e.recompute()
	}
}

// recompute sets dmin and high from the window: O(window) with a selection.
func (e *estimator) recompute() {
	e.since = 0
	s := e.scratch[:e.n]
	copy(s, e.tr[:e.n])
	m := s[0]
	for _, v := range s[1:] {
		m = min(m, v)
	}
	e.dmin = m
	k := min(e.n*quantilePermille/1000, e.n-1)
	e.high = selectK(s, k)
}

// selectK returns the k-th smallest element of s (0-based), reordering s.
// Hoare's quickselect with a median-of-three pivot.
func selectK(s []int64, k int) int64 {
	lo, hi := 0, len(s)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		p := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < p {
				i++
			}
			for s[j] > p {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}
