package signedlink

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// signV1 builds a token as the first release signed it: version 1, no role.
func signV1(secret []byte, referralID, specialistID string, expires time.Time) string {
	exp := expires.Unix()
	raw := []byte{versionV1}
	raw = binary.BigEndian.AppendUint64(raw, uint64(exp))
	raw = append(raw, specialistID...)
	raw = append(raw, macV1(secret, referralID, specialistID, exp)...)
	return encoding.EncodeToString(raw)
}

func TestRolesNeverCross(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	const ref, area = "R-7K3M9QX2", "south-yorkshire"
	tokens := map[Role]Claim{
		RoleSpecialist: {Role: RoleSpecialist, Subject: ref, Holder: "sp-1"},
		RoleReferrer:   {Role: RoleReferrer, Subject: ref, Binding: "priya.shah@nhs.net"},
		RoleLead:       {Role: RoleLead, Subject: area, Binding: "lead@example.org"},
		RoleForm:       {Role: RoleForm, Subject: "form", Holder: "nonce-1"},
	}
	for issuedAs, claim := range tokens {
		token := s.Issue(claim, expires)
		for checkedAs, want := range tokens {
			holder, _, err := s.Check(checkedAs, want.Subject, want.Binding, token, issued)
			switch {
			case issuedAs == checkedAs && err != nil:
				t.Errorf("role %d: own token rejected: %v", issuedAs, err)
			case issuedAs == checkedAs && holder != claim.Holder:
				t.Errorf("role %d: holder = %q, want %q", issuedAs, holder, claim.Holder)
			case issuedAs != checkedAs && !errors.Is(err, ErrInvalid):
				t.Errorf("role %d token checked as role %d: err = %v, want ErrInvalid", issuedAs, checkedAs, err)
			}
		}
	}
}

func TestBindingIsCoveredButNotCarried(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	token := s.Issue(Claim{Role: RoleReferrer, Subject: "R-7K3M9QX2", Binding: "priya.shah@nhs.net"}, expires)
	if raw := mustDecode(t, token); len(raw) != headerV2+macLen {
		t.Errorf("referrer token is %d bytes, want %d: the binding must not be carried", len(raw), headerV2+macLen)
	}
	tests := []struct {
		name, subject, binding string
		want                   error
	}{
		{"as issued", "R-7K3M9QX2", "priya.shah@nhs.net", nil},
		{"another referrer", "R-7K3M9QX2", "someone.else@nhs.net", ErrInvalid},
		{"no binding", "R-7K3M9QX2", "", ErrInvalid},
		{"another referral", "R-7K3M9QX3", "priya.shah@nhs.net", ErrInvalid},
		{"binding moved into the subject", "R-7K3M9QX2priya.shah@nhs.net", "", ErrInvalid},
	}
	for _, tt := range tests {
		_, _, err := s.Check(RoleReferrer, tt.subject, tt.binding, token, issued)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestRotationKeepsSentLinksWorking(t *testing.T) {
	t.Parallel()
	oldSecret := []byte("the-previous-secret-of-32-bytes-or-more")
	before := mustSigner(t, oldSecret)
	after, err := NewSigner(testSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	afterNext, err := NewSigner([]byte("a-third-secret-after-two-rotations!!"), testSecret)
	if err != nil {
		t.Fatal(err)
	}
	sent := before.Sign("R-7K3M9QX2", "sp-1", expires)
	if sp, _, err := after.Verify("R-7K3M9QX2", sent, issued); err != nil || sp != "sp-1" {
		t.Errorf("link signed before rotation: (%q, %v), want sp-1", sp, err)
	}
	if got := after.Sign("R-7K3M9QX2", "sp-1", expires); got == sent {
		t.Error("after rotation the signer still signs with the previous secret")
	}
	if _, _, err := afterNext.Verify("R-7K3M9QX2", sent, issued); !errors.Is(err, ErrInvalid) {
		t.Errorf("link two rotations old: err = %v, want ErrInvalid", err)
	}
	if _, err := NewSigner(testSecret, []byte("short")); err == nil {
		t.Error("NewSigner accepted a short previous secret")
	}
}

func TestFirstReleaseLinksStillVerify(t *testing.T) {
	t.Parallel()
	s := mustSigner(t, testSecret)
	legacy := signV1(testSecret, "R-7K3M9QX2", "sp-1", expires)
	if sp, _, err := s.Verify("R-7K3M9QX2", legacy, issued); err != nil || sp != "sp-1" {
		t.Errorf("version 1 link: (%q, %v), want sp-1", sp, err)
	}
	if _, _, err := s.Check(RoleReferrer, "R-7K3M9QX2", "", legacy, issued); !errors.Is(err, ErrInvalid) {
		t.Errorf("version 1 link as a referrer token: err = %v, want ErrInvalid", err)
	}
	if _, _, err := s.Verify("R-7K3M9QX2", legacy, expires); !errors.Is(err, ErrExpired) {
		t.Errorf("version 1 link at its expiry: err = %v, want ErrExpired", err)
	}
}
