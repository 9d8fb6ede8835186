package e2e

// Browser tests: the referral form and the specialist pages in Debian's Chromium, driven over the
// DevTools protocol with chromedp (SPEC §4 "GET /": WCAG 2.2 AA, works without JavaScript, an
// error summary that links to each field). One headless browser serves every test, a tab each.
// Screenshots of every page go to artifacts/screenshots/.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/web"
)

// browserChromium is Debian's Chromium, which `make test` installs (make browser-deps).
const browserChromium = "/usr/bin/chromium"

// browserTabTimeout bounds everything one test does in its tab.
const browserTabTimeout = 45 * time.Second

var browserReference = regexp.MustCompile(`R-[2-9A-HJKMNP-Z]{8}`)

// TestBrowser starts one browser for its subtests, which run in parallel, each in a tab of its
// own, and stops the browser when they are done.
func TestBrowser(t *testing.T) {
	requireStack(t)
	if _, err := os.Stat(browserChromium); err != nil {
		t.Skipf("no Chromium at %s: run make test, which installs it (make browser-deps)", browserChromium)
	}
	t.Parallel()
	b := startBrowser(t)

	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "", false: "NoJS"}[js]
		t.Run("KeyboardOnly"+name, func(t *testing.T) {
			t.Parallel()
			b.tab(t, js).keyboardOnly()
		})
		t.Run("ErrorSummary"+name, func(t *testing.T) {
			t.Parallel()
			b.tab(t, js).errorSummary()
		})
	}
	t.Run("Accessibility", func(t *testing.T) {
		t.Parallel()
		b.tab(t, true).accessibility()
	})
}

// browserSession is a running Chromium and what the tests need beside it.
type browserSession struct {
	ctx   context.Context // the browser's chromedp context: each tab's is a child of it
	axe   string          // axe-core's axe.min.js
	shots string          // where screenshots go
}

// startBrowser starts headless Chromium for t and its subtests. When t ends, the browser stops,
// and chromedp kills any process left and removes its temporary --user-data-dir.
func startBrowser(t *testing.T) *browserSession {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	axe, err := os.ReadFile(filepath.Join(root, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core: %v (make test installs it with npm ci)", err)
	}
	shots := filepath.Join(root, "artifacts", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// With no UserDataDir option, chromedp makes a temporary --user-data-dir and removes it.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browserChromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully, so it ends its own child processes rather than leave
		// them to init; then wait until the process and its directory are gone.
		closing, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(closing); err != nil {
			t.Logf("close the browser: %v", err)
		}
		cancelBrowser()
		cancelAlloc()
	})
	// The first run starts the browser. It has no deadline: the browser would end with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", browserChromium, err)
	}
	return &browserSession{ctx: ctx, axe: string(axe), shots: shots}
}

// browserTab is one test's tab.
type browserTab struct {
	t      *testing.T
	ctx    context.Context
	js     bool
	suffix string // of screenshot names: "" with JavaScript, "-nojs" without
	s      *browserSession
}

// tab opens a tab for t, with JavaScript on or off. With JavaScript on, any error the pages log
// to the console (a script that fails to load, a CSP violation) fails t.
func (s *browserSession) tab(t *testing.T, js bool) *browserTab {
	t.Helper()
	tabCtx, closeTab := chromedp.NewContext(s.ctx)
	t.Cleanup(closeTab)
	ctx, cancel := context.WithTimeout(tabCtx, browserTabTimeout)
	t.Cleanup(cancel)
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		// Tabs run side by side: each must behave as the focused page, or focus does not move.
		if _, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !js})
		return err
	}))
	if err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if js {
		var mu sync.Mutex
		var problems []string
		messages := chromedp.Console(ctx)
		go func() {
			for m, err := range messages {
				if err != nil {
					return
				}
				if browserConsoleProblem(m) {
					mu.Lock()
					problems = append(problems, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
					mu.Unlock()
				}
			}
		}()
		t.Cleanup(func() { // before the tab closes
			mu.Lock()
			defer mu.Unlock()
			for _, p := range problems {
				t.Errorf("console %s", p)
			}
		})
	}
	return &browserTab{t: t, ctx: ctx, js: js, suffix: map[bool]string{true: "", false: "-nojs"}[js], s: s}
}

// keyboardOnly is the journey of a GP who uses only the keyboard: Tab from field to field, type,
// Space for checkboxes and radios, an arrow key within a radio group, Enter to send.
func (tb *browserTab) keyboardOnly() {
	t := tb.t
	p := newPatient(t)
	nhs := p.NHS[:3] + " " + p.NHS[3:6] + " " + p.NHS[6:]
	referrer := "Dr Keyboard " + p.FamilyName

	tb.mustStatus(tb.navigate("/"), http.StatusOK)
	tb.checkScripts()

	// The skip link is the first stop, and following it passes the header.
	tb.press(kb.Tab)
	tb.wantFocus("a.nhsuk-skip-link")
	tb.press(kb.Enter)
	tb.waitFor(`location.hash === "#maincontent"`, "the skip link to go to the main content")

	steps := []struct {
		focus string // the element Tab must reach: its id, or tag.class
		keys  string // then typed into it
	}{
		{"patient-givenName", p.GivenName},
		{"patient-familyName", p.FamilyName},
		{"patient-dateOfBirth", p.DOB},
		{"patient-nhsNumber", nhs},
		{"patient-postcode", "ze3 1aa"},
		{"patient-phone", p.Phone},
		{"patient-email", p.Email},
		{"patient-preferredContact", " "}, // Space selects the focused radio, "Phone"
		{"referrer-name", referrer},
		{"referrer-practiceCode", "C88038"},
		{"referrer-email", p.ReferrerEmail},
		{"referrer-phone", "0114 496 0000"},
		{"employmentStatus", kb.ArrowDown}, // moves to and selects "Employed but off sick"
		{"healthConditions", " "},
		{"healthConditions-2", ""},
		{"healthConditions-3", " "},
		{"healthConditions-4", ""},
		{"healthConditions-5", ""},
		{"consent", " "},
		{"notes", p.Notes},
		{"button.nhsuk-button", ""}, // the honeypot field is no tab stop
	}
	var order []string
	for _, s := range steps {
		tb.press(kb.Tab)
		got := tb.focused()
		order = append(order, got)
		if got != s.focus {
			t.Fatalf("Tab reached %q, want %q; the order so far: %q", got, s.focus, order)
		}
		if s.keys != "" {
			tb.press(s.keys)
		}
	}

	// The keys did what was meant: the form holds exactly the answers given, and a token.
	if token := browserEval[string](tb, `document.querySelector('input[name="idempotencyToken"]').value`); token == "" {
		t.Error("the form has no idempotency token")
	}
	got := browserEval[[][]string](tb, `[...new FormData(document.querySelector('form[action="/referrals"]'))].filter(([k]) => k !== "idempotencyToken")`)
	want := [][]string{
		{"patient.givenName", p.GivenName}, {"patient.familyName", p.FamilyName}, {"patient.dateOfBirth", p.DOB},
		{"patient.nhsNumber", nhs}, {"patient.postcode", "ze3 1aa"}, {"patient.phone", p.Phone}, {"patient.email", p.Email},
		{"patient.preferredContact", "phone"}, {"referrer.name", referrer}, {"referrer.practiceCode", "C88038"},
		{"referrer.email", p.ReferrerEmail}, {"referrer.phone", "0114 496 0000"}, {"employmentStatus", "employed-off-sick"},
		{"healthConditions", "mental-health"}, {"healthConditions", "neurological"}, {"consent", "yes"},
		{"notes", p.Notes}, {"website", ""},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("form data after typing:\n got %q\nwant %q", got, want)
	}
	tb.screenshot("form-filled-by-keyboard")

	tb.mustStatus(tb.submit(browserKeys(kb.Enter)), http.StatusCreated) // Enter on the focused button
	text := browserEval[string](tb, `document.body.innerText`)
	if !browserReference.MatchString(text) || !strings.Contains(text, "Referral sent") || !strings.Contains(text, "E2E General") {
		t.Errorf("the confirmation page lacks a reference, its heading or the area:\n%s", text)
	}
	tb.screenshot("confirmation")
}

// browserRequiredFields are the fields an empty form is missing, in page order: the error summary
// lists each and links to it (SPEC §4).
var browserRequiredFields = []string{
	"patient-givenName", "patient-familyName", "patient-dateOfBirth", "patient-nhsNumber", "patient-postcode",
	"patient-phone", "referrer-name", "referrer-practiceCode", "referrer-email", "employmentStatus", "consent",
}

// errorSummary sends the form empty: it comes back with an error summary that has focus, an
// error for every required field, and links that take focus to each field.
func (tb *browserTab) errorSummary() {
	t := tb.t
	tb.mustStatus(tb.navigate("/"), http.StatusOK)
	tb.mustStatus(tb.submitForm(), http.StatusBadRequest)
	tb.checkScripts()
	if title := browserEval[string](tb, `document.title`); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title = %q, want it to start with Error:", title)
	}
	tb.waitFor(`!!document.activeElement?.closest(".nhsuk-error-summary")`, "the error summary to have focus")
	if !browserEval[bool](tb, `!!document.querySelector(".nhsuk-error-summary [role=alert] h2")`) {
		t.Error("the error summary's heading is not in a role=alert region")
	}

	hrefs := browserEval[[]string](tb, `[...document.querySelectorAll(".nhsuk-error-summary__list a")].map(a => a.getAttribute("href"))`)
	var wantHrefs []string
	for _, id := range browserRequiredFields {
		wantHrefs = append(wantHrefs, "#"+id)
	}
	if !slices.Equal(hrefs, wantHrefs) {
		t.Fatalf("error summary links:\n got %q\nwant %q", hrefs, wantHrefs)
	}
	tb.screenshot("form-errors")

	for i, href := range hrefs {
		id := href[1:]
		// The field shows its own message, and its input (or its group's fieldset) refers to it.
		described := browserEval[bool](tb, fmt.Sprintf(`(() => {
			const el = document.getElementById(%[1]q), msg = document.getElementById(%[1]q + "-error");
			const owner = el?.type === "radio" || el?.type === "checkbox" ? el.closest("fieldset") : el;
			return !!msg && msg.innerText.trim() !== "" && (owner?.getAttribute("aria-describedby") ?? "").split(" ").includes(msg.id);
		})()`, id))
		if !described {
			t.Errorf("%s has no error message that describes its field", id)
		}
		// From the focused summary, Tab reaches the first link; the others are focused directly.
		if i == 0 {
			tb.press(kb.Tab)
		} else if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS(fmt.Sprintf(`.nhsuk-error-summary__list a[href=%q]`, href)))); err != nil {
			t.Fatalf("focus the link to %s: %v", href, err)
		}
		if got := browserEval[string](tb, `document.activeElement.getAttribute("href") ?? ""`); got != href {
			t.Fatalf("focus is on %q, want the summary's link to %s", tb.focused(), href)
		}
		tb.press(kb.Enter)
		tb.waitFor(fmt.Sprintf(`document.activeElement.id === %q`, id), "Enter on the link to "+href+" to focus its field")
	}
}

// accessibility runs axe-core for WCAG 2.2 AA on every page: the form empty and with errors, the
// confirmation, and the specialist's referral page and action page behind a signed link.
func (tb *browserTab) accessibility() {
	t := tb.t
	res := tb.navigate("/")
	tb.mustStatus(res, http.StatusOK)
	// The page's CSP is in force (an inline script does not run), yet axe, injected through the
	// DevTools protocol, runs: Runtime.evaluate is not subject to the page's CSP.
	if csp, _ := res.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET / Content-Security-Policy = %q", csp)
	}
	inline := browserEval[string](tb, fmt.Sprintf(`(() => {
		const s = document.createElement("script");
		s.textContent = %q;
		document.head.append(s);
		return typeof window.inlineRan;
	})()`, browserInlineProbe))
	if inline != "undefined" {
		t.Error("an inline script ran on a page whose CSP forbids it")
	}
	tb.checkAxe("empty form")
	tb.screenshot("form-empty")

	tb.mustStatus(tb.submitForm(), http.StatusBadRequest)
	tb.checkAxe("form with errors")

	// Fill the form in one go (keyboardOnly types it) and send it.
	values := newPatient(t).form("ZE3 1AA", "")
	values.Del(web.TokenField)
	values.Del(web.HoneypotField)
	fill := fmt.Sprintf(`((values) => {
		for (const el of document.querySelector('form[action="/referrals"]').elements) {
			const v = values[el.name];
			if (!v) continue;
			if (el.type === "checkbox" || el.type === "radio") el.checked = v.includes(el.value);
			else el.value = v[0];
		}
	})(%s)`, mustJSON(t, values))
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](fill)); err != nil {
		t.Fatalf("fill the form: %v", err)
	}
	tb.mustStatus(tb.submitForm(), http.StatusCreated)
	tb.checkAxe("confirmation page")

	// The specialist's page, through a link signed as the assignment email's is.
	var r receipt
	created := postJSON(t, newPatient(t).submission("ZE3 1AA"), nil)
	created.json(t, &r)
	if created.Status != http.StatusCreated || r.Status != "assigned" {
		t.Fatalf("create a referral = %d %s", created.Status, created.Body)
	}
	signer, err := signedlink.NewSigner([]byte(linkSecret))
	if err != nil {
		t.Fatal(err)
	}
	token := signer.Sign(r.ReferralID, browserSpecialistOf(t, r.ReferralID), time.Now().Add(time.Hour))
	tb.mustStatus(tb.navigate("/referrals/"+r.ReferralID+"?token="+token), http.StatusOK)
	if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(h1, r.ReferralID) {
		t.Errorf("the specialist page's heading = %q", h1)
	}
	tb.checkAxe("specialist's referral page")
	tb.screenshot("specialist-referral")

	tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS(`form[action$="/contact"] button`)), browserKeys(kb.Enter)), http.StatusOK)
	if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); h1 != "Contact recorded" {
		t.Errorf("the action page's heading = %q, want Contact recorded", h1)
	}
	tb.checkAxe("specialist's action recorded page")
	tb.screenshot("specialist-action-recorded")
}

// checkAxe runs axe-core on the page against WCAG 2.0, 2.1 and 2.2 A and AA, and fails the test
// with every violation.
func (tb *browserTab) checkAxe(page string) {
	t := tb.t
	t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](tb.s.axe)); err != nil {
		t.Fatalf("%s: inject axe-core: %v", page, err)
	}
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target  []string `json:"target"`
			Summary string   `json:"summary"`
		} `json:"nodes"`
	}
	type result struct {
		Version    string      `json:"version"`
		Passes     int         `json:"passes"`
		Incomplete []string    `json:"incomplete"`
		Violations []violation `json:"violations"`
	}
	res, err := chromedp.Run(tb.ctx, chromedp.Evaluate[result](`axe.run(document, {
			runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
		}).then(r => ({
			version: r.testEngine.version,
			passes: r.passes.length,
			incomplete: r.incomplete.map(i => i.id),
			violations: r.violations.map(v => ({
				id: v.id, impact: v.impact ?? "", help: v.help,
				nodes: v.nodes.map(n => ({target: n.target.map(String), summary: n.failureSummary ?? ""})),
			})),
		}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", page, err)
	}
	t.Logf("axe-core %s, %s: %d rules pass, %d violations, %d to review by hand %q",
		res.Version, page, res.Passes, len(res.Violations), len(res.Incomplete), res.Incomplete)
	for _, v := range res.Violations {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, strings.Join(n.Target, " "))
		}
		summary := ""
		if len(v.Nodes) > 0 {
			summary = v.Nodes[0].Summary
		}
		t.Errorf("%s: axe %s (%s): %s\n\ton %q\n\t%s", page, v.ID, v.Impact, v.Help, targets, summary)
	}
}

// browserSpecialistOf reads the specialist a referral is assigned to.
func browserSpecialistOf(t *testing.T, referralID string) string {
	t.Helper()
	out, err := stack.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(stack.TableName("ReferralsTable")), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{
			"pk": &ddb.AttributeValueMemberS{Value: "REFERRAL#" + referralID}, "sk": &ddb.AttributeValueMemberS{Value: "#REFERRAL"},
		},
	})
	if err != nil {
		t.Fatalf("read referral %s: %v", referralID, err)
	}
	id, ok := out.Item["specialistId"].(*ddb.AttributeValueMemberS)
	if !ok || id.Value == "" {
		t.Fatalf("referral %s has no specialistId", referralID)
	}
	return id.Value
}

// navigate loads path from the local stack and returns the document's response.
func (tb *browserTab) navigate(path string) *network.Response {
	tb.t.Helper()
	res, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(stack.HTTPURL()+path))
	if err != nil {
		tb.t.Fatalf("GET %s: %v", path, err)
	}
	return res
}

// submit runs steps that send a form, and returns the response of the page they load.
func (tb *browserTab) submit(steps ...chromedp.Action[chromedp.Void]) *network.Response {
	tb.t.Helper()
	res, err := chromedp.RunResponse(tb.ctx, steps...)
	if err != nil {
		tb.t.Fatalf("send the form: %v", err)
	}
	return res
}

// submitForm sends the referral form as it is, with Enter on its button.
func (tb *browserTab) submitForm() *network.Response {
	tb.t.Helper()
	return tb.submit(chromedp.Focus(chromedp.CSS(`form[action="/referrals"] button[type=submit]`)), browserKeys(kb.Enter))
}

func (tb *browserTab) mustStatus(res *network.Response, want int) {
	tb.t.Helper()
	if res == nil {
		tb.t.Fatalf("no response, want %d", want)
	}
	if res.Status != int64(want) {
		tb.t.Fatalf("%s = %d, want %d", res.URL, res.Status, want)
	}
}

// checkScripts checks that the page's script ran (it marks the body) exactly when JavaScript is on.
func (tb *browserTab) checkScripts() {
	tb.t.Helper()
	if ran := browserEval[bool](tb, `document.body.classList.contains("js-enabled")`); ran != tb.js {
		tb.t.Fatalf("init.js ran = %v with JavaScript on = %v", ran, tb.js)
	}
}

// press types keys into whatever has focus.
func (tb *browserTab) press(keys string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, browserKeys(keys)); err != nil {
		tb.t.Fatalf("press %q: %v", keys, err)
	}
}

// browserKeys presses each key as a hardware keyboard does: a rawKeyDown, a char for a key that
// types one, and a keyUp. chromedp.KeyEvent sends a keyDown instead, and then Chromium delivers
// the char even when the keydown was handled: Enter on an error summary link moves focus to the
// field, and the char that follows reaches the field and submits the form again, which no
// keyboard does.
func browserKeys(keys string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, r := range keys {
			for i, e := range kb.Encode(r) {
				if i == 0 {
					e.Type = input.DispatchKeyEventTypeRawKeyDown
				}
				if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, *e); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// browserInlineProbe is the inline script the accessibility test expects the CSP to block.
const browserInlineProbe = "window.inlineRan = true"

// browserConsoleProblem reports whether a console message shows a fault in a page.
func browserConsoleProblem(m chromedp.ConsoleMessage) bool {
	switch {
	case m.IsException():
		return true
	case m.Type != chromedp.ConsoleError:
		return false
	case strings.Contains(m.Text, browserSHA256(browserInlineProbe)):
		return false // the CSP blocking the test's own inline script
	case strings.Contains(m.Text, "https://assets.nhs.uk/fonts/"):
		// The CSP blocks the NHS web font on purpose (shared/render/web/assets/README.txt): Arial it is.
		return false
	case strings.HasPrefix(m.Text, "Failed to load resource: the server responded with a status of") && !strings.Contains(m.URL, web.AssetPrefix):
		// A page's own status, such as 400 for the form with errors.
		return false
	}
	return true
}

// focused describes the element that has focus: its id, or else its tag and first class (or a
// link's href).
func (tb *browserTab) focused() string {
	tb.t.Helper()
	return browserEval[string](tb, `(() => {
		const el = document.activeElement;
		if (!el || el === document.body) return "body";
		if (el.id) return el.id;
		if (el.tagName === "A" && !el.className) return "a[href=" + el.getAttribute("href") + "]";
		return el.tagName.toLowerCase() + (el.classList.length ? "." + el.classList[0] : "");
	})()`)
}

func (tb *browserTab) wantFocus(want string) {
	tb.t.Helper()
	if got := tb.focused(); got != want {
		tb.t.Fatalf("focus is on %q, want %q", got, want)
	}
}

// waitFor polls until the JavaScript expression is true: focus and fragment navigation settle
// after the key events that cause them.
func (tb *browserTab) waitFor(expr, what string) {
	tb.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !browserEval[bool](tb, expr) {
		if time.Now().After(deadline) {
			tb.t.Fatalf("waited 3s for %s; focus is on %q", what, tb.focused())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browserEval evaluates a JavaScript expression in the tab's page through the DevTools protocol,
// which works with the page's scripts disabled, and decodes its value.
func browserEval[T any](tb *browserTab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	return v
}

// screenshot saves the whole page as artifacts/screenshots/<name>[-nojs].png.
func (tb *browserTab) screenshot(name string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(tb.s.shots, name+tb.suffix+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// browserSHA256 is a CSP source hash: 'sha256-' and the base64 SHA-256 of s.
func browserSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
