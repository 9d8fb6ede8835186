package e2e

import (
	"context"
	"fmt"
	"net/http"
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

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// TestOutcomeFormsBrowser records an employer contact and a job start on the specialist's page in
// Chromium, with and without JavaScript (SPEC §4, §9): the NHS.UK date inputs, a bad date answered
// with an error summary that links to the day field and keeps what was typed, then both forms
// filled and sent by keyboard alone. axe (with JavaScript) finds no WCAG 2.2 AA violation on any
// page on the way.
func TestOutcomeFormsBrowser(t *testing.T) {
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
			checkAxe := func(page string) {
				if js {
					tb.checkAxe(page)
				}
			}
			signer := linkSigner(t)

			// A referral received today and met: the only dates allowed are today's.
			p := newPatient(t)
			r := submitReferral(t, p, "ZE3 1AA")
			token := signer.Sign(r.ReferralID, browserSpecialistOf(t, r.ReferralID), time.Now().Add(time.Hour))
			if res := postAction(t, r.ReferralID, "meeting", token, ""); res.Status != http.StatusOK {
				t.Fatalf("meeting = %d", res.Status)
			}
			today := calendar.DateOf(time.Now())
			day, month, year := strconv.Itoa(today.Day), strconv.Itoa(int(today.Month)), strconv.Itoa(today.Year)
			page := "/referrals/" + r.ReferralID + "?token=" + token

			tb.mustStatus(tb.navigate(page), http.StatusOK)
			tb.checkScripts()
			for _, id := range []string{"date", "startDate"} {
				got := browserEval[[]string](tb, fmt.Sprintf(`[...document.querySelectorAll("#%s input")].map(i => i.name + "|" + i.inputMode + "|" + (i.closest("fieldset")?.querySelector("legend") ? "legend" : ""))`, id))
				want := []string{id + "-day|numeric|legend", id + "-month|numeric|legend", id + "-year|numeric|legend"}
				if !slices.Equal(got, want) {
					t.Errorf("date input #%s = %q, want %q", id, got, want)
				}
			}
			if got := browserEval[[]string](tb, `[...document.querySelectorAll("#date input")].map(i => i.value)`); !slices.Equal(got, []string{day, month, year}) {
				t.Errorf("employer contact date = %q, want today %s/%s/%s", got, day, month, year)
			}
			checkAxe("referral page with the outcome forms")
			tb.screenshot("specialist-outcome-forms")

			// 30 February: 400, the error summary has focus and links to the day field, which is
			// marked with the other two and keeps what was typed.
			setBadDate := fmt.Sprintf(`(() => { document.getElementById("date-day").value = "30"; document.getElementById("date-month").value = "2"; document.getElementById("date-year").value = %q; })()`, year)
			if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](setBadDate)); err != nil {
				t.Fatal(err)
			}
			tb.mustStatus(tb.submit(chromedp.Focus(chromedp.CSS(`form[action$="/employer-contact"] button`)), browserKeys(kb.Enter)), http.StatusBadRequest)
			tb.waitFor(`!!document.activeElement?.closest(".nhsuk-error-summary")`, "the error summary to have focus")
			if title := browserEval[string](tb, `document.title`); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title = %q", title)
			}
			if hrefs := browserEval[[]string](tb, `[...document.querySelectorAll(".nhsuk-error-summary__list a")].map(a => a.getAttribute("href"))`); !slices.Equal(hrefs, []string{"#date-day"}) {
				t.Fatalf("error summary links = %q, want #date-day", hrefs)
			}
			if got := browserEval[[]string](tb, `[...document.querySelectorAll("#date input.nhsuk-input--error")].map(i => i.value)`); !slices.Equal(got, []string{"30", "2", year}) {
				t.Errorf("inputs marked in error with values %q, want 30, 2, %s", got, year)
			}
			if !browserEval[bool](tb, `(document.querySelector("#date").closest("fieldset").getAttribute("aria-describedby") ?? "").split(" ").includes("date-error")`) {
				t.Error("the date's fieldset is not described by its error message")
			}
			checkAxe("employer contact with a bad date")
			tb.screenshot("specialist-employer-contact-error")

			// From the summary, the keyboard alone: the link to the day, the right date, send.
			tb.press(kb.Tab)
			tb.press(kb.Enter)
			tb.waitFor(`document.activeElement.id === "date-day"`, "the summary's link to focus the day")
			// End, then Backspace over what is there (Tab selects a field's text, a link's focus does not).
			tb.press(kb.End + kb.Backspace + kb.Backspace + day)
			tb.press(kb.Tab)
			tb.wantFocus("date-month")
			tb.press(kb.End + kb.Backspace + kb.Backspace + month)
			tb.press(kb.Tab)
			tb.wantFocus("date-year")
			tb.press(kb.Tab)
			if got := browserEval[string](tb, `document.activeElement.tagName + " " + document.activeElement.innerText`); got != "BUTTON Record employer contact" {
				t.Fatalf("after the date, focus is on %q", got)
			}
			if got := browserEval[[]string](tb, `[...document.querySelectorAll("#date input")].map(i => i.value)`); !slices.Equal(got, []string{day, month, year}) {
				t.Fatalf("typed date = %q, want %s/%s/%s", got, day, month, year)
			}
			tb.mustStatus(tb.submit(browserKeys(kb.Enter)), http.StatusOK)
			if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(h1, "Employer contact recorded") {
				t.Errorf("heading = %q", h1)
			}
			checkAxe("employer contact recorded")

			// The job start, by keyboard alone from its first field.
			tb.mustStatus(tb.navigate(page), http.StatusOK)
			if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS(`#startDate-day`))); err != nil {
				t.Fatal(err)
			}
			steps := []struct{ focus, keys string }{
				{"startDate-day", day}, {"startDate-month", month}, {"startDate-year", year},
				{"hoursPerWeek", "16"}, {"selfEmployed", " "}, // Space selects the first answer, "Yes"
			}
			for i, s := range steps {
				if i > 0 {
					tb.press(kb.Tab)
				}
				tb.wantFocus(s.focus)
				tb.press(s.keys)
			}
			tb.press(kb.Tab)
			if got := browserEval[string](tb, `document.activeElement.tagName + " " + document.activeElement.innerText`); got != "BUTTON Record job start" {
				t.Fatalf("after the job's fields, focus is on %q", got)
			}
			tb.mustStatus(tb.submit(browserKeys(kb.Enter)), http.StatusOK)
			if h1 := browserEval[string](tb, `document.querySelector("h1").innerText`); !strings.Contains(h1, "Job start recorded") {
				t.Errorf("heading = %q", h1)
			}
			checkAxe("job start recorded")
			tb.screenshot("specialist-job-start-recorded")

			// In work now: the page lists the job and the contact, and offers the outcome.
			tb.mustStatus(tb.navigate(page), http.StatusOK)
			text := browserEval[string](tb, `document.querySelector("main").innerText`)
			for _, w := range []string{"In work", "Jobs, oldest first", "Employer contacts", "Is the patient still in the job?"} {
				if !strings.Contains(text, w) {
					t.Errorf("in-work page does not say %q", w)
				}
			}
			checkAxe("in-work referral page")
			tb.screenshot("specialist-in-work")

			iso := today.String()
			s := readReferral(t, r.ReferralID)
			if s.Status != "in-work" || !slices.Equal(byType(s, "employer-contact"), []string{iso}) ||
				!slices.Equal(byType(s, "job-started"), []string{"start=" + iso + ";hours=16;self-employed=yes"}) {
				t.Errorf("stored: %s, employer contacts %q, jobs %q", s.Status, byType(s, "employer-contact"), byType(s, "job-started"))
			}
			if due := readDue(t, r.ReferralID); due != today.AddDays(112).String()+"/outcome-check" {
				t.Errorf("due = %q, want the outcome check 16 weeks after %s", due, iso)
			}
		})
	}
}

// readDue reads a referral's next deadline as "dueAt/dueKind".
func readDue(t *testing.T, id string) string {
	t.Helper()
	out, err := stack.DynamoDB().GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(stack.TableName("ReferralsTable")), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{
			"pk": &ddb.AttributeValueMemberS{Value: "REFERRAL#" + id}, "sk": &ddb.AttributeValueMemberS{Value: "#REFERRAL"},
		},
	})
	if err != nil {
		t.Fatalf("read referral %s: %v", id, err)
	}
	str := func(k string) string {
		v, _ := out.Item[k].(*ddb.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	return str("dueAt") + "/" + str("dueKind")
}
