package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// The specialist's pages behind the signed links in emails (SPEC §4).

var emailLink = regexp.MustCompile(`https?://[^\s"<>]+/referrals/R-[0-9A-Z]{8}\?token=[A-Za-z0-9_-]+`)

// worklistLink is the lead's signed worklist link in the waitlisted email and the lead's copies.
var worklistLink = regexp.MustCompile(`https?://[^\s"<>]+/areas/[a-z0-9-]+/worklist\?token=[A-Za-z0-9_-]+`)

// signedLinkOf returns the path and query of the signed link in an email (its host is the
// deployed API's, so requests go to the local stack instead). The text and HTML bodies must carry
// the same link.
func signedLinkOf(t *testing.T, e sentEmail) string {
	t.Helper()
	return linkOf(t, e, emailLink)
}

// linkOf is signedLinkOf for the one link in e that re matches.
func linkOf(t *testing.T, e sentEmail, re *regexp.Regexp) string {
	t.Helper()
	links := re.FindAllString(e.Body.Text, -1)
	if len(links) != 1 {
		t.Fatalf("%q: %d links in the text body, want 1:\n%s", e.Subject, len(links), e.Body.Text)
	}
	if !strings.Contains(e.Body.HTML, `href="`+links[0]+`"`) {
		t.Errorf("%q: the HTML body does not link to %s", e.Subject, links[0])
	}
	u, err := url.Parse(links[0])
	if err != nil {
		t.Fatal(err)
	}
	return u.Path + "?" + u.RawQuery
}

// linkParts splits a signed link's path and query into the referral id and the token.
func linkParts(t *testing.T, link string) (id, token string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/referrals/"), u.Query().Get("token")
}

// postAction posts one of the page's forms, as the browser does.
func postAction(t *testing.T, id, action, token, reason string) response {
	t.Helper()
	form := url.Values{"token": {token}}
	if reason != "" {
		form.Set("reason", reason)
	}
	return do(t, http.MethodPost, "/referrals/"+id+"/"+action, "application/x-www-form-urlencoded", form.Encode(), nil)
}

func linkSigner(t *testing.T) *signedlink.Signer {
	t.Helper()
	s, err := signedlink.NewSigner([]byte(linkSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tamper changes the character at i to another of the base64url alphabet.
func tamper(token string, i int) string {
	b := []byte(token)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

var postForm = regexp.MustCompile(`<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="token" value="([^"]+)">`)

func TestSignedLinks(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	r := submitReferral(t, p, "ZE3 8AB")
	specialist := readReferral(t, r.ReferralID).SpecialistID
	got := waitForEmails(t, r.ReferralID, 2, 30*time.Second)
	byKind := wantEmails(t, r.ReferralID, got, map[string]string{
		kindAcknowledgement: p.ReferrerEmail,
		kindAssignment:      specialist + "@example.org",
	})
	if ack := byKind[kindAcknowledgement]; emailLink.MatchString(ack.Body.Text + ack.Body.HTML) {
		t.Error("the referrer's acknowledgement carries the specialist's link")
	}
	assignment, ok := byKind[kindAssignment]
	if !ok {
		t.FailNow()
	}
	link := signedLinkOf(t, assignment)
	id, token := linkParts(t, link)
	if id != r.ReferralID || token == "" {
		t.Fatalf("link %s is not for %s", link, r.ReferralID)
	}
	before := readReferral(t, r.ReferralID)

	t.Run("opens the full referral with its four forms", func(t *testing.T) {
		res := do(t, http.MethodGet, link, "", "", nil)
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET link = %d %s, Cache-Control %q", res.Status, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
		}
		dob, _ := time.Parse(time.DateOnly, p.DOB)
		for what, want := range map[string]string{
			"reference": r.ReferralID, "given name": p.GivenName, "family name": p.FamilyName,
			"NHS number": p.NHS[:3] + " " + p.NHS[3:6] + " " + p.NHS[6:], "date of birth": dob.Format("2 January 2006"),
			"phone": p.Phone, "email": p.Email, "notes": p.Notes, "referrer": p.ReferrerEmail,
			"health condition": "Mental health condition",
		} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("page lacks the %s %q", what, want)
			}
		}
		forms := postForm.FindAllStringSubmatch(res.Body, -1)
		var actions []string
		for _, f := range forms {
			actions = append(actions, f[1])
			if f[2] != token {
				t.Errorf("form %s posts token %q, want the link's", f[1], f[2])
			}
		}
		want := []string{"/referrals/" + id + "/attempt", "/referrals/" + id + "/contact", "/referrals/" + id + "/meeting", "/referrals/" + id + "/close"}
		if !slices.Equal(actions, want) {
			t.Errorf("POST forms = %q, want %q", actions, want)
		}
		if strings.Contains(strings.ToLower(res.Body), `method="get"`) {
			t.Error("a form that changes state must POST")
		}
	})

	signer := linkSigner(t)
	other := map[string]string{"general-a": "general-b", "general-b": "general-a"}[specialist]
	for _, tc := range []struct {
		name, path string
		status     int
		contains   string
	}{
		{"tampered MAC", "/referrals/" + id + "?token=" + tamper(token, len(token)-5), 403, ""},
		{"tampered expiry", "/referrals/" + id + "?token=" + tamper(token, 3), 403, ""},
		{"tampered specialist", "/referrals/" + id + "?token=" + tamper(token, 13), 403, ""},
		{"no token", "/referrals/" + id, 403, ""},
		{"expired", "/referrals/" + id + "?token=" + signer.Sign(id, specialist, time.Now().Add(-time.Minute)), 403, "expired"},
		{"another specialist's", "/referrals/" + id + "?token=" + signer.Sign(id, other, time.Now().Add(time.Hour)), 403, ""},
		{"another referral's", "/referrals/" + id + "?token=" + signer.Sign(referral.NewID(), specialist, time.Now().Add(time.Hour)), 403, ""},
		{"signed with another secret", "/referrals/" + id + "?token=" + signerWithSecret(t, strings.Repeat("x", 40)).Sign(id, specialist, time.Now().Add(time.Hour)), 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, http.MethodGet, tc.path, "", "", nil)
			if res.Status != tc.status {
				t.Errorf("GET = %d, want %d", res.Status, tc.status)
			}
			if strings.Contains(res.Body, p.GivenName) || strings.Contains(res.Body, p.NHS[:3]+" "+p.NHS[3:6]) {
				t.Error("a refused link shows patient data")
			}
			if tc.contains != "" && !strings.Contains(res.Body, tc.contains) {
				t.Errorf("page does not say %q", tc.contains)
			}
			// Nor may a refused token act.
			if res := postAction(t, id, "contact", mustQueryToken(t, tc.path), ""); res.Status != tc.status {
				t.Errorf("POST contact = %d, want %d", res.Status, tc.status)
			}
		})
	}

	t.Run("unknown id is the same 404 as a malformed one", func(t *testing.T) {
		unknown := referral.NewID()
		res := do(t, http.MethodGet, "/referrals/"+unknown+"?token="+signer.Sign(unknown, specialist, time.Now().Add(time.Hour)), "", "", nil)
		malformed := do(t, http.MethodGet, "/referrals/R-0000?token="+signer.Sign("R-0000", specialist, time.Now().Add(time.Hour)), "", "", nil)
		if res.Status != 404 || malformed.Status != 404 {
			t.Fatalf("unknown id = %d, malformed id = %d, want 404 both", res.Status, malformed.Status)
		}
		if res.Body != malformed.Body {
			t.Errorf("the 404 for an unknown id differs from a malformed id's:\n%s\n---\n%s", res.Body, malformed.Body)
		}
		if strings.Contains(res.Body, unknown) {
			t.Error("the 404 repeats the id")
		}
		post := postAction(t, unknown, "contact", signer.Sign(unknown, specialist, time.Now().Add(time.Hour)), "")
		if post.Status != 404 || post.Body != malformed.Body {
			t.Errorf("POST to an unknown id = %d, want the same 404", post.Status)
		}
	})

	t.Run("GET never changes state", func(t *testing.T) {
		for range 3 {
			if res := do(t, http.MethodGet, link, "", "", nil); res.Status != 200 {
				t.Fatalf("GET link = %d", res.Status)
			}
		}
		// A link scanner following the form actions with GET.
		for _, action := range []string{"contact", "meeting", "close"} {
			res := do(t, http.MethodGet, "/referrals/"+id+"/"+action+"?token="+url.QueryEscape(token)+"&reason=declined", "", "", nil)
			// The HTTP API routes only POST here (404); the handler itself would answer 405.
			if res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
				t.Errorf("GET %s = %d, want 404 or 405", action, res.Status)
			}
		}
		after := readReferral(t, r.ReferralID)
		if after.Status != "assigned" || after.ContactedAt != "" || after.ClosedAt != "" || !slices.Equal(after.eventTypes(), before.eventTypes()) {
			t.Errorf("after GETs: %s, events %q; before: %s, events %q", after.Status, after.eventTypes(), before.Status, before.eventTypes())
		}
	})

	t.Run("contact is recorded once", func(t *testing.T) {
		res := postAction(t, id, "contact", token, "")
		if res.Status != 200 || !strings.Contains(res.Body, "Contact recorded") {
			t.Fatalf("POST contact = %d: %.500s", res.Status, res.Body)
		}
		if s := readReferral(t, r.ReferralID); s.Status != "contacted" || s.ContactedAt == "" {
			t.Errorf("after contact: status %s, contactedAt %q", s.Status, s.ContactedAt)
		}
		again := postAction(t, id, "contact", token, "")
		if again.Status != 200 || !strings.Contains(again.Body, "already recorded") {
			t.Errorf("repeated POST contact = %d: %.500s", again.Status, again.Body)
		}
		s := readReferral(t, r.ReferralID)
		contacted := 0
		for _, e := range s.Events {
			if e.Type == referral.EventContacted {
				contacted++
				if e.By != specialist || e.Via != referral.ViaSignedLink {
					t.Errorf("contact event = %+v, want by %s via %s", e, specialist, referral.ViaSignedLink)
				}
			}
		}
		if s.Status != "contacted" || contacted != 1 {
			t.Errorf("after a repeat: status %s, %d contact events, want contacted and 1", s.Status, contacted)
		}
		// The page now offers what is left: the meeting and the close.
		page := do(t, http.MethodGet, link, "", "", nil)
		var actions []string
		for _, f := range postForm.FindAllStringSubmatch(page.Body, -1) {
			actions = append(actions, f[1])
		}
		if want := []string{"/referrals/" + id + "/meeting", "/referrals/" + id + "/close"}; !slices.Equal(actions, want) {
			t.Errorf("forms after contact = %q, want %q", actions, want)
		}
	})
}

func signerWithSecret(t *testing.T, secret string) *signedlink.Signer {
	t.Helper()
	s, err := signedlink.NewSigner([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustQueryToken(t *testing.T, path string) string {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// TestWaitlistDrainsOnClose is the only test in e2e-drain, whose one specialist has capacity 1
// (SPEC §5, §6): a close frees the place, and the oldest waitlisted referral takes it with
// deadlines counted from the day it is assigned.
func TestWaitlistDrainsOnClose(t *testing.T) {
	requireStack(t)
	t.Parallel()
	const lead, specialist = "lead.e2e-drain@example.org", "drain-one"
	pa, pb, pc := newPatient(t), newPatient(t), newPatient(t)
	a := submitReferral(t, pa, "ZE2 1AA")
	b := submitReferral(t, pb, "ZE2 1AB")
	c := submitReferral(t, pc, "ZE2 1AD")
	if a.Status != "assigned" || b.Status != "waitlisted" || c.Status != "waitlisted" {
		t.Fatalf("statuses %s, %s, %s; want assigned, then two waitlisted", a.Status, b.Status, c.Status)
	}
	aMail := wantEmails(t, a.ReferralID, waitForEmails(t, a.ReferralID, 2, 30*time.Second), map[string]string{
		kindAcknowledgement: pa.ReferrerEmail, kindAssignment: specialist + "@example.org",
	})
	for _, w := range []struct {
		r receipt
		p patient
	}{{b, pb}, {c, pc}} {
		got := waitForEmails(t, w.r.ReferralID, 2, 30*time.Second)
		byKind := wantEmails(t, w.r.ReferralID, got, map[string]string{kindAcknowledgement: w.p.ReferrerEmail, kindWaitlisted: lead})
		assertNoPatientData(t, w.p, got)
		if ack := byKind[kindAcknowledgement]; !strings.Contains(ack.Body.Text, "waiting list") {
			t.Errorf("%s: the acknowledgement does not say it is on the waiting list:\n%s", w.r.ReferralID, ack.Body.Text)
		}
		if emailLink.MatchString(byKind[kindWaitlisted].Body.Text + byKind[kindWaitlisted].Body.HTML) {
			t.Errorf("%s: the lead's waitlisted email carries a referral's signed link", w.r.ReferralID)
		}
		// The lead opens the area's worklist from the waitlisted email: their own link works.
		if res := do(t, http.MethodGet, linkOf(t, byKind[kindWaitlisted], worklistLink), "", "", nil); res.Status != http.StatusOK ||
			!strings.Contains(res.Body, w.r.ReferralID) || !strings.Contains(res.Body, "E2E Drain") {
			t.Errorf("%s: the worklist from the waitlisted email = %d, want 200 listing it", w.r.ReferralID, res.Status)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	replayTwiceSendsNothing(t, c.ReferralID, emails(t, c.ReferralID))

	// B has waited since long ago: its deadlines as received are past. Assignment must count
	// from the day it is assigned, not from these.
	ageDeadlines(t, b.ReferralID, "2026-01-06", "2026-01-16")

	id, token := linkParts(t, signedLinkOf(t, aMail[kindAssignment]))
	res := postAction(t, id, "close", token, "job-started")
	if res.Status != 200 || !strings.Contains(res.Body, "Referral closed") {
		t.Fatalf("close A = %d: %.500s", res.Status, res.Body)
	}
	contactBy, meetBy := expectedDeadlines(t)

	if s := readReferral(t, a.ReferralID); s.Status != "closed" || s.CloseReason != "job-started" {
		t.Errorf("A after close: %s, reason %q", s.Status, s.CloseReason)
	}
	sb := readReferral(t, b.ReferralID)
	if sb.Status != "assigned" || sb.SpecialistID != specialist || sb.WaitArea != "" || sb.AssignedAt == "" {
		t.Errorf("B after the close: status %s, specialist %q, waitArea %q, assignedAt %q; want assigned to %s", sb.Status, sb.SpecialistID, sb.WaitArea, sb.AssignedAt, specialist)
	}
	if !slices.Contains(contactBy, sb.ContactBy) || !slices.Contains(meetBy, sb.MeetBy) {
		t.Errorf("B's deadlines = %s/%s, want %v/%v (from today)", sb.ContactBy, sb.MeetBy, contactBy, meetBy)
	}
	if !slices.Contains(sb.eventTypes(), referral.EventAssigned+"/waitlist/") {
		t.Errorf("B has no assigned-from-the-waitlist event: %q", sb.eventTypes())
	}
	if sc := readReferral(t, c.ReferralID); sc.Status != "waitlisted" || sc.SpecialistID != "" || sc.WaitArea != "e2e-drain" {
		t.Errorf("C after the close: status %s, specialist %q, waitArea %q; want still waitlisted", sc.Status, sc.SpecialistID, sc.WaitArea)
	}
	if n := caseload(t, "e2e-drain", specialist); n != 1 {
		t.Errorf("caseload of %s = %d, want 1 (A's place, now B's)", specialist, n)
	}

	// B's assignment email, with the new deadlines and a link that opens B for drain-one.
	got := waitForEmails(t, b.ReferralID, 3, 30*time.Second)
	byKind := wantEmails(t, b.ReferralID, got, map[string]string{
		kindAcknowledgement: pb.ReferrerEmail, kindWaitlisted: lead, kindAssignment: specialist + "@example.org",
	})
	assertNoPatientData(t, pb, got)
	if e, ok := byKind[kindAssignment]; ok {
		cb, _ := calendar.ParseDate(sb.ContactBy)
		mb, _ := calendar.ParseDate(sb.MeetBy)
		if short := fmt.Sprintf("contact by %s %d %s", cb.Weekday(), cb.Day, cb.Month); !strings.HasSuffix(e.Subject, short) {
			t.Errorf("assignment subject %q, want it to end %q", e.Subject, short)
		}
		for _, d := range []calendar.Date{cb, mb} {
			if long := fmt.Sprintf("%s %d %s %d", d.Weekday(), d.Day, d.Month, d.Year); !strings.Contains(e.Body.Text, long) || !strings.Contains(e.Body.HTML, long) {
				t.Errorf("assignment email does not give the deadline %q", long)
			}
		}
		if page := do(t, http.MethodGet, signedLinkOf(t, e), "", "", nil); page.Status != 200 || !strings.Contains(page.Body, pb.NHS[:3]+" "+pb.NHS[3:6]+" "+pb.NHS[6:]) {
			t.Errorf("B's link = %d, want B's page", page.Status)
		}
	}
	if got := emails(t, c.ReferralID); len(got) != 2 {
		t.Errorf("C: %q, want only its acknowledgement and waitlisted emails", subjects(got))
	}
	// Closing A again is already recorded and frees nothing more: C still waits.
	if again := postAction(t, id, "close", token, "declined"); again.Status != 200 || !strings.Contains(again.Body, "already") {
		t.Errorf("repeated close = %d: %.300s", again.Status, again.Body)
	}
	if sc := readReferral(t, c.ReferralID); sc.Status != "waitlisted" {
		t.Errorf("C after a repeated close: %s", sc.Status)
	}
}

// expectedDeadlines is contactBy and meetBy for a referral assigned now, as the service computes
// them; around midnight either day's are accepted.
func expectedDeadlines(t *testing.T) (contactBy, meetBy []string) {
	t.Helper()
	for _, at := range []time.Time{time.Now().Add(-time.Minute), time.Now()} {
		c, m, err := referral.Deadlines(calendar.Embedded(), at, referral.DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		contactBy, meetBy = append(contactBy, c.String()), append(meetBy, m.String())
	}
	return contactBy, meetBy
}

// ageDeadlines gives a waitlisted referral the deadlines it would have had if received long ago.
func ageDeadlines(t *testing.T, id, contactBy, meetBy string) {
	t.Helper()
	_, err := stack.DynamoDB().UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(stack.TableName("ReferralsTable")),
		Key: map[string]ddb.AttributeValue{
			"pk": &ddb.AttributeValueMemberS{Value: "REFERRAL#" + id},
			"sk": &ddb.AttributeValueMemberS{Value: "#REFERRAL"},
		},
		UpdateExpression:    aws.String("SET contactBy = :c, meetBy = :m"),
		ConditionExpression: aws.String("#s = :w"),
		ExpressionAttributeNames: map[string]string{
			"#s": "status",
		},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{
			":c": &ddb.AttributeValueMemberS{Value: contactBy},
			":m": &ddb.AttributeValueMemberS{Value: meetBy},
			":w": &ddb.AttributeValueMemberS{Value: "waitlisted"},
		},
	})
	if err != nil {
		t.Fatalf("age %s: %v", id, err)
	}
}
