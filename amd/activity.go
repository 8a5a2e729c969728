package amd

// Speech activity for the Cadence rules: a hop is speech when its speech-band level
// stands clearly above the noise floor and above an absolute gate, and it is not a
// tone. The floor is the minimum of the smoothed level over the last two seconds
// (minimum statistics), so it follows line noise of any level without being pulled up
// by the speech itself, whose pauses between words reach down to the noise.
const (
	subHops     = 10    // hops per minimum sub-window (100 ms)
	subWindows  = 20    // sub-windows remembered (2 s)
	floorBias   = 1.25  // mean noise sits about 1 dB above its smoothed minimum
	startDB     = 4.5   // dB above the floor that starts speech
	holdDB      = 3.0   // dB above the floor that keeps it going
	gateDBFS    = -55.0 // quieter hops are never speech
	toneRatio   = 0.8   // hops more tonal than this are not speech
	smoothAlpha = 0.4
)

type activity struct {
	smooth  float64
	curMin  float64
	ring    [subWindows]float64
	ringN   int
	ringPos int
	count   int
	floor   float64
	gate    float64
	speech  bool
	hops    int
}

func newActivity() activity {
	a := activity{gate: fromDB(gateDBFS)}
	a.reset()
	return a
}

func (a *activity) reset() {
	*a = activity{gate: a.gate, curMin: -1, floor: -1}
}

// step classifies hop h and returns whether it is speech.
func (a *activity) step(h *hop) bool {
	if !h.full {
		return false
	}
	a.hops++
	e := h.level
	if a.hops == 1 {
		a.smooth = e
	} else {
		a.smooth += smoothAlpha * (e - a.smooth)
	}
	if a.curMin < 0 || a.smooth < a.curMin {
		a.curMin = a.smooth
	}
	a.count++
	if a.count == subHops {
		a.ring[a.ringPos] = a.curMin
		a.ringPos = (a.ringPos + 1) % subWindows
		a.ringN = min(a.ringN+1, subWindows)
		a.count, a.curMin = 0, -1
	}
	m := a.curMin
	for i := range a.ringN {
		if m < 0 || a.ring[i] < m {
			m = a.ring[i]
		}
	}
	a.floor = m * floorBias
	thr := startDB
	if a.speech {
		thr = holdDB
	}
	a.speech = e > a.floor*ratioDB(thr) && e > a.gate && h.ratio < toneRatio
	return a.speech
}
