package e2e

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// leadLink signs a lead link for area as the waitlisted and digest emails will.
func leadLink(t *testing.T, area, leadEmail string, at time.Time) string {
	t.Helper()
	signer, err := signedlink.NewSigner([]byte(linkSecret))
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := worklist.IssueLink(signer, area, leadEmail, at)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestLeadWorklist opens the area lead's worklist through the stack's HTTP API: the lead's own
// link shows the area's open referrals by reference and given name only; another area's lead
// link, a specialist's link and an expired one are 403.
func TestLeadWorklist(t *testing.T) {
	requireStack(t)
	t.Parallel()
	var r receipt
	p := newPatient(t)
	created := postJSON(t, p.submission("ZE3 1AA"), nil)
	created.json(t, &r)
	if created.Status != http.StatusCreated {
		t.Fatalf("create a referral = %d %s", created.Status, created.Body)
	}
	own := leadLink(t, "e2e-general", "lead.e2e-general@example.org", time.Now())
	res := do(t, http.MethodGet, "/areas/e2e-general/worklist?token="+own, "", "", nil)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, r.ReferralID) || !strings.Contains(res.Body, "Worklist for") {
		t.Fatalf("own worklist = %d, want 200 listing %s", res.Status, r.ReferralID)
	}
	if strings.Contains(res.Body, p.FamilyName) || strings.Contains(res.Body, p.NHS) {
		t.Error("the worklist shows the family name or NHS number")
	}
	signer, err := signedlink.NewSigner([]byte(linkSecret))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"another area's link", "/areas/e2e-drain/worklist?token=" + own},
		{"the other lead's link here", "/areas/e2e-general/worklist?token=" + leadLink(t, "e2e-drain", "lead.e2e-drain@example.org", time.Now())},
		{"a specialist's link", "/areas/e2e-general/worklist?token=" + signer.Sign(r.ReferralID, "general-a", time.Now().Add(time.Hour))},
		{"expired", "/areas/e2e-general/worklist?token=" + leadLink(t, "e2e-general", "lead.e2e-general@example.org", time.Now().Add(-worklist.LinkTTL-time.Second))},
	} {
		if res := do(t, http.MethodGet, tc.path, "", "", nil); res.Status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, res.Status)
		}
	}
}

// TestLeadWorklistBrowser opens the worklist in Chromium: axe finds no WCAG
// 2.2 AA violation, and the keyboard alone reaches the first referral's forms.
func TestLeadWorklistBrowser(t *testing.T) {
	requireStack(t)
	if _, err := os.Stat(browserChromium); err != nil {
		t.Skipf("no Chromium at %s: run make test, which installs it (make browser-deps)", browserChromium)
	}
	t.Parallel()
	var r receipt
	created := postJSON(t, newPatient(t).submission("ZE3 1AA"), nil)
	created.json(t, &r)
	if created.Status != http.StatusCreated {
		t.Fatalf("create a referral = %d %s", created.Status, created.Body)
	}
	tb := startBrowser(t).tab(t, true) // axe runs as a script in the page
	own := leadLink(t, "e2e-general", "lead.e2e-general@example.org", time.Now())
	tb.mustStatus(tb.navigate("/areas/e2e-general/worklist?token="+own), http.StatusOK)
	tb.checkAxe("lead worklist")
	tb.screenshot("lead-worklist")

	tb.press(kb.Tab)
	tb.wantFocus("a.nhsuk-skip-link")
	tb.press(kb.Enter)
	tb.waitFor(`location.hash === "#maincontent"`, "the skip link to go to the main content")
	// The first stop in the main content is the first open referral's first control, then its
	// button, in the order they are read.
	first := browserEval[string](tb, `document.querySelector("main select, main input[type=text]").id`)
	tb.press(kb.Tab)
	tb.wantFocus(first)
	tb.press(kb.Tab)
	if got := browserEval[string](tb, `document.activeElement.tagName + " " + document.activeElement.innerText`); !strings.HasPrefix(got, "BUTTON ") {
		t.Errorf("after %s, focus is on %q, want its form's button", first, got)
	}

	// A transfer to something that is not a postcode, by keyboard: the page says so, changes nothing.
	transfer := browserEval[string](tb, `document.querySelector("main input[name=postcode]").id`)
	tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS("#"+transfer)), browserKeys("nowhere"+kb.Enter)), http.StatusBadRequest)
	if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(h1, "Enter a real postcode") {
		t.Errorf("the refused transfer's heading = %q", h1)
	}
	tb.checkAxe("lead action refused")
	// Skip link, the header's home link, then the way back to the worklist.
	tb.press(kb.Tab)
	tb.wantFocus("a.nhsuk-skip-link")
	tb.press(kb.Tab)
	tb.press(kb.Tab)
	tb.wantFocus("a[href=/areas/e2e-general/worklist?token=" + own + "]")

	tb.mustStatus(tb.navigate("/areas/e2e-drain/worklist?token="+own), http.StatusForbidden)
	tb.checkAxe("lead link for another area")
}

// TestLeadMoves fills an area, then its lead reassigns a referral to a specialist with room
// (caseloads exact, the old specialist's link 403, the new one emailed once, the freed place
// taken from the waitlist) and transfers one to a postcode in another area (assigned there, the
// old area's oldest waitlisted referral assigned, the younger one still waiting).
func TestLeadMoves(t *testing.T) {
	requireStack(t)
	t.Parallel()
	const area, lead = "e2e-moves", "lead.e2e-moves@example.org"
	pa, pb, pc, pd := newPatient(t), newPatient(t), newPatient(t), newPatient(t)
	a := submitReferral(t, pa, "ZE4 1AA")
	b := submitReferral(t, pb, "ZE4 1AB")
	c := submitReferral(t, pc, "ZE4 1AD")
	d := submitReferral(t, pd, "ZE4 1AE")
	if a.Status != "assigned" || b.Status != "waitlisted" || c.Status != "waitlisted" || d.Status != "waitlisted" {
		t.Fatalf("statuses %s, %s, %s, %s; want one assigned, three waitlisted", a.Status, b.Status, c.Status, d.Status)
	}
	aMail := wantEmails(t, a.ReferralID, waitForEmails(t, a.ReferralID, 2, 30*time.Second), map[string]string{
		kindAcknowledgement: pa.ReferrerEmail, kindAssignment: "moves-a@example.org",
	})
	oldLink := signedLinkOf(t, aMail[kindAssignment])
	token := leadLink(t, area, lead, time.Now())
	post := func(id, action string, form url.Values) response {
		form.Set("token", token)
		return do(t, http.MethodPost, "/areas/"+area+"/referrals/"+id+"/"+action, "application/x-www-form-urlencoded", form.Encode(), nil)
	}

	// Moves B has no room yet: refused, nothing changed.
	if res := post(a.ReferralID, "reassign", url.Values{"specialist": {"moves-b"}}); res.Status != http.StatusConflict {
		t.Fatalf("reassign to a specialist without room = %d, want 409", res.Status)
	}
	if s := readReferral(t, a.ReferralID); s.SpecialistID != "moves-a" || caseload(t, area, "moves-a") != 1 || caseload(t, area, "moves-b") != 0 {
		t.Fatalf("the refused reassign changed something: specialist %s", s.SpecialistID)
	}
	// Moves B gets a place (as the directory command would, but without its drain).
	setCapacity(t, area, "moves-b", 1)

	res := post(a.ReferralID, "reassign", url.Values{"specialist": {"moves-b"}})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Moves B") {
		t.Fatalf("reassign = %d: %.500s", res.Status, res.Body)
	}
	if s := readReferral(t, a.ReferralID); s.SpecialistID != "moves-b" || s.Status != "assigned" {
		t.Errorf("A after reassign: %s with %s", s.Status, s.SpecialistID)
	}
	// Moves A's freed place went to the oldest waitlisted referral.
	if s := readReferral(t, b.ReferralID); s.Status != "assigned" || s.SpecialistID != "moves-a" {
		t.Errorf("B after the reassign: %s with %q, want assigned to moves-a", s.Status, s.SpecialistID)
	}
	if na, nb := caseload(t, area, "moves-a"), caseload(t, area, "moves-b"); na != 1 || nb != 1 {
		t.Errorf("caseloads after reassign: moves-a %d, moves-b %d; want 1 and 1", na, nb)
	}
	if page := do(t, http.MethodGet, oldLink, "", "", nil); page.Status != http.StatusForbidden {
		t.Errorf("moves-a's old link to A = %d, want 403", page.Status)
	}
	got := waitForEmails(t, a.ReferralID, 3, 30*time.Second) // then the stream has caught up
	toB := 0
	for _, e := range got {
		if emailKindOf(e.Subject) == kindAssignment && slices.Equal(e.Destination.To, []string{"moves-b@example.org"}) {
			toB++
			if page := do(t, http.MethodGet, signedLinkOf(t, e), "", "", nil); page.Status != http.StatusOK {
				t.Errorf("moves-b's link to A = %d, want 200", page.Status)
			}
		}
	}
	if toB != 1 || len(got) != 3 {
		t.Errorf("A's emails %q: %d assignments to moves-b, want exactly 1 (3 emails in all)", subjects(got), toB)
	}

	// Transfer B to a postcode in another area: assigned there; C (the oldest waiting) takes
	// moves-a's place, D still waits.
	if res := post(b.ReferralID, "transfer", url.Values{"postcode": {"EH1 1YZ"}}); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("transfer out of every area = %d, want 422", res.Status)
	}
	if s := readReferral(t, b.ReferralID); s.Area != area || s.SpecialistID != "moves-a" {
		t.Fatalf("the refused transfer changed B: %s with %s", s.Area, s.SpecialistID)
	}
	res = post(b.ReferralID, "transfer", url.Values{"postcode": {"ZE5 1AA"}})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "E2E Moved To") {
		t.Fatalf("transfer = %d: %.500s", res.Status, res.Body)
	}
	sb := readReferral(t, b.ReferralID)
	if sb.Area != "e2e-moved-to" || sb.Status != "assigned" || sb.SpecialistID != "moves-c" {
		t.Errorf("B after transfer: %s in %s with %s; want assigned to moves-c", sb.Status, sb.Area, sb.SpecialistID)
	}
	if !slices.Contains(sb.eventTypes(), "transferred/signed-link/from=e2e-moves;to=e2e-moved-to;specialist=moves-a") {
		t.Errorf("B has no transferred event naming both areas and moves-a: %q", sb.eventTypes())
	}
	contactBy, _ := expectedDeadlines(t)
	if !slices.Contains(contactBy, sb.ContactBy) {
		t.Errorf("B's contactBy %s, want %v (from the day of transfer)", sb.ContactBy, contactBy)
	}
	if s := readReferral(t, c.ReferralID); s.Status != "assigned" || s.SpecialistID != "moves-a" {
		t.Errorf("C after the transfer: %s with %q, want assigned to moves-a", s.Status, s.SpecialistID)
	}
	if s := readReferral(t, d.ReferralID); s.Status != "waitlisted" {
		t.Errorf("D after the transfer: %s, want still waitlisted", s.Status)
	}
	if na, nb, nc := caseload(t, area, "moves-a"), caseload(t, area, "moves-b"), caseload(t, "e2e-moved-to", "moves-c"); na != 1 || nb != 1 || nc != 1 {
		t.Errorf("caseloads after transfer: moves-a %d, moves-b %d, moves-c %d; want 1 each", na, nb, nc)
	}
	// Moves C is told once.
	toC := 0
	for _, e := range waitForEmails(t, b.ReferralID, 4, 30*time.Second) {
		if emailKindOf(e.Subject) == kindAssignment && slices.Equal(e.Destination.To, []string{"moves-c@example.org"}) {
			toC++
		}
	}
	if toC != 1 {
		t.Errorf("B: %d assignment emails to moves-c, want 1", toC)
	}
}

// setCapacity sets a specialist's capacity in the stack's directory table.
func setCapacity(t *testing.T, area, specialist string, n int) {
	t.Helper()
	_, err := stack.DynamoDB().UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(stack.TableName("DirectoryTable")),
		Key: map[string]ddb.AttributeValue{
			"pk": &ddb.AttributeValueMemberS{Value: "AREA#" + area},
			"sk": &ddb.AttributeValueMemberS{Value: "SPECIALIST#" + specialist},
		},
		UpdateExpression:          aws.String("SET #c = :n"),
		ExpressionAttributeNames:  map[string]string{"#c": "capacity"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":n": &ddb.AttributeValueMemberN{Value: strconv.Itoa(n)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLeadMovesBrowser reassigns and then transfers a referral from the worklist in Chromium, by
// keyboard: each confirmation page has no axe violation and says what happened.
func TestLeadMovesBrowser(t *testing.T) {
	requireStack(t)
	if _, err := os.Stat(browserChromium); err != nil {
		t.Skipf("no Chromium at %s: run make test, which installs it (make browser-deps)", browserChromium)
	}
	t.Parallel()
	r := submitReferral(t, newPatient(t), "ZE3 4AA")
	before := readReferral(t, r.ReferralID).SpecialistID
	tb := startBrowser(t).tab(t, true)
	own := leadLink(t, "e2e-general", "lead.e2e-general@example.org", time.Now())
	worklistPath := "/areas/e2e-general/worklist?token=" + own

	tb.mustStatus(tb.navigate(worklistPath), http.StatusOK)
	to := browserEval[string](tb, `document.querySelector("#reassign-`+r.ReferralID+`").value`)
	tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS(`form:has(#reassign-`+r.ReferralID+`) button`)), browserKeys(kb.Enter)), http.StatusOK)
	if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(strings.ToLower(h1), "reassigned") {
		t.Errorf("reassign confirmation heading = %q", h1)
	}
	tb.checkAxe("lead reassign confirmation")
	if s := readReferral(t, r.ReferralID); s.SpecialistID != to || to == before {
		t.Errorf("after the reassign: specialist %s (was %s, chose %s)", s.SpecialistID, before, to)
	}

	tb.mustStatus(tb.navigate(worklistPath), http.StatusOK)
	tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS("#transfer-"+r.ReferralID)), browserKeys("M1 1AA"+kb.Enter)), http.StatusOK)
	if body := browserEval[string](tb, `document.querySelector("main").innerText`); !strings.Contains(body, "Greater Manchester") {
		t.Errorf("transfer confirmation does not name the new area:\n%s", body)
	}
	tb.checkAxe("lead transfer confirmation")
	if s := readReferral(t, r.ReferralID); s.Area != "greater-manchester" {
		t.Errorf("after the transfer: area %s", s.Area)
	}
}
