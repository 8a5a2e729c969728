package jitter

import (
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"time"
)

// The helpers in this file simulate a sender, a network and a receiver clock with
// explicit times, so every test is deterministic.

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// simPkt is a packet on the wire.
type simPkt struct {
	seq     uint16
	ts      uint32
	marker  bool
	sent    time.Time
	arrival time.Time
	id      int // index in the sent stream, carried in the payload
}

// stream makes n packets of 20 ms at 8 kHz sent every 20 ms from epoch, with
// arrival = sent + delay(i).
func stream(n int, seq0 uint16, ts0 uint32, delay func(i int) time.Duration) []simPkt {
	ps := make([]simPkt, n)
	for i := range ps {
		sent := epoch.Add(time.Duration(i) * 20 * time.Millisecond)
		ps[i] = simPkt{
			seq: seq0 + uint16(i), ts: ts0 + uint32(i)*160, marker: i == 0,
			sent: sent, arrival: sent.Add(delay(i)), id: i,
		}
	}
	return ps
}

func constDelay(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

// uniformDelay returns delays uniform in [mean-spread, mean+spread].
func uniformDelay(r *rand.Rand, mean, spread time.Duration) func(int) time.Duration {
	return func(int) time.Duration {
		return mean - spread + time.Duration(r.Int64N(int64(2*spread)+1))
	}
}

func payloadOf(id int) []byte {
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], uint64(id))
	return p[:]
}

func idOf(p []byte) int { return int(binary.BigEndian.Uint64(p)) }

// popResult is one Pop of the simulated receiver.
type popResult struct {
	st  Status
	id  int // payload id when Ready
	seq uint16
	at  time.Time
}

// pushResult records what Push said about a packet.
type pushResult struct {
	id  int
	err error
}

// sim delivers packets in arrival order and pops every 20 ms, interleaving them
// by time (pushes at the same instant go first).
type sim struct {
	b      *Buffer
	pkts   []simPkt
	i      int
	now    time.Time // time of the next Pop
	pops   []popResult
	pushes []pushResult
}

func newSim(b *Buffer, pkts []simPkt, start time.Time) *sim {
	ps := append([]simPkt(nil), pkts...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].arrival.Before(ps[j].arrival) })
	return &sim{b: b, pkts: ps, now: start}
}

// run pops until (excluding) end and returns the results of those pops.
func (s *sim) run(end time.Time) []popResult {
	n := len(s.pops)
	for ; s.now.Before(end); s.now = s.now.Add(20 * time.Millisecond) {
		for ; s.i < len(s.pkts) && !s.pkts[s.i].arrival.After(s.now); s.i++ {
			p := s.pkts[s.i]
			err := s.b.Push(p.seq, p.ts, p.marker, payloadOf(p.id), p.arrival)
			s.pushes = append(s.pushes, pushResult{p.id, err})
		}
		pkt, st := s.b.Pop(s.now)
		r := popResult{st: st, at: s.now, id: -1}
		if st == Ready {
			r.id = idOf(pkt.Payload)
			r.seq = pkt.Sequence
		}
		s.pops = append(s.pops, r)
	}
	return s.pops[n:]
}

// simulate runs pkts through b with pops from start until end.
func simulate(b *Buffer, pkts []simPkt, start, end time.Time) ([]popResult, []pushResult) {
	s := newSim(b, pkts, start)
	s.run(end)
	return s.pops, s.pushes
}

// readyIDs returns the ids of the packets played, in order.
func readyIDs(pops []popResult) []int {
	var ids []int
	for _, p := range pops {
		if p.st == Ready {
			ids = append(ids, p.id)
		}
	}
	return ids
}

func countStatus(pops []popResult, st Status) int {
	n := 0
	for _, p := range pops {
		if p.st == st {
			n++
		}
	}
	return n
}
