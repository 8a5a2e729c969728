package amd

import "math"

func sin(hz float64, i, rate int) float64 {
	return math.Sin(2 * math.Pi * hz * float64(i) / float64(rate))
}
