package impair

import (
	"math/rand/v2"
	"time"
)

// Stream identifiers mixed into the seed, so each direction and each purpose (loss and
// duplication vs delay) draws from its own independent sequence.
const (
	streamUpLoss uint64 = 0x75_70_6c_6f_73_73 + iota
	streamUpDelay
	streamDownLoss
	streamDownDelay
)

// shaper decides the fate of each packet of one direction: drop, or release at one or
// two instants. It holds no clock: the caller passes the arrival time, so the decisions
// are a pure function of the seed and the sequence of arrival times. Not safe for
// concurrent use.
type shaper struct {
	imp       Impairment
	lossRand  *rand.Rand // Loss and Duplicate draws: exactly two per packet
	delayRand *rand.Rand // jitter draws: exactly one per copy candidate (two per packet)

	last     time.Time // release time of the previous copy (the FIFO floor without Reorder)
	maxSched time.Time // latest release time handed out (to count reordering)

	stats DirectionStats
}

// decision is the outcome for one packet: n copies (0, 1 or 2) released at at[:n].
type decision struct {
	n  int
	at [2]time.Time
}

func newShaper(imp Impairment, seed, lossStream, delayStream uint64) *shaper {
	return &shaper{
		imp:       imp,
		lossRand:  rand.New(rand.NewPCG(seed, lossStream)),
		delayRand: rand.New(rand.NewPCG(seed, delayStream)),
	}
}

// decide records a packet that arrived at now and returns when its copies leave.
func (s *shaper) decide(now time.Time) decision {
	s.stats.Received++
	// Always draw the same number of values per packet, whatever the outcome, so packet
	// k's fate depends only on the seed and k.
	uLoss, uDup := s.lossRand.Float64(), s.lossRand.Float64()
	d1, d2 := s.delay(), s.delay()
	if uLoss < s.imp.Loss {
		s.stats.Dropped++
		return decision{}
	}
	var dec decision
	dec.at[0] = s.release(now.Add(d1))
	dec.n = 1
	if uDup < s.imp.Duplicate {
		s.stats.Duplicated++
		dec.at[1] = s.release(now.Add(d2))
		dec.n = 2
	}
	return dec
}

// release turns a desired release time into the scheduled one and counts reordering.
func (s *shaper) release(t time.Time) time.Time {
	if !s.imp.Reorder && t.Before(s.last) {
		t = s.last
	}
	s.last = t
	if t.Before(s.maxSched) {
		s.stats.Reordered++
	} else {
		s.maxSched = t
	}
	return t
}

// delay draws one packet delay: Delay plus jitter, never negative.
func (s *shaper) delay() time.Duration {
	var j float64
	switch s.imp.Distribution {
	case Normal:
		j = s.delayRand.NormFloat64()
		j = max(-3, min(3, j))
	default:
		j = 2*s.delayRand.Float64() - 1
	}
	d := s.imp.Delay + time.Duration(j*float64(s.imp.Jitter))
	return max(d, 0)
}
