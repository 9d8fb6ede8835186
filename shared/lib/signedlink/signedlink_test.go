package signedlink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testSecret is the secret of the fuzz target and its committed seed corpus: a seed token signed
// with it verifies, so the fuzzer starts from an accepted token as well as rejected ones.
var testSecret = []byte("ipspc-test-secret-0123456789abcdef")

var (
	issued  = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	expires = issued.Add(30 * 24 * time.Hour)
)

// mustSigner returns a Signer for secret or stops the test.
func mustSigner(tb testing.TB, secret []byte) *Signer {
	tb.Helper()
	s, err := NewSigner(secret)
	if err != nil {
		tb.Fatalf("NewSigner: %v", err)
	}
	return s
}

// mustDecode returns the bytes of a token Sign produced, or stops the test.
func mustDecode(tb testing.TB, token string) []byte {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		tb.Fatalf("decode token %q: %v", token, err)
	}
	return raw
}

func encode(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

func TestNewSigner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  []byte
		wantErr bool
	}{
		{"nil", nil, true},
		{"empty", []byte{}, true},
		{"31 bytes", bytes.Repeat([]byte{'k'}, 31), true},
		{"32 bytes", bytes.Repeat([]byte{'k'}, 32), false},
		{"64 bytes", bytes.Repeat([]byte{'k'}, 64), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSigner(tt.secret)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewSigner(%d bytes) error = %v, want error %v", len(tt.secret), err, tt.wantErr)
			}
			if (s == nil) != tt.wantErr {
				t.Fatalf("NewSigner(%d bytes) = %v, want nil %v", len(tt.secret), s, tt.wantErr)
			}
		})
	}
}

func TestNewSignerCopiesSecret(t *testing.T) {
	t.Parallel()
	secret := bytes.Clone(testSecret)
	s := mustSigner(t, secret)
	token := s.Sign("R-7K3M9QX2", "sp-1", expires)
	for i := range secret {
		secret[i] = 0
	}
	if _, _, err := s.Verify("R-7K3M9QX2", token, issued); err != nil {
		t.Fatalf("after the caller changed its secret slice, Verify = %v, want nil", err)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	tests := []struct {
		name         string
		referralID   string
		specialistID string
		expires      time.Time
		now          time.Time
		wantExpires  time.Time
	}{
		{"typical", "R-7K3M9QX2", "sp-south-yorkshire-01", expires, issued, expires},
		{"one character ids", "R", "s", expires, issued, expires},
		{"empty referral id", "", "sp-1", expires, issued, expires},
		{"separators in ids", "R|1:2", "sp|1:2\x00", expires, issued, expires},
		{"unicode specialist id", "R-7K3M9QX2", "spécialiste-ø", expires, issued, expires},
		{"longest specialist id", "R-7K3M9QX2", strings.Repeat("s", MaxSpecialistIDLen), expires, issued, expires},
		{"sub-second expiry is dropped", "R-7K3M9QX2", "sp-1", expires.Add(999 * time.Millisecond), issued, expires},
		{"other time zone", "R-7K3M9QX2", "sp-1", expires.In(time.FixedZone("BST", 3600)), issued, expires},
		{"expiry before 1970", "R-7K3M9QX2", "sp-1", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1959, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := s.Sign(tt.referralID, tt.specialistID, tt.expires)
			if !urlSafe.MatchString(token) || url.QueryEscape(token) != token {
				t.Errorf("Sign = %q, want only base64url characters", token)
			}
			gotSpecialist, gotExpires, err := s.Verify(tt.referralID, token, tt.now)
			if err != nil {
				t.Fatalf("Verify(Sign(...)) error = %v", err)
			}
			if gotSpecialist != tt.specialistID {
				t.Errorf("specialist = %q, want %q", gotSpecialist, tt.specialistID)
			}
			if !gotExpires.Equal(tt.wantExpires) || gotExpires.Location() != time.UTC {
				t.Errorf("expires = %v, want %v in UTC", gotExpires, tt.wantExpires)
			}
			if again := s.Sign(tt.referralID, tt.specialistID, tt.expires); again != token {
				t.Errorf("Sign is not deterministic: %q then %q", token, again)
			}
		})
	}
}

func TestVerifyExpiry(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	token := s.Sign("R-7K3M9QX2", "sp-1", expires)
	tests := []struct {
		name    string
		now     time.Time
		wantErr error
	}{
		{"when issued", issued, nil},
		{"a second before expiry", expires.Add(-time.Second), nil},
		{"a nanosecond before expiry", expires.Add(-time.Nanosecond), nil},
		{"at the expiry instant (exclusive)", expires, ErrExpired},
		{"a nanosecond after expiry", expires.Add(time.Nanosecond), ErrExpired},
		{"a year after expiry", expires.AddDate(1, 0, 0), ErrExpired},
		{"expiry instant in another zone", expires.In(time.FixedZone("BST", 3600)), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			specialist, exp, err := s.Verify("R-7K3M9QX2", token, tt.now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify at %v error = %v, want %v", tt.now, err, tt.wantErr)
			}
			if err != nil && (specialist != "" || !exp.IsZero()) {
				t.Errorf("Verify failed but returned specialist %q, expiry %v; want zero values", specialist, exp)
			}
			if errors.Is(err, ErrInvalid) {
				t.Errorf("expired token reported as invalid too: %v", err)
			}
		})
	}
}

func TestVerifySubSecondExpiryIsTruncated(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	// Sign keeps whole seconds, so a link asked to last until .9 s expires at the whole second.
	token := s.Sign("R-7K3M9QX2", "sp-1", expires.Add(900*time.Millisecond))
	if _, _, err := s.Verify("R-7K3M9QX2", token, expires.Add(500*time.Millisecond)); !errors.Is(err, ErrExpired) {
		t.Fatalf("Verify after the whole-second expiry = %v, want ErrExpired", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	other := mustSigner(t, []byte("another-secret-of-at-least-32-bytes!"))
	token := s.Sign("R-7K3M9QX2", "sp-1", expires)
	raw := mustDecode(t, token)
	// withMAC returns raw with its body replaced and the original MAC kept.
	withMAC := func(body []byte) string {
		return encode(append(bytes.Clone(body), raw[len(raw)-macLen:]...))
	}
	wrongVersion := bytes.Clone(raw)
	wrongVersion[0] = 3
	// A token for specialist "sp-2" whose bytes are re-signed is still for sp-2, but with sp-1's
	// MAC it must fail: the specialist id is covered by the MAC.
	otherSpecialist := append(bytes.Clone(raw[:headerV2]), "sp-2"...)
	// Moving bytes between the referral id and the specialist id must change the MAC input.
	shifted := s.Sign("R-7K3M9QX", "2sp-1", expires)
	shiftedRaw := mustDecode(t, shifted)
	shiftedBody := append(bytes.Clone(shiftedRaw[:headerV2]), "sp-1"...)
	laterExpiry := bytes.Clone(raw[:len(raw)-macLen])
	laterExpiry[headerV2-1]++

	tests := []struct {
		name       string
		signer     *Signer
		referralID string
		token      string
	}{
		{"wrong referral id", s, "R-7K3M9QX3", token},
		{"referral id with extra character", s, "R-7K3M9QX2 ", token},
		{"empty referral id", s, "", token},
		{"other secret", other, "R-7K3M9QX2", token},
		{"empty token", s, "R-7K3M9QX2", ""},
		{"garbage", s, "R-7K3M9QX2", "not a token"},
		{"garbage base64url", s, "R-7K3M9QX2", "AAAAAAAA"},
		{"one character", s, "R-7K3M9QX2", "A"},
		{"huge token", s, "R-7K3M9QX2", strings.Repeat("A", 1<<20)},
		{"one over the longest token", s, "R-7K3M9QX2", strings.Repeat("A", maxTokenLen+1)},
		{"padding added", s, "R-7K3M9QX2", token + "="},
		{"standard base64 alphabet", s, "R-7K3M9QX2", base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 30))},
		{"newline inside", s, "R-7K3M9QX2", token[:10] + "\n" + token[10:]},
		{"carriage return at end", s, "R-7K3M9QX2", token + "\r"},
		{"space at end", s, "R-7K3M9QX2", token + " "},
		{"truncated by one character", s, "R-7K3M9QX2", token[:len(token)-1]},
		{"truncated by one byte", s, "R-7K3M9QX2", encode(raw[:len(raw)-1])},
		{"extra byte", s, "R-7K3M9QX2", encode(append(bytes.Clone(raw), 0))},
		{"MAC only", s, "R-7K3M9QX2", encode(raw[len(raw)-macLen:])},
		{"empty specialist id", s, "R-7K3M9QX2", withMAC(raw[:headerV2])},
		{"wrong version", s, "R-7K3M9QX2", encode(wrongVersion)},
		{"other specialist with original MAC", s, "R-7K3M9QX2", withMAC(otherSpecialist)},
		{"bytes moved from referral to specialist", s, "R-7K3M9QX2", encode(append(shiftedBody, shiftedRaw[len(shiftedRaw)-macLen:]...))},
		{"later expiry with original MAC", s, "R-7K3M9QX2", withMAC(laterExpiry)},
		{"invalid UTF-8", s, "R-7K3M9QX2", "\xff\xfe\xfd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			specialist, exp, err := tt.signer.Verify(tt.referralID, tt.token, issued)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify error = %v, want ErrInvalid", err)
			}
			if errors.Is(err, ErrExpired) {
				t.Errorf("Verify error = %v, also ErrExpired", err)
			}
			if specialist != "" || !exp.IsZero() {
				t.Errorf("Verify failed but returned specialist %q, expiry %v; want zero values", specialist, exp)
			}
		})
	}
}

// A forged token with an expiry in the past must be reported as invalid, not expired: expiry is
// only believed after the MAC checks.
func TestVerifyForgedExpiredTokenIsInvalid(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	other := mustSigner(t, []byte("another-secret-of-at-least-32-bytes!"))
	forged := other.Sign("R-7K3M9QX2", "sp-1", issued.Add(-time.Hour))
	if _, _, err := s.Verify("R-7K3M9QX2", forged, issued); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Verify(forged, expired) = %v, want ErrInvalid", err)
	}
}

func TestVerifyTamperedBytes(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	token := s.Sign("R-7K3M9QX2", "sp-1", expires)
	raw := mustDecode(t, token)
	tests := []struct {
		name   string
		tamper func(i int) string // the tampered token for position i
		count  int
	}{
		{
			name:  "each decoded byte flipped",
			count: len(raw),
			tamper: func(i int) string {
				b := bytes.Clone(raw)
				b[i] ^= 0xff
				return encode(b)
			},
		},
		{
			name:  "each decoded bit flipped",
			count: len(raw) * 8,
			tamper: func(i int) string {
				b := bytes.Clone(raw)
				b[i/8] ^= 1 << (i % 8)
				return encode(b)
			},
		},
		{
			name:  "each token character changed",
			count: len(token),
			tamper: func(i int) string {
				b := []byte(token)
				b[i] = next(b[i])
				return string(b)
			},
		},
		{
			name:  "each token byte inverted",
			count: len(token),
			tamper: func(i int) string {
				b := []byte(token)
				b[i] ^= 0xff
				return string(b)
			},
		},
		{
			name:  "each token character deleted",
			count: len(token),
			tamper: func(i int) string {
				return token[:i] + token[i+1:]
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i := range tt.count {
				tampered := tt.tamper(i)
				if tampered == token {
					t.Fatalf("position %d: tampering left the token unchanged", i)
				}
				if _, _, err := s.Verify("R-7K3M9QX2", tampered, issued); !errors.Is(err, ErrInvalid) {
					t.Errorf("position %d: Verify(%q) = %v, want ErrInvalid", i, tampered, err)
				}
			}
		})
	}
}

// next returns the base64url character after c, wrapping round, so a changed character is still
// in the alphabet and only the MAC or the strict decoding can catch it.
func next(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return alphabet[(i+1)%len(alphabet)]
}

func TestSignPanicsOnBadSpecialistID(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	tests := []struct {
		name         string
		specialistID string
	}{
		{"empty", ""},
		{"one byte too long", strings.Repeat("s", MaxSpecialistIDLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("Sign(%d-byte specialist id) did not panic", len(tt.specialistID))
				}
			}()
			s.Sign("R-7K3M9QX2", tt.specialistID, expires)
		})
	}
}

// FuzzVerify checks that Verify never panics, that its errors are always ErrInvalid or
// ErrExpired, and that the only tokens it accepts are exactly those Sign produces. The seed
// corpus in testdata/fuzz/FuzzVerify holds a valid token (signed with testSecret), an expired one,
// tampered and malformed ones.
func FuzzVerify(f *testing.F) {
	s := mustSigner(f, testSecret)
	f.Add("R-7K3M9QX2", s.Sign("R-7K3M9QX2", "sp-1", expires), issued.Unix())
	f.Fuzz(func(t *testing.T, referralID, token string, nowUnix int64) {
		now := time.Unix(nowUnix, 0)
		specialist, exp, err := s.Verify(referralID, token, now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
				t.Fatalf("Verify error = %v, want ErrInvalid or ErrExpired", err)
			}
			if specialist != "" || !exp.IsZero() {
				t.Fatalf("Verify failed but returned specialist %q, expiry %v", specialist, exp)
			}
			return
		}
		if !now.Before(exp) {
			t.Fatalf("Verify accepted a token expiring %v at %v", exp, now)
		}
		if signed, legacy := s.Sign(referralID, specialist, exp), signV1(testSecret, referralID, specialist, exp); signed != token && legacy != token {
			t.Fatalf("Verify accepted %q, but Sign(%q, %q, %v) = %q and the first release's token is %q", token, referralID, specialist, exp, signed, legacy)
		}
	})
}

// TestSeedCorpusValidTokenVerifies keeps the committed seed "valid" meaningful: if the token format
// or testSecret changes, the fuzzer must still start from an accepted token.
func TestSeedCorpusValidTokenVerifies(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzVerify", "valid"))
	if err != nil {
		t.Fatalf("read seed: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || lines[0] != "go test fuzz v1" {
		t.Fatalf("seed has unexpected form:\n%s", b)
	}
	args := make([]string, 3)
	for i, line := range lines[1:] {
		s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(line, "string("), "int64("), ")")
		if i < 2 {
			if s, err = strconv.Unquote(s); err != nil {
				t.Fatalf("seed line %q: %v", line, err)
			}
		}
		args[i] = s
	}
	now, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil {
		t.Fatalf("seed time %q: %v", args[2], err)
	}
	if _, _, err := mustSigner(t, testSecret).Verify(args[0], args[1], time.Unix(now, 0)); err != nil {
		t.Fatalf("seed token does not verify: %v (regenerate testdata/fuzz/FuzzVerify/valid)", err)
	}
}
