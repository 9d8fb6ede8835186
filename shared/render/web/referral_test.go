package web

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// specialistReferral is a referral as stored: normalised submission, assigned to ann, with its
// intake events and any progress events given.
func specialistReferral(status referral.Status, progress ...referral.Event) referral.Referral {
	sub := validSubmission()
	sub.Patient.NHSNumber, sub.Patient.Postcode, sub.Patient.Phone = "9434765919", "S1 2HH", "+447700900123"
	sub.Referrer.Phone = "+441144960000"
	sub.HealthConditions = []string{"mental-health", "musculoskeletal"}
	sub.Notes = "Prefers afternoon calls.\nHas a dog."
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return referral.Referral{
		ID: "R-7K3M9QX2", Submission: sub, Area: "south-yorkshire", Status: status, SpecialistID: "ann",
		ReceivedAt: received,
		ContactBy:  calendar.Date{Year: 2026, Month: 11, Day: 25}, MeetBy: calendar.Date{Year: 2026, Month: 12, Day: 7},
		Events: append([]referral.Event{
			{At: received, Type: referral.EventReceived, By: referral.System, Via: "form"},
			{At: received, Type: referral.EventAssigned, By: referral.System, Via: "intake"},
			{At: received.Add(time.Minute), Type: referral.EventEmailed, By: referral.System, Via: "stream", Detail: "assignment"},
		}, progress...),
	}
}

func progressAt(typ, by, detail string, at time.Time) referral.Event {
	return referral.Event{At: at, Type: typ, By: by, Via: referral.ViaSignedLink, Detail: detail}
}

var (
	contactedAt = time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC)
	metAt       = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	closedAt    = time.Date(2026, 12, 9, 9, 5, 0, 0, time.UTC)
)

// checkSpecialistPage checks what every page must pass under the service's CSP and the NHS.UK
// template: no inline script or style, assets only from Assets(), one h1, landmarks, unique ids
// that every reference finds.
func checkSpecialistPage(t *testing.T, src string) page {
	t.Helper()
	p := parsePage(t, src)
	for _, bad := range []string{"{{", "}}", "ZgotmplZ", "<style", "javascript:", "<no value>"} {
		if strings.Contains(src, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if m := styleAttr.FindString(src); m != "" {
		t.Errorf("page has a style attribute: %q", m)
	}
	if m := inlineHandler.FindString(src); m != "" {
		t.Errorf("page has an inline event handler: %q", m)
	}
	for _, e := range p.Elements {
		v, ok := e.Attrs["src"]
		if !ok {
			v, ok = e.Attrs["href"]
		}
		if !ok || e.Tag == "a" {
			continue
		}
		name, ok := strings.CutPrefix(v, AssetPrefix)
		if _, err := fs.Stat(Assets(), name); !ok || err != nil {
			t.Errorf("<%s> loads %q, not an asset", e.Tag, v)
		}
	}
	if title := p.title(t); !strings.HasSuffix(title, "– Refer for employment support – NHS") {
		t.Errorf("title = %q", title)
	}
	if n := len(p.find("h1")); n != 1 {
		t.Errorf("%d h1, want 1", n)
	}
	p.one(t, "main", "id", "maincontent")
	ids := map[string]int{}
	for _, e := range p.Elements {
		if id, ok := e.Attrs["id"]; ok {
			ids[id]++
		}
	}
	for _, e := range p.Elements {
		refs := strings.Fields(e.Attrs["aria-describedby"] + " " + e.Attrs["for"])
		if href := e.Attrs["href"]; strings.HasPrefix(href, "#") {
			refs = append(refs, strings.TrimPrefix(href, "#"))
		}
		for _, id := range refs {
			if ids[id] != 1 {
				t.Errorf("<%s> points at #%s, found %d times", e.Tag, id, ids[id])
			}
		}
	}
	return p
}

func checkedInputs(p page) []element {
	return slices.DeleteFunc(p.find("input"), func(e element) bool { return !e.has("checked") })
}

func renderReferralPage(t *testing.T, rp ReferralPage) (page, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderReferral(&buf, rp); err != nil {
		t.Fatalf("RenderReferral: %v", err)
	}
	return checkSpecialistPage(t, buf.String()), buf.String()
}

func TestReferralPageForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		referral    referral.Referral
		wantActions []referral.Action
		want        []string
		notWant     []string
	}{
		{name: "assigned: attempt and all three", referral: specialistReferral(referral.StatusAssigned),
			wantActions: []referral.Action{referral.ActionAttempt, referral.ActionContact, referral.ActionMeeting, referral.ActionClose},
			want:        []string{"Not contacted yet", "Contact the patient by Wednesday 25 November 2026"}},
		{name: "contacted: meeting and close", referral: specialistReferral(referral.StatusContacted, progressAt(referral.EventContacted, "ann", "", contactedAt)),
			wantActions: []referral.Action{referral.ActionMeeting, referral.ActionClose},
			want:        []string{"Contacted on 24 November 2026", "Meet the patient by Monday 7 December 2026", "Contact with the patient recorded"}},
		{name: "engaged: employer contact, job start and close", referral: specialistReferral(referral.StatusEngaged, progressAt(referral.EventMet, "ann", "", metAt)),
			wantActions: []referral.Action{referral.ActionEmployerContact, referral.ActionJobStart, referral.ActionClose},
			want:        []string{"Met on 1 December 2026", "Contacted on 1 December 2026", "First meeting recorded", "1 December 2026 at midday"}},
		{name: "in work: employer contact, another job, its outcome and close",
			referral: specialistReferral(referral.StatusInWork, progressAt(referral.EventMet, "ann", "", metAt),
				progressAt(referral.EventEmployerContact, "ann", "2026-12-02", closedAt),
				progressAt(referral.EventJobStarted, "ann", "start=2026-12-07;hours=20;self-employed=yes", closedAt)),
			wantActions: []referral.Action{referral.ActionEmployerContact, referral.ActionJobStart, referral.ActionOutcome, referral.ActionClose},
			want: []string{"In work", "Keep giving in-work support", "Jobs, oldest first", "Monday 7 December 2026", "Not recorded yet",
				"Employer contacts", "Wednesday 2 December 2026", "Job started on Monday 7 December 2026, 20 hours a week, self-employed"}},
		{name: "in work with the outcome recorded: no outcome form",
			referral: specialistReferral(referral.StatusInWork, progressAt(referral.EventMet, "ann", "", metAt),
				progressAt(referral.EventJobStarted, "ann", "start=2026-12-07;hours=20;self-employed=no", closedAt),
				progressAt(referral.EventOutcome, "ann", "sustained", closedAt)),
			wantActions: []referral.Action{referral.ActionEmployerContact, referral.ActionJobStart, referral.ActionClose},
			want:        []string{"Still in the job (sustained)", "Job outcome: still in the job (sustained)"}},
		{name: "closed: nothing to do",
			referral: specialistReferral(referral.StatusClosed, progressAt(referral.EventContacted, "ann", "", contactedAt), progressAt(referral.EventClosed, "ann", "job-started", closedAt)),
			want:     []string{"This referral was closed on 9 December 2026. Reason: Started a job.", "Referral closed. Reason: Started a job", "9 December 2026 at 9:05am"},
			notWant:  []string{"Record progress"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, src := renderReferralPage(t, ReferralPage{Referral: tt.referral, Token: "tok/en+1=", Viewer: "ann"})
			var actions []referral.Action
			for _, f := range p.find("form") {
				if f.Attrs["method"] != "post" {
					t.Errorf("form %q method = %q, want post", f.Attrs["action"], f.Attrs["method"])
				}
				a, ok := strings.CutPrefix(f.Attrs["action"], "/referrals/R-7K3M9QX2/")
				if !ok {
					t.Errorf("form action = %q", f.Attrs["action"])
				}
				actions = append(actions, referral.Action(a))
				var tokens []string
				for _, in := range p.find("input", "type", "hidden") {
					if slices.ContainsFunc(p.ancestors(in), func(e element) bool { return e.Index == f.Index }) {
						tokens = append(tokens, in.Attrs["name"]+"="+in.Attrs["value"])
					}
				}
				if len(tokens) != 1 || tokens[0] != LinkTokenField+"=tok/en+1=" {
					t.Errorf("form %s hidden fields = %q, want the token only", a, tokens)
				}
				if len(p.find("button", "type", "submit")) == 0 {
					t.Errorf("form %s has no submit button", a)
				}
			}
			if !slices.Equal(actions, tt.wantActions) {
				t.Errorf("forms = %v, want %v", actions, tt.wantActions)
			}
			text := pageText(p)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("page does not say %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(text, w) {
					t.Errorf("page says %q", w)
				}
			}
			if slices.Contains(actions, referral.ActionClose) {
				var values []string
				for _, in := range p.find("input", "name", referral.ReasonField, "type", "radio") {
					values = append(values, in.Attrs["value"])
				}
				if !slices.Equal(values, referral.CloseReasons) {
					t.Errorf("close reasons = %v, want %v", values, referral.CloseReasons)
				}
			}
			// The title is kept in browser history: no patient data in it.
			if title := p.title(t); strings.Contains(title, "Sam") || strings.Contains(title, "Taylor") || !strings.Contains(title, "R-7K3M9QX2") {
				t.Errorf("title = %q", title)
			}
			if strings.Contains(src, "<a href=\"/referrals/") {
				t.Errorf("the details page links to an action: actions must be buttons that POST")
			}
		})
	}
}

func TestReferralPageShowsEverything(t *testing.T) {
	t.Parallel()
	r := specialistReferral(referral.StatusContacted, progressAt(referral.EventContacted, "ann", "", contactedAt),
		referral.Event{At: contactedAt.Add(time.Hour), Type: referral.EventReminded, By: referral.System, Via: "schedule", Detail: "meeting-reminder"})
	r.ReReferral = true
	p, src := renderReferralPage(t, ReferralPage{Referral: r, Token: "t", Viewer: "ann"})
	text := pageText(p)
	for _, w := range []string{
		"Sam Taylor", "29 February 1988", "943 476 5919", "S1 2HH", "07700 900123", "sam.taylor@example.com", "Phone",
		"Dr Priya Shah", "C88038", "priya.shah@nhs.net", "0114 496 0000",
		"Unemployed", "Mental health condition", "Musculoskeletal condition", "Prefers afternoon calls.", "Has a dog.",
		"23 November 2026 at 10am", "Wednesday 25 November 2026", "Monday 7 December 2026",
		"Referred again", "Contacted",
		"Referral received from the online form", "Referral assigned to an employment specialist",
		"Email sent: new referral, to the employment specialist", "Contact with the patient recorded",
		"Reminder sent: the deadline to meet the patient is the next working day",
		"You", "The referral service",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("page does not show %q", w)
		}
	}
	p.one(t, "a", "href", "tel:+447700900123")
	p.one(t, "a", "href", "mailto:sam.taylor@example.com")
	if rows := p.find("tr", "class", "nhsuk-table__row"); len(rows) != 1+len(r.Events) {
		t.Errorf("history has %d rows, want a header and %d events", len(rows), len(r.Events))
	}
	if !strings.Contains(src, "Prefers afternoon calls.<br>Has a dog.") {
		t.Errorf("notes lines not kept")
	}
}

func TestReferralPageEscapes(t *testing.T) {
	t.Parallel()
	r := specialistReferral(referral.StatusAssigned)
	r.Patient.GivenName = `<script>alert(1)</script>`
	r.Notes = `"><img src=x alt=1>`
	r.Patient.Email = `a?cc=evil@example.org`
	_, src := renderReferralPage(t, ReferralPage{Referral: r, Token: `"><b>`, Viewer: "ann"})
	for _, bad := range []string{"<script>alert", "<img src=x", `value=""><b>"`, "mailto:a?cc"} {
		if strings.Contains(src, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(src, "mailto:a%3Fcc=evil@example.org") {
		t.Errorf("mailto link not escaped")
	}
}

func TestReferralPageCloseError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
	}{
		{name: "no reason"},
		{name: "unknown reason kept unchecked", reason: "bored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := []referral.FieldError{{Field: referral.ReasonField, Message: "Select why you are closing this referral"}}
			p, _ := renderReferralPage(t, ReferralPage{Referral: specialistReferral(referral.StatusAssigned), Token: "t", Viewer: "ann", Errors: errs, Reason: tt.reason})
			if title := p.title(t); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title = %q, want Error: prefix", title)
			}
			summary := p.one(t, "div", "class", "nhsuk-error-summary")
			link := p.one(t, "a", "href", "#reason")
			if !p.inside(link, "nhsuk-error-summary") || link.Text != "Select why you are closing this referral" {
				t.Errorf("summary link = %+v (summary %+v)", link, summary)
			}
			p.one(t, "span", "id", "reason-error")
			if p.byID(t, "reason").Attrs["name"] != referral.ReasonField {
				t.Errorf("#reason is not the first reason radio")
			}
			if checked := checkedInputs(p); len(checked) != 0 {
				t.Errorf("checked = %+v, want none", checked)
			}
		})
	}
	// On a referral that can no longer close there are no reasons to link to: the summary says it
	// without a link (checkSpecialistPage fails on a link to a missing id).
	closed := specialistReferral(referral.StatusClosed, progressAt(referral.EventClosed, "ann", "declined", closedAt))
	p, _ := renderReferralPage(t, ReferralPage{Referral: closed, Token: "t", Viewer: "ann",
		Errors: []referral.FieldError{{Field: referral.ReasonField, Message: "Select why"}}})
	if len(p.find("a", "href", "#reason")) != 0 || !strings.Contains(pageText(p), "Select why") {
		t.Errorf("closed referral's error summary should say the problem without a link")
	}
	// A valid reason is kept when the page is shown again.
	p, _ = renderReferralPage(t, ReferralPage{Referral: specialistReferral(referral.StatusAssigned), Token: "t", Viewer: "ann", Reason: "moved-away"})
	if checked := checkedInputs(p); len(checked) != 1 || checked[0].Attrs["value"] != "moved-away" {
		t.Errorf("checked = %+v, want moved-away", checked)
	}
}

func TestActionRecordedPage(t *testing.T) {
	t.Parallel()
	contacted := specialistReferral(referral.StatusContacted, progressAt(referral.EventContacted, "ann", "", contactedAt))
	engaged := specialistReferral(referral.StatusEngaged, progressAt(referral.EventMet, "ann", "", metAt))
	closed := specialistReferral(referral.StatusClosed, progressAt(referral.EventClosed, "ann", "declined", closedAt))
	tests := []struct {
		page    ActionPage
		heading string
		want    []string
	}{
		{ActionPage{Referral: contacted, Action: referral.ActionContact}, "Contact recorded", []string{"Next, meet the patient by Monday 7 December 2026."}},
		{ActionPage{Referral: contacted, Action: referral.ActionContact, AlreadyRecorded: true}, "Contact already recorded", []string{"already recorded. Nothing has been changed."}},
		{ActionPage{Referral: engaged, Action: referral.ActionMeeting}, "First meeting recorded", []string{"stays with you until you close it"}},
		{ActionPage{Referral: engaged, Action: referral.ActionMeeting, AlreadyRecorded: true}, "First meeting already recorded", []string{"Nothing has been changed."}},
		{ActionPage{Referral: closed, Action: referral.ActionClose}, "Referral closed", []string{"Reason: Does not want employment support."}},
		{ActionPage{Referral: closed, Action: referral.ActionClose, AlreadyRecorded: true}, "Referral already closed", []string{"Nothing has been changed.", "Reason: Does not want employment support."}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s already=%v", tt.page.Action, tt.page.AlreadyRecorded), func(t *testing.T) {
			t.Parallel()
			page := tt.page
			page.Token = "tok+/="
			var buf bytes.Buffer
			if err := RenderActionRecorded(&buf, page); err != nil {
				t.Fatalf("RenderActionRecorded: %v", err)
			}
			p := checkSpecialistPage(t, buf.String())
			if h1 := p.one(t, "h1"); h1.Text != tt.heading {
				t.Errorf("h1 = %q, want %q", h1.Text, tt.heading)
			}
			text := pageText(p)
			for _, w := range append(tt.want, "R-7K3M9QX2") {
				if !strings.Contains(text, w) {
					t.Errorf("page does not say %q", w)
				}
			}
			// Only the reference: the confirmation carries no patient data.
			for _, pd := range []string{"Sam", "Taylor", "943 476 5919", "9434765919", "S1 2HH"} {
				if strings.Contains(buf.String(), pd) {
					t.Errorf("confirmation shows %q", pd)
				}
			}
			back := p.one(t, "a", "href", "/referrals/R-7K3M9QX2?token="+url.QueryEscape("tok+/="))
			if !strings.Contains(back.Text, "Go back to referral") {
				t.Errorf("back link = %+v", back)
			}
			if len(p.find("form")) != 0 {
				t.Errorf("the confirmation page has a form")
			}
		})
	}
}

func TestSpecialistFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"mobile", formatUKPhone("+447700900123"), "07700 900123"},
		{"London", formatUKPhone("+442079460000"), "020 7946 0000"},
		{"Sheffield", formatUKPhone("+441144960000"), "0114 496 0000"},
		{"Leeds-style 01x1", formatUKPhone("+441134960000"), "0113 496 0000"},
		{"5-digit area code", formatUKPhone("+441632960001"), "01632 960001"},
		{"10-digit national", formatUKPhone("+44169773000"), "01697 73000"},
		{"not E.164 kept as is", formatUKPhone("0114 496 0000"), "0114 496 0000"},
		{"+440 is not a UK number", formatUKPhone("+4401144960000"), "+4401144960000"},
		{"too short kept as is", formatUKPhone("+4411449600"), "+4411449600"},
		{"too long kept as is", formatUKPhone("+44114496000012"), "+44114496000012"},
		{"letters kept as is", formatUKPhone("+44114496000a"), "+44114496000a"},
		{"another country kept as is", formatUKPhone("+33123456789"), "+33123456789"},
		{"NHS number", formatNHSNumber("9434765919"), "943 476 5919"},
		{"NHS number not 10 digits", formatNHSNumber("94347659"), "94347659"},
		{"birth date", birthDate("1988-02-29"), "29 February 1988"},
		{"birth date malformed", birthDate("29/02/1988"), "29/02/1988"},
		{"time in winter", londonTime(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)), "23 November 2026 at 10am"},
		{"time in summer is BST", londonTime(time.Date(2026, 7, 1, 13, 30, 0, 0, time.UTC)), "1 July 2026 at 2:30pm"},
		{"midday", londonTime(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)), "1 December 2026 at midday"},
		{"zero time", londonTime(time.Time{}), "Not recorded"},
		{"close reason", closeReasonLabel("engaged-elsewhere"), "Getting employment support somewhere else"},
		{"unknown close reason", closeReasonLabel("x-new"), "x-new"},
		{"event by system", actorText(referral.System, "ann"), "The referral service"},
		{"event by viewer", actorText("ann", "ann"), "You"},
		{"event by someone else", actorText("bob", "ann"), "Another employment specialist"},
		{"escalation", eventText(referral.Event{Type: referral.EventEscalated, Detail: "contact-overdue"}), "Deadline missed: the patient was not contacted in time. The area lead was told"},
		{"bouncing copy", eventText(referral.Event{Type: referral.EventEmailed, Detail: "bouncing-copy"}), "Email sent: a copy to the area lead: the specialist's email address is bouncing"},
		{"re-referral", eventText(referral.Event{Type: referral.EventAssigned, Detail: "re-referral"}), "Referral assigned to an employment specialist. The patient was already being supported by this specialist"},
		{"from waitlist", eventText(referral.Event{Type: referral.EventAssigned, Via: "waitlist"}), "Referral assigned to an employment specialist from the waiting list"},
		{"unknown event", eventText(referral.Event{Type: "archived", Detail: "x"}), "archived (x)"},
		{"link", LinkURL("R-7K3M9QX2", "a+b/c="), "/referrals/R-7K3M9QX2?token=a%2Bb%2Fc%3D"},
		{"action path", ActionPath("R-7K3M9QX2", referral.ActionClose), "/referrals/R-7K3M9QX2/close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
