package web

// TEMPORARY differential test: every page any test in this package renders, and the fixtures
// below, are rendered again through the html/template templates the Go writer replaces, and the
// bytes compared. Deleted with the templates once it passes.

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

//go:embed templates/*.html
var legacyFiles embed.FS

var legacyTemplates sync.Map

func legacyRender(name string, data any) (string, error) {
	t, ok := legacyTemplates.Load(name)
	if !ok {
		tt := template.New(name).Funcs(template.FuncMap{"longDate": LongDate, "add": func(a, b int) int { return a + b }, "sub": func(a, b int) int { return a - b },
			"trustURL": func(u safeURL) template.URL { return template.URL(u) }})
		for _, f := range []string{"layout.html", "components.html", name} {
			src, err := legacyFiles.ReadFile("templates/" + f)
			if err != nil {
				return "", err
			}
			s := strings.Replace(string(src), `{{- else if .Href}}<a href="{{.Href}}">`, `{{- else if .Href}}<a href="{{trustURL .Href}}">`, 1)
			template.Must(tt.Parse(s))
		}
		t = tt
		legacyTemplates.Store(name, t)
	}
	var b bytes.Buffer
	err := t.(*template.Template).ExecuteTemplate(&b, "layout", data)
	return b.String(), err
}

var (
	legacyMu       sync.Mutex
	legacyCompared int
	legacyFailures []string
)

func TestMain(m *testing.M) {
	observePage = func(name string, data any, page []byte) {
		want, err := legacyRender(name, data)
		legacyMu.Lock()
		defer legacyMu.Unlock()
		legacyCompared++
		if err != nil {
			legacyFailures = append(legacyFailures, fmt.Sprintf("%s: legacy: %v", name, err))
			return
		}
		if got := string(page); got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			lo := max(0, i-200)
			legacyFailures = append(legacyFailures, fmt.Sprintf("%s differs at byte %d:\n--- new ---\n%s\n--- old ---\n%s\n", name, i,
				got[lo:min(len(got), i+200)], want[lo:min(len(want), i+200)]))
		}
	}
	code := m.Run()
	fmt.Printf("differential: %d pages compared, %d differ\n", legacyCompared, len(legacyFailures))
	for i, f := range legacyFailures {
		if i == 5 {
			break
		}
		fmt.Println(f)
	}
	if len(legacyFailures) > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

const hostile = "\xff\xfe%zz%4a <script>alert(\"x'&+\")</script> Zoë ✓ \x00 `=${a}` &amp; ]]> <!-- javascript:x"

// TestDifferentialFixtures renders every page in many states, hostile input in every field; the
// comparison itself is in TestMain's observer.
func TestDifferentialFixtures(t *testing.T) {
	var pages int
	do := func(err error) {
		t.Helper()
		pages++
		if err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	h := hostile

	// Form.
	hs := referral.Submission{
		Patient:          referral.Patient{GivenName: h, FamilyName: h, DateOfBirth: h, NHSNumber: h, Postcode: h, Phone: h, Email: h, PreferredContact: h},
		Referrer:         referral.Referrer{Name: h, PracticeCode: h, Email: h, Phone: h},
		EmploymentStatus: h, HealthConditions: []string{h, "mental-health"}, Consent: true, Notes: h + "\nline 2\n",
	}
	var allErrs []referral.FieldError
	for _, f := range append(FieldPaths(), "healthConditions[2]", "patient.unknown", "", "nonsense", "patient") {
		allErrs = append(allErrs, referral.FieldError{Field: f, Message: h + f}, referral.FieldError{Field: f, Message: "second " + f})
	}
	for _, fp := range []FormPage{{}, {Token: h}, {Values: validSubmission(), Token: "t"}, {Values: hs, Errors: allErrs, Message: h, Token: h},
		{Values: hs, Consent: true}, {Errors: allErrs[:3]}, {Message: "only"}} {
		do(RenderForm(&b, fp))
	}

	// Confirmation and errors.
	for _, st := range []referral.Status{referral.StatusAssigned, referral.StatusWaitlisted, "", referral.Status(h)} {
		for _, area := range []string{"", "South Yorkshire", h} {
			do(RenderConfirmation(&b, ConfirmationPage{Receipt: referral.Receipt{ReferralID: h, Status: st, Area: h, ContactBy: "2026-11-25", MeetBy: h}, AreaName: area}))
			do(RenderConfirmation(&b, ConfirmationPage{Receipt: referral.Receipt{ReferralID: "R-1", Status: st, Area: "a", ContactBy: "2026-11-25", MeetBy: "2026-12-07"}, AreaName: area}))
		}
	}
	for _, st := range []int{0, 200, 400, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 599, 418, 799} {
		do(RenderError(&b, ErrorPage{Status: st}))
		do(RenderError(&b, ErrorPage{Status: st, Title: h, Message: h}))
	}

	// Specialist's pages.
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	allEvents := func(detail string) []referral.Event {
		var es []referral.Event
		for _, typ := range []string{referral.EventReceived, referral.EventAssigned, referral.EventWaitlisted, referral.EventEmailed, referral.EventReminded,
			referral.EventEscalated, referral.EventContacted, referral.EventMet, referral.EventClosed, referral.EventAttempted, referral.EventWithdrawn,
			referral.EventEmployerContact, referral.EventJobStarted, referral.EventOutcome, referral.EventReassigned, referral.EventTransferred, h} {
			for _, by := range []string{"ann", "bob", referral.System, ""} {
				es = append(es, referral.Event{At: at, Type: typ, By: by, Via: detail, Detail: detail})
			}
		}
		return es
	}
	details := []string{"", h, "form", "api", "waitlist", "re-referral", "assignment", "contact-overdue", "bouncing-copy", "phone", "letter",
		"2026-11-30", "start=2026-11-30;hours=16;self-employed=yes", "start=2026-11-30;hours=3;self-employed=no", "sustained", "not-sustained",
		"engaged-elsewhere", "other", referral.WithdrawRevoked, referral.WithdrawEnteredInError}
	statuses := []referral.Status{referral.StatusWaitlisted, referral.StatusAssigned, referral.StatusContacted, referral.StatusEngaged,
		referral.StatusInWork, referral.StatusClosed, referral.StatusWithdrawn, referral.Status(h)}
	var fieldErrs []referral.FieldError
	for _, f := range []string{referral.ReasonField, referral.MethodField, referral.DateField, referral.StartDateField, referral.HoursPerWeekField,
		referral.SelfEmployedField, referral.SustainedField, "token", h} {
		fieldErrs = append(fieldErrs, referral.FieldError{Field: f, Message: h + f})
	}
	posted := []url.Values{nil, {}, {referral.DateField: {h}, referral.StartDateField: {"2026-1-05"}, referral.HoursPerWeekField: {h}, referral.SelfEmployedField: {"yes"}, referral.SustainedField: {"no"}},
		{referral.DateField + "-day": {h}, referral.DateField + "-month": {"2"}, referral.DateField + "-year": {""}, referral.StartDateField + "-day": {""}},
		{referral.DateField: {"2026-12-01"}, referral.SustainedField: {h}}}
	for _, st := range statuses {
		for i, d := range details {
			r := specialistReferral(st)
			r.Events = append(r.Events, allEvents(d)...)
			if i%3 == 0 {
				r.Patient = hs.Patient
				r.Referrer = hs.Referrer
				r.EmploymentStatus, r.HealthConditions, r.Notes = h, []string{h}, h+"\n\n"+h
				r.ID = h
			}
			if i%3 == 1 {
				r.Patient.Phone, r.Patient.Email, r.Referrer.Phone, r.Referrer.Email, r.Notes, r.HealthConditions = "", "", "", "", " ", nil
				r.Patient.PreferredContact, r.EmploymentStatus = "", ""
				r.Patient.FamilyName = ""
			}
			if i%4 == 0 {
				r.Patient.Phone, r.Patient.Email = "+442079460000", "a?b=c&d@x.org"
			}
			r.ReReferral = i%2 == 0
			if i%5 == 0 {
				r.ReceivedAt = time.Time{}
			}
			rp := ReferralPage{Referral: r, Token: h, Viewer: "ann", Values: posted[i%len(posted)]}
			if i%2 == 1 {
				rp.Errors, rp.Reason, rp.Today = fieldErrs, []string{h, "declined", ""}[i%3], calendar.Date{Year: 2026, Month: 3, Day: 9}
			} else {
				rp.Today = calendar.Date{Year: 2026, Month: 12, Day: 31}
			}
			do(RenderReferral(&b, rp))
			for _, a := range []referral.Action{referral.ActionContact, referral.ActionMeeting, referral.ActionClose, referral.ActionAttempt,
				referral.ActionEmployerContact, referral.ActionJobStart, referral.ActionOutcome, referral.Action(h)} {
				do(RenderActionRecorded(&b, ActionPage{Referral: r, Action: a, AlreadyRecorded: i%2 == 0, Token: h}))
			}
			sp := StatusPage{Referral: r, AreaName: []string{h, "Norfolk", ""}[i%3], Token: h}
			if i%2 == 1 {
				sp.Errors, sp.Reason = fieldErrs, []string{h, referral.WithdrawRevoked, ""}[i%3]
			}
			do(RenderReferrerStatus(&b, sp))
			do(RenderWithdrawn(&b, WithdrawnPage{Referral: r, AlreadyRecorded: i%2 == 1, Token: h}))
		}
	}

	// Lead's pages.
	wl := testWorklist()
	hp := worklist.Person{GivenName: h, Initial: h}
	hw := worklist.Worklist{AreaID: h, AreaName: h,
		Waitlist:    []worklist.Waiting{{ReferralID: h, Person: hp, DaysWaiting: 0}, {ReferralID: "R-2", Person: hp, DaysWaiting: 12}},
		Overdue:     []worklist.Overdue{{ReferralID: h, Person: hp, SpecialistID: h, What: []string{h, "contact"}}, {ReferralID: "R-3", SpecialistID: ""}},
		Specialists: []worklist.Specialist{{ID: h, Name: h, Caseload: 1, Capacity: 2}, {ID: "x", Name: "", Active: true, Bouncing: true}, {ID: "y", Bouncing: true}},
		Open: []worklist.Open{{ReferralID: h, Person: hp, Status: referral.Status(h), SpecialistID: h, CanReassign: true, CanTransfer: true,
			ReassignTo: []worklist.Specialist{{ID: h, Name: h}, {ID: "b", Name: "B"}}}, {ReferralID: "R-4", CanReassign: true}, {ReferralID: "R-5"}},
	}
	for _, w := range []worklist.Worklist{wl, hw, {}, {AreaName: "Empty"}} {
		for _, link := range []string{"", ReportURL("norfolk", h, "2026-01", "2026-12", ""), "javascript:alert(1)", "JavaScript:x", "data:text/html,x", "mailto:" + h, "https://e.example/ä ö?q=" + h, "/a%2Fb%zz"} {
			do(RenderWorklist(&b, WorklistPage{Worklist: w, Token: h, ReportLink: link}))
		}
	}
	for _, o := range []LeadOutcome{LeadReassigned, LeadTransferred, LeadNoRoom, LeadInactive, LeadOtherArea, LeadNoSpecialist, LeadBadPostcode, LeadOutOfArea, LeadStatusConflict, LeadOutcome(h)} {
		for _, wait := range []bool{false, true} {
			do(RenderLeadResult(&b, LeadResultPage{AreaID: h, Token: h, ReferralID: h, Outcome: o, Specialist: h, NewArea: h, Waitlisted: wait, Status: referral.Status(h)}))
			do(RenderLeadResult(&b, LeadResultPage{AreaID: "n", Token: "t", ReferralID: "R-1", Outcome: o, Specialist: "Ann", NewArea: "Kent", Waitlisted: wait, Status: referral.StatusClosed}))
		}
	}

	// Reports.
	big := reportRows()
	for i := range 12 {
		big = append(big, returns.Row{Area: h, Month: fmt.Sprintf("2027-%02d", i+1), Flow: map[string]int{returns.Received: i * 7, returns.JobStarts: i, returns.JobOutcomes: 100 * i}, CaseloadMax: 3 * i, EngagedUnemployed: i, FirstJobStartsUnemployed: i / 2})
	}
	big = append(big, returns.Row{Month: h})
	for _, rows := range [][]returns.Row{nil, reportRows(), big} {
		for _, link := range []string{"", "?format=csv", "javascript:alert(1)", h} {
			do(RenderReport(&b, ReportPage{AreaName: h, From: h, To: "2026-12", Rows: rows, CSVLink: link}))
			do(RenderReport(&b, ReportPage{AreaName: "North", From: "2026-01", To: "2026-12", Rows: rows, CSVLink: link, Action: ReportPath(h), Token: h}))
		}
	}
	_ = http.StatusOK
	t.Logf("%d pages rendered", pages)
}
