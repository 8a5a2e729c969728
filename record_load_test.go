package switchboard_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard"
	"github.com/switchboard-go/switchboard/call"
	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/media/rtpsession"
	"github.com/switchboard-go/switchboard/sip"
)

var recordLoad = flag.Int("recordload", 0, "run TestRecordLoad with this many concurrent calls (e.g. 200)")

var recordLoadWindow = flag.Duration("recordload-window", 10*time.Second, "length of each measured window of TestRecordLoad with -recordload")

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mediaTotals sums the statistics that say whether audio was lost.
type mediaTotals struct {
	sent, received, underruns, skipped, concealed, overruns uint64
}

func totals(calls []*call.Call) mediaTotals {
	var t mediaTotals
	for _, c := range calls {
		m, err := c.Media()
		if err != nil {
			continue
		}
		s := m.Stats()
		t.sent += s.PacketsSent
		t.received += s.PacketsReceived
		t.underruns += s.Underruns
		t.skipped += s.SkippedTicks
		t.concealed += s.Concealed
		t.overruns += s.ReadOverruns
	}
	return t
}

func (a mediaTotals) minus(b mediaTotals) mediaTotals {
	return mediaTotals{a.sent - b.sent, a.received - b.received, a.underruns - b.underruns,
		a.skipped - b.skipped, a.concealed - b.concealed, a.overruns - b.overruns}
}

// TestRecordLoad measures what recording costs: N calls between two Switchboards in one
// process, each playing a tone both ways (Play in the background on both legs), then
// the answering legs also recording (dual channel, WAV files). It reports the
// process's CPU per call in two windows, playing only and playing while recording, and
// whether any frame was lost (recordings' FramesLost; the sessions' underruns, skipped
// ticks, concealment and read overruns). It reports; it asserts only that everything
// came up, every recording was saved, and everything went away.
//
//	go test -run TestRecordLoad -recordload 200 -v .
func TestRecordLoad(t *testing.T) {
	n, window, settle := *recordLoad, *recordLoadWindow, 2*time.Second
	if n == 0 {
		// A small run keeps the measurement code tested.
		n, window, settle = 4, 500*time.Millisecond, 200*time.Millisecond
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := switchboard.Config{Logger: quiet, MediaTimeout: -1, SessionExpires: -1, Codecs: media.CodecSet{media.PCMU()}}
	var mu sync.Mutex
	var legs []*call.Call
	acfg := cfg
	acfg.RTPPorts = rtpsession.PortRange{Min: 20000, Max: 29999}
	tone := func(f float64) *media.Tone { return &media.Tone{Frequencies: []float64{f}, Level: -12} }
	acfg.Handler = call.HandlerFunc(func(ctx context.Context, c *call.Call) error {
		if err := c.Answer(ctx, call.AnswerOptions{}); err != nil {
			return err
		}
		if _, err := c.PlayBackground(ctx, call.PlayOptions{Tone: tone(440)}); err != nil {
			return err
		}
		mu.Lock()
		legs = append(legs, c)
		mu.Unlock()
		<-ctx.Done()
		return nil
	})
	bcfg := cfg
	bcfg.RTPPorts = rtpsession.PortRange{Min: 40000, Max: 49999}
	a := startWith(t, acfg)
	b := startWith(t, bcfg)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	calls := make([]*call.Call, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := b.Dial(ctx, a.URI("load"), call.DialOptions{})
			if err != nil {
				errs <- err
				return
			}
			if _, err := c.PlayBackground(ctx, call.PlayOptions{Tone: tone(700)}); err != nil {
				errs <- err
				return
			}
			calls[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(legs) == n }, time.Minute, 10*time.Millisecond)
	all := append(append([]*call.Call(nil), calls...), legs...)

	// Read overruns count only on the answering legs: the dialling legs have no
	// consumer of their received audio, so every frame of theirs "overruns".
	measure := func() (cpu, wall time.Duration, d mediaTotals) {
		m0, r0, c0, w0 := totals(all), totals(legs), cpuTime(), time.Now()
		time.Sleep(window)
		cpu, wall = cpuTime()-c0, time.Since(w0)
		d = totals(all).minus(m0)
		d.overruns = totals(legs).minus(r0).overruns
		return cpu, wall, d
	}
	time.Sleep(settle) // steady state: jitter buffers filled
	cpuPlay, wallPlay, mPlay := measure()

	dir := t.TempDir()
	recs := make([]*call.Recording, n)
	for i, c := range legs {
		r, err := c.Record(ctx, call.RecordOptions{Path: filepath.Join(dir, strconv.Itoa(i)+".wav"), Channels: call.RecordDual})
		require.NoError(t, err)
		recs[i] = r
	}
	time.Sleep(settle / 4)
	cpuRec, wallRec, mRec := measure()

	var lost uint64
	var minDur, maxDur time.Duration
	for i, r := range recs {
		res, err := r.Stop(ctx)
		require.NoError(t, err)
		assert.Equal(t, call.RecordStopped, res.Reason)
		lost += res.FramesLost
		if i == 0 || res.Duration < minDur {
			minDur = res.Duration
		}
		maxDur = max(maxDur, res.Duration)
	}

	perCall := func(cpu, wall time.Duration) float64 { return 100 * cpu.Seconds() / wall.Seconds() / float64(n) }
	report := func(name string, cpu, wall time.Duration, m mediaTotals) {
		t.Logf("%s: CPU %.1f%% of a core in total, %.3f%% per call (both legs); packets sent %d (%.0f/s), received %d; underruns %d, skipped ticks %d, concealed %d",
			name, 100*cpu.Seconds()/wall.Seconds(), perCall(cpu, wall), m.sent, float64(m.sent)/wall.Seconds(), m.received,
			m.underruns, m.skipped, m.concealed)
	}
	t.Logf("calls: %d, windows of %v", n, window)
	report("playing", cpuPlay, wallPlay, mPlay)
	report("playing + recording", cpuRec, wallRec, mRec)
	t.Logf("recording costs %.3f%% of a core per call; recordings: %d frames lost on the way to the writer, %d received frames overrun before the audio pump read them, durations %v to %v",
		perCall(cpuRec, wallRec)-perCall(cpuPlay, wallPlay), lost, mRec.overruns, minDur, maxDur)

	var hw sync.WaitGroup
	for _, c := range calls {
		hw.Add(1)
		go func() { defer hw.Done(); _ = c.Hangup(ctx, sip.CauseNormalClearing) }()
	}
	hw.Wait()
	require.Eventually(t, func() bool { return a.Calls() == 0 && b.Calls() == 0 }, time.Minute, 10*time.Millisecond)
}
