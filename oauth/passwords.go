package oauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// HashPassword's argon2id parameters: OWASP's recommended minimum (19 MiB,
// two passes, one lane) — tens of milliseconds per sign-in on a small box,
// which is what a camera gateway can afford under a burst of sign-ins.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds on the argon2id parameters accepted from settings, so that a typo
// cannot make every sign-in allocate gigabytes or spin for minutes, and odd
// values cannot make the argon2 package panic.
const (
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 64
	minArgonSaltLen   = 8
	maxArgonSaltLen   = 64
	minArgonKeyLen    = 16
	maxArgonKeyLen    = 128
)

// hashError is an error about a password hash. It never quotes the value: a
// hash is not a password, but it is still material to crack offline.
type hashError string

func (e hashError) Error() string { return string(e) }

// errNotAHash is what parsePasswordHash says about anything it cannot use.
const errNotAHash hashError = `not a bcrypt ("$2b$…") or argon2id ("$argon2id$v=19$m=…,t=…,p=…$salt$hash") hash`

// HashPassword hashes a password with argon2id and returns it as a PHC
// string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", salt and hash in
// unpadded standard base64), the form Auth.Users[].PasswordHash takes.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	h := passwordHash{
		argon: true, memory: argonMemoryKiB, time: argonTime, threads: argonThreads,
		salt: salt,
	}
	h.key = h.argonKey(password, argonKeyLen)
	return h.String(), nil
}

// VerifyPassword reports whether password matches hash (bcrypt or argon2id
// PHC). The error is for a hash it cannot read; a wrong password is
// (false, nil). The comparison takes constant time.
func VerifyPassword(password, hash string) (bool, error) {
	h, err := parsePasswordHash(hash)
	if err != nil {
		return false, err
	}
	return h.verify(password), nil
}

// passwordHash is a parsed bcrypt or argon2id hash.
type passwordHash struct {
	argon bool

	bcrypt []byte // the whole bcrypt hash, when !argon

	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// parsePasswordHash reads a bcrypt hash or an argon2id PHC string.
func parsePasswordHash(s string) (*passwordHash, error) {
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return nil, errNotAHash
		}
		return &passwordHash{bcrypt: []byte(s)}, nil
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	}
	return nil, errNotAHash
}

// parseArgon2id reads "$argon2id$v=19$m=M,t=T,p=P$salt$hash".
func parseArgon2id(s string) (*passwordHash, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[2] != "v=19" {
		return nil, errNotAHash
	}
	h := &passwordHash{argon: true}
	var m, t, p uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) != parts[3] {
		return nil, errNotAHash
	}
	if t < 1 || t > maxArgonTime || p < 1 || p > 255 || m < 8*p || m > maxArgonMemoryKiB {
		return nil, hashError(fmt.Sprintf("argon2id parameters out of range (m 8p..%d KiB, t 1..%d, p 1..255)",
			maxArgonMemoryKiB, maxArgonTime))
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p)
	var err error
	if h.salt, err = decodePHC(parts[4]); err != nil || len(h.salt) < minArgonSaltLen || len(h.salt) > maxArgonSaltLen {
		return nil, errNotAHash
	}
	if h.key, err = decodePHC(parts[5]); err != nil || len(h.key) < minArgonKeyLen || len(h.key) > maxArgonKeyLen {
		return nil, errNotAHash
	}
	return h, nil
}

// decodePHC decodes PHC base64: standard alphabet, no padding (tolerated
// when present, as some tools write it).
func decodePHC(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// String formats the hash as it is stored in settings.
func (h *passwordHash) String() string {
	if !h.argon {
		return string(h.bcrypt)
	}
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", h.memory, h.time, h.threads,
		base64.RawStdEncoding.EncodeToString(h.salt), base64.RawStdEncoding.EncodeToString(h.key))
}

func (h *passwordHash) argonKey(password string, keyLen int) []byte {
	return argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(keyLen))
}

// verify compares in constant time (bcrypt's own comparison is).
func (h *passwordHash) verify(password string) bool {
	if !h.argon {
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil
	}
	return subtle.ConstantTimeCompare(h.argonKey(password, len(h.key)), h.key) == 1
}

// decoy returns a hash of a random password with the same algorithm and
// cost as h. Checking a password against it costs what checking against h
// costs, which is what a sign-in for an unknown user name must spend so that
// its answer time does not tell that the user does not exist.
func (h *passwordHash) decoy() (*passwordHash, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	password := base64.RawURLEncoding.EncodeToString(secret)
	if !h.argon {
		cost, err := bcrypt.Cost(h.bcrypt)
		if err != nil {
			return nil, err
		}
		raw, err := bcrypt.GenerateFromPassword([]byte(password), cost)
		if err != nil {
			return nil, err
		}
		return &passwordHash{bcrypt: raw}, nil
	}
	d := &passwordHash{argon: true, memory: h.memory, time: h.time, threads: h.threads, salt: make([]byte, len(h.salt))}
	if _, err := rand.Read(d.salt); err != nil {
		return nil, err
	}
	d.key = d.argonKey(password, len(h.key))
	return d, nil
}
