package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// postOutcomeAction posts one of the specialist's outcome forms with their signed link.
func postOutcomeAction(t *testing.T, id, action string, form url.Values) {
	t.Helper()
	token := mustSigner(t).Sign(id, assignedSpecialist(t, id), time.Now().Add(time.Hour))
	form.Set("token", token)
	if res := do(t, http.MethodPost, "/referrals/"+id+"/"+action, "application/x-www-form-urlencoded", form.Encode(), nil); res.Status != 200 {
		t.Fatalf("%s on %s: %d", action, id, res.Status)
	}
}

// TestOutcomeCheckByTimeTravel: through the deployed functions, a job start recorded on its page
// brings the outcome-check email 16 weeks on, once however many runs, none the day before (the
// marker: the one the next day), and none for a referral whose outcome was recorded (the marker:
// the other referral's, in the same run).
//
// Not parallel: it moves the schedule's clock (as TestRemindersAndEscalations does).
func TestOutcomeCheckByTimeTravel(t *testing.T) {
	requireStack(t)
	a, _ := submitAssigned(t) // in work, no outcome
	b, _ := submitAssigned(t) // in work, outcome recorded
	start := calendar.DateOf(time.Now())
	for _, r := range []receipt{a, b} {
		postOutcomeAction(t, r.ReferralID, "meeting", url.Values{})
		postOutcomeAction(t, r.ReferralID, "job-start", url.Values{"startDate": {start.String()}, "hoursPerWeek": {"16"}, "selfEmployed": {"no"}})
	}
	postOutcomeAction(t, b.ReferralID, "outcome", url.Values{"sustained": {"yes"}})
	streamsCaughtUp(t)

	checks := func(r receipt) []sentEmail { return kinds(emails(t, r.ReferralID), "record the job outcome") }
	due := start.AddDays(referral.OutcomeCheckDays)
	runs := []struct {
		when time.Time
		want int // outcome checks about a after the run
	}{
		{londonAt(t, due.AddDays(-1), 9), 0},
		{londonAt(t, due, 9), 1},
		{londonAt(t, due, 10), 1},
		{londonAt(t, due.AddDays(1), 9), 1},
	}
	for _, run := range runs {
		remind(t, run.when)
		if got := checks(a); len(got) != run.want {
			t.Fatalf("after the run at %s: %d outcome checks about %s, want %d", run.when, len(got), a.ReferralID, run.want)
		}
		if got := checks(b); len(got) != 0 {
			t.Fatalf("after the run at %s: %d outcome checks about %s, whose outcome was recorded", run.when, len(got), b.ReferralID)
		}
	}
	e := checks(a)[0]
	if len(e.Destination.Cc) != 0 || !strings.Contains(e.Body.Text, "/referrals/"+a.ReferralID+"?token=") ||
		!strings.Contains(e.Body.Text, "at least 7 hours a week in at least 13 of the weeks") {
		t.Errorf("outcome check to %v cc %v:\n%s", e.Destination.To, e.Destination.Cc, e.Body.Text)
	}
}
