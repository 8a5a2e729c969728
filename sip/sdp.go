package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/switchboard-go/switchboard/media"
)

// ErrNotAcceptable means no media in an SDP offer or answer could be accepted. An
// incoming INVITE that fails this way gets 488 Not Acceptable Here (RFC 3261 §21.4.26).
var ErrNotAcceptable = errors.New("sip: no acceptable media")

// ErrBadSDP wraps a parse or validation failure of a remote session description.
var ErrBadSDP = errors.New("sip: malformed SDP")

// Direction is an SDP media direction attribute (RFC 3264 §5.1), seen from the side that
// wrote it.
type Direction uint8

// Directions. The zero value is SendRecv.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return "sendrecv"
	}
}

// Sends reports whether the side with this direction sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side with this direction receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// reverse is the direction an answerer takes for an offer of d, when willing to do
// everything the offer allows.
func (d Direction) reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	default:
		return d
	}
}

// intersect narrows d to what both d and the other direction allow.
func (d Direction) intersect(o Direction) Direction {
	send, recv := d.Sends() && o.Sends(), d.Receives() && o.Receives()
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	default:
		return Inactive
	}
}

// LocalMedia is what this side can do, used to build offers and answers.
type LocalMedia struct {
	// Addr is the address written in c= (the advertised RTP address).
	Addr netip.Addr
	// Port is the local RTP port.
	Port int
	// Codecs in preference order. Empty means media.DefaultCodecs().
	Codecs media.CodecSet
	// NoDTMF leaves telephone-event (RFC 4733) out of offers and answers.
	NoDTMF bool
	// PTime is the packetisation time we ask for. Zero means 20 ms.
	PTime time.Duration
	// Direction is what we want to do: SendRecv normally, SendOnly to put the peer on hold.
	Direction Direction
	// SessionID and Version fill the o= line. Version must grow with each new offer in a
	// dialog (RFC 3264 §8).
	SessionID, Version uint64
	// Username fills the o= line. Empty means "-".
	Username string
}

// Negotiated is the outcome of an offer/answer exchange for the audio stream.
type Negotiated struct {
	// Codec and PayloadType are what both sides send audio with.
	Codec       media.Codec
	PayloadType uint8
	// DTMFPayloadType is the telephone-event payload type, or -1 if not negotiated.
	DTMFPayloadType int
	// DTMFClockRate is the telephone-event RTP clock rate (normally equal to the codec's).
	DTMFClockRate int
	// PTime is the packetisation time to send with.
	PTime time.Duration
	// Remote is where to send RTP; RemoteRTCP where to send RTCP.
	Remote, RemoteRTCP netip.AddrPort
	// Direction is ours after negotiation; RemoteDirection is the peer's.
	Direction, RemoteDirection Direction
	// RTCPMux is true when both sides agreed to multiplex RTCP on the RTP port.
	RTCPMux bool
}

// Hold reports whether the peer has put us on hold (it neither sends nor wants media,
// or only wants to send... i.e. it does not receive).
func (n Negotiated) Hold() bool { return !n.RemoteDirection.Receives() }

const (
	telephoneEvent = "telephone-event"
	firstDynamicPT = 96
)

// Offer builds an SDP offer for lm. It also returns the payload-type map it used, which
// Answer's counterpart ParseAnswer needs.
func Offer(lm LocalMedia) ([]byte, error) {
	lm = lm.withDefaults()
	if !lm.Addr.IsValid() {
		return nil, errors.New("sip: offer: no local address")
	}
	sd := lm.session()
	md := lm.mediaDescription(lm.Port)
	next := firstDynamicPT
	used := map[int]bool{}
	for _, c := range lm.Codecs {
		if pt := c.StaticPayloadType(); pt >= 0 {
			used[pt] = true
		}
	}
	dynamic := func() int {
		for used[next] {
			next++
		}
		used[next] = true
		return next
	}
	dtmfRates := map[int]bool{}
	for _, c := range lm.Codecs {
		pt := c.StaticPayloadType()
		if pt < 0 {
			pt = dynamic()
		}
		addFormat(md, pt, c.Name(), c.ClockRate(), "")
		dtmfRates[c.ClockRate()] = true
	}
	if !lm.NoDTMF {
		// One telephone-event per clock rate in the offer, so whichever codec the peer
		// picks has a DTMF format at its rate (RFC 4733 §7.1.1).
		for _, c := range lm.Codecs {
			r := c.ClockRate()
			if dtmfRates[r] {
				delete(dtmfRates, r)
				addFormat(md, dynamic(), telephoneEvent, r, "0-16")
			}
		}
	}
	md.WithValueAttribute("ptime", strconv.Itoa(int(lm.PTime/time.Millisecond)))
	md.WithPropertyAttribute(lm.Direction.String())
	sd.MediaDescriptions = []*sdp.MediaDescription{md}
	return sd.Marshal()
}

// Answer answers a remote offer: it picks the first codec in the offer's order that lm
// supports, telephone-event at that codec's clock rate if offered, and the direction
// that satisfies both. An offer with nothing acceptable returns ErrNotAcceptable (send
// 488); an unparsable one ErrBadSDP (send 400).
func Answer(offer []byte, lm LocalMedia) ([]byte, Negotiated, error) {
	lm = lm.withDefaults()
	if !lm.Addr.IsValid() {
		return nil, Negotiated{}, errors.New("sip: answer: no local address")
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(offer)); err != nil {
		return nil, Negotiated{}, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	ans := lm.session()
	var neg Negotiated
	found := false
	for _, md := range sd.MediaDescriptions {
		if found || md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 || !isRTPAVP(md.MediaName.Protos) {
			ans.MediaDescriptions = append(ans.MediaDescriptions, rejected(md))
			continue
		}
		n, ok, err := lm.pick(&sd, md)
		if err != nil {
			return nil, Negotiated{}, err
		}
		if !ok {
			ans.MediaDescriptions = append(ans.MediaDescriptions, rejected(md))
			continue
		}
		found = true
		neg = n
		out := lm.mediaDescription(lm.Port)
		out.MediaName.Protos = md.MediaName.Protos
		addFormat(out, int(n.PayloadType), n.Codec.Name(), n.Codec.ClockRate(), "")
		if n.DTMFPayloadType >= 0 {
			addFormat(out, n.DTMFPayloadType, telephoneEvent, n.DTMFClockRate, "0-16")
		}
		out.WithPropertyAttribute(n.Direction.String())
		out.WithValueAttribute("ptime", strconv.Itoa(int(n.PTime/time.Millisecond)))
		if n.RTCPMux {
			out.WithPropertyAttribute("rtcp-mux")
		}
		ans.MediaDescriptions = append(ans.MediaDescriptions, out)
	}
	if !found {
		return nil, Negotiated{}, ErrNotAcceptable
	}
	b, err := ans.Marshal()
	return b, neg, err
}

// ParseAnswer reads the answer to an offer built with Offer(lm).
func ParseAnswer(answer []byte, lm LocalMedia) (Negotiated, error) {
	lm = lm.withDefaults()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(answer)); err != nil {
		return Negotiated{}, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		n, ok, err := lm.pick(&sd, md)
		if err != nil {
			return Negotiated{}, err
		}
		if ok {
			return n, nil
		}
	}
	return Negotiated{}, ErrNotAcceptable
}

func (lm LocalMedia) withDefaults() LocalMedia {
	if len(lm.Codecs) == 0 {
		lm.Codecs = media.DefaultCodecs()
	}
	if lm.PTime == 0 {
		lm.PTime = media.DefaultFrameDuration
	}
	if lm.Username == "" {
		lm.Username = "-"
	}
	return lm
}

func (lm LocalMedia) session() *sdp.SessionDescription {
	return &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username: lm.Username, SessionID: lm.SessionID, SessionVersion: lm.Version,
			NetworkType: "IN", AddressType: addrType(lm.Addr), UnicastAddress: lm.Addr.String(),
		},
		SessionName: "switchboard",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType(lm.Addr), Address: &sdp.Address{Address: lm.Addr.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
}

func (lm LocalMedia) mediaDescription(port int) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:  "audio",
			Port:   sdp.RangedPort{Value: port},
			Protos: []string{"RTP", "AVP"},
		},
	}
	return md
}

// pick chooses what to use from a remote media description: the first remote format we
// support (the remote's order wins, as RFC 3264 asks of answerers and as offerers expect).
func (lm LocalMedia) pick(sd *sdp.SessionDescription, md *sdp.MediaDescription) (Negotiated, bool, error) {
	addr, err := connectionAddr(sd, md)
	if err != nil {
		return Negotiated{}, false, err
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return Negotiated{}, false, fmt.Errorf("%w: media port %d", ErrBadSDP, port)
	}
	maps := rtpmaps(md)
	n := Negotiated{DTMFPayloadType: -1, PTime: lm.PTime}
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			return Negotiated{}, false, fmt.Errorf("%w: payload type %q", ErrBadSDP, f)
		}
		name, rate, ok := maps[pt].name, maps[pt].rate, maps[pt].name != ""
		if !ok {
			name, rate, ok = staticFormat(pt)
		}
		if !ok || strings.EqualFold(name, telephoneEvent) {
			continue
		}
		if c := lm.Codecs.ByName(name, rate); c != nil {
			n.Codec, n.PayloadType = c, uint8(pt)
			break
		}
	}
	if n.Codec == nil {
		return Negotiated{}, false, nil
	}
	if !lm.NoDTMF {
		for _, f := range md.MediaName.Formats {
			pt, _ := strconv.Atoi(f)
			m := maps[pt]
			if strings.EqualFold(m.name, telephoneEvent) {
				if m.rate == n.Codec.ClockRate() || n.DTMFPayloadType < 0 {
					n.DTMFPayloadType, n.DTMFClockRate = pt, m.rate
				}
			}
		}
	}
	if v, ok := md.Attribute("ptime"); ok {
		if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms >= 10 && ms <= 60 {
			n.PTime = time.Duration(ms) * time.Millisecond
		}
	}
	n.RemoteDirection = mediaDirection(sd, md)
	n.Direction = n.RemoteDirection.reverse().intersect(lm.Direction)
	n.Remote = netip.AddrPortFrom(addr, uint16(port))
	rtcpPort := port + 1
	if v, ok := md.Attribute("rtcp"); ok {
		if p, err := strconv.Atoi(strings.Fields(v + " ")[0]); err == nil && p > 0 && p <= 65535 {
			rtcpPort = p
		}
	}
	if _, ok := md.Attribute("rtcp-mux"); ok {
		n.RTCPMux = true
		rtcpPort = port
	}
	if rtcpPort > 65535 {
		rtcpPort = port
	}
	n.RemoteRTCP = netip.AddrPortFrom(addr, uint16(rtcpPort))
	return n, true, nil
}

type rtpmap struct {
	name string
	rate int
}

func rtpmaps(md *sdp.MediaDescription) map[int]rtpmap {
	m := map[int]rtpmap{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptStr, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		pt, err := strconv.Atoi(ptStr)
		if err != nil {
			continue
		}
		parts := strings.Split(strings.TrimSpace(rest), "/")
		if len(parts) < 2 {
			continue
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil || rate <= 0 {
			continue
		}
		m[pt] = rtpmap{name: parts[0], rate: rate}
	}
	return m
}

// staticFormat knows the RFC 3551 static payload types we might meet without an rtpmap.
func staticFormat(pt int) (string, int, bool) {
	switch pt {
	case 0:
		return "PCMU", 8000, true
	case 8:
		return "PCMA", 8000, true
	case 9:
		return "G722", 8000, true
	case 3:
		return "GSM", 8000, true
	case 18:
		return "G729", 8000, true
	}
	return "", 0, false
}

func addFormat(md *sdp.MediaDescription, pt int, name string, rate int, fmtp string) {
	md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(pt))
	md.WithValueAttribute("rtpmap", fmt.Sprintf("%d %s/%d", pt, name, rate))
	if fmtp != "" {
		md.WithValueAttribute("fmtp", fmt.Sprintf("%d %s", pt, fmtp))
	}
}

func rejected(md *sdp.MediaDescription) *sdp.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"}
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: md.MediaName.Media, Port: sdp.RangedPort{Value: 0},
		Protos: md.MediaName.Protos, Formats: formats[:1],
	}}
}

func isRTPAVP(protos []string) bool {
	return strings.EqualFold(strings.Join(protos, "/"), "RTP/AVP")
}

func connectionAddr(sd *sdp.SessionDescription, md *sdp.MediaDescription) (netip.Addr, error) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return netip.Addr{}, fmt.Errorf("%w: no connection address", ErrBadSDP)
	}
	a, err := netip.ParseAddr(strings.TrimSpace(ci.Address.Address))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: connection address %q (host names are not supported)", ErrBadSDP, ci.Address.Address)
	}
	return a, nil
}

func mediaDirection(sd *sdp.SessionDescription, md *sdp.MediaDescription) Direction {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv":
				return SendRecv
			case "sendonly":
				return SendOnly
			case "recvonly":
				return RecvOnly
			case "inactive":
				return Inactive
			}
		}
	}
	// RFC 2543 hold: c=0.0.0.0 means the peer does not want to receive.
	if a, err := connectionAddr(sd, md); err == nil && a.IsUnspecified() {
		return SendOnly
	}
	return SendRecv
}

func addrType(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "IP6"
	}
	return "IP4"
}
