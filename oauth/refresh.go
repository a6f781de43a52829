package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Refresh tokens (client VmsClient only) are opaque: 256 random bits in
// base64url. The store keeps only their SHA-256, so neither a memory dump
// nor the file yields usable tokens. They are kept in
// <DataDir>/oauth/refresh-tokens.json next to the signing keys (same
// folder, same modes, replaced atomically after every change), so that
// they survive a restart as the access tokens do: a page signed in before
// the restart refreshes after it.
//
// Each password sign-in starts a chain. Redeeming a token spends it and
// issues the next one of the chain, valid RefreshTokenLifetime from then
// (so a client that keeps refreshing stays signed in). Presenting a spent
// token means two parties hold the chain — one of them stole it — so the
// whole chain is revoked, the newest token included.
//
// A user has at most maxChainsPerUser chains (sign-ins that get refresh
// tokens) at a time: the next sign-in revokes the one that would expire
// first, so that signing in again and again cannot grow the store (and its
// file) without end.
type refreshStore struct {
	mu     sync.Mutex
	byHash map[[sha256.Size]byte]*refreshEntry
	chains map[string][][sha256.Size]byte // chain id → its tokens' hashes
	// path is the file the store is kept in ("": memory only); log hears
	// of a failed write (the tokens keep working until a restart).
	path string
	log  *slog.Logger
}

// maxChainsPerUser bounds the sign-ins with refresh tokens one user has.
const maxChainsPerUser = 64

const (
	refreshFileName = "refresh-tokens.json"
	refreshFileVer  = 1
)

// refreshFile is the JSON form of refresh-tokens.json.
type refreshFile struct {
	Version int             `json:"version"`
	Tokens  []storedRefresh `json:"tokens"`
}

// storedRefresh is one refresh token in the file: its SHA-256, never the
// token.
type storedRefresh struct {
	SHA256  string    `json:"sha256"`
	Chain   string    `json:"chain"`
	User    string    `json:"user"`
	Client  string    `json:"client"`
	Expires time.Time `json:"expires"`
	Spent   bool      `json:"spent,omitempty"`
}

type refreshEntry struct {
	chain   string
	user    string // the user's key (lower-cased name)
	client  string
	expires time.Time
	spent   bool
}

// redeemResult says how a redemption went.
type redeemResult int

const (
	redeemOK          redeemResult = iota
	redeemUnknown                  // never issued, revoked or pruned
	redeemExpired                  // past its lifetime
	redeemReused                   // spent before: the chain is now revoked
	redeemWrongClient              // issued to another client
)

func newRefreshStore() *refreshStore {
	return &refreshStore{byHash: map[[sha256.Size]byte]*refreshEntry{}, chains: map[string][][sha256.Size]byte{},
		log: slog.New(slog.DiscardHandler)}
}

// refreshPath is where the refresh tokens of a data folder are kept.
func refreshPath(dataDir string) string {
	return filepath.Join(dataDir, keysDirName, refreshFileName)
}

// openRefreshStore loads the refresh tokens kept in path that have not
// expired by now. A missing file is an empty store; a file that cannot be
// read or parsed is logged and replaced (its users sign in again): refresh
// tokens are a convenience, not a reason to refuse to start.
func openRefreshStore(path string, now time.Time, log *slog.Logger) *refreshStore {
	st := newRefreshStore()
	st.path, st.log = path, log
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st
	}
	var f refreshFile
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err == nil && f.Version != refreshFileVer {
		err = fmt.Errorf("version %d, want %d", f.Version, refreshFileVer)
	}
	if err != nil {
		log.Warn("the refresh token file cannot be read; every refresh token is forgotten and VmsClient users sign in again",
			"file", path, "error", err)
		return st
	}
	for _, t := range f.Tokens {
		b, err := hex.DecodeString(t.SHA256)
		if err != nil || len(b) != sha256.Size || t.Chain == "" || !now.Before(t.Expires) {
			continue // damaged or expired: as good as never issued
		}
		h := [sha256.Size]byte(b)
		st.byHash[h] = &refreshEntry{chain: t.Chain, user: t.User, client: t.Client, expires: t.Expires, spent: t.Spent}
		st.chains[t.Chain] = append(st.chains[t.Chain], h)
	}
	return st
}

// saveLocked writes the store to its file. A failure is logged: the tokens
// keep working in memory, and only a restart would lose them.
func (st *refreshStore) saveLocked() {
	if st.path == "" {
		return
	}
	f := refreshFile{Version: refreshFileVer, Tokens: make([]storedRefresh, 0, len(st.byHash))}
	for _, hashes := range st.chains {
		for _, h := range hashes {
			e := st.byHash[h]
			f.Tokens = append(f.Tokens, storedRefresh{SHA256: hex.EncodeToString(h[:]), Chain: e.chain, User: e.user,
				Client: e.client, Expires: e.expires, Spent: e.spent})
		}
	}
	data, err := json.Marshal(f)
	if err == nil {
		err = writePrivateFile(st.path, "refresh token", append(data, '\n'))
	}
	if err != nil {
		st.log.Warn("cannot keep the refresh tokens on disk; they work until camgate restarts", "file", st.path, "error", err)
	}
}

// newChainID is a random id for a sign-in's chain, safe to log.
func newChainID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// start begins a chain for a sign-in and returns its first token.
func (st *refreshStore) start(chain, user, client string, expires time.Time) (string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.limitChainsLocked(user)
	token, err := st.issueLocked(&refreshEntry{chain: chain, user: user, client: client, expires: expires})
	if err == nil {
		st.saveLocked()
	}
	return token, err
}

// limitChainsLocked revokes the user's chains that expire first until a
// new one fits within maxChainsPerUser.
func (st *refreshStore) limitChainsLocked(user string) {
	for {
		n, first, firstEnd := 0, "", time.Time{}
		for chain, hashes := range st.chains {
			e := st.byHash[hashes[len(hashes)-1]] // the newest token of the chain
			if e == nil || e.user != user {
				continue
			}
			n++
			if first == "" || e.expires.Before(firstEnd) {
				first, firstEnd = chain, e.expires
			}
		}
		if n < maxChainsPerUser {
			return
		}
		st.revokeLocked(first)
	}
}

func (st *refreshStore) issueLocked(e *refreshEntry) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256([]byte(token))
	st.byHash[h] = e
	st.chains[e.chain] = append(st.chains[e.chain], h)
	return token, nil
}

// rotate redeems token for client: on success it spends it and returns the
// chain's next token, valid until expires. Redemption and issue happen under
// one lock, so a concurrent reuse cannot leave a token in a revoked chain.
func (st *refreshStore) rotate(token, client string, now, expires time.Time) (entry refreshEntry, next string, res redeemResult, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	e := st.byHash[sha256.Sum256([]byte(token))]
	switch {
	case e == nil:
		return refreshEntry{}, "", redeemUnknown, nil
	case e.spent:
		st.revokeLocked(e.chain)
		st.saveLocked()
		return *e, "", redeemReused, nil
	case !now.Before(e.expires):
		return *e, "", redeemExpired, nil
	case e.client != client:
		return *e, "", redeemWrongClient, nil
	}
	e.spent = true
	next, err = st.issueLocked(&refreshEntry{chain: e.chain, user: e.user, client: e.client, expires: expires})
	if err == nil {
		st.saveLocked()
	}
	return *e, next, redeemOK, err
}

// revokeLocked forgets every token of the chain.
func (st *refreshStore) revokeLocked(chain string) {
	for _, h := range st.chains[chain] {
		delete(st.byHash, h)
	}
	delete(st.chains, chain)
}

// prune forgets expired tokens (spent ones too: reuse after expiry is just
// an expired token) and empty chains.
func (st *refreshStore) prune(now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := len(st.byHash)
	defer func() {
		if len(st.byHash) != n {
			st.saveLocked()
		}
	}()
	for chain, hashes := range st.chains {
		kept := hashes[:0]
		for _, h := range hashes {
			if e := st.byHash[h]; e != nil && now.Before(e.expires) {
				kept = append(kept, h)
			} else {
				delete(st.byHash, h)
			}
		}
		if len(kept) == 0 {
			delete(st.chains, chain)
		} else {
			st.chains[chain] = kept
		}
	}
}
