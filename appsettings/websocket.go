package appsettings

import "time"

// WebSocket configures the WebSocket signaling endpoint {api}/ws/webrtc/v1
// (XProtect 2025 R1 and later): one socket carries the signaling of many
// sessions.
type WebSocket struct {
	// MaxSessionsPerConnection is how many open sessions one socket may have
	// created; a connect beyond it is refused until one ends.
	// Default: 64.
	MaxSessionsPerConnection int
	// MaxConnectionsPerUser is how many registered sockets one user may have
	// open at once; a register beyond it is refused and its socket closed.
	// Default: 16.
	MaxConnectionsPerUser int
	// PingInterval is how often camgate pings an idle client. A socket on
	// which nothing, not even a pong, arrives for two intervals is closed.
	// Default: "20s".
	PingInterval Duration
	// RegisterTimeout is how long a new socket may wait before its register
	// message; a socket that has not registered by then is closed.
	// Default: "10s".
	RegisterTimeout Duration
	// MaxMessagesPerSecond is the sustained rate of messages one socket
	// may send; MaxMessageBurst is how many it may send at once beyond
	// that rate (a token bucket that refills at MaxMessagesPerSecond and
	// holds MaxMessageBurst). A message over the rate is not handled and
	// is answered with error 1001; the socket stays open.
	// Default: 100 per second.
	MaxMessagesPerSecond int
	// MaxMessageBurst: see MaxMessagesPerSecond. Opening a camera costs a
	// connect, an answer and a few trickles, so the default lets a console
	// open dozens of cameras at once. Default: 1000.
	MaxMessageBurst int
}

// defaultWebSocket is the WebSocket part of Defaults.
func defaultWebSocket() WebSocket {
	return WebSocket{
		MaxSessionsPerConnection: 64,
		MaxConnectionsPerUser:    16,
		PingInterval:             Duration(20 * time.Second),
		RegisterTimeout:          Duration(10 * time.Second),
		MaxMessagesPerSecond:     100,
		MaxMessageBurst:          1000,
	}
}
