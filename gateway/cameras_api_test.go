package gateway_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// xprotectCamera is the part of a camera of the cameras API that XProtect's
// Configuration API clients read, plus camgate's state.
type xprotectCamera struct {
	ID           string  `json:"id"`
	DisplayName  string  `json:"displayName"`
	Name         string  `json:"name"`
	Enabled      *bool   `json:"enabled"`
	Description  *string `json:"description"`
	Channel      *int    `json:"channel"`
	LastModified string  `json:"lastModified"`
	Relations    struct {
		Self struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"self"`
	} `json:"relations"`
	State string `json:"state"`
}

// dotNetTimeRE is .NET's round-trip form, as XProtect writes times.
var dotNetTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$`)

func checkXProtectCamera(t *testing.T, what string, c xprotectCamera) {
	t.Helper()
	if !strings.EqualFold(c.ID, testCameraID) || c.Name == "" || c.DisplayName != c.Name ||
		c.Enabled == nil || !*c.Enabled || c.Description == nil || c.Channel == nil ||
		!dotNetTimeRE.MatchString(c.LastModified) ||
		c.Relations.Self.Type != "cameras" || c.Relations.Self.ID != c.ID || c.State == "" {
		t.Errorf("%s: camera not in XProtect's shape: %+v", what, c)
	}
}

// Milestone's REST samples read GET /cameras as {"array":[…]} and
// GET /cameras/{id} as {"data":{…}} with XProtect's member names, and
// read json()["error"] on any other status; camgate's own members ride
// along in the same objects.
func TestCamerasInXProtectEnvelopes(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	env.waitStreaming()

	st, body := env.do(http.MethodGet, "/rest/v1/cameras", nil)
	var list struct {
		Array []xprotectCamera `json:"array"`
	}
	if st != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Array) != 1 {
		t.Fatalf("GET cameras: %d %s, want 200 {\"array\":[one camera]}", st, body)
	}
	checkXProtectCamera(t, "list", list.Array[0])

	// XProtect clients send GUIDs in either case and paths in lower case.
	for _, path := range []string{"/rest/v1/cameras/" + testCameraID, "/rest/v1/cameras/" + strings.ToLower(testCameraID)} {
		st, body = env.do(http.MethodGet, path, nil)
		var item struct {
			Data xprotectCamera `json:"data"`
		}
		if st != http.StatusOK || json.Unmarshal(body, &item) != nil {
			t.Fatalf("GET %s: %d %s, want 200 {\"data\":{…}}", path, st, body)
		}
		checkXProtectCamera(t, path, item.Data)
	}

	missing := "00000000-0000-4000-8000-000000000000"
	stranger := env.signIn(otherUser, testPassword)
	// The router lower-cases the path, so the text names the id so.
	for _, tc := range []struct{ token, id string }{{env.token, missing}, {stranger, testCameraID}} {
		st, body = env.doAs(tc.token, http.MethodGet, "/rest/v1/cameras/"+tc.id, nil)
		checkErrorBody(t, st, body, http.StatusNotFound, strings.ToLower(tc.id), "does not exist")
	}
}
