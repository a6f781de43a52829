package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/camgate/camgate/appsettings"
)

// The signing keys live in <DataDir>/oauth/signing-keys.json: a folder only
// camgate's user may enter (0700) and a file only it may read (0600),
// replaced atomically (temporary file + rename) so that a reader never sees
// half a file.
const (
	keysDirName  = "oauth"
	keysFileName = "signing-keys.json"
	keyBits      = 2048
	keyFileVer   = 1
)

// Retired keys stay (in the JWKS, and good for verifying) for the longest
// access-token lifetime any camgate recorded in the file, plus a margin that
// covers the up-to-10 s a running camgate may still sign with a key after it
// was rotated out, and clock skew. They are pruned at the next rotation after
// that. Before any camgate recorded a lifetime, defaultKeyRetention is used.
const (
	retiredKeyMargin    = 15 * time.Minute
	defaultKeyRetention = 24 * time.Hour
)

// keyFile is the JSON form of signing-keys.json.
type keyFile struct {
	Version int `json:"version"`
	// LongestTokenLifetime is the longest access-token lifetime of any
	// camgate that has used this file: how long a retired key must still
	// verify tokens.
	LongestTokenLifetime appsettings.Duration `json:"longestTokenLifetime"`
	Keys                 []storedKey          `json:"keys"`
}

// storedKey is one key in signing-keys.json.
type storedKey struct {
	Kid     string     `json:"kid"`
	Created time.Time  `json:"created"`
	Retired *time.Time `json:"retired,omitempty"`
	// PrivateKey is PKCS#8 in PEM.
	PrivateKey string `json:"privateKey"`
}

// signingKey is a parsed key.
type signingKey struct {
	kid     string
	private *rsa.PrivateKey
	created time.Time
	retired time.Time // zero while active
}

// keySet is the content of the key file: the active key (which signs) and
// every key that still verifies (the active one included).
type keySet struct {
	active *signingKey
	byKid  map[string]*signingKey
	file   keyFile
}

// keysPath is where the key file of a data folder is.
func keysPath(dataDir string) string {
	return filepath.Join(dataDir, keysDirName, keysFileName)
}

// readKeySet reads and checks the key file. A missing file is an error that
// wraps fs.ErrNotExist.
func readKeySet(path string) (*keySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("signing key file %s is not valid JSON: %w", path, err)
	}
	return parseKeyFile(path, f)
}

// parseKeyFile checks a decoded key file and parses its keys. It never puts
// key material in its errors.
func parseKeyFile(path string, f keyFile) (*keySet, error) {
	if f.Version != keyFileVer {
		return nil, fmt.Errorf("signing key file %s: version %d, want %d", path, f.Version, keyFileVer)
	}
	set := &keySet{byKid: map[string]*signingKey{}, file: f}
	for i, sk := range f.Keys {
		k, err := parseStoredKey(sk)
		if err != nil {
			return nil, fmt.Errorf("signing key file %s: key %d: %w", path, i, err)
		}
		if set.byKid[k.kid] != nil {
			return nil, fmt.Errorf("signing key file %s: key id %q appears twice", path, k.kid)
		}
		set.byKid[k.kid] = k
		if k.retired.IsZero() && (set.active == nil || k.created.After(set.active.created)) {
			set.active = k
		}
	}
	if set.active == nil {
		return nil, fmt.Errorf("signing key file %s has no active key; run camgate rotate-signing-key", path)
	}
	return set, nil
}

func parseStoredKey(sk storedKey) (*signingKey, error) {
	if sk.Kid == "" {
		return nil, errors.New("no kid")
	}
	block, _ := pem.Decode([]byte(sk.PrivateKey))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("privateKey is not a PKCS#8 PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("privateKey cannot be parsed as PKCS#8")
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("privateKey is not an RSA key")
	}
	if priv.N.BitLen() < keyBits {
		return nil, fmt.Errorf("RSA key has %d bits, want at least %d", priv.N.BitLen(), keyBits)
	}
	k := &signingKey{kid: sk.Kid, private: priv, created: sk.Created}
	if sk.Retired != nil {
		k.retired = *sk.Retired
	}
	return k, nil
}

// newStoredKey generates an RSA key; its id is the RFC 7638 thumbprint of
// the public key, so it is stable and says nothing about the private key.
func newStoredKey(now time.Time) (storedKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return storedKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return storedKey{}, fmt.Errorf("signing key id: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storedKey{}, fmt.Errorf("encode signing key: %w", err)
	}
	return storedKey{
		Kid:        base64.RawURLEncoding.EncodeToString(thumb),
		Created:    now.UTC(),
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}, nil
}

// writeKeyFile replaces the key file atomically (writePrivateFile).
func writeKeyFile(path string, f keyFile) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writePrivateFile(path, "signing key", append(data, '\n'))
}

// writePrivateFile replaces a file of camgate's oauth folder atomically:
// write a temporary file in the same folder (0600, in a folder of mode
// 0700), flush it, rename it over the old one, flush the folder. what names
// the file in errors.
func writePrivateFile(path, what string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the %s folder: %w", what, err)
	}
	// MkdirAll leaves an existing folder's mode alone; this folder is ours.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict the %s folder: %w", what, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("write the %s file: %w", what, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write the %s file: %w", what, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write the %s file: %w", what, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write the %s file: %w", what, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the %s file: %w", what, err)
	}
	// "camgate rotate-signing-key" run as root must not leave a file the
	// camgate service user cannot read: keep the existing file's owner.
	keepOwner(tmp, path)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the %s file: %w", what, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// RotateSigningKey adds a new active signing key to
// <dataDir>/oauth/signing-keys.json (creating the file if needed) and returns
// its key id. The previous active key is retired, not removed: it stays in
// the JWKS and keeps verifying the tokens it signed until it is older than
// the longest recorded token lifetime plus a margin, so live tokens stay
// valid; keys retired longer than that are pruned now.
//
// A running camgate notices the new file within 10 s (see keyring) and signs
// with the new key from then on. Two rotations must not run at once: the
// file is rewritten whole, and the later rename wins.
func RotateSigningKey(dataDir string) (kid string, err error) {
	return rotateSigningKey(keysPath(dataDir), time.Now())
}

func rotateSigningKey(path string, now time.Time) (string, error) {
	f := keyFile{Version: keyFileVer}
	set, err := readKeySet(path)
	switch {
	case err == nil:
		f = set.file
	case errors.Is(err, fs.ErrNotExist):
	default:
		return "", err
	}
	retention := time.Duration(f.LongestTokenLifetime)
	if retention <= 0 {
		retention = defaultKeyRetention
	}
	kept := f.Keys[:0:0]
	for _, k := range f.Keys {
		if k.Retired == nil {
			retired := now.UTC()
			k.Retired = &retired
		} else if now.Sub(*k.Retired) > retention+retiredKeyMargin {
			continue // nothing it signed can still be valid
		}
		kept = append(kept, k)
	}
	fresh, err := newStoredKey(now)
	if err != nil {
		return "", err
	}
	kept = append(kept, fresh)
	f.Keys = kept
	if err := writeKeyFile(path, f); err != nil {
		return "", err
	}
	return fresh.Kid, nil
}

// jwks returns the public keys of the set, the active one first, for the
// JWKS endpoint.
func (s *keySet) jwks() jose.JSONWebKeySet {
	keys := make([]*signingKey, 0, len(s.byKid))
	for _, k := range s.byKid {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == s.active) != (keys[j] == s.active) {
			return keys[i] == s.active
		}
		return keys[i].created.After(keys[j].created)
	})
	var out jose.JSONWebKeySet
	for _, k := range keys {
		out.Keys = append(out.Keys, jose.JSONWebKey{
			Key: &k.private.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig",
		})
	}
	return out
}
