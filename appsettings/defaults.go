package appsettings

// ApplyDefaults fills the defaults that Defaults() cannot hold because they
// belong to list items or follow from another value: a camera's Name (its
// Id) and Transport ("auto"), the Ptz keys of a camera whose Driver is set
// (from PtzDefaults), an issuer's RolesClaim ("roles") and Leeway (30s).
// Only keys left at zero are filled, so applying the defaults twice changes
// nothing.
//
// Load applies them after the last layer and the overlay, before
// Validate, which only checks. Settings built in Go call ApplyDefaults
// before Validate too.
func (s *Settings) ApplyDefaults() {
	for i := range s.Cameras {
		c := &s.Cameras[i]
		if c.Name == "" {
			c.Name = c.Id
		}
		if c.Transport == "" {
			c.Transport = TransportAuto
		}
		if c.Ptz.Driver != PtzNone {
			c.Ptz.applyDefaults()
		}
	}
	for i := range s.Auth.Issuers {
		is := &s.Auth.Issuers[i]
		if is.RolesClaim == "" {
			is.RolesClaim = defaultRolesClaim
		}
		if is.Leeway == 0 {
			is.Leeway = defaultLeeway
		}
	}
}

// applyDefaults gives every zero key of p its PtzDefaults value.
func (p *Ptz) applyDefaults() {
	d := PtzDefaults()
	if p.Speed == 0 {
		p.Speed = d.Speed
	}
	if p.NudgeLength == 0 {
		p.NudgeLength = d.NudgeLength
	}
	if p.LeaseTimeout == 0 {
		p.LeaseTimeout = d.LeaseTimeout
	}
	if p.RatePerSession == 0 {
		p.RatePerSession = d.RatePerSession
	}
	if p.RatePerCamera == 0 {
		p.RatePerCamera = d.RatePerCamera
	}
	if p.Quirks.StopMode == "" {
		p.Quirks.StopMode = d.Quirks.StopMode
	}
	g, dg := &p.Geometry, d.Geometry
	for _, f := range []struct{ v, d *float64 }{{&g.PanDegrees, &dg.PanDegrees}, {&g.TiltDegrees, &dg.TiltDegrees},
		{&g.HorizontalFov, &dg.HorizontalFov}, {&g.VerticalFov, &dg.VerticalFov}, {&g.ZoomRatio, &dg.ZoomRatio}} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
}
