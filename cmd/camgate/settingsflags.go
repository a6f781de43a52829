package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/camgate/camgate/appsettings"
)

// settingsFlags are the --config and --environment flags that the server
// and every command take, so all of them read settings the same way.
type settingsFlags struct {
	configDir   *string
	environment *string
}

// addSettingsFlags registers the flags on fl; configHelp says what the
// config folder is for in that command.
func addSettingsFlags(fl *flag.FlagSet, configHelp string) settingsFlags {
	return settingsFlags{
		configDir:   fl.String("config", "", configHelp),
		environment: fl.String("environment", "", "settings environment: reads appsettings.{NAME}.json (default: $CAMGATE_ENVIRONMENT, else Production)"),
	}
}

// load reads the settings the flags name, with the CAMGATE__ variables,
// and overlay (nil: none; the demo's) on top. On failure it writes the
// one-line error to stderr and returns false; the caller exits with
// exitSettings.
func (f settingsFlags) load(stderr io.Writer, overlay func(*appsettings.Settings) error) (appsettings.Settings, bool) {
	env := *f.environment
	if env == "" {
		env = os.Getenv("CAMGATE_ENVIRONMENT")
	}
	settings, err := appsettings.Load(appsettings.LoadOptions{ConfigDir: *f.configDir, Environment: env, Env: os.Environ(), Overlay: overlay})
	if err != nil {
		demoSettingHint(err)
		fmt.Fprintf(stderr, "camgate: bad settings: %s\n", oneLine(err))
		return appsettings.Settings{}, false
	}
	return settings, true
}
