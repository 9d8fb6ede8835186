package e2e

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

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
