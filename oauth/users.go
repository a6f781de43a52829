package oauth

import (
	"fmt"
	"strings"

	"github.com/camgate/camgate/appsettings"
)

// user is an account of the built-in provider.
type user struct {
	name  string // as configured, shown as the token's "name"
	key   string // lower-cased name: user names compare case-insensitively
	hash  *passwordHash
	roles []string
}

// subject is the user's stable "sub": it does not change when the user
// name's case does in settings.
func (u *user) subject() string { return "user:" + u.key }

// userDirectory holds the built-in provider's accounts. It is built once in
// New and never changes, so it needs no lock.
type userDirectory struct {
	byKey map[string]*user
	// decoy is checked when the user name is unknown, so that an unknown
	// user costs the same hash verification as a known one.
	decoy *passwordHash
}

// newUserDirectory reads Auth.Users.
func newUserDirectory(users []appsettings.User) (*userDirectory, error) {
	dir := &userDirectory{byKey: map[string]*user{}}
	for i, cu := range users {
		field := fmt.Sprintf("Auth.Users[%d]", i)
		key := strings.ToLower(strings.TrimSpace(cu.Username))
		if key == "" {
			return nil, fmt.Errorf("%s.Username is empty", field)
		}
		if dir.byKey[key] != nil {
			return nil, fmt.Errorf("%s.Username %q is configured twice (user names ignore case)", field, cu.Username)
		}
		h, err := parsePasswordHash(cu.PasswordHash)
		if err != nil {
			return nil, fmt.Errorf("%s.PasswordHash: %w", field, err)
		}
		dir.byKey[key] = &user{name: cu.Username, key: key, hash: h, roles: append([]string(nil), cu.Roles...)}
	}
	if err := dir.makeDecoy(users); err != nil {
		return nil, err
	}
	return dir, nil
}

// makeDecoy picks the decoy's algorithm and cost: those of the first
// configured user (the likely pattern of all of them), else HashPassword's.
func (d *userDirectory) makeDecoy(users []appsettings.User) error {
	var model *passwordHash
	if len(users) > 0 {
		model = d.byKey[strings.ToLower(strings.TrimSpace(users[0].Username))].hash
	} else {
		model = &passwordHash{argon: true, memory: argonMemoryKiB, time: argonTime, threads: argonThreads,
			salt: make([]byte, argonSaltLen), key: make([]byte, argonKeyLen)}
	}
	decoy, err := model.decoy()
	if err != nil {
		return fmt.Errorf("make the decoy password hash: %w", err)
	}
	d.decoy = decoy
	return nil
}

// authenticate returns the user when name and password match. An unknown
// name still costs one hash verification; the caller must not tell the two
// failures apart either.
func (d *userDirectory) authenticate(name, password string) (*user, bool) {
	u := d.byKey[strings.ToLower(strings.TrimSpace(name))]
	if u == nil {
		d.decoy.verify(password)
		return nil, false
	}
	if !u.hash.verify(password) {
		return nil, false
	}
	return u, true
}

// lookup finds a user by its lower-cased name.
func (d *userDirectory) lookup(key string) *user { return d.byKey[key] }

// known reports whether a user of that name exists, for log lines, which
// name a user only when it exists: a failed sign-in's user name may be a
// password typed into the wrong field.
func (d *userDirectory) known(name string) bool {
	return d.byKey[strings.ToLower(strings.TrimSpace(name))] != nil
}
