package oauth

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// FuzzTokenRequest feeds arbitrary bytes as the form body of the token
// endpoint. Whatever the body, the endpoint answers JSON: 200 with tokens,
// or an error with a known code and a status that goes with it. Seeds are
// the bodies of the endpoint's case table.
func FuzzTokenRequest(f *testing.F) {
	for _, tc := range tokenCases() {
		// The 64 KB body stays in the table test: the fuzzer would spend
		// its time minimizing it.
		if tc.method == "" && len(tc.body) < 4096 && (tc.contentType == "" || tc.contentType == "application/x-www-form-urlencoded; charset=UTF-8") {
			f.Add([]byte(tc.body))
		}
	}
	f.Add([]byte("grant_type=password&username=alice&password=" + url.QueryEscape(alicePassword) + "&client_id=VmsClient&client_id=VmsClient"))
	f.Add([]byte("grant_type=refresh_token&client_id=VmsClient&refresh_token=%00%ff"))
	f.Add([]byte("&&&===;;"))

	svc := newTestService(f, testSettings(f))
	// A live refresh token, so that the fuzzer can reach the refresh path.
	refresh := signIn(f, svc.Service, "alice", alicePassword).str("refresh_token")
	f.Add([]byte(refreshForm(refresh).Encode()))

	statusFor := map[string][]int{
		errInvalidRequest:       {http.StatusBadRequest},
		errInvalidClient:        {http.StatusUnauthorized},
		errInvalidGrant:         {http.StatusBadRequest, http.StatusTooManyRequests},
		errUnauthorizedClient:   {http.StatusBadRequest},
		errUnsupportedGrantType: {http.StatusBadRequest},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a := doToken(t, svc.Service, http.MethodPost, "application/x-www-form-urlencoded", string(body), "192.0.2.1:1")
		if a.status == http.StatusOK {
			if a.str("access_token") == "" || a.str("token_type") != "Bearer" {
				t.Fatalf("200 without a token: %s", a.raw)
			}
			if _, err := svc.Verify(context.Background(), a.str("access_token")); err != nil {
				t.Fatalf("issued token does not verify: %v", err)
			}
			return
		}
		want, known := statusFor[a.str("error")]
		if !known || a.str("error_description") == "" {
			t.Fatalf("unknown error answer %d %s", a.status, a.raw)
		}
		for _, s := range want {
			if s == a.status {
				return
			}
		}
		t.Fatalf("status %d for %q", a.status, a.str("error"))
	})
}
