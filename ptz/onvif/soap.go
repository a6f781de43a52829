package onvif

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1" // WS-Security's UsernameToken digest is SHA-1 by definition
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camgate/camgate/ptz"
)

// maxResponseBytes bounds what camgate reads of a camera's answer.
const maxResponseBytes = 1 << 20

// Fault is a SOAP fault from the camera: the code (env:Sender or
// env:Receiver), the ONVIF subcodes from outer to inner
// (ter:InvalidArgVal, ter:NoProfile, …) and the reason text.
type Fault struct {
	Op       string   // the operation that failed, e.g. "ContinuousMove"
	Status   int      // the HTTP status it came with
	Code     string   // "env:Sender"
	Subcodes []string // ["ter:InvalidArgVal", "ter:NoProfile"]
	Reason   string
}

func (f *Fault) Error() string {
	s := "onvif " + f.Op + ": fault " + f.FaultCode()
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

// FaultCode is the innermost subcode ("ter:NoProfile"), or the code.
func (f *Fault) FaultCode() string {
	if n := len(f.Subcodes); n > 0 {
		return f.Subcodes[n-1]
	}
	return f.Code
}

// has reports whether a subcode with this local name is there, whatever
// its prefix.
func (f *Fault) has(local string) bool {
	return slices.ContainsFunc(f.Subcodes, func(s string) bool { return localName(s) == local })
}

// Is makes errors.Is match the driver's error kinds: every fault is a
// camera fault; NotAuthorized (or HTTP 401/403) is an auth error;
// ActionNotSupported is "not supported"; NoToken/NoEntity is "not found".
func (f *Fault) Is(target error) bool {
	switch target {
	case ptz.ErrCameraFault:
		return true
	case ptz.ErrCameraAuth:
		return f.auth()
	case ptz.ErrNotSupported:
		return f.has("ActionNotSupported")
	case ptz.ErrNotFound:
		return f.has("NoToken") || f.has("NoEntity")
	}
	return false
}

func (f *Fault) auth() bool {
	return f.Status == http.StatusUnauthorized || f.Status == http.StatusForbidden || f.has("NotAuthorized")
}

func localName(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// soapFault is env:Fault in SOAP 1.2 and, for old cameras, 1.1.
type soapFault struct {
	Code struct {
		Value   string
		Subcode *subcode
	}
	Reason struct {
		Text []string
	}
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
}

type subcode struct {
	Value   string
	Subcode *subcode
}

type respEnvelope struct {
	Body struct {
		Fault *soapFault `xml:"Fault"`
		Inner []byte     `xml:",innerxml"`
	}
}

// client makes SOAP calls, signed with WS-Security UsernameToken digests
// stamped with the camera's clock.
type client struct {
	http     *http.Client
	user     string
	password string
	timeout  time.Duration

	mu        sync.Mutex
	offset    time.Duration // camera clock − local clock
	learnedAt time.Time
	learn     func(ctx context.Context) error // re-learns the offset
}

// call posts a signed request to url and decodes the answer into resp. On
// an auth fault it re-learns the camera's clock once and tries once more (a
// camera that rebooted or changed its clock for DST rejects digests stamped
// with the old offset). Unsigned requests (the clock itself) use do.
func (c *client) call(ctx context.Context, url, op string, req, resp any) error {
	err := c.do(ctx, url, op, req, resp, true)
	var f *Fault
	if c.user != "" && c.learn != nil && errors.As(err, &f) && f.auth() {
		if lerr := c.learn(ctx); lerr == nil {
			err = c.do(ctx, url, op, req, resp, true)
		}
	}
	return err
}

func (c *client) do(ctx context.Context, url, op string, req, resp any, auth bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, err := c.envelope(req, auth)
	if err != nil {
		return fmt.Errorf("onvif %s: %w", op, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("onvif %s: %w", op, err)
	}
	hreq.Header.Set("Content-Type", `application/soap+xml; charset=utf-8`)
	hres, err := c.http.Do(hreq)
	if err != nil {
		return fmt.Errorf("onvif %s: %w", op, err)
	}
	defer hres.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hres.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("onvif %s: reading the answer: %w", op, err)
	}
	var env respEnvelope
	perr := xml.Unmarshal(data, &env)
	if perr == nil && env.Body.Fault != nil {
		return faultOf(op, hres.StatusCode, env.Body.Fault)
	}
	if hres.StatusCode/100 != 2 {
		return &Fault{Op: op, Status: hres.StatusCode, Code: "HTTP " + strconv.Itoa(hres.StatusCode)}
	}
	if perr != nil {
		return fmt.Errorf("onvif %s: the answer is not SOAP: %w", op, perr)
	}
	if err := xml.Unmarshal(env.Body.Inner, resp); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("onvif %s: cannot read the answer: %w", op, err)
	}
	return nil
}

func faultOf(op string, status int, sf *soapFault) *Fault {
	f := &Fault{Op: op, Status: status, Code: strings.TrimSpace(sf.Code.Value)}
	for s, n := sf.Code.Subcode, 0; s != nil && n < 8; s, n = s.Subcode, n+1 {
		f.Subcodes = append(f.Subcodes, strings.TrimSpace(s.Value))
	}
	if len(sf.Reason.Text) > 0 {
		f.Reason = strings.TrimSpace(sf.Reason.Text[0])
	}
	if f.Code == "" { // SOAP 1.1
		f.Code, f.Reason = strings.TrimSpace(sf.FaultCode), strings.TrimSpace(sf.FaultString)
	}
	if len(f.Reason) > 200 {
		f.Reason = f.Reason[:200]
	}
	return f
}

// envelope marshals a request, with a UsernameToken when auth is set and
// a user name is configured.
func (c *client) envelope(req any, auth bool) ([]byte, error) {
	env := envelope{S: nsSOAP, TDS: nsTDS, TRT: nsTRT, TPTZ: nsTPTZ, TT: nsTT}
	env.Body.Content = req
	if auth && c.user != "" {
		h, err := c.security()
		if err != nil {
			return nil, err
		}
		env.Header = h
	}
	b, err := xml.Marshal(env)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}

// security builds the UsernameToken: a 16-byte random nonce, Created in
// the camera's time (UTC, milliseconds, "Z"), and
// Password = Base64(SHA1(nonce ‖ Created ‖ password)).
func (c *client) security() (*secHeader, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	created := c.cameraNow().UTC().Format("2006-01-02T15:04:05.000Z")
	h := &secHeader{}
	s := &h.Security
	s.WSSE, s.WSU, s.MustUnderstand = nsWSSE, nsWSU, "1"
	s.Token.Username = c.user
	s.Token.Password.Type = passwordDigestType
	s.Token.Password.Value = Digest(nonce, created, c.password)
	s.Token.Nonce.EncodingType = base64Encoding
	s.Token.Nonce.Value = base64.StdEncoding.EncodeToString(nonce)
	s.Token.Created = created
	return h, nil
}

// Digest is the WS-Security PasswordDigest: Base64(SHA1(nonce ‖ created ‖
// password)).
func Digest(nonce []byte, created, password string) string {
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func (c *client) cameraNow() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *client) setOffset(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.learnedAt = d, time.Now()
}

func (c *client) clock() (offset time.Duration, learnedAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset, c.learnedAt
}
