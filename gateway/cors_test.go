package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/camgate/camgate/appsettings"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	type want struct {
		status  int
		origin  string // Access-Control-Allow-Origin, "" = absent
		headers string // Access-Control-Allow-Headers
		methods string // Access-Control-Allow-Methods
	}
	list := appsettings.CORS{Enabled: true, AllowOrigin: "https://portal.example, null", AllowHeaders: "Authorization, Content-Type", AllowMethods: "GET, POST"}
	star := appsettings.CORS{Enabled: true, AllowOrigin: "*", AllowHeaders: "*", AllowMethods: "*"}
	for _, tc := range []struct {
		name    string
		cfg     appsettings.CORS
		method  string
		path    string
		origin  string
		reqMeth string
		reqHdrs string
		want    want
	}{
		{"off: cross-origin preflight refused", appsettings.CORS{}, "OPTIONS", "/api/rest/v1/webrtc/session", "https://portal.example", "POST", "authorization", want{status: 403}},
		{"off: cross-origin request gets no CORS headers", appsettings.CORS{}, "POST", "/api/rest/v1/webrtc/session", "https://portal.example", "", "", want{status: 200}},
		{"off: same-origin request passes", appsettings.CORS{}, "POST", "/api/rest/v1/webrtc/session", "http://camgate.local:8080", "", "", want{status: 200}},
		{"list: allowed origin preflight", list, "OPTIONS", "/api/rest/v1/webrtc/session", "https://portal.example", "PATCH", "authorization", want{204, "https://portal.example", "Authorization, Content-Type", "GET, POST"}},
		{"list: refused origin preflight", list, "OPTIONS", "/api/rest/v1/webrtc/session", "https://evil.example", "POST", "authorization", want{status: 403}},
		{"list: refused origin request has no allow header", list, "GET", "/api/rest/v1/cameras", "https://evil.example", "", "", want{status: 200}},
		{"list: allowed origin real request", list, "GET", "/api/rest/v1/cameras", "https://portal.example", "", "", want{status: 200, origin: "https://portal.example"}},
		{"list: null origin when listed", list, "OPTIONS", "/api/idp/connect/token", "null", "POST", "content-type", want{204, "null", "Authorization, Content-Type", "GET, POST"}},
		{"star: echoes requested headers and method", star, "OPTIONS", "/api/rest/v1/webrtc/session/abc", "https://any.example", "PATCH", "authorization, content-type", want{204, "https://any.example", "authorization, content-type", "PATCH"}},
		{"star: token endpoint preflight", star, "OPTIONS", "/api/idp/connect/token", "https://any.example", "POST", "content-type", want{204, "https://any.example", "content-type", "POST"}},
		{"star: null origin allowed", star, "OPTIONS", "/api/rest/v1/cameras", "null", "GET", "authorization", want{204, "null", "authorization", "GET"}},
		{"list without null refuses null", appsettings.CORS{Enabled: true, AllowOrigin: "https://portal.example"}, "OPTIONS", "/api/rest/v1/cameras", "null", "GET", "", want{status: 403}},
		{"non-API path untouched", star, "OPTIONS", "/index.html", "https://any.example", "GET", "", want{status: 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCORSPolicy(tc.cfg).wrap(ok)
			req := httptest.NewRequest(tc.method, "http://camgate.local:8080"+tc.path, nil)
			req.Header.Set("Origin", tc.origin)
			if tc.reqMeth != "" {
				req.Header.Set("Access-Control-Request-Method", tc.reqMeth)
			}
			if tc.reqHdrs != "" {
				req.Header.Set("Access-Control-Request-Headers", tc.reqHdrs)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := want{
				status:  rec.Code,
				origin:  rec.Header().Get("Access-Control-Allow-Origin"),
				headers: rec.Header().Get("Access-Control-Allow-Headers"),
				methods: rec.Header().Get("Access-Control-Allow-Methods"),
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v (body %s)", got, tc.want, rec.Body.String())
			}
			if got.status == http.StatusForbidden && rec.Header().Get("Content-Type") == "" {
				t.Fatal("refusal is not a JSON error")
			}
		})
	}
}
