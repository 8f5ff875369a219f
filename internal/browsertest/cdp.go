package browsertest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// cdp is a minimal, synchronous Chrome DevTools Protocol client over a
// hand-written WebSocket (RFC 6455) connection: the browser test needs a
// dozen commands, not a module. Events that arrive while waiting for a
// reply are kept in order for waitEvent and for the error checks.
type cdp struct {
	conn    net.Conn
	r       *bufio.Reader
	nextID  int64
	events  []cdpMessage // received, not yet consumed by waitEvent
	seen    []cdpMessage // every event since the last clearSeen
	timeout time.Duration
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// dialCDP opens the WebSocket at wsURL (ws://127.0.0.1:PORT/devtools/...).
func dialCDP(wsURL string, timeout time.Duration) (*cdp, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", wsURL, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u.Host, err)
	}
	var key [16]byte
	rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + k +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, fmt.Errorf("write handshake: %w", err)
	}
	r := bufio.NewReaderSize(conn, 1<<16)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("read handshake: %w", err)
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	conn.SetDeadline(time.Time{})
	return &cdp{conn: conn, r: r, timeout: timeout}, nil
}

func (c *cdp) Close() error { return c.conn.Close() }

// writeFrame sends one masked frame, as a client must.
func (c *cdp) writeFrame(opcode byte, payload []byte) error {
	hdr := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	buf := make([]byte, len(hdr)+len(payload))
	copy(buf, hdr)
	for i, b := range payload {
		buf[len(hdr)+i] = b ^ mask[i%4]
	}
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.conn.Write(buf)
	return err
}

// readMessage returns the next complete text message, answering pings
// and joining fragments.
func (c *cdp) readMessage(deadline time.Time) ([]byte, error) {
	c.conn.SetReadDeadline(deadline)
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			return nil, err
		}
		fin, opcode := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.r, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.r, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		var mask [4]byte
		masked := h[1]&0x80 != 0
		if masked {
			if _, err := io.ReadFull(c.r, mask[:]); err != nil {
				return nil, err
			}
		}
		if n > 64<<20 {
			return nil, fmt.Errorf("websocket frame of %d bytes", n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.r, payload); err != nil {
			return nil, err
		}
		if masked {
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
		}
		switch opcode {
		case 0x8: // close
			return nil, io.EOF
		case 0x9: // ping
			if err := c.writeFrame(0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA: // pong
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

func (c *cdp) receive(deadline time.Time) (cdpMessage, error) {
	b, err := c.readMessage(deadline)
	if err != nil {
		return cdpMessage{}, fmt.Errorf("read devtools message: %w", err)
	}
	var m cdpMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return cdpMessage{}, fmt.Errorf("decode devtools message: %w", err)
	}
	if m.Method != "" {
		c.events = append(c.events, m)
		c.seen = append(c.seen, m)
	}
	return m, nil
}

// call sends method with params in session (empty = the browser) and
// decodes the result into out (may be nil).
func (c *cdp) call(session, method string, params, out any) error {
	c.nextID++
	id := c.nextID
	req := map[string]any{"id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if session != "" {
		req["sessionId"] = session
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := c.writeFrame(0x1, b); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	deadline := time.Now().Add(c.timeout)
	for {
		m, err := c.receive(deadline)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				return fmt.Errorf("%s: decode result: %w", method, err)
			}
		}
		return nil
	}
}

var errDialog = errors.New("page opened a JavaScript dialog")

// waitEvent consumes events until one named method arrives in session.
// A JavaScript dialog (alert) stops the wait: the page ran a script.
func (c *cdp) waitEvent(session, method string) (cdpMessage, error) {
	deadline := time.Now().Add(c.timeout)
	for {
		for len(c.events) > 0 {
			m := c.events[0]
			c.events = c.events[1:]
			if m.Method == "Page.javascriptDialogOpening" {
				return m, fmt.Errorf("%w: %s", errDialog, m.Params)
			}
			if m.Method == method && m.SessionID == session {
				return m, nil
			}
		}
		if _, err := c.receive(deadline); err != nil {
			return cdpMessage{}, fmt.Errorf("wait for %s: %w", method, err)
		}
	}
}

// clearSeen forgets recorded events, so errors are attributed per page.
func (c *cdp) clearSeen() {
	c.seen = nil
	c.events = nil
}

// pageErrors lists console errors, uncaught exceptions, log entries of
// level error (failed loads, CSP violations) and dialogs seen since the
// last clearSeen.
func (c *cdp) pageErrors() []string {
	var errs []string
	for _, m := range c.seen {
		switch m.Method {
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
				Args []struct {
					Value       any    `json:"value"`
					Description string `json:"description"`
				} `json:"args"`
			}
			json.Unmarshal(m.Params, &p)
			if p.Type == "error" || p.Type == "assert" {
				errs = append(errs, fmt.Sprintf("console.%s: %v", p.Type, p.Args))
			}
		case "Runtime.exceptionThrown":
			errs = append(errs, "exception: "+string(bytes.TrimSpace(m.Params)))
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level, Source, Text, URL string
				} `json:"entry"`
			}
			json.Unmarshal(m.Params, &p)
			if p.Entry.Level == "error" {
				errs = append(errs, fmt.Sprintf("log %s: %s %s", p.Entry.Source, p.Entry.Text, p.Entry.URL))
			}
		case "Page.javascriptDialogOpening":
			errs = append(errs, "dialog: "+string(m.Params))
		}
	}
	return errs
}
