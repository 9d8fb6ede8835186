package e2e

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// TestReferrerPagesBrowser opens the referrer's status page, the withdraw confirmation, the 409
// page of a withdraw that came too late, and the specialist's attempt-recorded page in Chromium,
// with and without JavaScript: axe (with JavaScript, as it is a script) finds no WCAG 2.2 AA
// violation on any, and the keyboard alone withdraws a referral either way.
func TestReferrerPagesBrowser(t *testing.T) {
	requireStack(t)
	if _, err := os.Stat(browserChromium); err != nil {
		t.Skipf("no Chromium at %s: run make test, which installs it (make browser-deps)", browserChromium)
	}
	t.Parallel()
	b := startBrowser(t)
	for _, js := range []bool{true, false} {
		t.Run(map[bool]string{true: "JS", false: "NoJS"}[js], func(t *testing.T) {
			t.Parallel()
			tb := b.tab(t, js)
			// axe runs as a script in the page, so only where scripts run; the HTML is the same
			// without them, and the NoJS run proves the pages work by keyboard alone.
			checkAxe := func(page string) {
				if js {
					tb.checkAxe(page)
				}
			}
			signer := linkSigner(t)
			referrerLink := func(p patient, id string) string {
				return "/referrals/" + id + "/status?token=" + signer.Issue(signedlink.Claim{
					Role: signedlink.RoleReferrer, Subject: id, Binding: strings.ToLower(p.ReferrerEmail)}, time.Now().Add(time.Hour))
			}

			// The status page, then a withdraw by keyboard alone.
			pa := newPatient(t)
			a := submitReferral(t, pa, "ZE3 1AA")
			tb.mustStatus(tb.navigate(referrerLink(pa, a.ReferralID)), http.StatusOK)
			tb.checkScripts()
			if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(h1, "Assigned to an employment specialist") {
				t.Errorf("status page heading = %q", h1)
			}
			checkAxe("referrer status page")
			tb.screenshot("referrer-status")
			tb.press(kb.Tab)
			tb.wantFocus("a.nhsuk-skip-link")
			tb.press(kb.Enter)
			tb.waitFor(`location.hash === "#maincontent"`, "the skip link to go to the main content")
			tb.press(kb.Tab)
			tb.wantFocus("reason") // the first reason: nothing else in the page's main part is a tab stop before it
			tb.press(" ")
			tb.press(kb.Tab)
			if got := browserEval[string](tb, `document.activeElement.tagName + " " + document.activeElement.innerText`); got != "BUTTON Withdraw referral" {
				t.Fatalf("after the reasons, focus is on %q, want the Withdraw referral button", got)
			}
			tb.mustStatus(tb.submit(browserKeys(kb.Enter)), http.StatusOK)
			if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(h1, "Referral withdrawn") {
				t.Errorf("withdraw confirmation heading = %q", h1)
			}
			checkAxe("withdraw confirmation")
			tb.screenshot("referrer-withdrawn")
			if s := readReferral(t, a.ReferralID); s.Status != "withdrawn" || len(byType(s, "withdrawn")) != 1 || byType(s, "withdrawn")[0] != "revoked" {
				t.Errorf("after the keyboard withdraw: %s, withdrawn events %q", s.Status, byType(s, "withdrawn"))
			}

			// The page opened before the first meeting, sent after it: 409, saying why.
			pb := newPatient(t)
			bRec := submitReferral(t, pb, "ZE3 1AB")
			tb.mustStatus(tb.navigate(referrerLink(pb, bRec.ReferralID)), http.StatusOK)
			specialist := signer.Sign(bRec.ReferralID, browserSpecialistOf(t, bRec.ReferralID), time.Now().Add(time.Hour))
			if res := postAction(t, bRec.ReferralID, "meeting", specialist, ""); res.Status != http.StatusOK {
				t.Fatalf("meeting = %d", res.Status)
			}
			tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS(`#reason`)), browserKeys(" "),
				chromedp.Focus(chromedp.CSS(`form[action$="/withdraw"] button`)), browserKeys(kb.Enter)), http.StatusConflict)
			if text := browserEval[string](tb, `document.querySelector(".nhsuk-error-summary").innerText`); !strings.Contains(text, "contact the employment specialist") {
				t.Errorf("409 page's error summary = %q", text)
			}
			checkAxe("withdraw refused (409)")
			tb.screenshot("referrer-withdraw-409")

			// The specialist's attempt-recorded page.
			pc := newPatient(t)
			c := submitReferral(t, pc, "ZE3 1AD")
			tb.mustStatus(tb.navigate("/referrals/"+c.ReferralID+"?token="+signer.Sign(c.ReferralID, browserSpecialistOf(t, c.ReferralID), time.Now().Add(time.Hour))), http.StatusOK)
			tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS(`#method`)), browserKeys(" "),
				chromedp.Focus(chromedp.CSS(`form[action$="/attempt"] button`)), browserKeys(kb.Enter)), http.StatusOK)
			if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(h1, "Contact attempt recorded") {
				t.Errorf("attempt page heading = %q", h1)
			}
			checkAxe("attempt recorded")
			tb.screenshot("specialist-attempt-recorded")
		})
	}
}
