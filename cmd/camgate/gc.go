package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target camgate runs with
// unless the GOGC environment variable says otherwise (GOMEMLIMIT is
// honoured as always). camgate allocates almost nothing per packet, so
// collecting at 50 % heap growth instead of Go's 100 % costs little CPU;
// it trims the memory each viewer holds by about a fifth (290 instead of
// 350 KB of RSS per viewer at 200 viewers, docs/performance.md).
const defaultGCPercent = 50

// tuneGC applies defaultGCPercent when GOGC is not set (an empty GOGC is
// not set either: Go's runtime ignores it too).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
