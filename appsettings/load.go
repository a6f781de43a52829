package appsettings

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultEnvironment is the environment Load uses when LoadOptions names
// none, as ASP.NET Core does.
const DefaultEnvironment = "Production"

// baseFile is the settings file every config folder must hold.
const baseFile = "appsettings.json"

// LoadOptions says where Load finds the settings.
type LoadOptions struct {
	// ConfigDir is the folder that holds appsettings.json (required) and
	// appsettings.{Environment}.json (optional). Empty means no files:
	// Defaults() and the environment only.
	ConfigDir string
	// Environment selects appsettings.{Environment}.json; the file name is
	// matched case-insensitively. cmd fills it from --environment or
	// CAMGATE_ENVIRONMENT. Default: DefaultEnvironment ("Production").
	Environment string
	// Env is the process environment in the form of os.Environ(). Only
	// variables whose names start with CAMGATE__ are read. Load never reads
	// the real environment itself, so that tests can pass their own.
	Env []string
	// Overlay, if set, changes the layered settings before they are
	// validated: the caller's own layer on top of the others, such as
	// cameras and users it composes itself. Its error is returned as it
	// is. Default: none.
	Overlay func(*Settings) error
}

// layer is the content of one settings file.
type layer struct {
	name string // the file name, used in errors
	data []byte
}

// Load builds the settings in layers, each overriding the one before:
//
//  1. Defaults();
//  2. appsettings.json from ConfigDir;
//  3. appsettings.{Environment}.json from ConfigDir, if it exists;
//  4. the CAMGATE__Section__Key variables of Env;
//  5. Overlay, if set.
//
// Objects merge key by key, lists merge item by item (by index), single
// values replace. Keys are case-insensitive. The result then gets the
// defaults of list items (ApplyDefaults), is written in its normal form
// (Normalize) and goes through Validate.
//
// The error, if any, joins every problem found (see Error); the Settings are
// then the zero value, never half-loaded.
func Load(opts LoadOptions) (Settings, error) {
	var layers []layer
	if opts.ConfigDir != "" {
		env := opts.Environment
		if env == "" {
			env = DefaultEnvironment
		}
		var err error
		if layers, err = readLayers(opts.ConfigDir, env); err != nil {
			return Settings{}, err
		}
	}
	return build(layers, opts.Env, opts.Overlay)
}

// build does the work of Load once the files are read, so that tests and
// the fuzz target can feed it contents directly.
func build(layers []layer, env []string, overlay func(*Settings) error) (Settings, error) {
	s := Defaults()
	var errs []error
	for _, l := range layers {
		errs = append(errs, decodeFile(l.name, l.data, &s)...)
	}
	errs = append(errs, applyEnv(env, &s)...)
	if len(errs) > 0 {
		return Settings{}, errors.Join(errs...)
	}
	if overlay != nil {
		if err := overlay(&s); err != nil {
			return Settings{}, err
		}
	}
	s.ApplyDefaults()
	s.Normalize()
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// readLayers reads appsettings.json and, if present,
// appsettings.{environment}.json from dir.
func readLayers(dir, environment string) ([]layer, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &Error{Source: "config folder " + quote(dir), Msg: "cannot be read: " + osReason(err), Err: err}
	}
	envFile := "appsettings." + environment + ".json"
	if strings.EqualFold(envFile, baseFile) { // an odd Environment, but not a reason to read a file twice
		envFile = ""
	}
	var layers []layer
	for i, want := range []string{baseFile, envFile} {
		if want == "" {
			continue
		}
		name, err := findFile(entries, want)
		if err != nil {
			return nil, err
		}
		if name == "" {
			if i == 0 {
				return nil, &Error{Source: baseFile, Msg: "not found in the config folder " + quote(dir), Err: fs.ErrNotExist}
			}
			continue // the environment file is optional
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, &Error{Source: name, Msg: "cannot be read: " + osReason(err), Err: err}
		}
		layers = append(layers, layer{name: name, data: data})
	}
	return layers, nil
}

// findFile returns the name of the file in entries that matches want: the
// exact spelling if it exists, else the one spelling that differs only in
// case (docs write both appsettings.Production.json and
// appsettings.production.json). It returns "" when there is none.
func findFile(entries []fs.DirEntry, want string) (string, error) {
	var folded []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch {
		case e.Name() == want:
			return want, nil
		case strings.EqualFold(e.Name(), want):
			folded = append(folded, e.Name())
		}
	}
	switch len(folded) {
	case 0:
		return "", nil
	case 1:
		return folded[0], nil
	}
	return "", &Error{Source: want, Msg: "found more than once, spelled " + strings.Join(folded, " and ") + "; keep one"}
}

// osReason is the cause of a file-system error without the path, which the
// message already names.
func osReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
