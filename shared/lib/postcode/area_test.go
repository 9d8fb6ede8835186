package postcode

import (
	"math/rand"
	"strings"
	"testing"
)

func TestArea(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"S35 0AB", "S"},
		{"AB10 1XG", "AB"},
		{"EH1 1YZ", "EH"},
		{"W1A 1AA", "W"},
		{"EC1A 1BB", "EC"},
		{"GY1 1AA", "GY"},
		{"YY1 1AA", OtherArea},
		{"GIR 0AA", OtherArea},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := p.Area(); got != tt.want {
			t.Errorf("Area(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// randomOutward builds a random outward code in one of the six valid formats.
func randomOutward(r *rand.Rand) string {
	pick := func(s string) byte { return s[r.Intn(len(s))] }
	digit := func() byte { return byte('0' + r.Intn(10)) }
	switch r.Intn(6) {
	case 0: // A9
		return string([]byte{pick(firstLetters), digit()})
	case 1: // A99
		return string([]byte{pick(firstLetters), digit(), digit()})
	case 2: // AA9
		return string([]byte{pick(firstLetters), pick(secondLetters), digit()})
	case 3: // AA99
		return string([]byte{pick(firstLetters), pick(secondLetters), digit(), digit()})
	case 4: // A9A
		return string([]byte{pick(firstLetters), digit(), pick(thirdLetters)})
	default: // AA9A
		return string([]byte{pick(firstLetters), pick(secondLetters), digit(), pick(fourthLetters)})
	}
}

// TestAreaBoundedOverRandomOutwardCodes: whatever outward codes arrive, the dimension values stay
// within the fixed set and never carry a digit (so never a district or a full postcode).
func TestAreaBoundedOverRandomOutwardCodes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(11))
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		out := randomOutward(r)
		p, err := Parse(out + " 1AA")
		if err != nil {
			t.Fatalf("generated %q does not parse: %v", out, err)
		}
		a := p.Area()
		if strings.ContainsAny(a, "0123456789 ") {
			t.Fatalf("Area(%q) = %q carries a district", p, a)
		}
		seen[a] = true
	}
	if len(seen) > len(knownAreas())+1 || len(seen) > 126 {
		t.Errorf("%d distinct areas from 1,000 outward codes, want at most %d", len(seen), len(knownAreas())+1)
	}
	t.Logf("%d distinct dimension values from 1,000 random outward codes (%d known areas + %q)", len(seen), len(knownAreas()), OtherArea)
}
