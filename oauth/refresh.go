package oauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// Refresh tokens (client VmsClient only) are opaque: 256 random bits in
// base64url. The store keeps only their SHA-256, so a memory dump does not
// yield usable tokens. They live in memory and do not survive a restart.
//
// Each password sign-in starts a chain. Redeeming a token spends it and
// issues the next one of the chain, valid RefreshTokenLifetime from then
// (so a client that keeps refreshing stays signed in). Presenting a spent
// token means two parties hold the chain — one of them stole it — so the
// whole chain is revoked, the newest token included.
type refreshStore struct {
	mu     sync.Mutex
	byHash map[[sha256.Size]byte]*refreshEntry
	chains map[string][][sha256.Size]byte // chain id → its tokens' hashes
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
	return &refreshStore{byHash: map[[sha256.Size]byte]*refreshEntry{}, chains: map[string][][sha256.Size]byte{}}
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
	return st.issueLocked(&refreshEntry{chain: chain, user: user, client: client, expires: expires})
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
		return *e, "", redeemReused, nil
	case !now.Before(e.expires):
		return *e, "", redeemExpired, nil
	case e.client != client:
		return *e, "", redeemWrongClient, nil
	}
	e.spent = true
	next, err = st.issueLocked(&refreshEntry{chain: e.chain, user: e.user, client: e.client, expires: expires})
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
