package oauth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, "s3cret") {
		t.Fatalf("hash %q", hash)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{{"s3cret", true}, {"s3cret ", false}, {"", false}, {"S3cret", false}} {
		if ok, err := VerifyPassword(tc.password, hash); err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v", tc.password, ok, err)
		}
	}
	again, _ := HashPassword("s3cret")
	if again == hash {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
}

func TestVerifyPasswordFormats(t *testing.T) {
	t.Parallel()
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	for _, tc := range []struct {
		name, hash, password string
		ok                   bool
		bad                  bool // the hash cannot be read
	}{
		{name: "bcrypt 2a", hash: string(bc), password: "pw", ok: true},
		{name: "bcrypt wrong", hash: string(bc), password: "pW"},
		// Made by the reference implementation's CLI (Debian package argon2):
		// echo -n password | argon2 somesaltsomesalt -id -t 2 -m 10 -p 2 -l 32 -e
		{name: "argon2id reference", hash: "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", password: "password", ok: true},
		{name: "argon2id padded base64", hash: "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA==$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", password: "password", ok: true},
		{name: "argon2id wrong", hash: "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", password: "Password"},
		{name: "argon2i", hash: "$argon2i$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", bad: true},
		{name: "argon2 old version", hash: "$argon2id$v=16$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", bad: true},
		{name: "zero passes", hash: "$argon2id$v=19$m=1024,t=0,p=2$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", bad: true},
		{name: "zero lanes", hash: "$argon2id$v=19$m=1024,t=2,p=0$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", bad: true},
		{name: "huge memory", hash: "$argon2id$v=19$m=4194304,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", bad: true},
		{name: "odd parameters", hash: "$argon2id$v=19$m=1024,t=2,p=2,x=1$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4", bad: true},
		{name: "short salt", hash: "$argon2id$v=19$m=1024,t=2,p=2$c2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8", bad: true},
		{name: "plain text", hash: "password", bad: true},
		{name: "empty", hash: "", bad: true},
		{name: "truncated bcrypt", hash: string(bc[:20]), bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := VerifyPassword(tc.password, tc.hash)
			if (err != nil) != tc.bad || ok != tc.ok {
				t.Fatalf("VerifyPassword = %v, %v", ok, err)
			}
			if err != nil && tc.hash != "" && strings.Contains(err.Error(), tc.hash) {
				t.Fatalf("the error quotes the hash: %v", err)
			}
		})
	}
}

// The decoy costs what the model costs: same algorithm and parameters.
func TestDecoyMatchesModel(t *testing.T) {
	t.Parallel()
	bc, _ := bcrypt.GenerateFromPassword([]byte("pw"), 5)
	model, err := parsePasswordHash(string(bc))
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.decoy()
	if err != nil {
		t.Fatal(err)
	}
	if cost, _ := bcrypt.Cost(d.bcrypt); d.argon || cost != 5 {
		t.Fatalf("bcrypt decoy cost %d", cost)
	}
	model, _ = parsePasswordHash("$argon2id$v=19$m=1024,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$E2UjtrDTCgIx4mfpqQ9GwLzvabuQuVCcwisqBRbSI+4")
	d, _ = model.decoy()
	if !d.argon || d.memory != 1024 || d.time != 3 || d.threads != 2 || len(d.key) != len(model.key) {
		t.Fatalf("argon2id decoy %s", d)
	}
}
