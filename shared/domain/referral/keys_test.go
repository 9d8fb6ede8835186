package referral

import (
	"strings"
	"testing"
)

func TestKeyerDerivations(t *testing.T) {
	t.Parallel()
	other, err := NewKeyer([]byte("another-patient-key-secret-of-32-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	pk := testKeys.PatientKey("9434765919")
	tests := []struct {
		name string
		ok   bool
	}{
		{"patient key is 64 lower-case hex digits", pk.Valid()},
		{"patient key holds no NHS number", !strings.Contains(string(pk), "9434765919")},
		{"patient key is stable", pk == testKeys.PatientKey("9434765919")},
		{"patient key differs per patient", pk != testKeys.PatientKey("4010232137")},
		{"patient key differs per secret", pk != other.PatientKey("9434765919")},
		{"keyed id is a referral reference", ValidID(testKeys.KeyedID("k1", 0)) && ValidID(testKeys.KeyedID("k1", 7))},
		{"keyed id is stable", testKeys.KeyedID("k1", 0) == testKeys.KeyedID("k1", 0)},
		{"keyed ids of one key differ by use", testKeys.KeyedID("k1", 0) != testKeys.KeyedID("k1", 1)},
		{"keyed ids differ per key", testKeys.KeyedID("k1", 0) != testKeys.KeyedID("k2", 0)},
		{"keyed ids differ per secret", testKeys.KeyedID("k1", 0) != other.KeyedID("k1", 0)},
		{"key tag is 32 hex digits, not the key", len(testKeys.KeyTag("k1")) == 32 && testKeys.KeyTag("k1") != testKeys.KeyTag("k2")},
		{"labels separate the derivations", testKeys.KeyTag("9434765919") != string(pk)[:32]},
		{"a short key is refused", func() bool { _, err := NewKeyer([]byte("short")); return err != nil }()},
		{"an NHS number is not a valid patient key", !PatientKey("9434765919").Valid()},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: failed", tt.name)
		}
	}
}
