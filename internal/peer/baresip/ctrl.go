package baresip

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ctrl_tcp frames every message as a netstring, "<decimal length>:<JSON>,".

// maxMessage bounds one control message. baresip's are a few hundred bytes (the longest,
// a command's printed output, a few kB); anything near this is a broken stream.
const maxMessage = 1 << 20

var errNetstring = errors.New("baresip: malformed netstring")

// readNetstring reads one netstring from r and returns its payload. It returns io.EOF
// only when the stream ends cleanly between messages.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	n, digits := 0, 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && digits > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("%w: length byte %q", errNetstring, c)
		}
		digits++
		n = n*10 + int(c-'0')
		if n > maxMessage {
			return nil, fmt.Errorf("%w: length over %d", errNetstring, maxMessage)
		}
	}
	if digits == 0 {
		return nil, fmt.Errorf("%w: empty length", errNetstring)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("%w: %q instead of ',' after %d bytes", errNetstring, buf[n], n)
	}
	return buf[:n], nil
}

// appendNetstring appends payload to dst as a netstring.
func appendNetstring(dst, payload []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(payload)), 10)
	dst = append(dst, ':')
	dst = append(dst, payload...)
	return append(dst, ',')
}

// message is any JSON object ctrl_tcp sends: a command response or an event.
type message struct {
	Event      bool   `json:"event"`
	Response   bool   `json:"response"`
	OK         bool   `json:"ok"`
	Data       string `json:"data"`
	Token      string `json:"token"`
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
}

func parseMessage(b []byte) (message, error) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return message{}, fmt.Errorf("baresip: control message %.80q: %w", b, err)
	}
	if m.Event == m.Response {
		return message{}, fmt.Errorf("baresip: control message %.80q is neither an event nor a response", b)
	}
	return m, nil
}

// encodeCommand returns the netstring for a ctrl_tcp command. HTML escaping is off
// because account lines contain '<' and '>', which baresip's JSON decoder need not
// unescape from \u003c.
func encodeCommand(command, params, token string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Command string `json:"command"`
		Params  string `json:"params,omitempty"`
		Token   string `json:"token"`
	}{command, params, token})
	return appendNetstring(nil, bytes.TrimRight(buf.Bytes(), "\n"))
}
