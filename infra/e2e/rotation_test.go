package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestLinkSecretRotation rotates the link secret as the runbook does (a new AWSCURRENT, the old
// one AWSPREVIOUS, the functions recycled): a link sent before still opens, one signed with the
// new secret opens too, and emails sent afterwards are signed with the new secret.
//
// Not parallel: it changes the secret every function reads. It rotates back at the end, so the
// tests after it find linkSecret current again (and the new one previous).
func TestLinkSecretRotation(t *testing.T) {
	requireStack(t)
	const newSecret = "e2e-rotated-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210"
	before := submitReferral(t, newPatient(t), "ZE3 8AB")
	assignments := byKind(waitForEmails(t, before.ReferralID, 2, 30*time.Second), kindAssignment)
	if len(assignments) != 1 {
		t.Fatalf("%d assignment emails for %s, want 1", len(assignments), before.ReferralID)
	}
	oldLink := signedLinkOf(t, assignments[0])
	t.Cleanup(func() {
		if err := stack.RotateSecret("LinkSecret", linkSecret); err != nil {
			t.Errorf("rotate back: %v", err)
		}
	})
	if err := stack.RotateSecret("LinkSecret", newSecret); err != nil {
		t.Fatal(err)
	}
	id, oldToken := linkParts(t, oldLink)
	specialist := readReferral(t, id).SpecialistID
	exp := time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"a link sent before the rotation", oldToken, http.StatusOK},
		{"a link signed with the new secret", signerWithSecret(t, newSecret).Sign(id, specialist, exp), http.StatusOK},
		{"a link signed with neither", signerWithSecret(t, "e2e-unknown-secret-0123456789abcdefghijklmnopqrstu").Sign(id, specialist, exp), http.StatusForbidden},
	}
	for _, tt := range tests {
		if page := do(t, http.MethodGet, "/referrals/"+id+"?token="+tt.token, "", "", nil); page.Status != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, page.Status, tt.status)
		}
	}
	// Emails sent after the rotation carry links signed with the new secret.
	after := submitReferral(t, newPatient(t), "ZE3 8AB")
	es := waitForEmails(t, after.ReferralID, 2, 30*time.Second)
	for _, e := range es {
		if emailKindOf(e.Subject) != kindAssignment {
			continue
		}
		newID, newToken := linkParts(t, signedLinkOf(t, e))
		if _, _, err := signerWithSecret(t, newSecret).Verify(newID, newToken, time.Now()); err != nil {
			t.Errorf("a link sent after the rotation is not signed with the new secret: %v", err)
		}
		if page := do(t, http.MethodGet, "/referrals/"+newID+"?token="+newToken, "", "", nil); page.Status != http.StatusOK {
			t.Errorf("a link sent after the rotation: %d, want 200", page.Status)
		}
	}
}
