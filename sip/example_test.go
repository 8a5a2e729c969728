package sip_test

import (
	"fmt"
	"net/netip"

	"github.com/switchboard-go/switchboard/media"
	"github.com/switchboard-go/switchboard/sip"
)

// An offer from one side and the answer from the other: the answerer takes the first
// codec of the offer it supports, and telephone-event at that codec's clock rate.
func ExampleAnswer() {
	caller := sip.LocalMedia{Addr: netip.MustParseAddr("192.0.2.10"), Port: 40000,
		Codecs: media.CodecSet{media.G722(), media.PCMU()}}
	offer, _ := sip.Offer(caller)

	callee := sip.LocalMedia{Addr: netip.MustParseAddr("192.0.2.20"), Port: 50000,
		Codecs: media.CodecSet{media.PCMU(), media.G722()}}
	answer, n, err := sip.Answer(offer, callee)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("callee sends", n.Codec.Name(), "to", n.Remote, "DTMF PT", n.DTMFPayloadType)
	back, _ := sip.ParseAnswer(answer, caller)
	fmt.Println("caller sends", back.Codec.Name(), "to", back.Remote, "direction", back.Direction)
	// Output:
	// callee sends G722 to 192.0.2.10:40000 DTMF PT 96
	// caller sends G722 to 192.0.2.20:50000 direction sendrecv
}

// SIP statuses map to Q.850 causes and back (RFC 3398).
func ExampleCauseForStatus() {
	fmt.Println(sip.CauseForStatus(486), sip.CauseForStatus(404))
	code, reason := sip.StatusForCause(sip.CauseCallRejected)
	fmt.Println(code, reason)
	// Output:
	// 17 1
	// 603 Decline
}
