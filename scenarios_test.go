package switchboard_test

// Fragments of SIPp scenarios shared by the tests that drive SIPp against a
// Switchboard.

// answerBye receives the peer's BYE and answers it; it closes a scenario.
const answerBye = `  <recv request="BYE"/>
` + ok200 + `</scenario>
`

// ok200 answers the last request received.
const ok200 = `  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
`

// answerSDP answers an INVITE with 200 OK and the start of an SDP body; the scenario
// goes on with its m= line, attributes and "]]></send>".
const answerSDP = `  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
`
