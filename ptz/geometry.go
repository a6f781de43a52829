package ptz

import "math"

// Geometry describes the camera's optics and ranges, in degrees. The
// controller uses it for click-to-center (ptzCenter) and status in degrees;
// the simulated camera moves in it.
type Geometry struct {
	// PanDegrees is the pan angle that the normalized range −1…1 spans
	// (360: a pan position or translation of 1 is 180°).
	PanDegrees float64
	// TiltDegrees is the tilt angle that −1…1 spans (180: 1 is 90°).
	TiltDegrees float64
	// HorizontalFov and VerticalFov are the fields of view at the widest
	// zoom (zoom 0).
	HorizontalFov float64
	VerticalFov   float64
	// ZoomRatio is the optical magnification at zoom 1 (10 for a 10×
	// lens); zoom z gives magnification 1 + z·(ZoomRatio−1).
	ZoomRatio float64
}

// Magnification is the optical magnification at normalized zoom z (0…1):
// 1 + z·(ZoomRatio−1), linear in focal length as most lenses map their
// zoom range.
func (g Geometry) Magnification(zoom float64) float64 {
	z := math.Max(0, math.Min(1, zoom))
	return 1 + z*(math.Max(g.ZoomRatio, 1)-1)
}

// FieldOfView returns the horizontal and vertical fields of view in
// degrees at normalized zoom z, for a pinhole camera:
// fov(z) = 2·atan(tan(fov(0)/2) / magnification(z)).
func (g Geometry) FieldOfView(zoom float64) (h, v float64) {
	m := g.Magnification(zoom)
	return narrow(g.HorizontalFov, m), narrow(g.VerticalFov, m)
}

func narrow(fov, m float64) float64 {
	return 2 * deg(math.Atan(math.Tan(rad(fov)/2)/m))
}

// CenterTranslation returns the relative move (normalized pan and tilt
// translations) that brings the point (x, y) of the picture to its centre.
// x and y are normalized video coordinates: (0, 0) is the top-left corner,
// (1, 1) the bottom-right, (0.5, 0.5) the centre. The point's angle off the
// optical axis is atan((2x−1)·tan(hfov/2)) horizontally and
// atan((1−2y)·tan(vfov/2)) vertically (a pinhole camera at the current
// zoom); dividing by half of PanDegrees and TiltDegrees gives the
// normalized translation. The model ignores the pan stretch near the zenith
// of a dome and lens distortion, so a click far from the centre lands
// close to, not exactly on, the centre.
func (g Geometry) CenterTranslation(x, y, zoom float64) (pan, tilt float64) {
	h, v := g.FieldOfView(zoom)
	ax := deg(math.Atan((2*x - 1) * math.Tan(rad(h)/2)))
	ay := deg(math.Atan((1 - 2*y) * math.Tan(rad(v)/2)))
	return clamp(ax/(g.PanDegrees/2), -1, 1), clamp(ay/(g.TiltDegrees/2), -1, 1)
}

func rad(d float64) float64 { return d * math.Pi / 180 }
func deg(r float64) float64 { return r * 180 / math.Pi }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
