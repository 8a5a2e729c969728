package media

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// named is a collector that prints as a name.
type named struct {
	collector
	name string
}

func (n *named) String() string { return n.name }

// closingStage records Close calls in a shared log and flushes a marker frame on Close.
func closingStage(name string, log *[]string) Stage {
	return func(next FrameWriter) FrameWriter {
		return &closer{name: name, next: next, log: log}
	}
}

type closer struct {
	name string
	next FrameWriter
	log  *[]string
}

func (c *closer) WriteFrame(f Frame) error {
	*c.log = append(*c.log, c.name+":write")
	return c.next.WriteFrame(f)
}
func (c *closer) SampleRate() int   { return c.next.SampleRate() }
func (c *closer) Next() FrameWriter { return c.next }
func (c *closer) String() string    { return c.name }
func (c *closer) Close() error {
	*c.log = append(*c.log, c.name+":close")
	return c.next.WriteFrame(Frame{Samples: []int16{0}, SampleRate: c.next.SampleRate()})
}

func TestChainOrderAndDescribe(t *testing.T) {
	var log []string
	dst := &named{collector: collector{rate: 8000}, name: "sink"}
	w := Chain(dst, closingStage("a", &log), Gain(6), closingStage("b", &log))
	assert.Equal(t, "a → gain(+6.0dB) → b → sink", fmt.Sprint(w))
	assert.Equal(t, 8000, w.SampleRate())

	require.NoError(t, w.WriteFrame(Frame{Samples: []int16{1000, -1000}, SampleRate: 8000}))
	assert.Equal(t, []string{"a:write", "b:write"}, log, "first stage sees frames first")
	assert.Equal(t, []int16{1995, -1995}, dst.samples(), "+6 dB is a gain of 1.995")

	log = nil
	require.NoError(t, w.Close())
	// a flushes through gain and b before b is closed; dst is not closed.
	assert.Equal(t, []string{"a:close", "b:write", "b:close"}, log)
	assert.Len(t, dst.frames, 3)
}

func TestChainWithoutStages(t *testing.T) {
	dst := &named{collector: collector{rate: 8000}, name: "sink"}
	w := Chain(dst)
	assert.Equal(t, "sink", fmt.Sprint(w))
	require.NoError(t, w.WriteFrame(Frame{Samples: []int16{5}, SampleRate: 8000}))
	assert.Equal(t, []int16{5}, dst.samples())
	assert.NoError(t, w.Close())
}

func TestChainBuildsFreshStages(t *testing.T) {
	built := 0
	counting := func(next FrameWriter) FrameWriter { built++; return next }
	stages := []Stage{counting, counting}
	Chain(Discard(8000), stages...)
	Chain(Discard(8000), stages...)
	assert.Equal(t, 4, built)
}

func TestDescribeUnnamedAndCycles(t *testing.T) {
	assert.Equal(t, "*media.collector", Describe(&collector{rate: 8000}))
	l := &loopLink{}
	l.next = l
	assert.NotPanics(t, func() { _ = Describe(l) })
}

type loopLink struct{ next FrameWriter }

func (l *loopLink) WriteFrame(Frame) error { return nil }
func (l *loopLink) SampleRate() int        { return 8000 }
func (l *loopLink) Next() FrameWriter      { return l.next }

func TestStageFunc(t *testing.T) {
	dst := &collector{rate: 8000}
	dropOdd := StageFunc("drop-odd", func(f Frame, next FrameWriter) error {
		if f.Sequence%2 == 1 {
			return nil
		}
		return next.WriteFrame(f)
	})
	w := Chain(dst, dropOdd)
	for seq := range uint16(4) {
		require.NoError(t, w.WriteFrame(Frame{Samples: []int16{int16(seq)}, SampleRate: 8000, Sequence: seq}))
	}
	assert.Equal(t, []int16{0, 2}, dst.samples())
	assert.Equal(t, "drop-odd → *media.collector", fmt.Sprint(w))
}

func TestGain(t *testing.T) {
	dst := &collector{rate: 8000}
	w := Chain(dst, Gain(20))
	in := []int16{100, -100, 4000, -4000, 0}
	require.NoError(t, w.WriteFrame(Frame{Samples: in, SampleRate: 8000}))
	assert.Equal(t, []int16{1000, -1000, 32767, -32768, 0}, dst.samples(), "saturates, never wraps")
	assert.Equal(t, []int16{100, -100, 4000, -4000, 0}, in, "input frame untouched")
	assert.ErrorIs(t, w.WriteFrame(Frame{Samples: in, SampleRate: 16000}), ErrRateMismatch)

	dst = &collector{rate: 8000}
	require.NoError(t, Chain(dst, Gain(-6.0206)).WriteFrame(Frame{Samples: []int16{1000, -1001}, SampleRate: 8000}))
	assert.Equal(t, []int16{500, -500}, dst.samples())
}

func TestTee(t *testing.T) {
	a := &named{collector: collector{rate: 8000}, name: "recorder"}
	b := &named{collector: collector{rate: 8000}, name: "stt"}
	w := Chain(Tee(a, b), Gain(0))
	assert.Equal(t, "gain(+0.0dB) → tee[recorder, stt]", fmt.Sprint(w))
	require.NoError(t, w.WriteFrame(Frame{Samples: []int16{1, 2}, SampleRate: 8000}))
	assert.Equal(t, []int16{1, 2}, a.samples())
	assert.Equal(t, []int16{1, 2}, b.samples())

	// Nested pipelines print as branches.
	c := &named{collector: collector{rate: 8000}, name: "vad"}
	nested := Tee(a, Chain(c, Gain(-3)))
	assert.Equal(t, "tee[recorder, gain(-3.0dB) → vad]", fmt.Sprint(nested))

	// One failing consumer does not starve the others; errors are joined.
	e1, e2 := errors.New("e1"), errors.New("e2")
	f1 := &collector{rate: 8000, failAt: 1, failErr: e1}
	f2 := &collector{rate: 8000, failAt: 1, failErr: e2}
	ok := &collector{rate: 8000}
	err := Tee(f1, ok, f2).WriteFrame(Frame{Samples: []int16{9}, SampleRate: 8000})
	assert.ErrorIs(t, err, e1)
	assert.ErrorIs(t, err, e2)
	assert.Equal(t, []int16{9}, ok.samples())

	assert.Equal(t, 0, Tee().SampleRate())
	assert.NoError(t, Tee().WriteFrame(Frame{}))
}

func TestTeeDoesNotCopy(t *testing.T) {
	var seen []*int16
	probe := StageFunc("probe", func(f Frame, _ FrameWriter) error {
		seen = append(seen, &f.Samples[0])
		return nil
	})
	w := Tee(Chain(Discard(8000), probe), Chain(Discard(8000), probe))
	s := []int16{1}
	require.NoError(t, w.WriteFrame(Frame{Samples: s, SampleRate: 8000}))
	require.Len(t, seen, 2)
	assert.Same(t, &s[0], seen[0])
	assert.Same(t, &s[0], seen[1])
}

func TestDiscard(t *testing.T) {
	d := Discard(16000)
	assert.Equal(t, 16000, d.SampleRate())
	assert.NoError(t, d.WriteFrame(Frame{Samples: []int16{1}, SampleRate: 16000}))
	assert.ErrorIs(t, d.WriteFrame(Frame{Samples: []int16{1}, SampleRate: 8000}), ErrRateMismatch)
}

func TestChainZeroAllocs(t *testing.T) {
	w := Chain(Tee(Discard(8000), Discard(8000)), Gain(-3), StageFunc("pass", func(f Frame, next FrameWriter) error {
		return next.WriteFrame(f)
	}))
	f := Frame{Samples: ramp(160), SampleRate: 8000}
	require.NoError(t, w.WriteFrame(f))
	allocs := testing.AllocsPerRun(100, func() { _ = w.WriteFrame(f) })
	assert.Zero(t, allocs)
}
