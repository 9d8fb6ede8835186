package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// remind invokes RemindersFunction as the schedule would at when (time travel through the
// event's time field).
func remind(t *testing.T, when time.Time) {
	t.Helper()
	payload := fmt.Sprintf(`{"version":"0","source":"aws.scheduler","detail-type":"Scheduled Event","time":%q,"detail":{}}`, when.UTC().Format(time.RFC3339))
	_, ferr, err := stack.Invoke(context.Background(), "RemindersFunction", []byte(payload))
	if err != nil || ferr != nil {
		t.Fatalf("invoke reminders at %s: %v %v", when, err, ferr)
	}
}

// londonAt is 10:00 in London on day d.
func londonAt(t *testing.T, d calendar.Date, hour int) time.Time {
	t.Helper()
	return time.Date(d.Year, d.Month, d.Day, hour, 0, 0, 0, calendar.London())
}

func submitAssigned(t *testing.T) (receipt, patient) {
	t.Helper()
	p := newPatient(t)
	res := postJSON(t, p.submission("ZE3 2BB"), nil)
	if res.Status != 201 {
		t.Fatalf("submit: %d %s", res.Status, res.Body)
	}
	var r receipt
	res.json(t, &r)
	if r.Status != "assigned" {
		t.Fatalf("referral %s is %s", r.ReferralID, r.Status)
	}
	waitForEmails(t, r.ReferralID, 2, 20*time.Second) // intake emails first, so counts below are the sweep's
	return r, p
}

func kinds(es []sentEmail, subjectPart string) []sentEmail {
	var out []sentEmail
	for _, e := range es {
		if strings.Contains(strings.ToLower(e.Subject), subjectPart) {
			out = append(out, e)
		}
	}
	return out
}

// Not parallel: it moves the schedule's clock, which must not send reminders to other tests'
// referrals while they count their emails.
func TestRemindersAndEscalations(t *testing.T) {
	requireStack(t)
	cal := calendar.Embedded()
	a, _ := submitAssigned(t) // never contacted
	b, _ := submitAssigned(t) // contact recorded
	contactBy, err := calendar.ParseDate(a.ContactBy)
	if err != nil {
		t.Fatal(err)
	}
	dayBefore, err := cal.PreviousWorkingDay(contactBy)
	if err != nil {
		t.Fatal(err)
	}

	// Two runs on the working day before the deadline: one reminder each, never two.
	remind(t, londonAt(t, dayBefore, 9))
	remind(t, londonAt(t, dayBefore, 10))
	for _, r := range []receipt{a, b} {
		got := waitForEmails(t, r.ReferralID, 3, 20*time.Second)
		if reminders := kinds(got, "reminder"); len(reminders) != 1 || len(got) != 3 {
			t.Fatalf("%s after two runs the day before: %q, want one reminder", r.ReferralID, subjects(got))
		}
	}

	// B's specialist records contact through the signed link.
	specialist := assignedSpecialist(t, b.ReferralID)
	token := mustSigner(t).Sign(b.ReferralID, specialist, time.Now().Add(time.Hour))
	res := do(t, http.MethodPost, "/referrals/"+b.ReferralID+"/contact", "application/x-www-form-urlencoded", url.Values{"token": {token}}.Encode(), nil)
	if res.Status != 200 {
		t.Fatalf("record contact: %d", res.Status)
	}

	// The first run after the deadline escalates A once (copying the lead); B gets nothing more.
	after := londonAt(t, contactBy.AddDays(1), 0).Add(5 * time.Minute)
	var wg sync.WaitGroup
	for range 3 { // overlapping runs
		wg.Go(func() { remind(t, after) })
	}
	wg.Wait()
	remind(t, after.Add(time.Hour))
	got := waitForEmails(t, a.ReferralID, 4, 20*time.Second)
	overdue := kinds(got, "overdue")
	if len(overdue) != 1 || len(got) != 4 {
		t.Fatalf("%s after the deadline: %q, want exactly one escalation", a.ReferralID, subjects(got))
	}
	if cc := overdue[0].Destination.Cc; len(cc) != 1 || cc[0] != "lead.e2e-general@example.org" {
		t.Errorf("escalation cc = %v, want the area lead", cc)
	}
	if strings.Contains(overdue[0].Body.Text, "token=") {
		t.Error("an escalation copied to the lead must not carry the specialist's link")
	}
	streamsCaughtUp(t) // the runs above were synchronous; this covers what the stream sends
	if got := emails(t, b.ReferralID); len(kinds(got, "overdue")) != 0 || len(got) != 3 {
		t.Errorf("%s had contact recorded but got %q", b.ReferralID, subjects(got))
	}
}

// assignedSpecialist reads the specialist a referral is assigned to.
func assignedSpecialist(t *testing.T, referralID string) string {
	t.Helper()
	out, err := stack.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(stack.TableName("ReferralsTable")), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: "REFERRAL#" + referralID}, "sk": &ddb.AttributeValueMemberS{Value: "#REFERRAL"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := out.Item["specialistId"].(*ddb.AttributeValueMemberS)
	if !ok {
		t.Fatalf("referral %s has no specialist", referralID)
	}
	return s.Value
}

func mustSigner(t *testing.T) *signedlink.Signer {
	t.Helper()
	s, err := signedlink.NewSigner([]byte(linkSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// postOutcomeAction posts one of the specialist's outcome forms with their signed link.
func postOutcomeAction(t *testing.T, id, action string, form url.Values) {
	t.Helper()
	token := mustSigner(t).Sign(id, assignedSpecialist(t, id), time.Now().Add(time.Hour))
	form.Set("token", token)
	if res := do(t, http.MethodPost, "/referrals/"+id+"/"+action, "application/x-www-form-urlencoded", form.Encode(), nil); res.Status != 200 {
		t.Fatalf("%s on %s: %d", action, id, res.Status)
	}
}
