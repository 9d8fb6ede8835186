package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// The referrer kept in the loop (SPEC §10, §11): the acknowledgement's link, started-support,
// closed and withdrawn, each once, with no more of the patient than §7 allows.

var referrerLink = regexp.MustCompile(`https?://[^\s"<>]+/referrals/(R-[0-9A-Z]{8})/status\?token=([A-Za-z0-9_-]+)`)

// referrerLinkOf returns the referral id and token of the referrer link in an acknowledgement,
// the same in the text and HTML bodies.
func referrerLinkOf(t *testing.T, e sentEmail) (id, token string) {
	t.Helper()
	links := referrerLink.FindAllStringSubmatch(e.Body.Text, -1)
	if len(links) != 1 {
		t.Fatalf("%q: %d referrer links in the text body, want 1:\n%s", e.Subject, len(links), e.Body.Text)
	}
	if !strings.Contains(e.Body.HTML, `href="`+links[0][0]+`"`) {
		t.Errorf("%q: the HTML body does not link to %s", e.Subject, links[0][0])
	}
	return links[0][1], links[0][2]
}

// withdraw posts the status page's withdraw form, as the browser does.
func withdraw(t *testing.T, id, token, reason string) response {
	t.Helper()
	form := url.Values{"token": {token}}
	if reason != "" {
		form.Set("reason", reason)
	}
	return do(t, http.MethodPost, "/referrals/"+id+"/withdraw", "application/x-www-form-urlencoded", form.Encode(), nil)
}

// byKind returns the emails of kind.
func byKind(es []sentEmail, kind string) []sentEmail {
	var out []sentEmail
	for _, e := range es {
		if emailKindOf(e.Subject) == kind {
			out = append(out, e)
		}
	}
	return out
}

// wantOne checks there is exactly one email of kind, to to alone, and returns it.
func wantOne(t *testing.T, id string, es []sentEmail, kind, to string) sentEmail {
	t.Helper()
	got := byKind(es, kind)
	if len(got) != 1 {
		t.Fatalf("%s: %d %s emails, want exactly 1 (subjects %q)", id, len(got), kind, subjects(es))
	}
	if !slices.Equal(got[0].Destination.To, []string{to}) || len(got[0].Destination.Cc) != 0 {
		t.Errorf("%s: %s email to %q cc %q, want to %s only", id, kind, got[0].Destination.To, got[0].Destination.Cc, to)
	}
	return got[0]
}

func TestReferrerIsKeptInTheLoop(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	r := submitReferral(t, p, "ZE3 6AB")
	specialist := readReferral(t, r.ReferralID).SpecialistID
	got := waitForEmails(t, r.ReferralID, 2, 30*time.Second)
	emails := wantEmails(t, r.ReferralID, got, map[string]string{kindAcknowledgement: p.ReferrerEmail, kindAssignment: specialist + "@example.org"})
	ack := emails[kindAcknowledgement]
	if !strings.Contains(ack.Body.Text, "If you did not make this referral, use the link to withdraw it.") ||
		!strings.Contains(ack.Body.HTML, "If you did not make this referral, use the link to withdraw it.") {
		t.Errorf("the acknowledgement does not say how to withdraw a referral not made:\n%s", ack.Body.Text)
	}

	// The acknowledgement's link is the referrer's: bound to this referral and the referrer's
	// address, in lower case, and no other role's.
	id, token := referrerLinkOf(t, ack)
	if id != r.ReferralID {
		t.Fatalf("referrer link for %s, want %s", id, r.ReferralID)
	}
	signer := linkSigner(t)
	if _, exp, err := signer.Check(signedlink.RoleReferrer, id, strings.ToLower(p.ReferrerEmail), token, time.Now()); err != nil {
		t.Errorf("referrer token does not verify: %v", err)
	} else if days := time.Until(exp).Hours() / 24; days < 89 || days > 90 {
		t.Errorf("referrer link lasts %.1f days, want 90", days)
	}
	if _, _, err := signer.Check(signedlink.RoleReferrer, id, "someone.else@nhs.net", token, time.Now()); err == nil {
		t.Error("the referrer token verifies for another address")
	}
	if _, _, err := signer.Verify(id, token, time.Now()); err == nil {
		t.Error("the referrer token works as a specialist's")
	}
	if page := do(t, http.MethodGet, "/referrals/"+id+"/status?token="+token, "", "", nil); page.Status != 200 ||
		!strings.Contains(page.Body, "Assigned to an employment specialist") || !strings.Contains(page.Body, r.ReferralID) {
		t.Errorf("the referrer's link answers %d, want 200 and the status assigned: %.800s", page.Status, page.Body)
	}

	// Contact and meeting: exactly one started-support to the referrer.
	_, specialistToken := linkParts(t, signedLinkOf(t, emails[kindAssignment]))
	for _, action := range []string{"contact", "meeting"} {
		if res := postAction(t, r.ReferralID, action, specialistToken, ""); res.Status != 200 {
			t.Fatalf("%s = %d", action, res.Status)
		}
	}
	got = waitForEmails(t, r.ReferralID, 3, 30*time.Second)
	started := wantOne(t, r.ReferralID, got, kindStartedSupport, p.ReferrerEmail)
	if !strings.Contains(started.Body.Text, "first meeting") {
		t.Errorf("started-support does not say the support started:\n%s", started.Body.Text)
	}

	// Close as unreachable: exactly one closed email, saying a new referral is welcome.
	if res := postAction(t, r.ReferralID, "close", specialistToken, "unreachable"); res.Status != 200 {
		t.Fatalf("close = %d", res.Status)
	}
	got = waitForEmails(t, r.ReferralID, 4, 30*time.Second)
	closed := wantOne(t, r.ReferralID, got, kindClosed, p.ReferrerEmail)
	for _, body := range []string{closed.Body.Text, closed.Body.HTML} {
		if !strings.Contains(body, "could not reach them") || !strings.Contains(body, "a new referral is welcome") {
			t.Errorf("closed email does not give the reason in plain words and welcome a new referral:\n%s", body)
		}
	}
	wantOne(t, r.ReferralID, got, kindStartedSupport, p.ReferrerEmail)
	if len(got) != 4 {
		t.Errorf("%s: %d emails %q, want 4", r.ReferralID, len(got), subjects(got))
	}
	assertNoPatientData(t, p, got)
	for _, e := range append(byKind(got, kindStartedSupport), byKind(got, kindClosed)...) {
		if strings.Contains(e.Body.Text, "token=") || strings.Contains(e.Body.HTML, "token=") {
			t.Errorf("%q carries a link: referrer updates need none", e.Subject)
		}
	}
	// A retried stream record sends none of them again.
	replayTwiceSendsNothing(t, r.ReferralID, got)
}

func TestWithdrawnEmails(t *testing.T) {
	requireStack(t)
	t.Parallel()
	tests := []struct {
		reason  string
		initial bool // the emails name the patient by the given name's initial alone
		because string
	}{
		{"revoked", false, "circumstances changed"},
		{"entered-in-error", true, "it was sent in error"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			t.Parallel()
			p := newPatient(t)
			r := submitReferral(t, p, "ZE3 6AB")
			specialist := readReferral(t, r.ReferralID).SpecialistID
			acked := waitForEmails(t, r.ReferralID, 2, 30*time.Second)
			id, token := referrerLinkOf(t, wantOne(t, r.ReferralID, acked, kindAcknowledgement, p.ReferrerEmail))
			if res := withdraw(t, id, token, tt.reason); res.Status != 200 || !strings.Contains(res.Body, "Referral withdrawn") {
				t.Fatalf("withdraw %s = %d: %.500s", tt.reason, res.Status, res.Body)
			}
			got := waitForEmails(t, r.ReferralID, 4, 30*time.Second)
			all := byKind(got, kindWithdrawn)
			if len(all) != 2 {
				t.Fatalf("%d withdrawn emails %q, want one to the specialist and one to the referrer", len(all), subjects(got))
			}
			var toReferrer, toSpecialist sentEmail
			for _, e := range all {
				if slices.Equal(e.Destination.To, []string{p.ReferrerEmail}) {
					toReferrer = e
				} else {
					toSpecialist = e
				}
			}
			if !slices.Equal(toSpecialist.Destination.To, []string{specialist + "@example.org"}) || toReferrer.Subject == "" {
				t.Fatalf("withdrawn emails to %q and %q, want the specialist and the referrer", toSpecialist.Destination.To, toReferrer.Destination.To)
			}
			name := p.GivenName + " " + strings.ToUpper(p.FamilyName[:1]) + "."
			if tt.initial { // all that entered-in-error leaves of the name
				name = strings.ToUpper(p.GivenName[:1]) + "."
			}
			if !strings.HasPrefix(toSpecialist.Subject, "Do not contact") || !strings.Contains(toSpecialist.Body.Text, "Do not contact "+name+" about it.") {
				t.Errorf("the specialist's email does not say do not contact %s: %q\n%s", name, toSpecialist.Subject, toSpecialist.Body.Text)
			}
			if !strings.Contains(toReferrer.Body.Text, "You have withdrawn this referral because "+tt.because) {
				t.Errorf("the referrer's confirmation does not say why:\n%s", toReferrer.Body.Text)
			}
			for _, e := range all {
				if strings.Contains(e.Body.Text, "token=") || strings.Contains(e.Body.Text, " by phone") || strings.Contains(e.Body.Text, " by email") {
					t.Errorf("%q carries a link or a contact method:\n%s", e.Subject, e.Body.Text)
				}
			}
			assertNoPatientData(t, p, got)
			replayTwiceSendsNothing(t, r.ReferralID, got)
		})
	}
}

// TestWithdrawFreesThePlace: a referrer withdraws (revoked) a referral while it is assigned; the
// specialist's unit is released and the area's oldest waitlisted referral takes it (and is
// emailed); the specialist is told once not to contact the patient, and their page no longer shows
// how to. A repeat is already recorded.
func TestWithdrawFreesThePlace(t *testing.T) {
	requireStack(t)
	t.Parallel()
	const lead, specialist, area = "lead.e2e-withdraw@example.org", "withdraw-one", "e2e-withdraw"
	pa, pb := newPatient(t), newPatient(t)
	a := submitReferral(t, pa, "ZE7 1AA")
	b := submitReferral(t, pb, "ZE7 1AB")
	if a.Status != "assigned" || b.Status != "waitlisted" {
		t.Fatalf("statuses %s, %s; want assigned, then waitlisted", a.Status, b.Status)
	}
	aMail := wantEmails(t, a.ReferralID, waitForEmails(t, a.ReferralID, 2, 30*time.Second), map[string]string{
		kindAcknowledgement: pa.ReferrerEmail, kindAssignment: specialist + "@example.org",
	})
	wantEmails(t, b.ReferralID, waitForEmails(t, b.ReferralID, 2, 30*time.Second), map[string]string{
		kindAcknowledgement: pb.ReferrerEmail, kindWaitlisted: lead,
	})
	if n := caseload(t, area, specialist); n != 1 {
		t.Fatalf("caseload before = %d, want 1", n)
	}

	id, token := referrerLinkOf(t, aMail[kindAcknowledgement])
	res := withdraw(t, id, token, "revoked")
	if res.Status != 200 || !strings.Contains(res.Body, "Referral withdrawn") {
		t.Fatalf("withdraw = %d: %.500s", res.Status, res.Body)
	}
	if s := readReferral(t, a.ReferralID); s.Status != "withdrawn" || s.SpecialistID != specialist {
		t.Errorf("A after the withdraw: %s with %q, want withdrawn, still naming %s", s.Status, s.SpecialistID, specialist)
	}
	// A's unit was released (-1) and B took it: at capacity 1 B could not be assigned otherwise.
	if sb := readReferral(t, b.ReferralID); sb.Status != "assigned" || sb.SpecialistID != specialist || sb.WaitArea != "" {
		t.Errorf("B after the withdraw: %s with %q (waitArea %q), want assigned to %s", sb.Status, sb.SpecialistID, sb.WaitArea, specialist)
	}
	if n := caseload(t, area, specialist); n != 1 {
		t.Errorf("caseload after = %d, want 1: A's unit released, B's taken", n)
	}
	wantEmails(t, b.ReferralID, waitForEmails(t, b.ReferralID, 3, 30*time.Second), map[string]string{
		kindAcknowledgement: pb.ReferrerEmail, kindWaitlisted: lead, kindAssignment: specialist + "@example.org",
	})

	// A: acknowledgement, assignment, and the two withdrawn emails (specialist, referrer).
	got := waitForEmails(t, a.ReferralID, 4, 30*time.Second)
	toSpecialist := 0
	for _, e := range byKind(got, kindWithdrawn) {
		if slices.Equal(e.Destination.To, []string{specialist + "@example.org"}) {
			toSpecialist++
		}
	}
	if toSpecialist != 1 {
		t.Errorf("%d withdrawn emails to the specialist, want exactly 1 (subjects %q)", toSpecialist, subjects(got))
	}
	assertNoPatientData(t, pa, got)

	// The specialist's page: history and outcome, no contact details.
	page := do(t, http.MethodGet, signedLinkOf(t, aMail[kindAssignment]), "", "", nil)
	if page.Status != 200 || !strings.Contains(page.Body, "The referrer withdrew this referral") {
		t.Fatalf("specialist page after the withdraw = %d: %.500s", page.Status, page.Body)
	}
	for _, s := range []string{pa.NHS[:3] + " " + pa.NHS[3:6] + " " + pa.NHS[6:], pa.Phone, pa.Email, pa.Notes, pa.FamilyName} {
		if strings.Contains(page.Body, s) {
			t.Errorf("the specialist's page of a withdrawn referral shows %q", s)
		}
	}

	again := withdraw(t, id, token, "entered-in-error")
	if again.Status != 200 || !strings.Contains(again.Body, "already") {
		t.Errorf("repeated withdraw = %d: %.300s", again.Status, again.Body)
	}
	if s := readReferral(t, a.ReferralID); len(byType(s, "withdrawn")) != 1 {
		t.Errorf("A has %d withdrawn events, want 1", len(byType(s, "withdrawn")))
	}
}

// TestWithdrawAfterTheMeeting: once support has started the referrer is told to contact the
// employment specialist (409), and nothing changes.
func TestWithdrawAfterTheMeeting(t *testing.T) {
	requireStack(t)
	t.Parallel()
	p := newPatient(t)
	r := submitReferral(t, p, "ZE3 6AD")
	specialist := readReferral(t, r.ReferralID).SpecialistID
	emails := wantEmails(t, r.ReferralID, waitForEmails(t, r.ReferralID, 2, 30*time.Second), map[string]string{
		kindAcknowledgement: p.ReferrerEmail, kindAssignment: specialist + "@example.org",
	})
	_, specialistToken := linkParts(t, signedLinkOf(t, emails[kindAssignment]))
	if res := postAction(t, r.ReferralID, "meeting", specialistToken, ""); res.Status != 200 {
		t.Fatalf("meeting = %d", res.Status)
	}
	id, token := referrerLinkOf(t, emails[kindAcknowledgement])
	res := withdraw(t, id, token, "revoked")
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, "contact the employment specialist") ||
		!strings.Contains(res.Body, "support has started") {
		t.Errorf("withdraw after the meeting = %d, want 409 saying the status and whom to contact: %.800s", res.Status, res.Body)
	}
	if s := readReferral(t, r.ReferralID); s.Status != "engaged" || len(byType(s, "withdrawn")) != 0 {
		t.Errorf("after a refused withdraw: %s, %d withdrawn events", s.Status, len(byType(s, "withdrawn")))
	}
	// A specialist's token on the referrer's routes, and the referrer's on the specialist's: 403.
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/referrals/" + id + "/status?token=" + specialistToken, ""},
		{http.MethodPost, "/referrals/" + id + "/withdraw", url.Values{"token": {specialistToken}, "reason": {"revoked"}}.Encode()},
		{http.MethodGet, "/referrals/" + id + "?token=" + token, ""},
		{http.MethodPost, "/referrals/" + id + "/close", url.Values{"token": {token}, "reason": {"declined"}}.Encode()},
	} {
		ct := ""
		if c.body != "" {
			ct = "application/x-www-form-urlencoded"
		}
		if res := do(t, c.method, c.path, ct, c.body, nil); res.Status != http.StatusForbidden {
			t.Errorf("%s %s with the other role's token = %d, want 403", c.method, strings.SplitN(c.path, "?", 2)[0], res.Status)
		}
	}
}

// byType returns the referral's audit events of type typ.
func byType(s storedReferral, typ string) []string {
	var out []string
	for _, e := range s.Events {
		if e.Type == typ {
			out = append(out, e.Detail)
		}
	}
	return out
}
