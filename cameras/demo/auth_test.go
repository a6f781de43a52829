package demo

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDigestAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, &Server{Clip: smallClip(t, testFrames), FPS: testFPS, Username: "admin", Password: "s3cret"})
	good, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if good.User.String() != "admin:s3cret" {
		t.Fatalf("URL does not carry the credentials: %v", good.Redacted())
	}

	for name, user := range map[string]*url.Userinfo{
		"no credentials": nil,
		"wrong password": url.UserPassword("admin", "guess"),
		"wrong user":     url.UserPassword("root", "s3cret"),
	} {
		t.Run(name, func(t *testing.T) {
			bad := *good
			bad.User = user
			_, err := dial(bad.String(), tcp)
			if err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("err = %v, want 401", err)
			}
		})
	}

	t.Run("right password", func(t *testing.T) {
		mustDial(t, good.String(), tcp).nextIDR(t)
	})
}

// TestBasicAuthOnlyWhenAllowed sends raw DESCRIBEs: without credentials the
// challenge offers Digest (and Basic only when allowed); right credentials
// sent as Basic are rejected by default and accepted with AllowBasicAuth.
func TestBasicAuthOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("allow=", allow), func(t *testing.T) {
			s := startServer(t, &Server{Clip: smallClip(t, 2), Username: "admin", Password: "s3cret", AllowBasicAuth: allow})
			u := "rtsp://" + s.Addr() + "/demo"

			status, challenges := rawDescribe(t, s.Addr(), u, "")
			if status != 401 {
				t.Fatalf("status without credentials = %d, want 401", status)
			}
			offersBasic, offersDigest := false, false
			for _, c := range challenges {
				offersBasic = offersBasic || strings.HasPrefix(c, "Basic ")
				offersDigest = offersDigest || strings.HasPrefix(c, "Digest ")
			}
			if !offersDigest || offersBasic != allow {
				t.Errorf("WWW-Authenticate = %q: want Digest, and Basic only if allowed", challenges)
			}

			status, _ = rawDescribe(t, s.Addr(), u, "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:s3cret")))
			want := 401
			if allow {
				want = 200
			}
			if status != want {
				t.Fatalf("status with Basic credentials = %d, want %d", status, want)
			}
		})
	}
}

// rawDescribe sends one DESCRIBE (with an Authorization header unless it is
// empty) and returns the status code and the WWW-Authenticate headers.
func rawDescribe(t *testing.T, addr, u, authorization string) (int, []string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf("DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n", u)
	if authorization != "" {
		req += "Authorization: " + authorization + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}

	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read status: %v", err)
	}
	var status int
	if _, err := fmt.Sscanf(line, "RTSP/1.0 %d", &status); err != nil {
		t.Fatalf("status line %q: %v", line, err)
	}
	var challenges []string
	for {
		h, err := br.ReadString('\n')
		if err != nil || h == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "WWW-Authenticate") {
			challenges = append(challenges, strings.TrimSpace(v))
		}
	}
	return status, challenges
}
