package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Notifications and their privacy (SPEC §7). Tests here use e2e-general (ZE3), where capacity
// never runs out; the waitlist is exercised in e2e-drain by TestWaitlistDrainsOnClose only.

// Email kinds, as their subjects tell them apart (shared/render/email/bodies.go).
const (
	kindAcknowledgement = "acknowledgement"
	kindAssignment      = "assignment"
	kindWaitlisted      = "waitlisted"
	kindStartedSupport  = "started-support"
	kindClosed          = "closed"
	kindWithdrawn       = "withdrawn"
)

// emailKindOf tells an email's kind from its subject; "" when it is none of the kinds.
func emailKindOf(subject string) string {
	switch {
	case strings.HasPrefix(subject, "New referral "):
		return kindAssignment
	case strings.HasPrefix(subject, "Referral ") && strings.HasSuffix(subject, " received"):
		return kindAcknowledgement
	case strings.HasPrefix(subject, "Referral ") && strings.HasSuffix(subject, " is on the waiting list"):
		return kindWaitlisted
	case strings.HasPrefix(subject, "Referral ") && strings.HasSuffix(subject, ": support has started"):
		return kindStartedSupport
	case strings.HasPrefix(subject, "Referral ") && strings.HasSuffix(subject, " has been closed"):
		return kindClosed
	case strings.HasSuffix(subject, " withdrawn"):
		return kindWithdrawn
	}
	return ""
}

// wantEmails checks that es is exactly one email of each kind in want, each to the address want
// names alone, and returns them by kind.
func wantEmails(t *testing.T, referralID string, es []sentEmail, want map[string]string) map[string]sentEmail {
	t.Helper()
	byKind := map[string]sentEmail{}
	count := map[string]int{}
	for _, e := range es {
		k := emailKindOf(e.Subject)
		count[k]++
		byKind[k] = e
	}
	for kind, to := range want {
		switch e, n := byKind[kind], count[kind]; {
		case n != 1:
			t.Errorf("%s: %d %s emails, want exactly 1 (subjects %q)", referralID, n, kind, subjects(es))
		case !slices.Equal(e.Destination.To, []string{to}) || len(e.Destination.Cc) != 0:
			t.Errorf("%s: %s email to %q cc %q, want to %s only", referralID, kind, e.Destination.To, e.Destination.Cc, to)
		}
	}
	if len(es) != len(want) {
		t.Errorf("%s: %d emails %q, want %d (one each of %v)", referralID, len(es), subjects(es), len(want), slices.Sorted(maps.Keys(want)))
	}
	return byKind
}

// submitReferral posts p's referral in the area of postcode and returns its receipt; anything but
// 201 ends the test.
func submitReferral(t *testing.T, p patient, postcode string) receipt {
	t.Helper()
	res := postJSON(t, p.submission(postcode), nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("submit in %s = %d: %.300s", postcode, res.Status, res.Body)
	}
	var r receipt
	res.json(t, &r)
	return r
}

// storedReferral is the part of a stored referral item these tests look at.
type storedReferral struct {
	Status       string `dynamodbav:"status"`
	Area         string `dynamodbav:"area"`
	SpecialistID string `dynamodbav:"specialistId"`
	ContactBy    string `dynamodbav:"contactBy"`
	MeetBy       string `dynamodbav:"meetBy"`
	WaitArea     string `dynamodbav:"waitArea"`
	AssignedAt   string `dynamodbav:"assignedAt"`
	ContactedAt  string `dynamodbav:"contactedAt"`
	ClosedAt     string `dynamodbav:"closedAt"`
	CloseReason  string `dynamodbav:"closeReason"`
	Events       []struct {
		Type   string `dynamodbav:"type"`
		By     string `dynamodbav:"by"`
		Via    string `dynamodbav:"via"`
		Detail string `dynamodbav:"detail"`
	} `dynamodbav:"events"`
}

// eventTypes lists the referral's audit events, leaving out the notifier's "emailed" events (they
// are appended asynchronously, after the email is in the emulator).
func (s storedReferral) eventTypes() []string {
	var out []string
	for _, e := range s.Events {
		if e.Type != "emailed" {
			out = append(out, e.Type+"/"+e.Via+"/"+e.Detail)
		}
	}
	return out
}

// readReferral reads a referral item from the stack's table with a consistent read.
func readReferral(t *testing.T, id string) storedReferral {
	t.Helper()
	out, err := stack.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(stack.TableName("ReferralsTable")), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{
			"pk": &ddb.AttributeValueMemberS{Value: "REFERRAL#" + id},
			"sk": &ddb.AttributeValueMemberS{Value: "#REFERRAL"},
		},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("read referral %s: %v (found: %t)", id, err, err == nil && out.Item != nil)
	}
	var r storedReferral
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		t.Fatalf("decode referral %s: %v", id, err)
	}
	return r
}

// replayStreamRecord invokes NotifierFunction directly with a stream record for the referral, as
// Lambda does when it retries a batch, and checks the function reported no failure.
func replayStreamRecord(t *testing.T, referralID, sequenceNumber string) {
	t.Helper()
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{
		AWSRegion: "ddblocal", EventID: "e2e-replay-" + sequenceNumber, EventName: "INSERT",
		EventSource: "aws:dynamodb", EventVersion: "1.1",
		Change: events.DynamoDBStreamRecord{
			Keys: map[string]events.DynamoDBAttributeValue{
				"pk": events.NewStringAttribute("REFERRAL#" + referralID),
				"sk": events.NewStringAttribute("#REFERRAL"),
			},
			SequenceNumber: sequenceNumber, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}}}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	result, ferr, err := stack.Invoke(ctx, "NotifierFunction", payload)
	if err != nil || ferr != nil {
		t.Fatalf("invoke NotifierFunction: %v / %v", err, ferr)
	}
	var res events.DynamoDBEventResponse
	if err := json.Unmarshal(result, &res); err != nil {
		t.Fatalf("NotifierFunction answered %s: %v", result, err)
	}
	if len(res.BatchItemFailures) != 0 {
		t.Fatalf("replayed record failed: %s", result)
	}
}

func messageIDs(es []sentEmail) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.MessageID)
	}
	slices.Sort(out)
	return out
}

// replayTwiceSendsNothing replays the referral's stream record twice and checks that no email
// about it arrives.
func replayTwiceSendsNothing(t *testing.T, referralID string, before []sentEmail) {
	t.Helper()
	for i := range 2 {
		replayStreamRecord(t, referralID, fmt.Sprintf("9%019d", i+1))
	}
	streamsCaughtUp(t) // anything the replays set off has happened by now
	if after := emails(t, referralID); !slices.Equal(messageIDs(after), messageIDs(before)) {
		t.Errorf("%s: after two replays of its stream record: %q, want only the first %q", referralID, subjects(after), subjects(before))
	}
}

func TestEachEmailKindIsSentOnce(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	r := submitReferral(t, p, "ZE3 4AB")
	if r.Status != "assigned" || r.Area != "e2e-general" {
		t.Fatalf("receipt = %+v, want assigned in e2e-general", r)
	}
	specialist := readReferral(t, r.ReferralID).SpecialistID
	if specialist != "general-a" && specialist != "general-b" {
		t.Fatalf("assigned to %q, want an e2e-general specialist", specialist)
	}
	got := waitForEmails(t, r.ReferralID, 2, 30*time.Second)
	wantEmails(t, r.ReferralID, got, map[string]string{
		kindAcknowledgement: p.ReferrerEmail,
		kindAssignment:      specialist + "@example.org",
	})
	if t.Failed() {
		return
	}
	// Lambda retries a batch whose answer was lost: the same record, handled again.
	replayTwiceSendsNothing(t, r.ReferralID, got)
}

// dobForms are the ways a date of birth may be written.
func dobForms(iso string) []string {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return []string{iso}
	}
	forms := []string{iso}
	for _, layout := range []string{"20060102", "2 January 2006", "02 January 2006", "2 Jan 2006", "January 2, 2006",
		"Jan 2, 2006", "02/01/2006", "2/1/2006", "02-01-2006", "02.01.2006", "2006/01/02", "01/02/2006"} {
		forms = append(forms, strings.ToLower(d.Format(layout)))
	}
	return forms
}

// digitsPattern matches the digits of s in order, with any spaces, hyphens, dots or brackets
// between them (an NHS number or phone number however it is grouped), after an optional prefix
// (a phone's trunk 0 or +44) and not within a longer run of digits.
func digitsPattern(prefix, s string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?:^|\D)` + prefix)
	first := true
	for _, c := range s {
		if c < '0' || c > '9' {
			continue
		}
		if !first {
			b.WriteString(`[\s\-.()\x{00a0}]*`)
		}
		b.WriteRune(c)
		first = false
	}
	b.WriteString(`(?:\D|$)`)
	return regexp.MustCompile(b.String())
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// patientDataLeaks checks every email in es against SPEC §7 and describes each leak: any NHS
// number, date of birth, phone, email address, health condition or note of p anywhere; the full
// family name (emails carry its initial only); any part of the name in a subject.
func patientDataLeaks(p patient, es []sentEmail) []string {
	// The phone without its trunk 0 matches 07700 900123, 07700900123, +44 7700 900123, +447700900123.
	national := strings.TrimPrefix(strings.ReplaceAll(p.Phone, " ", ""), "0")
	patterns := map[string]*regexp.Regexp{
		"NHS number": digitsPattern("", p.NHS),
		"phone":      digitsPattern(`(?:0|44[\s\-.]*(?:\(0\))?[\s\-.]*)?`, national),
	}
	texts := map[string][]string{ // lower case
		"date of birth":     dobForms(p.DOB),
		"email address":     {strings.ToLower(p.Email)},
		"notes":             {strings.ToLower(p.Notes), strings.ToLower(strings.Fields(p.Notes)[0])},
		"health conditions": {"mental-health", "mental health", "musculoskeletal"},
		"family name":       {strings.ToLower(p.FamilyName)},
	}
	var leaks []string
	for _, e := range es {
		for _, addr := range append(slices.Clone(e.Destination.To), e.Destination.Cc...) {
			if strings.EqualFold(addr, p.Email) {
				leaks = append(leaks, fmt.Sprintf("%q was sent to the patient's own address", e.Subject))
			}
		}
		parts := map[string]string{
			"subject":   e.Subject,
			"text":      e.Body.Text,
			"HTML":      e.Body.HTML,
			"HTML text": html.UnescapeString(htmlTag.ReplaceAllString(e.Body.HTML, "")),
		}
		for part, s := range parts {
			lower := strings.ToLower(s)
			for what, re := range patterns {
				if m := re.FindString(s); m != "" {
					leaks = append(leaks, fmt.Sprintf("%q: %s carries the %s (%q)", e.Subject, part, what, m))
				}
			}
			for what, forms := range texts {
				for _, f := range forms {
					if strings.Contains(lower, f) {
						leaks = append(leaks, fmt.Sprintf("%q: %s carries the %s (%q)", e.Subject, part, what, f))
					}
				}
			}
		}
		for _, name := range []string{p.GivenName, p.FamilyName} {
			if strings.Contains(strings.ToLower(e.Subject), strings.ToLower(name)) {
				leaks = append(leaks, fmt.Sprintf("subject %q carries the patient's name", e.Subject))
			}
		}
	}
	return leaks
}

func assertNoPatientData(t *testing.T, p patient, es []sentEmail) {
	t.Helper()
	for _, leak := range patientDataLeaks(p, es) {
		t.Error(leak)
	}
}

func TestEmailsCarryNoPrivatePatientData(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	r := submitReferral(t, p, "ZE3 5AB")
	got := waitForEmails(t, r.ReferralID, 2, 30*time.Second)
	wantEmails(t, r.ReferralID, got, map[string]string{
		kindAcknowledgement: p.ReferrerEmail,
		kindAssignment:      readReferral(t, r.ReferralID).SpecialistID + "@example.org",
	})
	assertNoPatientData(t, p, got)
	// What emails may say, they do say: the checks above would pass on an empty email.
	want := p.GivenName + " " + strings.ToUpper(p.FamilyName[:1]) + "."
	for _, e := range got {
		if !strings.Contains(e.Body.Text, want) || !strings.Contains(e.Body.HTML, want) || !strings.Contains(e.Body.Text, r.ReferralID) {
			t.Errorf("%q does not name the patient as %q with the reference", e.Subject, want)
		}
	}
}

// The checker itself: each kind of leak is caught, however it is written, and a clean email passes.
func TestPatientDataCheckerCatchesLeaks(t *testing.T) {
	t.Parallel()
	p := patient{GivenName: "Givab12", FamilyName: "Famab12", DOB: "1975-03-14", NHS: "9434765919",
		Phone: "07700 912345", Email: "patab12@example.com", Notes: "Notesab12 prefers afternoons"}
	email := func(subject, text string) sentEmail {
		var e sentEmail
		e.Subject, e.Body.Text, e.Body.HTML = subject, "Patient: Givab12 F.\n", "<p>Patient: Givab12 F.</p>"+text
		return e
	}
	leaks := []string{
		"943 476 5919", "943-476-5919", "9434765919", "NHS 943 4765 919",
		"1975-03-14", "14 March 1975", "14/03/1975",
		"07700 912345", "07700912345", "+447700912345", "+44 7700 912 345", "+44 (0)7700 912345", "0044 7700 912345", "<b>07700</b> 912345",
		"PatAB12@example.com", "pat&#97;b12@example.com", "Notesab12", "Mental health", "musculoskeletal", "Famab12",
	}
	for _, leak := range leaks {
		if got := patientDataLeaks(p, []sentEmail{email("Referral R-AAAAAAAA received", leak)}); len(got) == 0 {
			t.Errorf("leak %q not caught", leak)
		}
	}
	if got := patientDataLeaks(p, []sentEmail{email("Referral R-AAAAAAAA for Givab12", "")}); len(got) == 0 {
		t.Error("given name in a subject not caught")
	}
	if got := patientDataLeaks(p, []sentEmail{email("New referral R-AAAAAAAA: contact by Wednesday 25 November", "<p>Wednesday 25 November 2026</p>")}); len(got) != 0 {
		t.Errorf("a clean email was reported: %q", got)
	}
}

func TestEmailEscapesWhatWasTyped(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	p.GivenName = `O'Brien <b>Bold</b> & Co ` + p.GivenName
	p.FamilyName = `'t Hooft-` + p.FamilyName // no letter first: emails still give its initial, T
	r := submitReferral(t, p, "ZE3 6AB")
	got := waitForEmails(t, r.ReferralID, 2, 30*time.Second)
	byKind := wantEmails(t, r.ReferralID, got, map[string]string{
		kindAcknowledgement: p.ReferrerEmail,
		kindAssignment:      readReferral(t, r.ReferralID).SpecialistID + "@example.org",
	})
	for kind, e := range byKind {
		if strings.Contains(e.Body.HTML, "<b>") || strings.Contains(e.Body.HTML, "</b>") {
			t.Errorf("%s HTML carries the raw tag: %.2000s", kind, e.Body.HTML)
		}
		if !strings.Contains(e.Body.HTML, "&lt;b&gt;Bold&lt;/b&gt; &amp; Co") {
			t.Errorf("%s HTML does not show the name escaped: %.2000s", kind, e.Body.HTML)
		}
		if !strings.Contains(html.UnescapeString(e.Body.HTML), p.GivenName) {
			t.Errorf("%s HTML does not read as the name typed", kind)
		}
		if !strings.Contains(e.Body.Text, p.GivenName+" T.") {
			t.Errorf("%s text does not name the patient %q as typed (plain text needs no escaping):\n%s", kind, p.GivenName+" T.", e.Body.Text)
		}
		if strings.ContainsAny(e.Subject, "<>&'") {
			t.Errorf("%s subject %q carries typed text", kind, e.Subject)
		}
	}
	// The specialist's page escapes it too.
	if a, ok := byKind[kindAssignment]; ok {
		page := do(t, http.MethodGet, signedLinkOf(t, a), "", "", nil)
		if page.Status != 200 || strings.Contains(page.Body, "<b>Bold") || !strings.Contains(page.Body, "&lt;b&gt;Bold&lt;/b&gt; &amp; Co") {
			t.Errorf("referral page = %d, the name not escaped", page.Status)
		}
	}
}

// TestEmailsSurviveAnSESOutage takes SES away while referrals arrive: intake is unaffected, the
// emails wait in the stream, and every one is sent once SES is back, none twice.
//
// Not parallel: the outage stops every email of the stack (the stream is handled in order), so it
// runs while no other test is running. Go runs parallel tests only after every sequential test
// has returned. The outage is ~5 s; the stream poller retries a failing batch 20 times with
// backoff capped at 2 s (infra/localstack/streams.go deliver), over 30 s in all.
func TestEmailsSurviveAnSESOutage(t *testing.T) {
	requireStack(t)
	// Let the stream settle first: once a fresh referral's emails are out, every record before it
	// has been handled, so the outage cuts no other test's send in flight.
	settle := submitReferral(t, newPatient(t), "ZE3 7AB")
	waitForEmails(t, settle.ReferralID, 2, 30*time.Second)

	sesProxy.SetDown(true)
	t.Cleanup(func() { sesProxy.SetDown(false) })
	patients := make([]patient, 3)
	receipts := make([]receipt, 3)
	refusedBefore := sesProxy.Refused()
	for i := range patients {
		patients[i] = newPatient(t)
		start := time.Now()
		receipts[i] = submitReferral(t, patients[i], "ZE3 7AB")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("referral %d took %s during the SES outage: intake must not wait for email", i, d)
		}
		if receipts[i].Status != "assigned" {
			t.Errorf("referral %d = %+v, want assigned", i, receipts[i])
		}
	}
	// The notifier has tried (and failed) at least once for each referral before we look.
	waitUntil(t, time.Minute, "the notifier to try SES during the outage", func() bool { return sesProxy.Refused() >= refusedBefore+len(receipts) })
	for _, r := range receipts {
		if got := emails(t, r.ReferralID); len(got) != 0 {
			t.Errorf("%s: %q sent while SES was down", r.ReferralID, subjects(got))
		}
	}
	sesProxy.SetDown(false)

	for i, r := range receipts {
		got := waitForEmails(t, r.ReferralID, 2, 60*time.Second)
		wantEmails(t, r.ReferralID, got, map[string]string{
			kindAcknowledgement: patients[i].ReferrerEmail,
			kindAssignment:      readReferral(t, r.ReferralID).SpecialistID + "@example.org",
		})
	}
	// Every email that failed was released and sent again exactly once: no claim is left behind.
	for _, r := range receipts {
		if n := notificationRecords(t, r.ReferralID); n != 2 {
			t.Errorf("%s: %d notification records sent, want 2", r.ReferralID, n)
		}
	}
}

// notificationRecords counts the referral's notification records marked sent.
func notificationRecords(t *testing.T, referralID string) int {
	t.Helper()
	out, err := stack.DynamoDB().Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(stack.TableName("ReferralsTable")),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :n)"),
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":pk": &ddb.AttributeValueMemberS{Value: "REFERRAL#" + referralID},
			":n":  &ddb.AttributeValueMemberS{Value: "NOTIFIED#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("query notifications of %s: %v", referralID, err)
	}
	n := 0
	for _, item := range out.Items {
		if s, ok := item["status"].(*ddb.AttributeValueMemberS); ok && s.Value == "sent" {
			n++
		}
	}
	return n
}

// TestEmailsSurviveASlowSES holds every connection to SES 40 s unanswered, then forwards it (the
// email is delivered after the sender gave up): every email arrives, each exactly once. A send
// whose outcome is unknown keeps its claim for 15 minutes and the SDK does not retry it, so
// neither the stream's retries nor the SDK's send it again. Not parallel: it slows every email.
func TestEmailsSurviveASlowSES(t *testing.T) {
	requireStack(t)
	settle := submitReferral(t, newPatient(t), "ZE3 7AB")
	waitForEmails(t, settle.ReferralID, 2, 30*time.Second)

	const hold = 40 * time.Second
	sesProxy.SetHold(hold)
	t.Cleanup(func() { sesProxy.SetHold(0) })
	heldBefore := sesProxy.Held()
	patients := make([]patient, 3)
	receipts := make([]receipt, 3)
	for i := range patients {
		patients[i] = newPatient(t)
		receipts[i] = submitReferral(t, patients[i], "ZE3 7AB")
	}
	// Every email has gone to the slow SES once: 2 per referral.
	waitUntil(t, time.Minute, "the notifier to reach the slow SES", func() bool { return sesProxy.Held() >= heldBefore+2*len(receipts) })
	sesProxy.SetHold(0)
	start := time.Now()
	for i, r := range receipts {
		got := waitForEmails(t, r.ReferralID, 2, 4*time.Minute-time.Since(start))
		wantEmails(t, r.ReferralID, got, map[string]string{
			kindAcknowledgement: patients[i].ReferrerEmail,
			kindAssignment:      readReferral(t, r.ReferralID).SpecialistID + "@example.org",
		})
	}
	// waitForEmails waited for the stream to catch up: its retries of these records have all
	// been answered "claim held". A marker referral's emails come after anything they set off.
	marker := submitReferral(t, newPatient(t), "ZE3 7AB")
	waitForEmails(t, marker.ReferralID, 2, time.Minute)
	total := 0
	for _, r := range receipts {
		got := emails(t, r.ReferralID)
		total += len(got)
		if len(got) != 2 {
			t.Errorf("%s: %d emails %q after the slow SES, want 2", r.ReferralID, len(got), subjects(got))
		}
	}
	t.Logf("slow SES (held %s): %d connections held, %d emails for %d referrals (want %d), %s after the hold ended",
		hold, sesProxy.Held()-heldBefore, total, len(receipts), 2*len(receipts), time.Since(start).Round(time.Second))
}
