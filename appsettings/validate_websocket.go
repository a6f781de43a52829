package appsettings

import (
	"strconv"
	"time"
)

// webSocket checks the WebSocket limits and timers.
func (v *validator) webSocket(w *WebSocket) {
	if n := w.MaxSessionsPerConnection; n < 1 || n > 1024 {
		v.fail("WebSocket.MaxSessionsPerConnection", "must be from 1 to 1024 (got "+strconv.Itoa(n)+")")
	}
	if n := w.MaxConnectionsPerUser; n < 1 || n > 1024 {
		v.fail("WebSocket.MaxConnectionsPerUser", "must be from 1 to 1024 (got "+strconv.Itoa(n)+")")
	}
	if d := time.Duration(w.PingInterval); d < time.Second || d > 5*time.Minute {
		v.fail("WebSocket.PingInterval", "must be from 1s to 5m (got "+d.String()+")")
	}
	if d := time.Duration(w.RegisterTimeout); d < time.Second || d > 5*time.Minute {
		v.fail("WebSocket.RegisterTimeout", "must be from 1s to 5m (got "+d.String()+")")
	}
	if n := w.MaxMessagesPerSecond; n < 1 || n > 100000 {
		v.fail("WebSocket.MaxMessagesPerSecond", "must be from 1 to 100000 (got "+strconv.Itoa(n)+")")
	}
	if n := w.MaxMessageBurst; n < 1 || n > 100000 {
		v.fail("WebSocket.MaxMessageBurst", "must be from 1 to 100000 (got "+strconv.Itoa(n)+")")
	}
}
