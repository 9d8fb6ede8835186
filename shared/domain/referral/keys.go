package referral

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
)

// PatientKey is a keyed hash of a patient's NHS number: what keys a patient's records (the open
// case) so that no key holds the NHS number itself. Its own type so that an NHS number cannot be
// passed where a key is wanted.
type PatientKey string

// Domain labels keep the keyed hashes derived from one secret apart: a patient key can never equal
// a referral id's derivation or an idempotency tag.
const (
	labelPatient  = "ipspc/patient-key/v1"
	labelKeyTag   = "ipspc/idempotency-tag/v1"
	labelKeyedID  = "ipspc/referral-id/v1"
	minKeyLength  = 32
	keyTagLength  = 16 // bytes: 128 bits tell one key's referral from an id collision
	patientKeyHex = 2 * sha256.Size
)

// Keyer computes the service's keyed hashes under the patient-key secret. The secret is never
// rotated: a new one would change every patient key and every key-derived referral id.
type Keyer struct{ secret []byte }

// NewKeyer returns a Keyer over secret, which must be at least 32 bytes.
func NewKeyer(secret []byte) (*Keyer, error) {
	if len(secret) < minKeyLength {
		return nil, errors.New("patient key secret is shorter than 32 bytes")
	}
	return &Keyer{secret: append([]byte(nil), secret...)}, nil
}

func (k *Keyer) sum(label string, parts ...string) []byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(label))
	for _, p := range parts {
		m.Write([]byte{0}) // a separator no part contains: ("a","bc") ≠ ("ab","c")
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// PatientKey returns the key of the patient with this (normalised) NHS number.
func (k *Keyer) PatientKey(nhsNumber string) PatientKey {
	return PatientKey(hex.EncodeToString(k.sum(labelPatient, nhsNumber)))
}

// Valid reports whether p has the shape PatientKey gives (64 lower-case hex digits).
func (p PatientKey) Valid() bool {
	if len(p) != patientKeyHex {
		return false
	}
	_, err := hex.DecodeString(string(p))
	return err == nil && strings.ToLower(string(p)) == string(p)
}

// KeyTag identifies an idempotency key on the referral it created, without storing the key.
func (k *Keyer) KeyTag(idempotencyKey string) string {
	return hex.EncodeToString(k.sum(labelKeyTag, idempotencyKey)[:keyTagLength])
}

// KeyedID returns the n-th referral id of an idempotency key: the first use of the key takes id 0,
// so the referral put's own "not exists" condition is the key's claim; a later use (after the
// window, or when another referral already holds the id) takes the next.
func (k *Keyer) KeyedID(idempotencyKey string, n int) string {
	var b strings.Builder
	b.WriteString("R-")
	var block [8]byte
	for counter := uint64(0); b.Len() < 2+idLength; counter++ {
		binary.BigEndian.PutUint64(block[:], uint64(n))
		seq := string(block[:])
		binary.BigEndian.PutUint64(block[:], counter)
		for _, c := range k.sum(labelKeyedID, idempotencyKey, seq, string(block[:])) {
			if c >= 248 || b.Len() == 2+idLength { // the same rejection sampling as NewID
				continue
			}
			b.WriteByte(idAlphabet[int(c)%len(idAlphabet)])
		}
	}
	return b.String()
}
