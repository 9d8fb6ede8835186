package worklist

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// LinkTTL is how long a lead link works (SPEC §10): the weekly digest brings a fresh one.
const LinkTTL = 7 * 24 * time.Hour

// Issuer issues signed tokens (signedlink.Signer).
type Issuer interface {
	Issue(c signedlink.Claim, expires time.Time) string
}

// Checker checks signed tokens (signedlink.Signer).
type Checker interface {
	Check(role signedlink.Role, subject, binding, token string, now time.Time) (holder string, expires time.Time, err error)
}

var (
	_ Issuer  = (*signedlink.Signer)(nil)
	_ Checker = (*signedlink.Signer)(nil)
)

// Binding is what a lead link is bound to: the lead's address, trimmed and lower-cased, so a
// change of lead (or of their address) in the directory retires every link sent to the old one.
func Binding(leadEmail string) string { return strings.ToLower(strings.TrimSpace(leadEmail)) }

// ErrNoLead is returned for an area without a lead address: nobody can hold its link.
var ErrNoLead = errors.New("worklist: the area has no lead")

// IssueLink returns a lead link token for area, bound to the lead's address, valid for LinkTTL.
func IssueLink(s Issuer, areaID, leadEmail string, now time.Time) (token string, expires time.Time, err error) {
	if Binding(leadEmail) == "" {
		return "", time.Time{}, ErrNoLead
	}
	expires = now.Add(LinkTTL)
	return s.Issue(signedlink.Claim{Role: signedlink.RoleLead, Subject: areaID, Binding: Binding(leadEmail)}, expires), expires, nil
}

// CheckLink verifies a lead link for area against the lead's current address. Errors wrap
// signedlink.ErrInvalid (another area, another role, tampered, an old lead's link) or
// signedlink.ErrExpired, or are ErrNoLead.
func CheckLink(c Checker, areaID, leadEmail, token string, now time.Time) error {
	if Binding(leadEmail) == "" {
		return ErrNoLead
	}
	_, _, err := c.Check(signedlink.RoleLead, areaID, Binding(leadEmail), token, now)
	return err
}

// Path is the path of an area's worklist page.
func Path(areaID string) string { return "/areas/" + areaID + "/worklist" }

// LinkURL is the worklist with the lead's token (the "token" query field, as every signed link):
// the link in the waitlisted, bouncing-copy and digest emails, behind the public base URL. It
// lives here, not with the pages, so the functions that send those emails link no page code.
func LinkURL(areaID, token string) string {
	return Path(areaID) + "?" + url.Values{"token": {token}}.Encode()
}
