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
