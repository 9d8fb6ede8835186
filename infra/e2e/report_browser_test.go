package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// reportPath is an area's programme return for one month with a lead's token.
func reportPath(area, token, month, format string) string {
	q := url.Values{"token": {token}, "from": {month}, "to": {month}}
	if format != "" {
		q.Set("format", format)
	}
	return "/areas/" + area + "/report?" + q.Encode()
}

// TestLeadReport takes a referral through the stack and reads the area's return for this month
// through the lead's route: once ReturnsFunction has caught up with the stream, the CSV counts it
// (the header is SPEC §12's); another area's lead link is 403 and bad months are 400 naming the
// field. Nothing in the return names anyone.
func TestLeadReport(t *testing.T) {
	requireStack(t)
	t.Parallel()
	const area, lead = "e2e-general", "lead.e2e-general@example.org"
	token := leadLink(t, area, lead, time.Now())
	month := returns.Month(time.Now())
	received := func() int {
		t.Helper()
		res := do(t, http.MethodGet, reportPath(area, token, month, "csv"), "", "", nil)
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("CSV = %d %s: %.300s", res.Status, res.Header.Get("Content-Type"), res.Body)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="ipspc-return-`+area) {
			t.Errorf("Content-Disposition = %q", cd)
		}
		lines := strings.Split(strings.TrimSpace(res.Body), "\n")
		if len(lines) != 2 || lines[0] != strings.Join(returns.Header, ",") {
			t.Fatalf("CSV lines = %q", lines)
		}
		n, err := strconv.Atoi(strings.Split(lines[1], ",")[2])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	streamsCaughtUp(t)
	before := received()
	p := newPatient(t)
	r := submitReferral(t, p, "ZE3 1AA")
	streamsCaughtUp(t) // ReturnsFunction has handled the referral's records
	if after := received(); after <= before {
		t.Errorf("received this month: %d before %s, %d after; want more", before, r.ReferralID, after)
	}
	page := do(t, http.MethodGet, reportPath(area, token, month, ""), "", "", nil)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "Programme return for") {
		t.Fatalf("report page = %d", page.Status)
	}
	for _, s := range []string{r.ReferralID, p.FamilyName, p.GivenName, p.NHS, "general-a"} {
		if strings.Contains(page.Body, s) {
			t.Errorf("the report page shows %q", s)
		}
	}
	for _, tc := range []struct {
		name, path string
		status     int
		says       string
	}{
		{"another area's lead link", reportPath("e2e-drain", token, month, ""), http.StatusForbidden, "not for this area"},
		{"no from", "/areas/" + area + "/report?" + url.Values{"token": {token}, "to": {month}}.Encode(), http.StatusBadRequest, "from:"},
		{"bad to", "/areas/" + area + "/report?" + url.Values{"token": {token}, "from": {month}, "to": {"next"}}.Encode(), http.StatusBadRequest, "to:"},
	} {
		if res := do(t, http.MethodGet, tc.path, "", "", nil); res.Status != tc.status || !strings.Contains(res.Body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q", tc.name, res.Status, tc.status, tc.says)
		}
	}
}

// TestLeadReportBrowser opens the return from the worklist's link in Chromium: axe finds no
// violation, the keyboard alone reaches the CSV link and asks for another period (a bad month is
// a 400 naming the field), and with JavaScript off the table and the three labelled charts are
// all there; another area's lead link is a 403 page, also axe-clean.
func TestLeadReportBrowser(t *testing.T) {
	requireStack(t)
	if _, err := os.Stat(browserChromium); err != nil {
		t.Skipf("no Chromium at %s: run make test, which installs it (make browser-deps)", browserChromium)
	}
	t.Parallel()
	const area, lead = "e2e-general", "lead.e2e-general@example.org"
	token := leadLink(t, area, lead, time.Now())
	s := startBrowser(t)
	for _, js := range []bool{true, false} {
		tb := s.tab(t, js)
		tb.mustStatus(tb.navigate("/areas/"+area+"/worklist?token="+token), http.StatusOK)
		link := browserEval[string](tb, `document.querySelector("main a[href^='/areas/`+area+`/report?']").getAttribute("href")`)
		tb.mustStatus(tb.navigate(link), http.StatusOK)
		if js { // axe runs as a script in the page
			tb.checkAxe("programme return")
			tb.screenshot("lead-report")
		}
		if n := browserEval[int](tb, `document.querySelectorAll('main svg[role="img"][aria-labelledby]').length`); n != 3 {
			t.Errorf("labelled charts = %d, want 3", n)
		}
		if n := browserEval[int](tb, `document.querySelectorAll("main table th").length`); n == 0 {
			t.Error("the figures table has no headers")
		}
		// Keyboard only: the skip link, then the first thing in the main content is the CSV download.
		tb.press(kb.Tab)
		tb.wantFocus("a.nhsuk-skip-link")
		tb.press(kb.Enter)
		tb.waitFor(`location.hash === "#maincontent"`, "the skip link to go to the main content")
		tb.press(kb.Tab)
		if got := tb.focused(); !strings.Contains(got, "format=csv") {
			t.Errorf("first stop in the main content = %q, want the CSV link", got)
		}
		// Another period, by keyboard: the form at the end of the page asks for it (a GET).
		clear := kb.End + strings.Repeat(kb.Backspace, 7)
		tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS("#from")), browserKeys(clear+"2026-01"+kb.Enter)), http.StatusOK)
		if got := browserEval[string](tb, `document.querySelector("main .nhsuk-caption-l").innerText`); !strings.HasPrefix(got, "January 2026") {
			t.Errorf("period after asking from 2026-01 = %q", got)
		}
		tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS("#to")), browserKeys(clear+"soon"+kb.Enter)), http.StatusBadRequest)
		if got := browserEval[string](tb, `document.querySelector("main").innerText`); !strings.Contains(got, "to:") {
			t.Errorf("a bad last month: the page says %q, want the field named", got)
		}
		if js {
			tb.checkAxe("programme return, a bad month")
			tb.mustStatus(tb.navigate(reportPath("e2e-drain", token, returns.Month(time.Now()), "")), http.StatusForbidden)
			tb.checkAxe("programme return, another area's link")
		}
	}
}

// TestReturnsScheduleWritesSnapshots invokes ReturnsFunction as its daily schedule does: the same
// binary that takes the stream writes each area's month-end snapshot of the last settled month.
func TestReturnsScheduleWritesSnapshots(t *testing.T) {
	requireStack(t)
	t.Parallel()
	now := time.Now().UTC()
	event := `{"version": "0", "id": "e2e", "source": "aws.scheduler", "detail-type": "Scheduled Event", "account": "123456789012", "time": "` +
		now.Format(time.RFC3339) + `", "region": "eu-west-2", "resources": [], "detail": {}}`
	if _, ferr, err := stack.Invoke(context.Background(), "ReturnsFunction", []byte(event)); err != nil || ferr != nil {
		t.Fatalf("ReturnsFunction (schedule): %v %v", err, ferr)
	}
	month := returns.PreviousMonth(returns.Month(now.Add(-returns.Settle)))
	out, err := stack.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(stack.TableName("ReturnsTable")),
		Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "e2e-general#" + month},
			"sk": &ddb.AttributeValueMemberS{Value: "#SNAPSHOT"}},
	})
	if err != nil || len(out.Item) == 0 {
		t.Errorf("no snapshot of e2e-general for %s after the schedule ran (%v)", month, err)
	}
}

// TestReturnsCountAJourneyOnce is issue 13's "done when": one referral, alone in its area, taken
// through contact, the first meeting, an employer contact and a 20-hour job start (each posted
// twice, as a retried click would be); then, by time travel, the reminders runs: none the day
// before the 16 weeks are up (the next day's run is the marker), then one outcome check however
// often it runs, to the specialist only, and none ever for a second referral (in another area)
// whose outcome was recorded. The "yes" is posted through the email's own link. Once
// ReturnsFunction has caught up with the stream, the area's CSV for the month counts each step
// exactly once.
//
// Not parallel: it moves the schedule's clock (as TestRemindersAndEscalations does).
func TestReturnsCountAJourneyOnce(t *testing.T) {
	requireStack(t)
	const area, specialist = "e2e-returns", "returns-one"
	r := submitReferral(t, newPatient(t), "ZE8 1AA")
	if r.Status != "assigned" {
		t.Fatalf("referral %s: %s, want assigned", r.ReferralID, r.Status)
	}
	post := func(action, token string, form url.Values) {
		t.Helper()
		form.Set("token", token)
		for range 2 {
			res := do(t, http.MethodPost, "/referrals/"+r.ReferralID+"/"+action, "application/x-www-form-urlencoded", form.Encode(), nil)
			if res.Status != http.StatusOK {
				t.Fatalf("%s = %d: %.400s", action, res.Status, res.Body)
			}
		}
	}
	token := linkSigner(t).Sign(r.ReferralID, specialist, time.Now().Add(time.Hour))
	start := calendar.DateOf(time.Now())
	post("contact", token, url.Values{})
	post("meeting", token, url.Values{})
	post("employer-contact", token, url.Values{"date": {start.String()}})
	post("job-start", token, url.Values{"startDate": {start.String()}, "hoursPerWeek": {"20"}, "selfEmployed": {"no"}})
	answered, _ := submitAssigned(t) // in work, its outcome already recorded
	postOutcomeAction(t, answered.ReferralID, "meeting", url.Values{})
	postOutcomeAction(t, answered.ReferralID, "job-start", url.Values{"startDate": {start.String()}, "hoursPerWeek": {"16"}, "selfEmployed": {"no"}})
	postOutcomeAction(t, answered.ReferralID, "outcome", url.Values{"sustained": {"yes"}})
	streamsCaughtUp(t)

	checks := func(id string) []sentEmail { return kinds(emails(t, id), "record the job outcome") }
	due := start.AddDays(referral.OutcomeCheckDays)
	for _, run := range []struct {
		when time.Time
		want int // outcome checks about r after the run (each run is synchronous: its emails are sent)
	}{
		{londonAt(t, due.AddDays(-1), 9), 0},
		{londonAt(t, due, 9), 1},
		{londonAt(t, due, 10), 1},
		{londonAt(t, due.AddDays(1), 9), 1},
	} {
		remind(t, run.when)
		if got := checks(r.ReferralID); len(got) != run.want {
			t.Fatalf("after the run at %s: %d outcome checks, want %d", run.when, len(got), run.want)
		}
		if got := checks(answered.ReferralID); len(got) != 0 {
			t.Fatalf("after the run at %s: %d outcome checks about %s, whose outcome was recorded", run.when, len(got), answered.ReferralID)
		}
	}
	check := checks(r.ReferralID)[0]
	if to := check.Destination.To; len(to) != 1 || to[0] != specialist+"@example.org" || len(check.Destination.Cc) != 0 {
		t.Errorf("outcome check sent to %v cc %v, want the specialist alone", to, check.Destination.Cc)
	}
	if !strings.Contains(check.Body.Text, "at least 7 hours a week in at least 13 of the weeks") {
		t.Errorf("the outcome check does not ask the IPSPC question:\n%s", check.Body.Text)
	}
	id, linkToken := linkParts(t, signedLinkOf(t, check))
	if id != r.ReferralID {
		t.Fatalf("the outcome check links to %s, want %s", id, r.ReferralID)
	}
	post("outcome", linkToken, url.Values{"sustained": {"yes"}})
	streamsCaughtUp(t) // every record of the referral reached ReturnsFunction

	month := returns.Month(time.Now())
	res := do(t, http.MethodGet, reportPath(area, leadLink(t, area, "lead.e2e-returns@example.org", time.Now()), month, "csv"), "", "", nil)
	want := strings.Join(returns.Header, ",") + "\n" +
		// received, assigned at intake, contacted and met on time, employer contact within 30 days,
		// one job start (first, 16 hours or more), one sustained outcome; caseload 1, nobody waiting.
		area + "," + month + ",1,1,0,1,0,1,0,1,1,1,1,1,0,0,0,1,0\n"
	if res.Status != http.StatusOK || res.Body != want {
		t.Errorf("CSV = %d:\n%s\nwant:\n%s", res.Status, res.Body, want)
	}
}
