package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/edges/bounce"
)

// TestBouncingSpecialistCopiesTheLead is the only test in e2e-bounce, whose one specialist's
// address is marked bouncing here (as the bounce handler would): their assignment still goes to
// them, and the area lead gets one separate copy that names them, says the address is bouncing
// and carries the lead's worklist link but never the specialist's signed link.
func TestBouncingSpecialistCopiesTheLead(t *testing.T) {
	requireStack(t)
	t.Parallel()
	const lead, specialist = "lead.e2e-bounce@example.org", "Bounce.One@example.org"
	d := dynamo.NewDirectory(stack.DynamoDB(), stack.TableName("DirectoryTable"))
	// SES reports addresses in its own case: the mark ignores it.
	marked, err := d.MarkEmailFailing(context.Background(), []string{strings.ToLower(specialist)}, bounce.ReasonBounce, time.Now())
	if err != nil || len(marked) != 1 || marked[0].SpecialistID != "bounce-one" {
		t.Fatalf("mark bouncing = %+v, %v; want bounce-one marked", marked, err)
	}
	p := newPatient(t)
	r := submitReferral(t, p, "ZE6 1AA")
	if r.Status != "assigned" {
		t.Fatalf("referral %s is %s, want assigned", r.ReferralID, r.Status)
	}
	// waitForEmails returns once the stream has caught up: a second copy would be here by then.
	got := waitForEmails(t, r.ReferralID, 3, 30*time.Second)
	var copies, assignments []sentEmail
	for _, e := range got {
		switch {
		case strings.HasSuffix(e.Subject, "'s email address is bouncing"):
			copies = append(copies, e)
		case emailKindOf(e.Subject) == kindAssignment:
			assignments = append(assignments, e)
		}
	}
	if len(got) != 3 || len(copies) != 1 || len(assignments) != 1 {
		t.Fatalf("emails about %s: %q; want the acknowledgement, the assignment and one copy", r.ReferralID, subjects(got))
	}
	if to := assignments[0].Destination.To; len(to) != 1 || to[0] != specialist {
		t.Errorf("assignment to %v, want the specialist still", to)
	}
	c := copies[0]
	if len(c.Destination.To) != 1 || c.Destination.To[0] != lead || len(c.Destination.Cc) != 0 {
		t.Errorf("copy to %v cc %v, want the lead alone", c.Destination.To, c.Destination.Cc)
	}
	body := c.Body.Text + c.Body.HTML
	if emailLink.MatchString(body) || strings.Contains(body, "/referrals/"+r.ReferralID) {
		t.Errorf("the lead's copy carries the specialist's link:\n%s", c.Body.Text)
	}
	for _, want := range []string{"Bounce One", "The specialist's address is bouncing", "reassign it to another specialist from your worklist"} {
		if !strings.Contains(c.Body.Text, want) {
			t.Errorf("copy lacks %q:\n%s", want, c.Body.Text)
		}
	}
	assertNoPatientData(t, p, copies)
	if res := do(t, http.MethodGet, linkOf(t, c, worklistLink), "", "", nil); res.Status != http.StatusOK || !strings.Contains(res.Body, r.ReferralID) {
		t.Errorf("the worklist from the copy = %d, want 200 listing %s", res.Status, r.ReferralID)
	}
}
