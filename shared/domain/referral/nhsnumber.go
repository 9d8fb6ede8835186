package referral

import (
	"errors"
	"strings"
	"unicode"
)

// Errors from NormaliseNHSNumber. Neither repeats the number.
var (
	ErrNHSNumberFormat     = errors.New("referral: NHS number is not 10 digits")
	ErrNHSNumberCheckDigit = errors.New("referral: NHS number check digit is wrong")
)

// NormaliseNHSNumber removes spaces and hyphens from s and returns the 10-digit NHS number, or
// ErrNHSNumberFormat when what is left is not exactly 10 ASCII digits, or ErrNHSNumberCheckDigit
// when the modulus 11 check digit does not match (including a computed check digit of 10, which
// is never issued).
func NormaliseNHSNumber(s string) (string, error) {
	if len(s) > 64 { // far longer than any spacing of 10 digits; bounds the work on hostile input
		return "", ErrNHSNumberFormat
	}
	b := make([]byte, 0, 10)
	for _, r := range s {
		switch {
		case r == '-' || unicode.IsSpace(r):
			continue
		case r < '0' || r > '9' || len(b) == 10:
			return "", ErrNHSNumberFormat
		}
		b = append(b, byte(r))
	}
	if len(b) != 10 {
		return "", ErrNHSNumberFormat
	}
	if !validCheckDigit(b) {
		return "", ErrNHSNumberCheckDigit
	}
	return string(b), nil
}

// ValidNHSNumber reports whether s is already a normalised NHS number: exactly 10 ASCII digits
// with a valid modulus 11 check digit.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	return validCheckDigit([]byte(s))
}

// validCheckDigit applies the NHS modulus 11 algorithm to 10 ASCII digits: weight the first nine
// by 10 down to 2, sum, check = 11 - (sum mod 11); 11 means 0 and 10 means the number is invalid.
func validCheckDigit(d []byte) bool {
	sum := 0
	for i := range 9 {
		sum += int(d[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return check == int(d[9]-'0')
}
