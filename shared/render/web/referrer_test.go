package web

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// contactDetails are the details an ended referral's pages must no longer show.
// (as the open page writes them out).
var contactDetails = []string{"943 476 5919", "07700 900123", "Prefers afternoon calls", "Has a dog", "S1 2HH"}

// TestEndedReferralPagesHideContactDetails: closed or withdrawn, the specialist's page and the
// referrer's page keep the history and the outcome but no NHS number, date of birth, phone, email
// or notes.
func TestEndedReferralPagesHideContactDetails(t *testing.T) {
	t.Parallel()
	closed := specialistReferral(referral.StatusClosed, progressAt(referral.EventMet, "ann", "", metAt), progressAt(referral.EventClosed, "ann", "declined", closedAt))
	withdrawn := specialistReferral(referral.StatusWithdrawn, progressAt(referral.EventWithdrawn, "referrer", "revoked", contactedAt))
	open := specialistReferral(referral.StatusAssigned)
	tests := []struct {
		name     string
		r        referral.Referral
		want     []string
		wantHide bool
	}{
		{name: "closed", r: closed, want: []string{"This referral was closed on 9 December 2026", "Does not want employment support", "First meeting recorded"}, wantHide: true},
		{name: "withdrawn", r: withdrawn, want: []string{"The referrer withdrew this referral on 24 November 2026", "Circumstances have changed", "Do not contact the patient", "Withdrawn"}, wantHide: true},
		{name: "open shows them", r: open, want: []string{"943 476 5919", "Prefers afternoon calls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, specialist := renderReferralPage(t, ReferralPage{Referral: tt.r, Token: "tok", Viewer: "ann"})
			var status bytes.Buffer
			if err := RenderReferrerStatus(&status, StatusPage{Referral: tt.r, AreaName: "South Yorkshire", Token: "tok"}); err != nil {
				t.Fatal(err)
			}
			checkSpecialistPage(t, status.String())
			for _, s := range tt.want {
				if !strings.Contains(specialist, s) {
					t.Errorf("specialist page lacks %q", s)
				}
			}
			pt := tt.r.Patient
			hidden := append([]string{birthDate(pt.DateOfBirth), pt.Email}, contactDetails...)
			for _, s := range hidden {
				if got := strings.Contains(specialist, s); got == tt.wantHide {
					t.Errorf("specialist page shows %q: %v, want %v", s, got, !tt.wantHide)
				}
				// The referrer never sees them, open or not.
				if strings.Contains(status.String(), s) {
					t.Errorf("status page shows %q", s)
				}
			}
		})
	}
}

func TestReferrerStatusPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		p       StatusPage
		want    []string
		notWant []string
	}{
		{name: "assigned can withdraw", p: StatusPage{Referral: specialistReferral(referral.StatusAssigned), AreaName: "South Yorkshire", Token: "tok"},
			want:    []string{"Assigned to an employment specialist", "South Yorkshire", "23 November 2026", `action="/referrals/R-7K3M9QX2/withdraw"`, `name="token" value="tok"`, "Circumstances have changed", "Sent in error"},
			notWant: []string{"Email sent"}},
		{name: "engaged cannot", p: StatusPage{Referral: specialistReferral(referral.StatusEngaged, progressAt(referral.EventMet, "ann", "", metAt)), AreaName: "South Yorkshire"},
			want: []string{"Support started", "First meeting: support started", "1 December 2026"}, notWant: []string{"/withdraw"}},
		{name: "error names the reason", p: StatusPage{Referral: specialistReferral(referral.StatusAssigned), Errors: []referral.FieldError{{Field: "reason", Message: "Select why you are withdrawing this referral"}}},
			want: []string{"Error: ", `href="#reason"`, "nhsuk-form-group--error"}},
		{name: "entered in error shows what is left", p: StatusPage{Referral: func() referral.Referral {
			r := specialistReferral(referral.StatusWithdrawn, progressAt(referral.EventWithdrawn, "referrer", "entered-in-error", contactedAt))
			r.Submission = r.Submission.Minimised()
			return r
		}()}, want: []string{">S.<", "Withdrawn. Reason: Sent in error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := RenderReferrerStatus(&b, tt.p); err != nil {
				t.Fatal(err)
			}
			checkSpecialistPage(t, b.String())
			for _, s := range tt.want {
				if !strings.Contains(b.String(), s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(b.String(), s) {
					t.Errorf("page has %q", s)
				}
			}
		})
	}
}
