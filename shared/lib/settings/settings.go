// Package settings reads a function's configuration from its environment (the template's
// parameters), collecting every problem so start-up fails once, naming each bad variable.
package settings

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Reader reads variables through getenv and remembers what was missing or wrong.
type Reader struct {
	getenv func(string) string
	errs   []error
}

// New returns a Reader over getenv (os.Getenv in a function, a map in tests).
func New(getenv func(string) string) *Reader { return &Reader{getenv: getenv} }

// Required returns the variable, noting an error when it is unset or empty.
func (r *Reader) Required(name string) string {
	v := r.getenv(name)
	if v == "" {
		r.errs = append(r.errs, fmt.Errorf("%s is not set", name))
	}
	return v
}

// Optional returns the variable or "".
func (r *Reader) Optional(name string) string { return r.getenv(name) }

// Number returns the variable as a whole number of at least least, or def when unset.
func (r *Reader) Number(name string, def, least int) int {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		r.errs = append(r.errs, fmt.Errorf("%s must be a whole number of at least %d, not %q", name, least, v))
	}
	return n
}

// Days returns the variable as a number of days (at least one), or def days when unset.
func (r *Reader) Days(name string, def int) time.Duration {
	return time.Duration(r.Number(name, def, 1)) * 24 * time.Hour
}

// Fail notes a problem found by the caller's own checks.
func (r *Reader) Fail(err error) { r.errs = append(r.errs, err) }

// Err is every problem noted, joined, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }
