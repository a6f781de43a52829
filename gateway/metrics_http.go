package gateway

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/signaling"
	"github.com/camgate/camgate/oauth"
)

// The monitoring endpoints sit at the root, not under /API, where load
// balancers and Prometheus look for them:
//
//	GET /metrics  Prometheus text; who may scrape is set by Metrics
//	GET /healthz  200 {"status":"ok"} while the process serves; no token
//	GET /readyz   200 when ready for traffic, else 503; no token

// metricsAccess holds the Metrics settings as the handler uses them.
type metricsAccess struct {
	cfg   appsettings.Metrics
	allow []netip.Prefix
}

func newMetricsAccess(cfg appsettings.Metrics) metricsAccess {
	return metricsAccess{cfg: cfg, allow: appsettings.ParsePrefixes(cfg.AllowFrom)}
}

func (a metricsAccess) allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range a.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func (g *Gateway) monitoringRoutes(r *gin.Engine) {
	noStore := func(c *gin.Context) { c.Header("Cache-Control", "no-store") }
	r.GET("/healthz", noStore, g.getHealthz)
	r.HEAD("/healthz", noStore, g.getHealthz)
	r.GET("/readyz", noStore, g.getReadyz)
	r.HEAD("/readyz", noStore, g.getReadyz)
	if !g.metrics.access.cfg.Enabled {
		r.GET("/metrics", noStore, func(c *gin.Context) {
			signaling.WriteError(c, signaling.Errorf(http.StatusNotFound, "metrics are turned off (Metrics.Enabled is false)"))
		})
		return
	}
	h := promhttp.HandlerFor(g.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{g.metrics},
		ErrorHandling: promhttp.ContinueOnError,
	})
	r.GET("/metrics", noStore, g.checkMetricsAccess, gin.WrapH(h))
}

// checkMetricsAccess admits a scrape from an address in Metrics.AllowFrom
// (the client address: the TCP peer, or what a trusted proxy forwards;
// see clientAddr), or, while
// Metrics.RequireRight is true, with a bearer token that has the Admin
// right on some camera; with RequireRight false it admits everyone.
func (g *Gateway) checkMetricsAccess(c *gin.Context) {
	a := g.metrics.access
	if addr := g.clientAddr(c.Request); addr.IsValid() && a.allowed(addr) {
		c.Next()
		return
	}
	if !a.cfg.RequireRight {
		c.Next()
		return
	}
	raw, ok := signaling.BearerToken(c.GetHeader("Authorization"))
	if !ok {
		signaling.Deny(c, signaling.Unauthorized("/metrics needs a bearer token with the admin right on a camera, or a request from an address in Metrics.AllowFrom"))
		return
	}
	p, err := signaling.VerifyToken(c.Request.Context(), g.auth, raw)
	if err != nil {
		signaling.Deny(c, err)
		return
	}
	if !adminOfSomeCamera(p, g.cameras) {
		signaling.WriteError(c, signaling.Errorf(http.StatusForbidden, "%s has no admin right on any camera, which /metrics needs", signaling.Caller(p)))
		return
	}
	c.Next()
}

// adminOfSomeCamera reports whether p has the Admin right on every camera
// ("*") or on one of the configured cameras.
func adminOfSomeCamera(p *oauth.Principal, reg *cameras.Registry) bool {
	// Can matches "*" only against a grant of every camera: a camera Id
	// is a GUID, never "*".
	if p.Can(oauth.RightAdmin, "*") {
		return true
	}
	if reg == nil {
		return false
	}
	for _, cam := range reg.Cameras() {
		if p.Can(oauth.RightAdmin, cam.ID) {
			return true
		}
	}
	return false
}

func (g *Gateway) getHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readiness is the answer of /readyz: each check "ok" or what is wrong. It
// names no address, camera or setting value.
type readiness struct {
	Status string            `json:"status"` // "ready" or "not ready"
	Checks map[string]string `json:"checks"`
}

// getReadyz answers 200 when camgate can take viewers: the settings are
// loaded (the gateway runs on validated settings), the HTTP listener and
// the media port are open, the camera registry is started, and shutdown
// has not begun. Cameras that are down do not make camgate unready: other
// cameras still play, and the cameras API tells which are down.
func (g *Gateway) getReadyz(c *gin.Context) {
	checks := map[string]string{"settings": "ok", "http": "ok", "media": "ok", "cameras": "ok"}
	switch {
	case g.metrics.closing.Load():
		checks["http"] = "shutting down"
	case g.ln == nil:
		checks["http"] = "not listening"
	}
	if g.sessions == nil || g.sessions.MediaPort() == 0 {
		checks["media"] = "the media UDP port is not open"
	}
	switch {
	case g.cameras == nil:
		checks["cameras"] = "no camera registry"
	case !g.cameras.Started():
		checks["cameras"] = "the camera registry is not started"
	}
	out, status := readiness{Status: "ready", Checks: checks}, http.StatusOK
	for _, v := range checks {
		if v != "ok" {
			out.Status, status = "not ready", http.StatusServiceUnavailable
		}
	}
	c.JSON(status, out)
}

// promLogger logs what promhttp reports (a collector's error, a failed
// write) as a warning.
type promLogger struct{ m *gatewayMetrics }

func (l promLogger) Println(v ...any) {
	l.m.log.Warn("metrics: " + fmt.Sprint(v...))
}
