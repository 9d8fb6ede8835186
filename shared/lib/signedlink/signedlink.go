// Package signedlink issues and checks the signed links in specialists' emails (SPEC §4): a token
// that says "specialist S may open referral R until time T", authenticated with HMAC-SHA256 under
// a secret only the service knows.
//
// A token is base64url (no padding) of
//
//	version (1 byte, 1) | expiry (8 bytes, Unix seconds, big-endian) | specialist id | MAC (32 bytes)
//
// The referral id is not in the token: it is in the URL, and the MAC binds the token to it. The
// specialist id runs from byte 9 to the MAC, which has a fixed length, so no separator is needed.
// The MAC is HMAC-SHA256 over
//
//	"ipspc-link-v1" | len(referral id) | referral id | len(specialist id) | specialist id | expiry
//
// with each length an 8-byte big-endian count, so no two (referral, specialist, expiry) triples
// share a MAC input, and the domain label keeps these MACs apart from any other use of the secret.
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
	// secret or issued for another referral.
	ErrInvalid = errors.New("signedlink: invalid link")
	// ErrExpired is returned for an authentic token whose expiry has passed.
	ErrExpired = errors.New("signedlink: link expired")
)

const (
	// MinSecretLen is the shortest secret NewSigner accepts: as long as the HMAC-SHA256 output.
	MinSecretLen = 32
	// MaxSpecialistIDLen is the longest specialist id a token can carry.
	MaxSpecialistIDLen = 256

	version   byte = 1
	domain         = "ipspc-link-v1"
	headerLen      = 1 + 8
	macLen         = sha256.Size
	minRawLen      = headerLen + 1 + macLen
	maxRawLen      = headerLen + MaxSpecialistIDLen + macLen
)

// maxTokenLen is the longest token string Verify decodes; anything longer is rejected unread.
var maxTokenLen = base64.RawURLEncoding.EncodedLen(maxRawLen)

var encoding = base64.RawURLEncoding.Strict()

// Signer signs and verifies link tokens. It is safe for concurrent use.
type Signer struct {
	secret []byte
}

// NewSigner returns a Signer for secret, which must be at least MinSecretLen bytes. The secret is
// copied.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("signedlink: secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	return &Signer{secret: append([]byte(nil), secret...)}, nil
}

// Sign returns a URL-safe token letting specialistID open referralID until expires (exclusive),
// kept to the second (sub-second parts are dropped).
//
// specialistID must be 1 to MaxSpecialistIDLen bytes. Specialist ids come from the service's own
// directory, never from a request, so anything else is a programming error and Sign panics rather
// than issue a link that could never be verified.
func (s *Signer) Sign(referralID, specialistID string, expires time.Time) string {
	if len(specialistID) == 0 || len(specialistID) > MaxSpecialistIDLen {
		panic(fmt.Sprintf("signedlink: specialist id must be 1 to %d bytes, got %d", MaxSpecialistIDLen, len(specialistID)))
	}
	exp := expires.Unix()
	raw := make([]byte, 0, headerLen+len(specialistID)+macLen)
	raw = append(raw, version)
	raw = binary.BigEndian.AppendUint64(raw, uint64(exp))
	raw = append(raw, specialistID...)
	raw = append(raw, s.mac(referralID, specialistID, exp)...)
	return encoding.EncodeToString(raw)
}

// Verify checks that token was issued by this Signer for referralID and has not expired at now.
// It returns the specialist the link was issued to and its expiry. Errors wrap ErrInvalid or
// ErrExpired; on error the other results are zero. A token's expiry is only believed once its MAC
// checks, so a forged or altered token is always ErrInvalid, never ErrExpired.
func (s *Signer) Verify(referralID, token string, now time.Time) (specialistID string, expires time.Time, err error) {
	if len(token) == 0 {
		return "", time.Time{}, fmt.Errorf("%w: empty token", ErrInvalid)
	}
	if len(token) > maxTokenLen {
		return "", time.Time{}, fmt.Errorf("%w: token too long", ErrInvalid)
	}
	raw, err := encoding.DecodeString(token)
	// The decoder skips CR and LF; only the exact string Sign wrote is accepted.
	if err != nil || encoding.EncodeToString(raw) != token {
		return "", time.Time{}, fmt.Errorf("%w: not base64url", ErrInvalid)
	}
	if len(raw) < minRawLen || len(raw) > maxRawLen {
		return "", time.Time{}, fmt.Errorf("%w: wrong length", ErrInvalid)
	}
	if raw[0] != version {
		return "", time.Time{}, fmt.Errorf("%w: unknown version", ErrInvalid)
	}
	exp := int64(binary.BigEndian.Uint64(raw[1:headerLen]))
	specialist := string(raw[headerLen : len(raw)-macLen])
	if !hmac.Equal(raw[len(raw)-macLen:], s.mac(referralID, specialist, exp)) {
		return "", time.Time{}, fmt.Errorf("%w: signature does not match", ErrInvalid)
	}
	expiresAt := time.Unix(exp, 0).UTC()
	if !now.Before(expiresAt) {
		return "", time.Time{}, fmt.Errorf("%w at %s", ErrExpired, expiresAt.Format(time.RFC3339))
	}
	return specialist, expiresAt, nil
}

func (s *Signer) mac(referralID, specialistID string, expires int64) []byte {
	m := hmac.New(sha256.New, s.secret)
	buf := make([]byte, 0, len(domain)+8+len(referralID)+8+len(specialistID)+8)
	buf = append(buf, domain...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(referralID)))
	buf = append(buf, referralID...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(specialistID)))
	buf = append(buf, specialistID...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(expires))
	m.Write(buf)
	return m.Sum(nil)
}
