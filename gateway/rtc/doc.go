// Package rtc is camgate's WebRTC session layer: the Manager that creates,
// finds and closes sessions for any signaling protocol; the pion API and
// the media sockets all sessions share; the media-source interface and its
// two sources (a camera's live stream, a recording's player); the sender,
// catch-up, NACK answers and sender reports; the session limits; and the
// commands data channel.
//
// It speaks no HTTP and no JSON: it takes and gives typed values (SDP
// descriptions, ICE candidates, events) and returns typed errors (*Error
// with a Kind). Package signaling maps those to each protocol's answers and
// owns every wire format, the data channel's included (CommandCodec).
//
// It reads no settings either: the gateway shell maps them, parsed and
// validated at load, onto Config.
package rtc
