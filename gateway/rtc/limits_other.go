//go:build !linux

package rtc

// openFileDescriptors cannot count the open file descriptors cheaply
// outside Linux: Limits.MinFreeFileDescriptors is not checked there.
func openFileDescriptors() (open, limit int, ok bool) { return 0, 0, false }
