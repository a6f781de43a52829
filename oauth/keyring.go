package oauth

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// keyReloadInterval is how often, at most, a running Service looks at the
// key file's metadata (one stat) for a rotation done by
// "camgate rotate-signing-key". It looks when it signs a token or serves the
// JWKS, so a rotation takes effect within 10 s of the next such request.
// Verification needs no periodic look: retired keys stay in the file, and a
// token whose key id is unknown makes it look at once, so that a key another
// process added verifies immediately.
const keyReloadInterval = 10 * time.Second

// keyring holds the built-in provider's signing keys and follows the key
// file.
type keyring struct {
	path string
	now  func() time.Time
	log  *slog.Logger

	mu      sync.Mutex
	set     *keySet
	stat    fs.FileInfo // of the file set was read from
	checked time.Time   // when the file was last looked at
	failing bool        // the last reload failed; logged once until it works
}

// openKeyring reads the key file of dataDir, or creates it with a new key.
// It records tokenLifetime in the file when it is longer than what the file
// holds, so that a rotation keeps retired keys long enough.
func openKeyring(dataDir string, tokenLifetime time.Duration, now func() time.Time, log *slog.Logger) (*keyring, error) {
	path := keysPath(dataDir)
	set, err := readKeySet(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		sk, err := newStoredKey(now())
		if err != nil {
			return nil, err
		}
		f := keyFile{Version: keyFileVer, LongestTokenLifetime: appsettings.Duration(tokenLifetime), Keys: []storedKey{sk}}
		if err := writeKeyFile(path, f); err != nil {
			return nil, err
		}
		log.Info("generated a signing key", "kid", sk.Kid, "file", path)
	case err != nil:
		return nil, err
	case time.Duration(set.file.LongestTokenLifetime) < tokenLifetime:
		f := set.file
		f.LongestTokenLifetime = appsettings.Duration(tokenLifetime)
		if err := writeKeyFile(path, f); err != nil {
			return nil, err
		}
	}
	// Read back what is on disk, so that set and stat describe one file.
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signing key file: %w", err)
	}
	if set, err = readKeySet(path); err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		log.Warn("the signing key file can be read by other users; chmod 600 it", "file", path, "mode", info.Mode().Perm().String())
	}
	return &keyring{path: path, now: now, log: log, set: set, stat: info, checked: now()}, nil
}

// keys returns the current key set, first reloading the file when it was
// last looked at keyReloadInterval ago or more and it has changed since.
func (k *keyring) keys() *keySet {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if now.Sub(k.checked) >= keyReloadInterval || now.Before(k.checked) {
		k.checked = now
		k.reloadLocked()
	}
	return k.set
}

// lookup returns the key with id kid. For an id it does not know it looks
// at the file at once: one stat, and a read only when the file changed.
func (k *keyring) lookup(kid string) *signingKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key := k.set.byKid[kid]; key != nil {
		return key
	}
	k.checked = k.now()
	k.reloadLocked()
	return k.set.byKid[kid]
}

// reloadLocked rereads the file if it changed. A file that became unreadable
// or invalid is logged (once) and the keys in memory stay in use: a broken
// rotation must not stop sign-ins.
func (k *keyring) reloadLocked() {
	info, err := os.Stat(k.path)
	if err == nil && os.SameFile(info, k.stat) && info.ModTime().Equal(k.stat.ModTime()) && info.Size() == k.stat.Size() {
		return
	}
	var set *keySet
	if err == nil {
		set, err = readKeySet(k.path)
	}
	if err != nil {
		if !k.failing {
			k.log.Warn("cannot reload the signing keys; still using the ones loaded before", "error", err)
			k.failing = true
		}
		return
	}
	k.failing = false
	k.set, k.stat = set, info
	k.log.Info("signing keys reloaded", "activeKid", set.active.kid, "keys", len(set.byKid))
}
