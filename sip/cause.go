package sip

import (
	"fmt"
	"strconv"
	"strings"
)

// Q850 is an ITU-T Q.850 cause value, the number telephone networks use to say why a
// call ended.
type Q850 uint8

// Q.850 causes that SIP status codes map to (RFC 3398 §7.2.4.1 and §8.2.6.1).
const (
	CauseUnallocatedNumber       Q850 = 1
	CauseNoRouteToDestination    Q850 = 3
	CauseNormalClearing          Q850 = 16
	CauseUserBusy                Q850 = 17
	CauseNoUserResponding        Q850 = 18
	CauseNoAnswer                Q850 = 19
	CauseSubscriberAbsent        Q850 = 20
	CauseCallRejected            Q850 = 21
	CauseNumberChanged           Q850 = 22
	CauseDestinationOutOfOrder   Q850 = 27
	CauseInvalidNumberFormat     Q850 = 28
	CauseFacilityRejected        Q850 = 29
	CauseNormalUnspecified       Q850 = 31
	CauseNoCircuitAvailable      Q850 = 34
	CauseNetworkOutOfOrder       Q850 = 38
	CauseTemporaryFailure        Q850 = 41
	CauseSwitchingCongestion     Q850 = 42
	CauseResourceUnavailable     Q850 = 47
	CauseBearerNotAvailable      Q850 = 58
	CauseServiceUnavailable      Q850 = 63
	CauseBearerNotImplemented    Q850 = 65
	CauseIncompatibleDestination Q850 = 88
	CauseRecoveryOnTimerExpiry   Q850 = 102
	CauseInterworking            Q850 = 127
)

// CauseForStatus maps a SIP final status to a Q.850 cause following RFC 3398 §8.2.6.1.
func CauseForStatus(code int) Q850 {
	switch code {
	case 200:
		return CauseNormalClearing
	case 400, 405, 406, 409, 411, 413, 414, 415, 416, 420, 421, 423, 505, 513:
		return CauseInterworking
	case 401, 402, 403, 407, 603:
		return CauseCallRejected
	case 404, 604:
		return CauseUnallocatedNumber
	case 408, 504:
		return CauseRecoveryOnTimerExpiry
	case 410:
		return CauseNumberChanged
	case 480:
		return CauseNoUserResponding
	case 484:
		return CauseInvalidNumberFormat
	case 485:
		return CauseNoRouteToDestination
	case 486, 600:
		return CauseUserBusy
	case 487:
		return CauseNormalClearing
	case 488, 606:
		return CauseIncompatibleDestination
	case 500:
		return CauseTemporaryFailure
	case 501:
		return CauseFacilityRejected
	case 502:
		return CauseDestinationOutOfOrder
	case 503:
		return CauseServiceUnavailable
	}
	switch {
	case code >= 400 && code < 500:
		return CauseInterworking
	case code >= 500 && code < 600:
		return CauseTemporaryFailure
	case code >= 600:
		return CauseCallRejected
	}
	return CauseNormalUnspecified
}

// StatusForCause maps a Q.850 cause to the SIP status to reject a call with, following
// RFC 3398 §7.2.4.1.
func StatusForCause(c Q850) (int, string) {
	switch c {
	case CauseUnallocatedNumber, CauseNoRouteToDestination:
		return 404, "Not Found"
	case CauseUserBusy:
		return 486, "Busy Here"
	case CauseNoUserResponding, CauseNoAnswer, CauseSubscriberAbsent:
		return 480, "Temporarily Unavailable"
	case CauseCallRejected:
		return 603, "Decline"
	case CauseNumberChanged:
		return 410, "Gone"
	case CauseDestinationOutOfOrder:
		return 502, "Bad Gateway"
	case CauseInvalidNumberFormat:
		return 484, "Address Incomplete"
	case CauseFacilityRejected:
		return 501, "Not Implemented"
	case CauseNoCircuitAvailable, CauseNetworkOutOfOrder, CauseTemporaryFailure,
		CauseSwitchingCongestion, CauseResourceUnavailable, CauseServiceUnavailable:
		return 503, "Service Unavailable"
	case CauseBearerNotAvailable, CauseBearerNotImplemented, CauseIncompatibleDestination:
		return 488, "Not Acceptable Here"
	case CauseRecoveryOnTimerExpiry:
		return 504, "Server Time-out"
	case CauseInterworking:
		return 500, "Server Internal Error"
	}
	return 480, "Temporarily Unavailable"
}

// Reason is a parsed Reason header (RFC 3326): the protocol ("Q.850" or "SIP"), the
// cause number and the optional text.
type Reason struct {
	Protocol string
	Cause    int
	Text     string
}

// String formats the header value, e.g. `Q.850;cause=16;text="Normal call clearing"`.
func (r Reason) String() string {
	s := r.Protocol + ";cause=" + strconv.Itoa(r.Cause)
	if r.Text != "" {
		s += `;text="` + strings.NewReplacer(`"`, "", `\`, "", "\r", "", "\n", "").Replace(r.Text) + `"`
	}
	return s
}

// ParseReason parses the first reason-value of a Reason header value.
func ParseReason(v string) (Reason, error) {
	v = strings.TrimSpace(v)
	first, _, _ := cutOutsideQuotes(v, ',')
	parts := splitOutsideQuotes(first, ';')
	if len(parts) == 0 || strings.TrimSpace(parts[0]) == "" {
		return Reason{}, fmt.Errorf("sip: empty Reason header")
	}
	r := Reason{Protocol: strings.TrimSpace(parts[0]), Cause: -1}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "cause":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 0 {
				return Reason{}, fmt.Errorf("sip: Reason cause %q: not a number", val)
			}
			r.Cause = n
		case "text":
			r.Text = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	if r.Cause < 0 {
		return Reason{}, fmt.Errorf("sip: Reason %q has no cause", v)
	}
	return r, nil
}

func cutOutsideQuotes(s string, sep byte) (before, after string, found bool) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == sep && !inQuote:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	for {
		before, after, found := cutOutsideQuotes(s, sep)
		out = append(out, before)
		if !found {
			return out
		}
		s = after
	}
}

// ErrHeaderValue is returned when a header value given by the application would break
// the message (CR, LF or NUL: header injection).
var ErrHeaderValue = fmt.Errorf("sip: invalid header value")

// CheckHeader validates a header name and value the application wants us to send. Names
// must be RFC 3261 tokens; values must not contain CR, LF or NUL, so no application input
// can inject headers or a body.
func CheckHeader(name, value string) error {
	if name == "" {
		return fmt.Errorf("%w: empty header name", ErrHeaderValue)
	}
	for i := 0; i < len(name); i++ {
		if !isToken(name[i]) {
			return fmt.Errorf("%w: header name %q", ErrHeaderValue, name)
		}
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("%w: %s value contains CR, LF or NUL", ErrHeaderValue, name)
	}
	return nil
}

func isToken(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}
