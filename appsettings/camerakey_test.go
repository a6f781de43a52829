package appsettings

import "testing"

// Every spelling of an Id has one key, and different Ids different keys.
func TestKeyOf(t *testing.T) {
	const id = "A364956F-39A5-4CBC-9FFE-55B0C802CA77"
	for _, spelling := range []string{id, "a364956f-39a5-4cbc-9ffe-55b0c802ca77", "A364956f-39A5-4cbc-9FFE-55b0c802CA77"} {
		if KeyOf(spelling) != KeyOf(id) {
			t.Errorf("KeyOf(%q) = %q, want %q", spelling, KeyOf(spelling), KeyOf(id))
		}
	}
	if KeyOf(id) != "a364956f-39a5-4cbc-9ffe-55b0c802ca77" {
		t.Errorf("KeyOf(%q) = %q, want the lower case the recording folders use", id, KeyOf(id))
	}
	if KeyOf(id) == KeyOf("A364956F-39A5-4CBC-9FFE-55B0C802CA78") {
		t.Error("two Ids have one key")
	}
}
