package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// remindSummary invokes RemindersFunction at when, as remind does, and returns the run's summary.
// The invocation is synchronous: once it returns, every digest of the run has been sent.
func remindSummary(t *testing.T, when time.Time) (sum struct {
	DigestsSent int `json:"digestsSent"`
}) {
	t.Helper()
	payload := fmt.Sprintf(`{"version":"0","source":"aws.scheduler","detail-type":"Scheduled Event","time":%q,"detail":{}}`, when.UTC().Format(time.RFC3339))
	out, ferr, err := stack.Invoke(context.Background(), "RemindersFunction", []byte(payload))
	if err != nil || ferr != nil {
		t.Fatalf("invoke reminders at %s: %v %v", when, err, ferr)
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("reminders summary %s: %v", out, err)
	}
	return sum
}

// digestsTo returns the lead digests in the emulator sent to lead.
func digestsTo(t *testing.T, lead string) []sentEmail {
	t.Helper()
	var out []sentEmail
	for _, e := range storedEmails(t) {
		if strings.HasPrefix(e.Subject, "Weekly summary for ") && len(e.Destination.To) == 1 && e.Destination.To[0] == lead {
			out = append(out, e)
		}
	}
	return out
}

var referenceLike = regexp.MustCompile(`R-[A-Z0-9]{8}`)

// TestLeadDigestByTimeTravel runs the reminders schedule at chosen times of a week in the past
// (its deadlines are all later, so the runs send no reminder to other tests' referrals): the first
// run on or after Monday 08:00 London sends each area lead one digest, later runs that week none,
// and the next Monday one more. "None more" is read after each synchronous run has returned.
// Not parallel: it moves the schedule's clock.
func TestLeadDigestByTimeTravel(t *testing.T) {
	requireStack(t)
	london := calendar.London()
	leads := map[string]string{ // the e2e areas' leads
		"e2e-capacity": "lead.e2e-capacity@example.org",
		"e2e-drain":    "lead.e2e-drain@example.org",
		"e2e-general":  "lead.e2e-general@example.org",
	}
	monday := time.Date(2026, 3, 2, 0, 0, 0, 0, london) // ISO week 2026-W10
	runs := []struct {
		name     string
		at       time.Time
		wantEach int  // digests each e2e lead holds after the run
		wantSent bool // the run itself sent digests
	}{
		{"Sunday 23:00", monday.Add(-time.Hour), 0, false},
		{"Monday 08:10", monday.Add(8*time.Hour + 10*time.Minute), 1, true},
		{"Monday 09:10", monday.Add(9*time.Hour + 10*time.Minute), 1, false},
		{"Wednesday 10:00", monday.AddDate(0, 0, 2).Add(10 * time.Hour), 1, false},
		{"next Monday 08:10", monday.AddDate(0, 0, 7).Add(8*time.Hour + 10*time.Minute), 2, true},
	}
	for _, run := range runs {
		sum := remindSummary(t, run.at)
		if run.wantSent != (sum.DigestsSent >= len(leads)) || !run.wantSent && sum.DigestsSent != 0 {
			t.Errorf("%s: the run sent %d digests, want sent=%v (at least %d)", run.name, sum.DigestsSent, run.wantSent, len(leads))
		}
		for area, lead := range leads {
			got := digestsTo(t, lead)
			if len(got) != run.wantEach {
				t.Fatalf("%s: %s's lead holds %d digests, want %d", run.name, area, len(got), run.wantEach)
			}
		}
	}
	for _, lead := range leads {
		for _, d := range digestsTo(t, lead) {
			for _, part := range []string{d.Subject, d.Body.Text, d.Body.HTML} {
				if referenceLike.MatchString(part) {
					t.Errorf("a digest to %s names a referral: counts only", lead)
				}
			}
			if !strings.Contains(d.Body.Text, "Waiting for a specialist: ") || !strings.Contains(d.Body.Text, "/worklist?token=") {
				t.Errorf("digest to %s lacks the counts or the worklist link:\n%s", lead, d.Body.Text)
			}
		}
	}
}
