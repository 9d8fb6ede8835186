package settings

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReader(t *testing.T) {
	env := map[string]string{"TABLE": "t", "DAYS": "3", "BAD": "two", "ZERO": "0"}
	r := New(func(k string) string { return env[k] })
	if got := r.Required("TABLE"); got != "t" {
		t.Errorf("Required = %q", got)
	}
	if got := r.Number("DAYS", 9, 1); got != 3 {
		t.Errorf("Number = %d", got)
	}
	if got := r.Number("UNSET", 9, 1); got != 9 {
		t.Errorf("Number default = %d", got)
	}
	if got := r.Days("UNSET", 2); got != 48*time.Hour {
		t.Errorf("Days default = %v", got)
	}
	if r.Err() != nil {
		t.Fatalf("no problem yet, got %v", r.Err())
	}
	r.Required("MISSING")
	r.Number("BAD", 1, 1)
	r.Days("ZERO", 1)
	r.Fail(errors.New("custom"))
	err := r.Err()
	for _, want := range []string{"MISSING is not set", `BAD must be a whole number of at least 1, not "two"`, "ZERO", "custom"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Err() = %v, want it to mention %q", err, want)
		}
	}
}
