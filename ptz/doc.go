// Package ptz is camgate's pan-tilt-zoom domain: the data-channel command
// model (DecodeRequest, EncodeReply and the error codes), the interface a
// camera driver implements (Driver, its optional capabilities, and the
// values they exchange: Velocity, Vector, Status, Geometry…), the
// per-camera Controller that makes steering a camera safe, and the
// Registry of controllers.
//
// Drivers live in sub-packages (ptz/onvif, ptz/simulated) and import this
// package; it imports none of them. cmd/camgate builds the driver each
// camera's settings name and makes the controllers with NewRegistry;
// Registry.Run starts them.
//
// The Controller is one part per file: controller.go is its API,
// admission.go decides what a request may do (features in
// capabilities.go, the control lease, the rate limits), motion.go runs
// continuous moves, the dead-man watchdog and the stops, actor.go is the
// goroutine that owns the driver, and operations.go carries out the
// discrete operations. config.go holds its configuration and defaults.
package ptz
