package gateway_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/testutil"
)

// A client that sends 5,000 messages at once and reads every answer is
// not closed as "does not read": the messages over WebSocket.MaxMessageBurst
// are answered with error 1001 each, and the socket stays open.
func TestWebSocketBurstClientStaysOpen(t *testing.T) {
	t.Parallel()
	const burst, n = 300, 5000
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.WebSocket.MaxMessagesPerSecond = 1
		s.WebSocket.MaxMessageBurst = burst
	}})
	c := env.mustDialWS()
	c.register(env.token) // takes a token of the burst

	sent := make(chan error, 1)
	go func() {
		for i := range n {
			if err := c.write(websocket.TextMessage, fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"nope","id":%d}`, 100+i)); err != nil {
				sent <- fmt.Errorf("message %d: %w", i, err)
				return
			}
		}
		sent <- nil
	}()
	answered := map[string]bool{}
	handled, limited := 0, 0
	for range n {
		m := c.next(30 * time.Second)
		switch {
		case m.Error == nil || m.ID == nil || answered[string(m.ID)]:
			t.Fatalf("got %s, want one error answering each message", m.Raw)
		case m.Error.Code == -32601:
			handled++
		case m.Error.Code == 1001 && strings.Contains(m.Error.Message, "WebSocket.MaxMessagesPerSecond"):
			limited++
		default:
			t.Fatalf("got %s, want -32601 or a 1001 naming WebSocket.MaxMessagesPerSecond", m.Raw)
		}
		answered[string(m.ID)] = true
	}
	if err := <-sent; err != nil {
		t.Fatalf("send: %v", err)
	}
	// The bucket starts full: the first burst-1 are handled. At 1 per
	// second, more than half of the rest are refused unless sending 5,000
	// messages took over half an hour.
	if handled < burst-1 || limited < (n-burst)/2 {
		t.Errorf("%d handled, %d refused over the rate; want at least %d and %d", handled, limited, burst-1, (n-burst)/2)
	}
	// Still open: the next message is answered.
	c.sendRaw(`{"jsonrpc":"2.0","method":"nope","id":"after"}`)
	if m := c.next(10 * time.Second); string(m.ID) != `"after"` || m.Error == nil {
		t.Fatalf("after the burst: got %s, want the answer to id \"after\"", m.Raw)
	}
	c.checkProblems()
}

// A client that sends and never reads is closed once camgate has not been
// able to write to it for wsWriteWait, with that reason. Meanwhile
// camgate's memory stays bounded: its queue is full, so it stops reading
// the client's messages, and the client's own writes stall.
func TestWebSocketClientThatNeverReadsIsClosed(t *testing.T) {
	t.Parallel()
	logs := &testutil.SyncBuffer{}
	env := newTestEnv(t, envOptions{logs: logs})
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial(env.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "register", "params": map[string]string{"authorization": env.token}, "id": 1})
	if err := conn.WriteMessage(websocket.TextMessage, reg); err != nil {
		t.Fatal(err)
	}
	// Send without end, and never read: each message is answered (a
	// -32601 or, past the burst, a 1001), and the answers fill the buffers
	// until camgate's writes stall. The writes then stall too (camgate stops
	// reading), until camgate cuts the connection or the test ends.
	msg := []byte(`{"jsonrpc":"2.0","method":"nope","id":1234567}`)
	go func() {
		for {
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		}
	}()
	const reason = "the client does not read: no message could be written to it for 10s"
	deadline := time.Now().Add(90 * time.Second) // bounds a hang only
	for !strings.Contains(logs.String(), "websocket closed") {
		if time.Now().After(deadline) {
			t.Fatalf("the socket of a client that never reads is still open after 90 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var line, wsLog string
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, "websocket") {
			wsLog += l + "\n"
		}
		if strings.Contains(l, "websocket closed") {
			line = l
		}
	}
	if !strings.Contains(line, "code=1008") || !strings.Contains(line, reason) {
		t.Fatalf("closed with %q, want code 1008 and %q\nthe socket's log:\n%s", line, reason, wsLog)
	}
	if env.gw.SessionCount() != 0 {
		t.Errorf("%d sessions left", env.gw.SessionCount())
	}
}
