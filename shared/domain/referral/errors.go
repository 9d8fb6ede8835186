package referral

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error for the edge, which maps each code to one HTTP status in one table.
type Code string

const (
	CodeInvalid          Code = "invalid"     // field errors or malformed input: 400
	CodeOutOfArea        Code = "out_of_area" // postcode in no area: 422
	CodeConflict         Code = "conflict"    // idempotency key reused with another body: 409
	CodeTooLarge         Code = "too_large"   // body over the limit: 413
	CodeUnsupported      Code = "unsupported" // content type not accepted: 415
	CodeNotFound         Code = "not_found"   // 404, never revealing whether something exists
	CodeForbidden        Code = "forbidden"   // bad, expired or foreign signed link: 403
	CodeUnavailable      Code = "unavailable" // a dependency is down or throttling: 503 + Retry-After
	CodeInternal         Code = "internal"    // a bug: 500, logged, generic message to the user
	CodeMethodNotAllowed Code = "method_not_allowed"
)

// FieldError names the JSON path of a field that failed a rule, and says why in plain English.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type the domain returns. Message is safe to show to users: it never
// contains patient data.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Field
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(names, ", "))
}

// Errorf returns an *Error with the given code and a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// FieldErrors returns the field errors in err's chain, if any.
func FieldErrors(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
