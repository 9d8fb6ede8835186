package referral

import (
	"strings"
	"testing"
)

func TestNormalisePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string // want "" means invalid
	}{
		{"mobile, spaced", "07700 900123", "+447700900123"},
		{"mobile, plain", "07700900123", "+447700900123"},
		{"landline, spec example", "0114 496 0000", "+441144960000"},
		{"international", "+44 7700 900123", "+447700900123"},
		{"international, no spaces", "+447700900123", "+447700900123"},
		{"international with (0)", "+44 (0)7700 900123", "+447700900123"},
		{"brackets around area code", "(0114) 496-0000", "+441144960000"},
		{"hyphens", "07700-900-123", "+447700900123"},
		{"padded", "  07700 900123 ", "+447700900123"},
		{"10-digit national number", "016977 3456", "+44169773456"},
		{"non-breaking space", "07700\u00a0900123", "+447700900123"},
		{"9 digits", "077009001", ""},
		{"12 digits", "077009001234", ""},
		{"no leading 0", "7700900123", ""},
		{"00 prefix", "00447700900123", ""},
		{"double 0 national", "0077009001", ""},
		{"other country", "+33 1 23 45 67 89", ""},
		{"+44 too short", "+44 7700 9001", ""},
		{"+44 too long", "+44 7700 9001234", ""},
		{"plus in the middle", "07700+900123", ""},
		{"letters", "07700 9OO123", ""},
		{"extension", "0114 496 0000 ext 12", ""},
		{"dots", "07700.900.123", ""},
		{"empty", "", ""},
		{"only plus", "+", ""},
		{"long digit run", strings.Repeat("0", 1000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := normalisePhone(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("normalisePhone(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("normalisePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if again, err := normalisePhone(got); err != nil || again != got {
				t.Errorf("canonical %q does not re-normalise to itself: %q, %v", got, again, err)
			}
		})
	}
}

func TestNormaliseEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string // want "" means invalid
	}{
		{"plain", "sam.taylor@example.com", "sam.taylor@example.com"},
		{"domain lower-cased, local kept", "Sam.Taylor@EXAMPLE.Com", "Sam.Taylor@example.com"},
		{"trimmed", "  priya.shah@nhs.net\t", "priya.shah@nhs.net"},
		{"plus tag", "sam+ips@example.co.uk", "sam+ips@example.co.uk"},
		{"apostrophe", "o'neil@example.org", "o'neil@example.org"},
		{"hyphenated domain", "a@my-practice.nhs.uk", "a@my-practice.nhs.uk"},
		{"no at", "sam.example.com", ""},
		{"two ats", "sam@taylor@example.com", ""},
		{"no local part", "@example.com", ""},
		{"no domain", "sam@", ""},
		{"single-label domain", "sam@localhost", ""},
		{"numeric TLD", "sam@192.168.0.1", ""},
		{"one-letter TLD", "sam@example.c", ""},
		{"leading dot", ".sam@example.com", ""},
		{"trailing dot in local", "sam.@example.com", ""},
		{"double dot", "sam..taylor@example.com", ""},
		{"double dot in domain", "sam@example..com", ""},
		{"trailing dot domain", "sam@example.com.", ""},
		{"hyphen at label start", "sam@-example.com", ""},
		{"space inside", "sam taylor@example.com", ""},
		{"display name form", "Sam <sam@example.com>", ""},
		{"CRLF header injection", "sam@example.com\r\nBcc: x@example.org", ""},
		{"unicode domain", "sam@exämple.com", ""},
		{"unicode local", "sám@example.com", ""},
		{"quoted local part", `"sam"@example.com`, ""},
		{"local part over 64", strings.Repeat("a", 65) + "@example.com", ""},
		{"over 254 in all", "a@" + strings.Repeat("b", 250) + ".com", ""},
		{"label over 63", "a@" + strings.Repeat("b", 64) + ".com", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := normaliseEmail(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("normaliseEmail(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("normaliseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDomainAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain  string
		allowed []string
		want    bool
	}{
		{"nhs.net", []string{"nhs.net"}, true},
		{"nhs.net", []string{" NHS.Net "}, true},
		{"nhs.net", []string{"@nhs.net"}, true},
		{"evilnhs.net", []string{"nhs.net"}, false},
		{"nhs.net.evil.com", []string{"nhs.net"}, false},
		{"mail.nhs.net", []string{"nhs.net"}, false},
		{"net", []string{"nhs.net"}, false},
		{"trust.nhs.uk", []string{"nhs.net", "*.nhs.uk"}, true},
		{"a.trust.nhs.uk", []string{"*.nhs.uk"}, true},
		{"nhs.uk", []string{"*.nhs.uk"}, false},
		{"evilnhs.uk", []string{"*.nhs.uk"}, false},
		{"nhs.uk.evil.com", []string{"*.nhs.uk"}, false},
		{"example.com", []string{"*"}, false},
		{"example.com", []string{"*example.com"}, false},
		{"nhs.net", nil, false},
		{"nhs.net", []string{""}, false},
	}
	for _, tt := range tests {
		if got := domainAllowed(tt.domain, tt.allowed); got != tt.want {
			t.Errorf("domainAllowed(%q, %q) = %v, want %v", tt.domain, tt.allowed, got, tt.want)
		}
	}
}

func TestDescribeDomains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		allowed []string
		want    string
	}{
		{[]string{"nhs.net"}, "@nhs.net"},
		{[]string{"NHS.net", "*.nhs.uk"}, "@nhs.net or .nhs.uk"},
		{[]string{"", "*"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := describeDomains(tt.allowed); got != tt.want {
			t.Errorf("describeDomains(%q) = %q, want %q", tt.allowed, got, tt.want)
		}
	}
}
