package referral

import (
	"crypto/rand"
	"strings"
)

// idAlphabet has no 0/O, 1/I/L: references are read out over the phone and typed by people.
const idAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

const idLength = 8 // 31^8 ≈ 8.5e11 references: hard to guess, short enough to say aloud

// NewID returns a fresh referral reference such as "R-7K3M9QX2", from a cryptographic source.
func NewID() string {
	var b strings.Builder
	b.WriteString("R-")
	buf := make([]byte, 1)
	for b.Len() < 2+idLength {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		// Rejection sampling keeps every symbol equally likely: 248 = 8 × 31.
		if buf[0] >= 248 {
			continue
		}
		b.WriteByte(idAlphabet[int(buf[0])%len(idAlphabet)])
	}
	return b.String()
}

// ValidID reports whether s has the shape of a referral reference. Handlers check it before any
// lookup so that junk in a URL never reaches the database.
func ValidID(s string) bool {
	if len(s) != 2+idLength || !strings.HasPrefix(s, "R-") {
		return false
	}
	for _, r := range s[2:] {
		if !strings.ContainsRune(idAlphabet, r) {
			return false
		}
	}
	return true
}
