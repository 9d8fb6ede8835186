// Package signedlink issues and checks the signed tokens the service hands out (SPEC §4, §8, §10):
// "specialist S may open referral R until T", "the referrer of R may see and withdraw it", "the
// lead of area A may open its worklist", and the referral form's own token. Each is authenticated
// with HMAC-SHA256 under a secret only the service knows.
//
// A token is base64url (no padding) of
//
//	version (1 byte, 2) | role (1 byte) | expiry (8 bytes, Unix seconds, big-endian) | holder | MAC (32 bytes)
//
// The subject (a referral id, an area id) is not in the token: it is in the URL, and the MAC binds
// the token to it. The holder (a specialist id, a form nonce) is carried so the verifier can learn
// it. A binding (the referrer's or lead's email address) is never carried, only covered by the MAC:
// the verifier supplies the one it expects, so a token stops working when the binding changes and
// no address ever appears in a URL. The MAC is HMAC-SHA256 over
//
//	"ipspc-link-v2" | role | len(subject) | subject | len(holder) | holder | len(binding) | binding | expiry
//
// with each length an 8-byte big-endian count, so no two claims share a MAC input, and the role
// keeps a token of one role from ever passing for another.
//
// Version 1 tokens (specialist links sent before roles existed) are still accepted for the
// specialist role until they expire.
//
// Rotation (SPEC §8): a Signer holds the current secret, with which it signs, and optionally the
// previous one; a token verifies under either, so links already sent keep working until they expire.
//
// Expiry is kept to the second. A token is valid while now is strictly before its expiry: at the
// expiry instant itself it has expired.
package signedlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrInvalid is returned for a token that is malformed, tampered with, signed with another
	// secret, of another role or issued for another subject or binding.
	ErrInvalid = errors.New("signedlink: invalid link")
	// ErrExpired is returned for an authentic token whose expiry has passed.
	ErrExpired = errors.New("signedlink: link expired")
)

// Role is what a token lets its holder do.
type Role byte

const (
	// RoleSpecialist opens a referral's page and records progress; the holder is the specialist id.
	RoleSpecialist Role = 1
	// RoleReferrer shows a referral's status and withdraws it; bound to the referrer's email.
	RoleReferrer Role = 2
	// RoleLead opens an area's worklist and report; the subject is the area, bound to the lead's email.
	RoleLead Role = 3
	// RoleForm is the referral form's hidden token: the holder is a nonce, the expiry its issue time
	// plus the idempotency window.
	RoleForm Role = 4
)

// Claim is what a token says.
type Claim struct {
	Role    Role
	Subject string // in the URL: a referral id, an area id
	Holder  string // carried in the token: a specialist id, a nonce; may be empty
	Binding string // never carried: the verifier supplies it (an email address); may be empty
}

const (
	// MinSecretLen is the shortest secret NewSigner accepts: as long as the HMAC-SHA256 output.
	MinSecretLen = 32
	// MaxHolderLen is the longest holder (a specialist id, for instance) a token can carry.
	MaxHolderLen = 256
	// MaxSpecialistIDLen is kept for callers that name the specialist limit.
	MaxSpecialistIDLen = MaxHolderLen

	versionV1 byte = 1
	versionV2 byte = 2
	domainV1       = "ipspc-link-v1"
	domainV2       = "ipspc-link-v2"
	headerV1       = 1 + 8
	headerV2       = 1 + 1 + 8
	macLen         = sha256.Size
	maxRawLen      = headerV2 + MaxHolderLen + macLen
)

// maxTokenLen is the longest token string Check decodes; anything longer is rejected unread.
var maxTokenLen = base64.RawURLEncoding.EncodedLen(maxRawLen)

var encoding = base64.RawURLEncoding.Strict()

// Signer signs and verifies tokens. It is safe for concurrent use.
type Signer struct {
	secrets [][]byte // the current secret first; it is the one that signs
}

// NewSigner returns a Signer that signs with current and verifies with current and then each of
// previous (the secret versions before a rotation). Each secret must be at least MinSecretLen
// bytes; they are copied.
func NewSigner(current []byte, previous ...[]byte) (*Signer, error) {
	s := &Signer{}
	for i, secret := range append([][]byte{current}, previous...) {
		if len(secret) < MinSecretLen {
			return nil, fmt.Errorf("signedlink: secret %d is %d bytes, need at least %d", i, len(secret), MinSecretLen)
		}
		s.secrets = append(s.secrets, append([]byte(nil), secret...))
	}
	return s, nil
}

// Issue returns a URL-safe token for c, valid until expires (exclusive), kept to the second.
//
// The holder must be at most MaxHolderLen bytes, and the role one of the Role constants. Both come
// from the service itself, never from a request, so anything else is a programming error and Issue
// panics rather than issue a token that could never be verified.
func (s *Signer) Issue(c Claim, expires time.Time) string {
	if len(c.Holder) > MaxHolderLen {
		panic(fmt.Sprintf("signedlink: holder must be at most %d bytes, got %d", MaxHolderLen, len(c.Holder)))
	}
	if c.Role < RoleSpecialist || c.Role > RoleForm {
		panic(fmt.Sprintf("signedlink: unknown role %d", c.Role))
	}
	exp := expires.Unix()
	raw := make([]byte, 0, headerV2+len(c.Holder)+macLen)
	raw = append(raw, versionV2, byte(c.Role))
	raw = binary.BigEndian.AppendUint64(raw, uint64(exp))
	raw = append(raw, c.Holder...)
	raw = append(raw, macV2(s.secrets[0], c, exp)...)
	return encoding.EncodeToString(raw)
}

// Check verifies that token was issued by this Signer (under any of its secrets) for role, subject
// and binding, and has not expired at now. It returns the holder the token carries and its expiry.
// Errors wrap ErrInvalid or ErrExpired; on error the other results are zero. A token's expiry is
// only believed once its MAC checks, so a forged or altered token is always ErrInvalid.
func (s *Signer) Check(role Role, subject, binding, token string, now time.Time) (holder string, expires time.Time, err error) {
	if len(token) == 0 {
		return "", time.Time{}, fmt.Errorf("%w: empty token", ErrInvalid)
	}
	if len(token) > maxTokenLen {
		return "", time.Time{}, fmt.Errorf("%w: token too long", ErrInvalid)
	}
	raw, err := encoding.DecodeString(token)
	// The decoder skips CR and LF; only the exact string Issue wrote is accepted.
	if err != nil || encoding.EncodeToString(raw) != token {
		return "", time.Time{}, fmt.Errorf("%w: not base64url", ErrInvalid)
	}
	var exp int64
	var mac []byte
	switch {
	case len(raw) >= headerV2+macLen && raw[0] == versionV2:
		if Role(raw[1]) != role {
			return "", time.Time{}, fmt.Errorf("%w: issued for another role", ErrInvalid)
		}
		exp = int64(binary.BigEndian.Uint64(raw[2:headerV2]))
		holder = string(raw[headerV2 : len(raw)-macLen])
		mac = raw[len(raw)-macLen:]
		c := Claim{Role: role, Subject: subject, Holder: holder, Binding: binding}
		if !s.anySecret(func(secret []byte) bool { return hmac.Equal(mac, macV2(secret, c, exp)) }) {
			return "", time.Time{}, fmt.Errorf("%w: signature does not match", ErrInvalid)
		}
	case len(raw) >= headerV1+1+macLen && raw[0] == versionV1 && role == RoleSpecialist && binding == "":
		exp = int64(binary.BigEndian.Uint64(raw[1:headerV1]))
		holder = string(raw[headerV1 : len(raw)-macLen])
		mac = raw[len(raw)-macLen:]
		if !s.anySecret(func(secret []byte) bool { return hmac.Equal(mac, macV1(secret, subject, holder, exp)) }) {
			return "", time.Time{}, fmt.Errorf("%w: signature does not match", ErrInvalid)
		}
	default:
		return "", time.Time{}, fmt.Errorf("%w: unknown version or wrong length", ErrInvalid)
	}
	expiresAt := time.Unix(exp, 0).UTC()
	if !now.Before(expiresAt) {
		return "", time.Time{}, fmt.Errorf("%w at %s", ErrExpired, expiresAt.Format(time.RFC3339))
	}
	return holder, expiresAt, nil
}

// Sign returns a token letting specialistID open referralID until expires (exclusive).
// specialistID must be 1 to MaxSpecialistIDLen bytes, or Sign panics (see Issue).
func (s *Signer) Sign(referralID, specialistID string, expires time.Time) string {
	if len(specialistID) == 0 {
		panic("signedlink: specialist id must not be empty")
	}
	return s.Issue(Claim{Role: RoleSpecialist, Subject: referralID, Holder: specialistID}, expires)
}

// Verify checks a specialist token for referralID and returns the specialist it was issued to.
func (s *Signer) Verify(referralID, token string, now time.Time) (specialistID string, expires time.Time, err error) {
	specialistID, expires, err = s.Check(RoleSpecialist, referralID, "", token, now)
	if err == nil && specialistID == "" {
		return "", time.Time{}, fmt.Errorf("%w: no specialist", ErrInvalid)
	}
	return specialistID, expires, err
}

func (s *Signer) anySecret(matches func(secret []byte) bool) bool {
	ok := false
	for _, secret := range s.secrets {
		ok = matches(secret) || ok // try every version: the time taken does not say which matched
	}
	return ok
}

func macV2(secret []byte, c Claim, expires int64) []byte {
	m := hmac.New(sha256.New, secret)
	buf := make([]byte, 0, len(domainV2)+1+4*8+len(c.Subject)+len(c.Holder)+len(c.Binding))
	buf = append(buf, domainV2...)
	buf = append(buf, byte(c.Role))
	for _, field := range []string{c.Subject, c.Holder, c.Binding} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(field)))
		buf = append(buf, field...)
	}
	buf = binary.BigEndian.AppendUint64(buf, uint64(expires))
	m.Write(buf)
	return m.Sum(nil)
}

// macV1 is the first release's MAC, kept so its links work until they expire.
func macV1(secret []byte, referralID, specialistID string, expires int64) []byte {
	m := hmac.New(sha256.New, secret)
	buf := make([]byte, 0, len(domainV1)+8+len(referralID)+8+len(specialistID)+8)
	buf = append(buf, domainV1...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(referralID)))
	buf = append(buf, referralID...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(specialistID)))
	buf = append(buf, specialistID...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(expires))
	m.Write(buf)
	return m.Sum(nil)
}
