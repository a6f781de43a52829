// Package web holds camgate's browser side: static files (no build step)
// that the gateway serves at "/". They talk to the gateway only through its
// XProtect-compatible REST API, so the page doubles as a reference client.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files returns the page's files with index.html at the root.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "static" is a constant
		// that go:embed has already checked at compile time.
		panic(err)
	}
	return sub
}
