package ptz

// The results of the methods, as replies carry them in "result".

// MoveResult answers ptzMove.
type MoveResult struct {
	Direction Direction `json:"direction"`
	// NudgeMs is how long the move lasts unless the same command comes
	// again (continuous directions only).
	NudgeMs int64 `json:"nudgeMs,omitempty"`
	// Superseded says that a later move replaced this one before the
	// camera got it (latest wins).
	Superseded bool `json:"superseded,omitempty"`
}

// AuxResult answers setAux.
type AuxResult struct {
	AuxNumber int  `json:"auxNumber"`
	On        bool `json:"on"`
}

// PresetsResult answers ptzPresets.
type PresetsResult struct {
	Presets []Preset `json:"presets"`
}

// PresetResult answers ptzGotoPreset, ptzSetPreset and ptzRemovePreset.
type PresetResult struct {
	Token string `json:"token"`
	Name  string `json:"name,omitempty"`
}

// StatusResult answers ptzStatus: what the camera reports, the position in
// degrees according to the camera's Geometry, and the controller's view.
type StatusResult struct {
	Status
	PanDegrees  *float64 `json:"panDegrees,omitempty"`
	TiltDegrees *float64 `json:"tiltDegrees,omitempty"`
	// FieldOfView is the horizontal field of view in degrees at the
	// reported zoom.
	FieldOfView *float64 `json:"fieldOfView,omitempty"`
	// Moving says that a continuous move (ptzMove) is running.
	Moving bool `json:"moving"`
	// Control is the state of the control lease.
	Control ControlState `json:"control"`
}

// ControlState is the control lease as one session sees it.
type ControlState struct {
	// Held: a session controls the camera.
	Held bool `json:"held"`
	// Yours: that session is the one asking.
	Yours bool `json:"yours"`
	// FreeInMs: when the lease frees unless its holder sends more commands.
	FreeInMs int64 `json:"freeInMs,omitempty"`
}

// Capabilities is what a camera's controller accepts.
type Capabilities struct {
	Features
	Methods    []Method    `json:"methods"`
	Directions []Direction `json:"directions"`
	// NudgeMs is the length of a ptzMove nudge, LeaseTimeoutMs that of the
	// control lease.
	NudgeMs        int64 `json:"nudgeMs"`
	LeaseTimeoutMs int64 `json:"leaseTimeoutMs"`
}
