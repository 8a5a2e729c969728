package kamailio

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/peer/sipp"
)

// SIPp scenarios for running SIPp behind this proxy. SIPp's built-in uac sends ACK and
// BYE to the Request-URI without a Route set, and its built-in uas does not echo
// Record-Route, so behind a record-routing proxy every BYE would get 404; nor does the
// built-in uas answer the dispatcher's OPTIONS probes, so a backend would be marked
// inactive. The variants below fix that by editing the built-ins (sipp -sd).

// ReorderTolerantArgs are SIPp arguments for UACs and UASs behind this proxy. Kamailio
// forwards with several worker processes, so two messages sent back to back (a 180 and
// the 200 right after it; an ACK and the BYE right after it) can leave it in the other
// order when one worker is descheduled, which happens on a loaded machine. SIPp aborts
// a call on such an unexpected message; these arguments make it ignore the message
// instead, and bound every wait for an expected message to timeout, so that a call
// that really goes wrong still fails (after timeout instead of at once).
func ReorderTolerantArgs(timeout time.Duration) []string {
	return []string{"-default_behaviors", "all,-abortunexp", "-recv_timeout", strconv.FormatInt(timeout.Milliseconds(), 10)}
}

// UACScenario is SIPp's built-in uac made record-route aware: it keeps the route set of
// the 200 (rrs) and sends ACK and BYE to [next_url] along [routes].
func UACScenario() (string, error) {
	xml, err := sipp.BuiltinScenario("uac")
	if err != nil {
		return "", err
	}
	xml, err = replaceOnce(xml, `<recv response="200" rtd="true">`, `<recv response="200" rtd="true" rrs="true">`)
	if err != nil {
		return "", err
	}
	for _, m := range []string{"ACK", "BYE"} {
		old := m + " sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n"
		i := strings.Index(xml, old)
		if i < 0 {
			return "", fmt.Errorf("kamailio: sipp uac scenario: no %q", strings.TrimSpace(old))
		}
		indent := xml[strings.LastIndexByte(xml[:i], '\n')+1 : i]
		xml = xml[:i] + m + " [next_url] SIP/2.0\n" + indent + "[routes]\n" + xml[i+len(old):]
	}
	return xml, nil
}

// UASScenario is SIPp's built-in uas made fit to be a dispatcher backend: its replies
// echo Record-Route, and it answers OPTIONS probes with 200. Each probe counts as a
// (successful) SIPp call, so count calls by the INVITE_Recv column of -trace_counts.
func UASScenario() (string, error) {
	xml, err := sipp.BuiltinScenario("uas")
	if err != nil {
		return "", err
	}
	// Echo Record-Route after every [last_Via:] (180, 200 to INVITE, 200 to BYE).
	var b strings.Builder
	for _, line := range strings.SplitAfter(xml, "\n") {
		b.WriteString(line)
		if t := strings.TrimSpace(line); t == "[last_Via:]" {
			b.WriteString(line[:strings.Index(line, "[")] + "[last_Record-Route:]\n")
		}
	}
	xml = b.String()
	if strings.Count(xml, "[last_Record-Route:]") != 3 {
		return "", fmt.Errorf("kamailio: sipp uas scenario: expected 3 responses, found %d", strings.Count(xml, "[last_Record-Route:]"))
	}
	// Branch to an OPTIONS answer before the INVITE, and skip it after the BYE's 200.
	xml, err = replaceOnce(xml, `<recv request="INVITE" crlf="true">`,
		`<recv request="OPTIONS" optional="true" next="options"/>`+"\n  "+`<recv request="INVITE" crlf="true">`)
	if err != nil {
		return "", err
	}
	i := strings.LastIndex(xml, "<send>")
	j := strings.Index(xml, "<timewait")
	if i < 0 || j < i {
		return "", fmt.Errorf("kamailio: sipp uas scenario: unexpected layout")
	}
	// The built-in keeps each call 4 s after the BYE's 200 to answer a retransmitted
	// BYE; on loopback 1 s is plenty, and it keeps SIPp's graceful stop short.
	rest, err := replaceOnce(xml[j:], `<timewait milliseconds="4000"/>`, `<timewait milliseconds="1000"/>`)
	if err != nil {
		return "", err
	}
	xml = xml[:i] + `<send next="done">` + xml[i+len("<send>"):j] + optionsReply(200) + `<label id="done"/>` + "\n  " + rest
	return xml, nil
}

// optionsReply is the OPTIONS branch of a UAS scenario.
func optionsReply(status int) string {
	return `<label id="options"/>
  <send>
    <![CDATA[

      SIP/2.0 ` + strconv.Itoa(status) + ` ` + reason(status) + `
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTagOpt[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  `
}

func reason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	default:
		return "Status"
	}
}

// RejectingUASScenario is a backend that answers OPTIONS probes with optionsStatus and
// rejects every INVITE with inviteStatus (then absorbs the ACK). With 503 for both it
// is a draining instance; with 200 and 503 one that looks healthy but fails calls.
func RejectingUASScenario(optionsStatus, inviteStatus int) string {
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="rejecting backend">
  <recv request="OPTIONS" optional="true" next="options"/>
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 ` + strconv.Itoa(inviteStatus) + ` ` + reason(inviteStatus) + `
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" next="done"/>
  ` + optionsReply(optionsStatus) + `<label id="done"/>
</scenario>
`
}

// RegisterScenario registers user [service] at the remote (the proxy) with the Contact
// <sip:[service]@[contact]>, where contact is a SIPp -key (host:port of the UA that
// should receive the user's calls), and expects 200. If challenged (401) it answers
// with digest credentials from -au/-ap (user name defaults to [service]). It then
// pauses for SIPp's -d (sipp.Options.CallDuration, default 0).
func RegisterScenario() string {
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="register">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[service]@[contact]>
      Expires: 600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" optional="true" next="registered"/>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[service]@[contact]>
      [authentication]
      Expires: 600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <label id="registered"/>
  <pause/>
</scenario>
`
}

func replaceOnce(s, old, new string) (string, error) {
	if strings.Count(s, old) != 1 {
		return "", fmt.Errorf("kamailio: sipp scenario: expected one %q", old)
	}
	return strings.Replace(s, old, new, 1), nil
}
