// Package cameras owns the cameras camgate pulls: the registry built from
// settings, the RTSP pull with its supervisor, and the stream hub that fans
// frames out to viewers with a GOP cache. It is the only package that
// imports gortsplib (with cameras/demo, the RTSP camera that cmd/camgate
// embeds and tests use).
package cameras

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/camgate/camgate/appsettings"
)

// Camera is one configured camera.
type Camera struct {
	ID      string
	Name    string
	Streams []*CameraStream
}

// CameraStream is one RTSP stream of a camera with its hub.
type CameraStream struct {
	ID      string // as in settings, for display
	Name    string
	Default bool
	key     appsettings.CameraKey
	// Hub fans the stream's frames out to viewers.
	Hub *Stream
	sv  *supervisor
}

// Status returns the stream's current state.
func (cs *CameraStream) Status() Status { return cs.sv.status.get() }

// Watch calls fn with the stream's status now, and then with every change
// of its state or reason, in order, until stop is called; once stop has
// returned fn is not called again. A change is seen after the hub dropped
// what it held from before a failure (Stream.Interrupt). fn runs under the
// status lock on the supervisor's goroutine: it must return at once and
// must not call Status or Watch.
func (cs *CameraStream) Watch(fn func(Status)) (stop func()) { return cs.sv.status.watch(fn) }

// Stream returns the stream with the given id (compared case-insensitively),
// or the camera's default stream when id is empty.
func (c *Camera) Stream(id string) (*CameraStream, bool) {
	for _, s := range c.Streams {
		if (id == "" && s.Default) || (id != "" && s.key == appsettings.KeyOf(id)) {
			return s, true
		}
	}
	return nil, false
}

// DefaultStream returns the stream a session gets when it names none.
func (c *Camera) DefaultStream() *CameraStream {
	s, _ := c.Stream("")
	return s
}

// Registry owns the cameras and their supervisors. It is built once from
// settings (NewRegistry); Run runs the supervisors until its ctx ends.
type Registry struct {
	log     *slog.Logger
	cameras []*Camera
	byID    map[appsettings.CameraKey]*Camera

	mu      sync.Mutex
	ran     bool // Run was called
	running bool // Run has started the supervisors and ctx has not ended (Started)
}

// NewRegistry builds the registry from the validated Cameras settings.
// Nothing runs until Run.
func NewRegistry(cams []appsettings.Camera, log *slog.Logger) *Registry {
	r := &Registry{log: log.With("component", "cameras"), byID: map[appsettings.CameraKey]*Camera{}}
	for _, c := range cams {
		r.add(c)
	}
	return r
}

func (r *Registry) add(c appsettings.Camera) {
	cam := &Camera{ID: c.Id, Name: c.Name}
	if cam.Name == "" {
		cam.Name = c.Id
	}
	hasDefault := false
	for _, s := range c.Streams {
		hasDefault = hasDefault || s.Default
	}
	for i, s := range c.Streams {
		hub := NewStream(c.Id, s.Id)
		cs := &CameraStream{
			ID:      s.Id,
			Name:    s.Name,
			Default: s.Default || (!hasDefault && i == 0),
			key:     appsettings.KeyOf(s.Id),
			Hub:     hub,
			sv: &supervisor{
				url:       s.Url,
				transport: c.Transport,
				stream:    hub,
			},
		}
		cs.sv.status.set(StateConnecting, nil)
		cam.Streams = append(cam.Streams, cs)
	}
	r.cameras = append(r.cameras, cam)
	r.byID[appsettings.KeyOf(c.Id)] = cam
}

// Run runs a supervisor per stream until ctx ends, then stops them and
// returns when every goroutine of the registry has exited. Run once.
func (r *Registry) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ran {
		r.mu.Unlock()
		return errors.New("cameras: Registry.Run called twice")
	}
	r.ran = true
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, cam := range r.cameras {
		for _, s := range cam.Streams {
			s.sv.log = r.log.With("camera", cam.ID, "stream", s.ID, "url", redactURL(s.sv.url))
			wg.Go(func() { s.sv.run(ctx) })
		}
	}
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()

	<-ctx.Done()
	r.mu.Lock()
	r.running = false
	r.mu.Unlock()
	wg.Wait()
	return nil
}

// Cameras returns the cameras in settings order.
func (r *Registry) Cameras() []*Camera { return r.cameras }

// Camera returns the camera with the given id, compared case-insensitively.
func (r *Registry) Camera(id string) (*Camera, bool) {
	c, ok := r.byID[appsettings.KeyOf(id)]
	return c, ok
}
