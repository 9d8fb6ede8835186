// Package postcode parses and normalises UK postcodes.
//
// Parse accepts the six standard formats (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA)
// with the letter restrictions of the UK Government Data Standards postcode pattern, plus the
// special postcode GIR 0AA. Input is case-insensitive and may contain any whitespace anywhere:
// "s1 2hh", "S12HH" and " s 1 2 h h " all parse to S1 2HH. It checks the format only; whether a
// postcode exists (or is in a service area) is for the directory to decide.
package postcode

import (
	"errors"
	"unicode"
)

// ErrInvalid is returned by Parse for anything that is not a UK postcode. Its message never
// repeats the input.
var ErrInvalid = errors.New("postcode: not a valid UK postcode format")

// maxInput bounds the work done on hostile input: a postcode with generous spacing is far shorter.
const maxInput = 64

// Postcode is a parsed, upper-case UK postcode: Outward "S35", Inward "0AB".
type Postcode struct {
	Outward, Inward string
}

// Parse strips all whitespace from s, upper-cases it and checks it is a valid UK postcode format.
// The inward code is the last three characters.
func Parse(s string) (Postcode, error) {
	if len(s) > maxInput {
		return Postcode{}, ErrInvalid
	}
	b := make([]byte, 0, 8)
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		default:
			return Postcode{}, ErrInvalid
		}
		if len(b) == 7 {
			return Postcode{}, ErrInvalid
		}
		b = append(b, byte(r))
	}
	if len(b) < 5 {
		return Postcode{}, ErrInvalid
	}
	p := Postcode{Outward: string(b[:len(b)-3]), Inward: string(b[len(b)-3:])}
	if p.Outward == "GIR" && p.Inward == "0AA" {
		return p, nil
	}
	if !validInward(p.Inward) || !validOutward(p.Outward) {
		return Postcode{}, ErrInvalid
	}
	return p, nil
}

// String returns the postcode as "OUTWARD INWARD", e.g. "S1 2HH".
func (p Postcode) String() string { return p.Outward + " " + p.Inward }

// District returns the postcode district (the outward code), e.g. "S35".
func (p Postcode) District() string { return p.Outward }

// Sector returns the postcode sector: the district, a space and the first inward character,
// e.g. "S35 0".
func (p Postcode) Sector() string {
	if p.Inward == "" {
		return p.Outward
	}
	return p.Outward + " " + p.Inward[:1]
}

// Letter classes of the UK Government Data Standards postcode pattern.
const (
	firstLetters  = "ABCDEFGHIJKLMNOPRSTUWYZ" // position 1: not Q, V, X
	secondLetters = "ABCDEFGHKLMNOPQRSTUVWXY" // position 2: not I, J, Z
	thirdLetters  = "ABCDEFGHJKPSTUW"         // A9A: the letter after the digit
	fourthLetters = "ABEHMNPRVWXY"            // AA9A: the letter after the digit
	inwardLetters = "ABDEFGHJLNPQRSTUWXYZ"    // inward: not C, I, K, M, O, V
)

func validInward(in string) bool {
	return len(in) == 3 && isDigit(in[0]) && in1(inwardLetters, in[1]) && in1(inwardLetters, in[2])
}

func validOutward(out string) bool {
	n := len(out)
	if n < 2 || n > 4 || !in1(firstLetters, out[0]) {
		return false
	}
	if isDigit(out[1]) {
		// A9, A99, A9A
		switch n {
		case 2:
			return true
		case 3:
			return isDigit(out[2]) || in1(thirdLetters, out[2])
		}
		return false
	}
	// AA9, AA99, AA9A
	if !in1(secondLetters, out[1]) || n < 3 || !isDigit(out[2]) {
		return false
	}
	switch n {
	case 3:
		return true
	case 4:
		return isDigit(out[3]) || in1(fourthLetters, out[3])
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func in1(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}
