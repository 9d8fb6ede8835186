package referral

import (
	"errors"
	"strings"
	"unicode"
)

var (
	errPhone = errors.New("referral: not a UK phone number")
	errEmail = errors.New("referral: not a valid email address")
)

// normalisePhone accepts a UK number written nationally ("0114 496 0000", "07700-900123",
// "(01632) 960 001") or internationally ("+44 7700 900123", "+44 (0)7700 900123"), with spaces,
// hyphens and brackets anywhere, and 10 or 11 digits in its national form (with the leading 0).
//
// The canonical stored form is E.164: "+44" and the national number without its 0, no spaces,
// e.g. "+447700900123". It is unambiguous, what tel: links and SMS gateways expect, and the same
// however the referrer typed it; pages can format it for people.
func normalisePhone(s string) (string, error) {
	digits := make([]byte, 0, 16)
	plus := false
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			if len(digits) == 16 {
				return "", errPhone
			}
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
			plus = true
		case r == '-' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return "", errPhone
		}
	}
	var national string
	if plus {
		rest, ok := strings.CutPrefix(string(digits), "44")
		if !ok {
			return "", errPhone
		}
		national = "0" + strings.TrimPrefix(rest, "0") // "+44 (0)7700 …" keeps one trunk 0
	} else {
		national = string(digits)
	}
	if len(national) < 10 || len(national) > 11 || national[0] != '0' || national[1] == '0' {
		return "", errPhone
	}
	return "+44" + national[1:], nil
}

// normaliseEmail checks s (trimmed) is a plain address, local@domain, in the shape GOV.UK Notify
// accepts: the local part from the RFC 5322 atom characters without consecutive, leading or
// trailing dots; an ASCII domain of at least two labels of letters, digits and inner hyphens,
// with an alphabetic top-level label. It returns the address with the domain lower-cased (the
// local part is kept as typed: some mail systems treat it as case-sensitive).
func normaliseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 254 {
		return "", errEmail
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || !validLocalPart(local) {
		return "", errEmail
	}
	domain = strings.ToLower(domain)
	if !validDomain(domain) {
		return "", errEmail
	}
	return local + "@" + domain, nil
}

func validLocalPart(l string) bool {
	if l == "" || len(l) > 64 || l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !isAlnum(c) && !strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", rune(c)) {
			return false
		}
	}
	return true
}

// validDomain expects a lower-cased domain.
func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// domainAllowed reports whether the (lower-case) domain matches one of the allowed entries. An
// entry matches only that exact domain ("nhs.net" does not admit "evilnhs.net", "nhs.net.evil.com"
// or "mail.nhs.net"); an entry written "*.nhs.uk" admits any subdomain of nhs.uk but not nhs.uk
// itself. Entries are compared case-insensitively; an empty list admits nothing.
func domainAllowed(domain string, allowed []string) bool {
	for _, a := range allowed {
		a = normaliseDomainEntry(a)
		if a == "" {
			continue
		}
		if suffix, ok := strings.CutPrefix(a, "*"); ok {
			if len(domain) > len(suffix) && strings.HasSuffix(domain, suffix) && suffix[0] == '.' {
				return true
			}
			continue
		}
		if domain == a {
			return true
		}
	}
	return false
}

// normaliseDomainEntry lower-cases and trims an allowed-domain entry and drops a leading "@", so
// "NHS.net", " @nhs.net" and "nhs.net" are the same entry. A wildcard keeps its "*." prefix;
// anything else starting with "*" is dropped.
func normaliseDomainEntry(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	a = strings.TrimPrefix(a, "@")
	if strings.HasPrefix(a, "*") && (!strings.HasPrefix(a, "*.") || len(a) < 3) {
		return ""
	}
	return a
}

// describeDomains says, for a message, what a referrer's address must end in: "@nhs.net",
// "@nhs.net or .nhs.uk".
func describeDomains(allowed []string) string {
	var parts []string
	for _, a := range allowed {
		a = normaliseDomainEntry(a)
		switch {
		case a == "":
		case strings.HasPrefix(a, "*."):
			parts = append(parts, a[1:])
		default:
			parts = append(parts, "@"+a)
		}
	}
	return strings.Join(parts, " or ")
}
