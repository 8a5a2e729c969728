package baresip

import (
	"bytes"
	"regexp"
	"sync"
)

// baresip rewrites a call status line, "\r[0:00:01] audio=64/64 (bit/s)     \r", on
// stderr many times a second while a call is up. It carries nothing a test reads and
// would bury the real log, so the process log drops it. Carriage returns appear only
// in status lines, so the filter drops all of them first.
var statusLine = regexp.MustCompile(`\[\d+:\d+:\d+\] audio=\d+/\d+ \(bit/s\) *`)

// statusTemplate is the status line with '#' standing for one or more digits.
const statusTemplate = "[#:#:#] audio=#/# (bit/s)"

// statusFilter strips status lines from a stream of output chunks. A chunk may end in
// the middle of a status line; that partial tail is held back and joined to the next
// chunk. The exec package may call the filter from its stdout and stderr copiers at
// once, hence the mutex.
type statusFilter struct {
	mu    sync.Mutex
	carry []byte
}

func (f *statusFilter) filter(b []byte) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	buf := append(f.carry, b...)
	f.carry = nil
	buf = bytes.ReplaceAll(buf, []byte("\r"), nil)
	// A status line at the very end may still grow (more padding, or its digits), so
	// it waits for the next chunk; if the output ends there, it was dropped anyway.
	if i := partialStatusStart(buf); i >= 0 {
		f.carry = append([]byte(nil), buf[i:]...)
		buf = buf[:i]
	}
	// Removing one status line could join the text around it into another.
	for statusLine.Match(buf) {
		buf = statusLine.ReplaceAll(buf, nil)
	}
	return buf
}

// partialStatusStart returns the index where a status line that b may end in the middle
// of begins, or -1. Status lines are well under 128 bytes.
func partialStatusStart(b []byte) int {
	for i := max(0, len(b)-128); i < len(b); i++ {
		if b[i] == '[' && isStatusPrefix(b[i:]) {
			return i
		}
	}
	return -1
}

// isStatusPrefix reports whether s could be the start of a status line, including its
// padding.
func isStatusPrefix(s []byte) bool {
	i, j := 0, 0
	for i < len(s) {
		if j == len(statusTemplate) {
			// Complete: only the padding may follow.
			if s[i] != ' ' {
				return false
			}
			i++
			continue
		}
		if statusTemplate[j] == '#' {
			if !isDigit(s[i]) {
				return false
			}
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			j++
			continue
		}
		if s[i] != statusTemplate[j] {
			return false
		}
		i++
		j++
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
