package gateway

import (
	"net/http"
	"strings"
)

// caseInsensitiveAPI lower-cases the path of every request under /API before
// routing. XProtect runs on IIS and ASP.NET Core, whose routes ignore case,
// and real clients mix /API and /api, REST and rest, IceCandidates and
// iceCandidates. Routes are registered lower-case; ids in paths are GUIDs,
// compared case-insensitively anyway. A trailing slash is dropped too,
// instead of answering a redirect that a POST would not follow.
func caseInsensitiveAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if len(p) >= 4 && strings.EqualFold(p[:4], "/api") && (len(p) == 4 || p[4] == '/') {
			p = strings.ToLower(p)
			if len(p) > 1 {
				p = strings.TrimRight(p, "/")
			}
			r.URL.Path = p
			r.URL.RawPath = ""
		}
		next.ServeHTTP(w, r)
	})
}
