package postcode_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/lib/postcode"
)

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, district, sector string
	}{
		{"A9 9AA", "M1 1AE", "M1 1AE", "M1", "M1 1"},
		{"A99 9AA", "B33 8TH", "B33 8TH", "B33", "B33 8"},
		{"AA9 9AA", "CR2 6XH", "CR2 6XH", "CR2", "CR2 6"},
		{"AA99 9AA", "DN55 1PT", "DN55 1PT", "DN55", "DN55 1"},
		{"A9A 9AA", "W1A 0AX", "W1A 0AX", "W1A", "W1A 0"},
		{"AA9A 9AA", "EC1A 1BB", "EC1A 1BB", "EC1A", "EC1A 1"},
		{"spec example lower case", "s1 2hh", "S1 2HH", "S1", "S1 2"},
		{"no space", "S350AB", "S35 0AB", "S35", "S35 0"},
		{"extra spaces", "  s35   0ab ", "S35 0AB", "S35", "S35 0"},
		{"spaces everywhere", "s 3 5 0 a b", "S35 0AB", "S35", "S35 0"},
		{"tab and newline", "\tNR1\n3QU\r\n", "NR1 3QU", "NR1", "NR1 3"},
		{"non-breaking space", "EN1\u00a03XA", "EN1 3XA", "EN1", "EN1 3"},
		{"mixed case", "Sl1 2Ab", "SL1 2AB", "SL1", "SL1 2"},
		{"GIR 0AA", "gir0aa", "GIR 0AA", "GIR", "GIR 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := postcode.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := p.District(); got != tt.district {
				t.Errorf("District() = %q, want %q", got, tt.district)
			}
			if got := p.Sector(); got != tt.sector {
				t.Errorf("Sector() = %q, want %q", got, tt.sector)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", "   "},
		{"too short", "S1 2H"},
		{"too long", "SW1AA 1AA"},
		{"inward only", "2HH"},
		{"outward only", "S35"},
		{"no inward digit", "S1 HHH"},
		{"digit first", "11 2HH"},
		{"Q first", "QA1 1AA"},
		{"V first", "V1 1AA"},
		{"X first", "X1 1AA"},
		{"I second", "AI1 1AA"},
		{"J second", "AJ1 1AA"},
		{"Z second", "AZ1 1AA"},
		{"A9A bad third letter", "W1I 0AX"},
		{"AA9A bad fourth letter", "EC1C 1BB"},
		{"inward C", "S1 2CA"},
		{"inward I", "S1 2AI"},
		{"inward K", "S1 2KA"},
		{"inward M", "S1 2AM"},
		{"inward O", "S1 2OA"},
		{"inward V", "S1 2AV"},
		{"letters only", "ABC DEF"},
		{"three letters outward", "ABC 1AA"},
		{"punctuation", "S1-2HH"},
		{"full-width letters", "Ｓ1 2HH"},
		{"long s folds to S", "\u017f1 2hh"},
		{"zip code", "90210"},
		{"control character", "S1\x002HH"},
		{"invalid UTF-8", "S1 2H\xff"},
		{"huge input", strings.Repeat(" ", 1000) + "S1 2HH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := postcode.Parse(tt.in)
			if !errors.Is(err, postcode.ErrInvalid) {
				t.Fatalf("Parse(%q) = %+v, %v; want ErrInvalid", tt.in, p, err)
			}
			if p != (postcode.Postcode{}) {
				t.Errorf("Parse(%q) returned %+v with the error, want the zero Postcode", tt.in, p)
			}
		})
	}
}

func TestErrorDoesNotEchoInput(t *testing.T) {
	t.Parallel()
	_, err := postcode.Parse("ZZ99 9ZZ-secret")
	if err == nil || strings.Contains(err.Error(), "ZZ99") {
		t.Fatalf("error %v must exist and must not repeat the input", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"S1 2HH", "s350ab", "GIR 0AA", "EC1A 1BB", "", " ", "W1A0AX", "\x00", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := postcode.Parse(s)
		if err != nil {
			if p != (postcode.Postcode{}) {
				t.Fatalf("Parse(%q) returned %+v with an error", s, p)
			}
			return
		}
		str := p.String()
		if str != strings.ToUpper(str) || len(p.Inward) != 3 || len(p.Outward) < 2 || len(p.Outward) > 4 {
			t.Fatalf("Parse(%q) = %+v: not normalised", s, p)
		}
		again, err := postcode.Parse(str)
		if err != nil || again != p {
			t.Fatalf("Parse(%q) = %q does not re-parse to itself: %+v, %v", s, str, again, err)
		}
		if again, err := postcode.Parse(p.Outward + p.Inward); err != nil || again != p {
			t.Fatalf("unspaced %q does not re-parse to %+v: %+v, %v", p.Outward+p.Inward, p, again, err)
		}
		if !strings.HasPrefix(p.Sector(), p.District()+" ") {
			t.Fatalf("Sector %q does not start with District %q", p.Sector(), p.District())
		}
	})
}
