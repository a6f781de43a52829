package gateway_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/camgate/camgate/appsettings"
)

// A page on evil.example that rebinds its name to camgate's address sends
// Host: evil.example. Every route refuses it: REST, the token endpoint,
// the WebSocket upgrade, the console, /metrics; camgate's own names and
// literal addresses pass.
func TestHostCheck(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.Http.AllowedHosts = []string{"cams.example.com", "*.cams.example.net"}
		s.Auth.BuiltIn.Issuer = "https://idp-name.example.org/API/IDP"
	}})
	u, err := url.Parse(env.base)
	if err != nil {
		t.Fatal(err)
	}
	listener := u.Host // 127.0.0.1:PORT
	_, port, _ := net.SplitHostPort(listener)

	refused := []string{"evil.example", "evil.example:" + port, "evil.example:8080", "EVIL.example.", "cams.example.com.evil.example", "cams.example.net", "[evil.example]:" + port, "localhost.evil.example"}
	allowed := []string{listener, "localhost:" + port, "LOCALHOST", "camgate.localhost:" + port, "[::1]:" + port, "[::1]", "192.0.2.7:8080",
		"cams.example.com", "Cams.Example.Com.:443", "a.cams.example.net:" + port, "idp-name.example.org"}

	// REST with a valid token.
	rest := func(host string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, env.base+"/rest/v1/cameras", nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+env.token)
		return send(t, req)
	}
	// The token endpoint with the right password.
	token := func(host string) (int, string) {
		t.Helper()
		form := url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {testPassword}, "client_id": {"GrantValidatorClient"}}
		req, _ := http.NewRequest(http.MethodPost, env.base+"/IDP/connect/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Host = host
		return send(t, req)
	}
	// The WebSocket upgrade, as a same-origin page on that host would open it.
	upgrade := func(host string) (int, string) {
		t.Helper()
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		h := http.Header{"Host": {host}, "Origin": {"http://" + host}}
		conn, resp, err := d.Dial(env.wsURL(""), h)
		if err == nil {
			_ = conn.Close()
			return resp.StatusCode, ""
		}
		if resp == nil {
			t.Fatalf("upgrade with Host %q: %v", host, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	console := func(host string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(env.base, "/API")+"/metrics", nil)
		req.Host = host
		return send(t, req)
	}

	for _, host := range refused {
		for name, try := range map[string]func(string) (int, string){"REST": rest, "token endpoint": token, "WebSocket upgrade": upgrade, "metrics": console} {
			status, body := try(host)
			if status != http.StatusMisdirectedRequest {
				t.Errorf("%s with Host %q: status %d, want 421 (body %s)", name, host, status, body)
				continue
			}
			var e struct {
				Error struct {
					HTTPCode int `json:"httpCode"`
					Details  []struct {
						ErrorText string `json:"errorText"`
					} `json:"details"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.HTTPCode != 421 || len(e.Error.Details) != 1 {
				t.Errorf("%s with Host %q: body %s is not the API's error shape", name, host, body)
				continue
			}
			text := e.Error.Details[0].ErrorText
			if !strings.Contains(text, "Http.AllowedHosts") || !strings.Contains(text, mustJSON(host)) {
				t.Errorf("%s with Host %q: %q names neither Http.AllowedHosts nor the host", name, host, text)
			}
		}
	}
	for _, host := range allowed {
		if status, body := rest(host); status != http.StatusOK {
			t.Errorf("REST with Host %q: status %d, want 200 (body %s)", host, status, body)
		}
		if status, body := token(host); status != http.StatusOK {
			t.Errorf("token endpoint with Host %q: status %d, want 200 (body %s)", host, status, body)
		}
		if status, body := upgrade(host); status != http.StatusSwitchingProtocols {
			t.Errorf("WebSocket upgrade with Host %q: status %d, want 101 (body %s)", host, status, body)
		}
	}
	// Probes answer whatever the Host: they name nothing a page could use.
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(env.base, "/API")+path, nil)
		req.Host = "evil.example"
		if status, body := send(t, req); status != http.StatusOK {
			t.Errorf("%s with Host evil.example: status %d, want 200 (body %s)", path, status, body)
		}
	}
}

// The refusal quotes the Host cut and escaped. (Go's server answers a Host
// with control characters or non-ASCII bytes 400 itself.) Sent over a raw
// connection: Go's client would clean such a Host up.
func TestHostCheckQuotesTheHost(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	u, _ := url.Parse(env.base)
	long := strings.Repeat("a", 5000) + ".example"
	for host, want := range map[string]string{
		`ev!l$&'()*+,;=~.example:80`: `"ev!l$&'()*+,;=~.example:80"`,
		long:                         `"` + long[:100] + `"…`,
	} {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, "GET /API/rest/v1/cameras HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("Host %.40q: %v", host, err)
		}
		var e struct {
			Error struct {
				Details []struct {
					ErrorText string `json:"errorText"`
				} `json:"details"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		_ = conn.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest || err != nil || len(e.Error.Details) != 1 {
			t.Fatalf("Host %.40q: status %d, %v, %+v; want a 421 JSON error", host, resp.StatusCode, err, e)
		}
		if text := e.Error.Details[0].ErrorText; !strings.Contains(text, " "+want+":") || len(text) > 400 {
			t.Errorf("Host %.40q: %q does not quote it as %s", host, text, want)
		}
	}
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %q): %v", req.Method, req.URL, req.Host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
