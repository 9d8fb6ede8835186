package referral_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
)

func TestNormaliseNHSNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"spaced 3-3-4", "943 476 5919", "9434765919", nil},
		{"plain digits", "9434765919", "9434765919", nil},
		{"check digit 11 becomes 0", "9434765870", "9434765870", nil},
		{"hyphens", "943-476-5919", "9434765919", nil},
		{"mixed spaces and hyphens, padded", "  943 - 476-59 19 ", "9434765919", nil},
		{"tab and non-breaking space", "943\t476\u00a05919", "9434765919", nil},
		{"another valid number", "4010232137", "4010232137", nil},
		{"wrong check digit", "9434765918", "", referral.ErrNHSNumberCheckDigit},
		{"computed check digit 10 is never valid", "1234567890", "", referral.ErrNHSNumberCheckDigit},
		{"computed check digit 10, other last digit", "1234567891", "", referral.ErrNHSNumberCheckDigit},
		{"nine digits", "943476591", "", referral.ErrNHSNumberFormat},
		{"eleven digits", "94347659190", "", referral.ErrNHSNumberFormat},
		{"letters", "943476591A", "", referral.ErrNHSNumberFormat},
		{"letter O for zero", "943476587O", "", referral.ErrNHSNumberFormat},
		{"dots", "943.476.5919", "", referral.ErrNHSNumberFormat},
		{"full-width digits", "９４３４７６５９１９", "", referral.ErrNHSNumberFormat},
		{"Arabic-Indic digits", "٩٤٣٤٧٦٥٩١٩", "", referral.ErrNHSNumberFormat},
		{"empty", "", "", referral.ErrNHSNumberFormat},
		{"only separators", " - - ", "", referral.ErrNHSNumberFormat},
		{"huge input", strings.Repeat(" ", 100) + "9434765919", "", referral.ErrNHSNumberFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := referral.NormaliseNHSNumber(tt.in)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("NormaliseNHSNumber(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("NormaliseNHSNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err == nil && !referral.ValidNHSNumber(got) {
				t.Errorf("ValidNHSNumber(%q) = false for a normalised number", got)
			}
		})
	}
}

func TestValidNHSNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"9434765919", true},
		{"9434765870", true},
		{"943 476 5919", false}, // not normalised
		{"9434765918", false},
		{"1234567890", false},
		{"943476591", false},
		{"", false},
		{"94347659a9", false},
	}
	for _, tt := range tests {
		if got := referral.ValidNHSNumber(tt.in); got != tt.want {
			t.Errorf("ValidNHSNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzNHSNumber(f *testing.F) {
	for _, s := range []string{"943 476 5919", "9434765870", "1234567890", "943-476-5919", "", "９４３", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := referral.NormaliseNHSNumber(s)
		if err != nil {
			if n != "" {
				t.Fatalf("NormaliseNHSNumber(%q) = %q with error %v", s, n, err)
			}
			if referral.ValidNHSNumber(s) {
				t.Fatalf("ValidNHSNumber(%q) but NormaliseNHSNumber failed: %v", s, err)
			}
			return
		}
		if len(n) != 10 || strings.Trim(n, "0123456789") != "" {
			t.Fatalf("NormaliseNHSNumber(%q) = %q, not 10 digits", s, n)
		}
		if !referral.ValidNHSNumber(n) {
			t.Fatalf("ValidNHSNumber(%q) = false after normalising %q", n, s)
		}
		if again, err := referral.NormaliseNHSNumber(n); err != nil || again != n {
			t.Fatalf("NormaliseNHSNumber(%q) = %q, %v; want it unchanged", n, again, err)
		}
	})
}
