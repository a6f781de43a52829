package web

import (
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// The gateway serves Files() with a plain file server; check what a browser
// would get for each file: found, and with a type it accepts for an ES module.
func TestFilesServeThePage(t *testing.T) {
	srv := httptest.NewServer(http.FileServerFS(Files()))
	defer srv.Close()

	cases := []struct {
		path, contentType, contains string
	}{
		{"/", "text/html", `<script type="module" src="app.js">`},
		{"/app.js", "text/javascript", "refreshCameras"},
		{"/api.js", "text/javascript", "export async function api(method, path, body)"},
		{"/session.js", "text/javascript", "videoos-commands"},
		{"/grid.js", "text/javascript", "export class CameraGrid"},
		{"/timeline.js", "text/javascript", "/recordings/export?start="},
		{"/stats.js", "text/javascript", "currentRoundTripTime"},
		{"/peer.js", "text/javascript", "export class PeerSession"},
		{"/style.css", "text/css", "grid-template-columns"},
	}
	for _, c := range cases {
		res, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatalf("GET %s: %v", c.path, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: reading body: %v", c.path, err)
		}
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", c.path, res.StatusCode)
		}
		if ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); ct != c.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, ct, c.contentType)
		}
		if !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: body lacks %q", c.path, c.contains)
		}
	}
}

// The page must work on a machine without internet access, and every file it
// names must exist (a typo would only show as a 404 in the browser).
func TestFilesAreSelfContained(t *testing.T) {
	files := Files()
	remote := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	local := regexp.MustCompile(`(?:src|href)="([^"]+)"|from '(\./[^']+)'`)
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if name != strings.ToLower(name) {
			t.Errorf("%s: file names are lower-case", name)
		}
		data, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		if m := remote.Find(data); m != nil {
			t.Errorf("%s refers to a remote URL %q", name, m)
		}
		for _, m := range local.FindAllSubmatch(data, -1) {
			ref := string(m[1]) + string(m[2])
			if strings.HasPrefix(ref, "data:") {
				continue
			}
			if _, err := fs.Stat(files, path.Clean(strings.TrimPrefix(ref, "./"))); err != nil {
				t.Errorf("%s refers to %q, which is not embedded", name, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(files, "index.html"); err != nil {
		t.Errorf("index.html is not at the root: %v", err)
	}
}
