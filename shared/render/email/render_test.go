package email

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

var update = flag.Bool("update", false, "rewrite the golden emails in testdata from Render")

const referrerLink = "https://referrals.example.org/referrals/R-7K3M9QX2/status?token=AgAAAABrK5SYc3At"

// patient is a full fictional referral (SPEC §4's example): everything a referral holds, including
// what must never reach an email.
var patient = referral.Submission{
	Patient: referral.Patient{
		GivenName:        "Sam",
		FamilyName:       "Taylor",
		DateOfBirth:      "1988-02-29",
		NHSNumber:        "9434765919",
		Postcode:         "S1 2HH",
		Phone:            "07700 900123",
		Email:            "sam.taylor@example.com",
		PreferredContact: "phone",
	},
	Referrer: referral.Referrer{
		Name:         "Dr Priya Shah",
		PracticeCode: "C88038",
		Email:        "priya.shah@nhs.net",
		Phone:        "0114 496 0000",
	},
	EmploymentStatus: "unemployed",
	HealthConditions: []string{"mental-health", "musculoskeletal"},
	Consent:          true,
	Notes:            "Prefers afternoon calls. Anxious about interviews.",
}

// neverInEmails is what the patient fixture holds that no email may contain, in the forms it might
// be written. The NHS number and phone are also checked as bare digit runs (see digitsOf).
var neverInEmails = []string{
	"Taylor",
	"943 476 5919", "943-476-5919", "9434765919",
	"1988-02-29", "29 February 1988", "29/02/1988", "29/2/1988",
	"07700 900123", "07700900123", "+447700900123",
	"sam.taylor@example.com",
	"mental-health", "mental health", "musculoskeletal",
	"Prefers afternoon calls", "Anxious about interviews",
	"S1 2HH", "0114 496 0000", "C88038",
}

const link = "https://referrals.example.org/referrals/R-7K3M9QX2?token=AQAAAABrK5SYc3At"

// messageFor is Example(kind) or stops the test. Message has no field for the NHS number, date of
// birth, health conditions, notes, phone or email, so this is as much of the patient as an email
// can ever be given.
func messageFor(tb testing.TB, kind Kind) Message {
	tb.Helper()
	m, err := Example(kind)
	if err != nil {
		tb.Fatalf("messageFor: %v", err)
	}
	return m
}

// mustRender renders m or stops the test.
func mustRender(tb testing.TB, m Message) Rendered {
	tb.Helper()
	r, err := Render(m)
	if err != nil {
		tb.Fatalf("Render(%s): %v", m.Kind, err)
	}
	return r
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func TestKindValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind Kind
		want bool
	}{
		{Assignment, true},
		{Acknowledgement, true},
		{Waitlisted, true},
		{ContactReminder, true},
		{MeetingReminder, true},
		{ContactOverdue, true},
		{MeetingOverdue, true},
		{StartedSupport, true},
		{Closed, true},
		{Withdrawn, true},
		{OutcomeCheck, true},
		{"", false},
		{"Assignment", false},
		{"reminder", false},
		{"assignment ", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			if got := tt.kind.Valid(); got != tt.want {
				t.Errorf("Kind(%q).Valid() = %v, want %v", tt.kind, got, tt.want)
			}
		})
	}
	if len(Kinds) != 12 {
		t.Errorf("len(Kinds) = %d, want the 7 kinds of SPEC §7, 4 of §11 and the lead's bouncing copy", len(Kinds))
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	const footer = "This email was sent by IPSPC Referrals. Do not reply to this email."
	tests := []struct {
		name    string
		msg     func(tb testing.TB) Message
		subject string
		text    []string // in the plain-text body
		html    []string // in the HTML body
		absent  []string // in neither body
		link    bool     // the signed link is in both bodies
	}{
		{
			name:    "assignment",
			msg:     func(tb testing.TB) Message { return messageFor(tb, Assignment) },
			subject: "New referral R-7K3M9QX2: contact by Wednesday 25 November",
			text: []string{"Dear Alex Morgan,", "You have a new referral.", "Patient: Sam T.", "Area: South Yorkshire",
				"contact Sam T. by Wednesday 25 November 2026", "meet them by Tuesday 8 December 2026",
				"would prefer to be contacted by phone", "\n" + link + "\n"},
			html: []string{"<p>Dear Alex Morgan,</p>", "<strong>Patient:</strong> Sam T.", "South Yorkshire",
				"contact Sam T. by Wednesday 25 November 2026", "meet them by Tuesday 8 December 2026",
				`<a href="` + strings.ReplaceAll(link, "&", "&amp;") + `"`, ">Open referral R-7K3M9QX2</a>"},
			absent: []string{"referred again", "area lead has been copied"},
			link:   true,
		},
		{
			name:    "outcome check",
			msg:     func(tb testing.TB) Message { return messageFor(tb, OutcomeCheck) },
			subject: "Referral R-7K3M9QX2: record the job outcome",
			text: []string{"Dear Alex Morgan,", "It is 16 weeks since Sam T. started work on Monday 2 March 2026.", "Patient: Sam T.",
				"Area: South Yorkshire", "work at least 7 hours a week in at least 13 of the weeks? This is the IPSPC job outcome.",
				"\n" + link + "\n"},
			html: []string{"started work on Monday 2 March 2026", "at least 7 hours a week in at least 13 of the weeks",
				`<a href="` + strings.ReplaceAll(link, "&", "&amp;") + `"`, ">Open referral R-7K3M9QX2</a>"},
			absent: []string{"by phone", "contact by", "meet"},
			link:   true,
		},
		{
			name: "assignment re-referral",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, Assignment)
				m.ReReferral = true
				return m
			},
			subject: "New referral R-7K3M9QX2: contact by Wednesday 25 November",
			text:    []string{"Sam T. has been referred again. They already have an open referral with you"},
			html:    []string{"Sam T. has been referred again. They already have an open referral with you"},
			link:    true,
		},
		{
			name: "assignment by email",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, Assignment)
				m.PreferredContact = "email"
				return m
			},
			subject: "New referral R-7K3M9QX2: contact by Wednesday 25 November",
			text:    []string{"would prefer to be contacted by email."},
			html:    []string{"would prefer to be contacted by email."},
			absent:  []string{"by phone"},
			link:    true,
		},
		{
			name:    "acknowledgement assigned",
			msg:     func(tb testing.TB) Message { return messageFor(tb, Acknowledgement) },
			subject: "Referral R-7K3M9QX2 received",
			text: []string{"Dear Dr Priya Shah,", "We have received your referral.", "Patient: Sam T.",
				"An employment specialist in South Yorkshire has been assigned.",
				"contact Sam T. by Wednesday 25 November 2026", "meet them by Tuesday 8 December 2026",
				"You do not need to do anything else.", "\n" + referrerLink + "\n",
				"If you did not make this referral, use the link to withdraw it."},
			html: []string{"<p>Dear Dr Priya Shah,</p>", "Sam T.", "contact Sam T. by Wednesday 25 November 2026",
				`<a href="` + referrerLink + `"`, "If you did not make this referral, use the link to withdraw it."},
			absent: []string{"waiting list", "by phone"},
		},
		{
			name: "acknowledgement waitlisted",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, Acknowledgement)
				m.Status, m.ContactBy, m.MeetBy = StatusWaitlisted, calendar.Date{}, calendar.Date{}
				return m
			},
			subject: "Referral R-7K3M9QX2 received",
			text: []string{"Patient: Sam T.", "so Sam T. is on a waiting list",
				"deadlines to contact and meet Sam T. will be set when a specialist is assigned"},
			html:   []string{"so Sam T. is on a waiting list", "will be set when a specialist is assigned", "If you did not make this referral, use the link to withdraw it."},
			absent: []string{"has been assigned.", "2026"},
		},
		{
			name:    "waitlisted",
			msg:     func(tb testing.TB) Message { return messageFor(tb, Waitlisted) },
			subject: "Referral R-7K3M9QX2 is on the waiting list",
			text: []string{"Dear Jo Lead,", "A new referral in South Yorkshire is on the waiting list",
				"Patient: Sam T.", "free up space or add a specialist",
				"Open your worklist to see the area's waiting list", "https://referrals.example.org/areas/south-yorkshire/worklist?token="},
			html: []string{"<p>Dear Jo Lead,</p>", "<strong>Patient:</strong> Sam T.", "free up space or add a specialist",
				`<a href="https://referrals.example.org/areas/south-yorkshire/worklist?token=`},
			absent: []string{"2026", "/referrals/R-7K3M9QX2"}, // the lead's link, never a referral page's
		},
		{
			name:    "contact reminder",
			msg:     func(tb testing.TB) Message { return messageFor(tb, ContactReminder) },
			subject: "Reminder for referral R-7K3M9QX2: contact by Wednesday 25 November",
			text: []string{"You need to contact Sam T. by Wednesday 25 November 2026. No contact has been recorded yet.",
				"would prefer to be contacted by phone", "your area lead will be told"},
			html:   []string{"You need to contact Sam T. by Wednesday 25 November 2026.", "Open referral R-7K3M9QX2"},
			absent: []string{"December"},
			link:   true,
		},
		{
			name:    "meeting reminder",
			msg:     func(tb testing.TB) Message { return messageFor(tb, MeetingReminder) },
			subject: "Reminder for referral R-7K3M9QX2: meet by Tuesday 8 December",
			text:    []string{"You need to meet Sam T. by Tuesday 8 December 2026. No meeting has been recorded yet.", "your area lead will be told"},
			html:    []string{"You need to meet Sam T. by Tuesday 8 December 2026.", "Open referral R-7K3M9QX2"},
			absent:  []string{"25 November"},
			link:    true,
		},
		{
			name:    "contact overdue",
			msg:     func(tb testing.TB) Message { return messageFor(tb, ContactOverdue) },
			subject: "Overdue: contact for referral R-7K3M9QX2 was due by Wednesday 25 November",
			text: []string{"The deadline to contact Sam T. has passed. Contact was due by Wednesday 25 November 2026 and none has been recorded.",
				"Specialist: Alex Morgan", "contact Sam T. by phone as soon as you can", "Your area lead has been copied into this email.",
				"none has been recorded. 2 contact attempts have been recorded."},
			html: []string{"Contact was due by Wednesday 25 November 2026", "<strong>Specialist:</strong> Alex Morgan",
				"Your area lead has been copied into this email."},
			absent: []string{"http", "December"},
		},
		{
			name:    "meeting overdue",
			msg:     func(tb testing.TB) Message { return messageFor(tb, MeetingOverdue) },
			subject: "Overdue: meeting for referral R-7K3M9QX2 was due by Tuesday 8 December",
			text: []string{"The deadline to meet Sam T. has passed. A meeting was due by Tuesday 8 December 2026 and none has been recorded.",
				"Specialist: Alex Morgan", "Your area lead has been copied into this email.", "2 contact attempts have been recorded."},
			html:   []string{"A meeting was due by Tuesday 8 December 2026", "Your area lead has been copied into this email.", "2 contact attempts have been recorded."},
			absent: []string{"http", "November"},
		},
		{
			name: "contact overdue, no attempts",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, ContactOverdue)
				m.Attempts = 0
				return m
			},
			subject: "Overdue: contact for referral R-7K3M9QX2 was due by Wednesday 25 November",
			text:    []string{"No contact attempts have been recorded."},
			html:    []string{"No contact attempts have been recorded."},
		},
		{
			name: "meeting overdue, one attempt",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, MeetingOverdue)
				m.Attempts = 1
				return m
			},
			subject: "Overdue: meeting for referral R-7K3M9QX2 was due by Tuesday 8 December",
			text:    []string{"1 contact attempt has been recorded."},
			html:    []string{"1 contact attempt has been recorded."},
		},
		{
			name:    "started support",
			msg:     func(tb testing.TB) Message { return messageFor(tb, StartedSupport) },
			subject: "Referral R-7K3M9QX2: support has started",
			text:    []string{"Dear Dr Priya Shah,", "Sam T. has had their first meeting with an employment specialist", "Patient: Sam T."},
			html:    []string{"Sam T. has had their first meeting with an employment specialist"},
			absent:  []string{"http", "2026", "phone", "withdraw"},
		},
		{
			name:    "closed unreachable",
			msg:     func(tb testing.TB) Message { return messageFor(tb, Closed) },
			subject: "Referral R-7K3M9QX2 has been closed",
			text: []string{"The employment support for Sam T. has ended because the employment specialist could not reach them.",
				"If they would still like employment support, a new referral is welcome."},
			html:   []string{"has ended because the employment specialist could not reach them.", "a new referral is welcome."},
			absent: []string{"http", "2026", "unreachable", "You do not need to do anything."},
		},
		{
			name: "closed job started",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, Closed)
				m.Reason = "job-started"
				return m
			},
			subject: "Referral R-7K3M9QX2 has been closed",
			text:    []string{"has ended because they have started work and no longer need support.", "You do not need to do anything."},
			html:    []string{"they have started work"},
			absent:  []string{"new referral is welcome", "job-started"},
		},
		{
			name:    "withdrawn to the specialist",
			msg:     func(tb testing.TB) Message { return messageFor(tb, Withdrawn) },
			subject: "Do not contact: referral R-7K3M9QX2 withdrawn",
			text: []string{"Dear Alex Morgan,", "The referrer has withdrawn this referral because circumstances changed. Do not contact Sam T. about it.",
				"no longer counts towards your caseload"},
			html:   []string{"Do not contact Sam T. about it."},
			absent: []string{"http", "2026", "phone", "You have withdrawn"},
		},
		{
			name: "withdrawn to the referrer, entered in error",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, Withdrawn)
				m.To, m.RecipientName, m.Audience, m.Reason = []string{"priya.shah@nhs.net"}, "Dr Priya Shah", AudienceReferrer, "entered-in-error"
				m.PatientGivenName, m.PatientInitial = "S", "" // what is left after entered-in-error
				return m
			},
			subject: "Referral R-7K3M9QX2 withdrawn",
			text: []string{"Dear Dr Priya Shah,", "You have withdrawn this referral because it was sent in error. The IPS service will not contact S. about it.",
				"Patient: S.\n"},
			html:   []string{"<strong>Patient:</strong> S.<br>"},
			absent: []string{"Sam", "Do not contact", "http"},
		},
		{
			name: "no recipient name",
			msg: func(tb testing.TB) Message {
				m := messageFor(tb, Assignment)
				m.RecipientName = " \r\n "
				return m
			},
			subject: "New referral R-7K3M9QX2: contact by Wednesday 25 November",
			text:    []string{"Hello,\n"},
			html:    []string{"<p>Hello,</p>"},
			absent:  []string{"Dear"},
			link:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := tt.msg(t)
			r := mustRender(t, m)
			if r.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", r.Subject, tt.subject)
			}
			text := append([]string{"R-7K3M9QX2", "Reference: R-7K3M9QX2", "South Yorkshire", "---\n" + footer + "\n"}, tt.text...)
			for _, want := range text {
				if !strings.Contains(r.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, r.Text)
				}
			}
			html := append([]string{"<!DOCTYPE html>", `<html lang="en">`, "<title>" + tt.subject + "</title>",
				"<strong>Reference:</strong> R-7K3M9QX2", "South Yorkshire", "<p>" + footer + "</p>"}, tt.html...)
			for _, want := range html {
				if !strings.Contains(r.HTML, want) {
					t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
				}
			}
			for _, bad := range tt.absent {
				if strings.Contains(r.Text, bad) || strings.Contains(r.HTML, bad) {
					t.Errorf("email contains %q:\n%s\n%s", bad, r.Text, r.HTML)
				}
			}
			if !strings.Contains(r.Text, m.PatientName()) || !strings.Contains(r.HTML, m.PatientName()) {
				t.Errorf("email does not name the patient %q", m.PatientName())
			}
			if got := strings.Contains(r.Text, link) && strings.Contains(r.HTML, "token=AQAAAABrK5SYc3At"); got != tt.link {
				t.Errorf("signed link in both bodies = %v, want %v", got, tt.link)
			}
			if strings.Contains(r.Text, "\r") || !strings.HasSuffix(r.Text, footer+"\n") || strings.Contains(r.Text, "\n\n\n") {
				t.Errorf("text is not tidy (CR, footer not last, or several blank lines):\n%q", r.Text)
			}
		})
	}
}

// TestRenderNoPatientData renders every kind from the full fictional patient and checks that no
// email carries what SPEC §7 forbids, and that no subject carries the patient at all.
func TestRenderNoPatientData(t *testing.T) {
	t.Parallel()
	for _, kind := range Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			r := mustRender(t, messageFor(t, kind))
			all := r.Subject + "\n" + r.Text + "\n" + r.HTML
			for _, bad := range neverInEmails {
				if strings.Contains(strings.ToLower(all), strings.ToLower(bad)) {
					t.Errorf("email contains %q", bad)
				}
			}
			digits := digitsOf(all)
			for _, bad := range []string{patient.Patient.NHSNumber, digitsOf(patient.Patient.Phone), "7700900123", "19880229"} {
				if strings.Contains(digits, bad) {
					t.Errorf("email's digits contain %s", bad)
				}
			}
			for _, bad := range []string{"Sam", "T.", "South Yorkshire", "phone"} {
				if strings.Contains(r.Subject, bad) {
					t.Errorf("subject %q contains %q", r.Subject, bad)
				}
			}
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(*Message)
		escape string // must be in the HTML
		raw    string // must not be in the HTML
	}{
		{"script in given name", func(m *Message) { m.PatientGivenName = "<script>alert(1)</script>" },
			"&lt;script&gt;alert(1)&lt;/script&gt; T.", "<script>"},
		{"markup in area", func(m *Message) { m.AreaName = `<b onmouseover="x()">Area</b> & co` },
			"&lt;b onmouseover=&#34;x()&#34;&gt;Area&lt;/b&gt; &amp; co", "<b onmouseover"},
		{"image in recipient name", func(m *Message) { m.RecipientName = `<img src=x onerror=alert(1)>` },
			"Dear &lt;img src=x onerror=alert(1)&gt;,", "<img"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := messageFor(t, Assignment)
			tt.edit(&m)
			r := mustRender(t, m)
			if !strings.Contains(r.HTML, tt.escape) {
				t.Errorf("HTML lacks escaped %q:\n%s", tt.escape, r.HTML)
			}
			if strings.Contains(r.HTML, tt.raw) {
				t.Errorf("HTML contains raw %q:\n%s", tt.raw, r.HTML)
			}
		})
	}
}

// TestRenderControlCharacters puts header-injection attempts in every free-text field and checks
// that none reaches the subject and none starts a new line in the text body.
func TestRenderControlCharacters(t *testing.T) {
	t.Parallel()
	const injection = "\r\nBcc: attacker@example.com\r\n\r\nSubject: pwned"
	tests := []struct {
		name string
		edit func(*Message)
		want string // how the field reads in the text body, on one line
	}{
		{"given name", func(m *Message) { m.PatientGivenName = "Sam" + injection }, "Patient: Sam Bcc: attacker@example.com Subject: pwned T.\n"},
		{"initial", func(m *Message) { m.PatientInitial = "\u202eT\r\n" }, "Patient: Sam T.\n"},
		{"area", func(m *Message) { m.AreaName = "South\x00Yorkshire" + injection }, "Area: South Yorkshire Bcc: attacker@example.com Subject: pwned\n"},
		{"recipient name", func(m *Message) { m.RecipientName = "Alex\tMorgan" + injection }, "Dear Alex Morgan Bcc: attacker@example.com Subject: pwned,\n"},
		{"specialist name", func(m *Message) { m.SpecialistName = "Alex\u2028Morgan" + injection }, "Specialist: Alex Morgan Bcc: attacker@example.com Subject: pwned\n"},
		{"bidi override and invalid UTF-8", func(m *Message) { m.PatientGivenName = "S\u202eam\xff\u2066x" }, "Patient: S am x T.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := messageFor(t, ContactOverdue)
			tt.edit(&m)
			r := mustRender(t, m)
			if strings.ContainsFunc(r.Subject, unicode.IsControl) || strings.Contains(r.Subject, "Bcc") || strings.Contains(r.Subject, "Sam") {
				t.Errorf("subject = %q, carries user text", r.Subject)
			}
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("text lacks %q:\n%s", tt.want, r.Text)
			}
			if regexp.MustCompile(`(?m)^(Bcc|Subject):`).MatchString(r.Text) {
				t.Errorf("text has a line that reads as a header:\n%s", r.Text)
			}
			body := r.Text + r.HTML
			if strings.ContainsAny(body, "\r\x00\u202e\u2066\u2028") || strings.Contains(body, "\n\n\n") {
				t.Errorf("body keeps control characters:\n%q", body)
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind Kind
		edit func(*Message)
		want string // in the error
	}{
		{"unknown kind", Assignment, func(m *Message) { m.Kind = "reminder" }, "unknown kind"},
		{"empty kind", Assignment, func(m *Message) { m.Kind = "" }, "unknown kind"},
		{"no To", Assignment, func(m *Message) { m.To = nil }, "To is required"},
		{"display name", Assignment, func(m *Message) { m.To = []string{"Alex <alex@example.org>"} }, "To[0] is not a bare email address"},
		{"CR/LF in address", Assignment, func(m *Message) { m.To = []string{"alex@example.org\r\nBcc: x@example.com"} }, "To[0] has control characters"},
		{"display name with CR/LF", Acknowledgement, func(m *Message) { m.To = []string{"\"Dr\r\nBcc: x@example.com\" <p@nhs.net>"} }, "To[0] has control characters"},
		{"not an address", Waitlisted, func(m *Message) { m.To = []string{"lead@example.org", "not-an-address"} }, "To[1] is not a bare email address"},
		{"spaces round address", Waitlisted, func(m *Message) { m.To = []string{" lead@example.org"} }, "To[0] is not a bare email address"},
		{"two addresses in one", Waitlisted, func(m *Message) { m.To = []string{"a@example.org, b@example.org"} }, "To[0] is not a bare email address"},
		{"bad Cc", ContactOverdue, func(m *Message) { m.Cc = []string{"lead"} }, "Cc[0] is not a bare email address"},
		{"overdue without Cc", ContactOverdue, func(m *Message) { m.Cc = nil }, "Cc (the area lead) is required"},
		{"Cc on assignment", Assignment, func(m *Message) { m.Cc = []string{"lead@example.org"} }, "Cc is only for overdue emails"},
		{"too many recipients", Assignment, func(m *Message) { m.To = slices.Repeat([]string{"alex@example.org"}, 51) }, "more than 50 recipients"},
		{"no referral id", Assignment, func(m *Message) { m.ReferralID = "" }, "ReferralID is required"},
		{"CR/LF in referral id", Assignment, func(m *Message) { m.ReferralID = "R-1\r\nBcc: x@example.com" }, "ReferralID is required"},
		{"no given name", Assignment, func(m *Message) { m.PatientGivenName = " \n" }, "PatientGivenName is required"},
		{"no initial", Waitlisted, func(m *Message) { m.PatientInitial = "" }, "PatientInitial must be one letter"},
		{"two-letter initial", ContactReminder, func(m *Message) { m.PatientInitial = "Ta" }, "PatientInitial must be one letter"},
		{"digit initial", MeetingReminder, func(m *Message) { m.PatientInitial = "7" }, "PatientInitial must be one letter"},
		{"no area", MeetingOverdue, func(m *Message) { m.AreaName = "" }, "AreaName is required"},
		{"no preferred contact", Assignment, func(m *Message) { m.PreferredContact = "" }, "PreferredContact is required"},
		{"unknown preferred contact", Waitlisted, func(m *Message) { m.PreferredContact = "post" }, "PreferredContact must be"},
		{"assignment without contact date", Assignment, func(m *Message) { m.ContactBy = calendar.Date{} }, "ContactBy is required"},
		{"assignment without meeting date", Assignment, func(m *Message) { m.MeetBy = calendar.Date{} }, "MeetBy is required"},
		{"not a real date", ContactReminder, func(m *Message) { m.ContactBy = calendar.Date{Year: 2026, Month: 2, Day: 30} }, "ContactBy is not a real date"},
		{"meeting overdue without date", MeetingOverdue, func(m *Message) { m.MeetBy = calendar.Date{} }, "MeetBy is required"},
		{"acknowledgement without status", Acknowledgement, func(m *Message) { m.Status = "" }, "Status must be"},
		{"acknowledgement assigned without dates", Acknowledgement, func(m *Message) { m.ContactBy, m.MeetBy = calendar.Date{}, calendar.Date{} }, "ContactBy is required; MeetBy is required"},
		{"assignment without link", Assignment, func(m *Message) { m.Link = "" }, "Link is required"},
		{"javascript link", ContactReminder, func(m *Message) { m.Link = "javascript:alert(1)" }, "Link must be an absolute http(s) URL"},
		{"relative link", MeetingReminder, func(m *Message) { m.Link = "/referrals/R-7K3M9QX2?token=x" }, "Link must be an absolute http(s) URL"},
		{"link with CR/LF", Assignment, func(m *Message) { m.Link = link + "\r\nBcc: x@example.com" }, "Link must be an absolute http(s) URL"},
		{"link with credentials", Assignment, func(m *Message) { m.Link = "https://user:pw@example.org/" }, "Link must be an absolute http(s) URL"},
		{"acknowledgement without its referrer link", Acknowledgement, func(m *Message) { m.Link = "" }, "Link is required"},
		{"specialist's link to the lead", Waitlisted, func(m *Message) { m.Link = link }, "Link on an email to the lead must be the lead's worklist link"},
		{"waitlisted without the lead's link", Waitlisted, func(m *Message) { m.Link = "" }, "Link is required"},
		{"specialist's link in the lead's bouncing copy", BouncingCopy, func(m *Message) { m.Link = link }, "Link on an email to the lead must be the lead's worklist link"},
		{"bouncing copy of nothing", BouncingCopy, func(m *Message) { m.CopyOf = "" }, "CopyOf must be a kind sent to the specialist"},
		{"bouncing copy of a lead's email", BouncingCopy, func(m *Message) { m.CopyOf = Waitlisted }, "CopyOf must be a kind sent to the specialist"},
		{"bouncing copy without whose", BouncingCopy, func(m *Message) { m.SpecialistName = " " }, "SpecialistName is required"},
		{"bouncing copy with a contact method", BouncingCopy, func(m *Message) { m.PreferredContact = "phone" }, "PreferredContact is not for this kind"},
		{"CopyOf on an assignment", Assignment, func(m *Message) { m.CopyOf = Assignment }, "CopyOf is only for bouncing copies"},
		{"link on started-support", StartedSupport, func(m *Message) { m.Link = link }, "Link is only for"},
		{"link on withdrawn", Withdrawn, func(m *Message) { m.Link = link }, "Link is only for"},
		{"contact method on withdrawn", Withdrawn, func(m *Message) { m.PreferredContact = "phone" }, "PreferredContact is not for this kind"},
		{"closed without reason", Closed, func(m *Message) { m.Reason = "" }, "Reason must be one of the kind's reasons"},
		{"closed with a withdraw reason", Closed, func(m *Message) { m.Reason = "revoked" }, "Reason must be one of the kind's reasons"},
		{"withdrawn with a close reason", Withdrawn, func(m *Message) { m.Reason = "unreachable" }, "Reason must be one of the kind's reasons"},
		{"reason on assignment", Assignment, func(m *Message) { m.Reason = "unreachable" }, "Reason is only for closed and withdrawn emails"},
		{"withdrawn without audience", Withdrawn, func(m *Message) { m.Audience = "" }, `Audience must be "specialist" or "referrer"`},
		{"audience on closed", Closed, func(m *Message) { m.Audience = AudienceReferrer }, "Audience is only for withdrawn emails"},
		{"negative attempts", ContactOverdue, func(m *Message) { m.Attempts = -1 }, "Attempts must not be negative"},
		{"link on a copied email", ContactOverdue, func(m *Message) { m.Link = link }, "Link must not be sent to a Cc recipient"},
		{"outcome check without the job start", OutcomeCheck, func(m *Message) { m.JobStart = calendar.Date{} }, "JobStart is required"},
		{"outcome check without link", OutcomeCheck, func(m *Message) { m.Link = "" }, "Link is required"},
		{"outcome check copying the lead", OutcomeCheck, func(m *Message) { m.Cc = []string{"lead@example.org"} }, "Cc is only for overdue emails"},
		{"job start on an assignment", Assignment, func(m *Message) { m.JobStart = calendar.Date{Year: 2026, Month: 3, Day: 2} }, "JobStart is only for outcome checks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := messageFor(t, tt.kind)
			tt.edit(&m)
			r, err := Render(m)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Render error = %v, want ErrInvalidMessage", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render error = %q, want it to say %q", err, tt.want)
			}
			if r != (Rendered{}) {
				t.Errorf("Render failed but returned %+v", r)
			}
			for _, secret := range []string{"Sam", "example.org", "nhs.net", "attacker", "token="} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats a value (%q); it should name fields only", err, secret)
				}
			}
		})
	}
}

func TestPatientName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		given, initial, want string
	}{
		{"Sam", "T", "Sam T."},
		{"Sam", "t", "Sam T."},
		{"  Mary  Ann ", "ó", "Mary Ann Ó."},
		{"Sam", "", "Sam"},
		{"", "T", "T."},
		{"Sam\r\nBcc: x", "T\n", "Sam Bcc: x T."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			m := Message{PatientGivenName: tt.given, PatientInitial: tt.initial}
			if got := m.PatientName(); got != tt.want {
				t.Errorf("PatientName(%q, %q) = %q, want %q", tt.given, tt.initial, got, tt.want)
			}
		})
	}
}

func TestDeadlineFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		date        calendar.Date
		long, short string
	}{
		{calendar.Date{Year: 2026, Month: 11, Day: 25}, "Wednesday 25 November 2026", "Wednesday 25 November"},
		{calendar.Date{Year: 2026, Month: 12, Day: 1}, "Tuesday 1 December 2026", "Tuesday 1 December"},
		{calendar.Date{Year: 2027, Month: 1, Day: 4}, "Monday 4 January 2027", "Monday 4 January"},
		{calendar.Date{Year: 2028, Month: 2, Day: 29}, "Tuesday 29 February 2028", "Tuesday 29 February"},
	}
	for _, tt := range tests {
		t.Run(tt.date.String(), func(t *testing.T) {
			t.Parallel()
			m := messageFor(t, ContactReminder)
			m.ContactBy = tt.date
			r := mustRender(t, m)
			if !strings.HasSuffix(r.Subject, "contact by "+tt.short) {
				t.Errorf("subject = %q, want it to end %q", r.Subject, tt.short)
			}
			if !strings.Contains(r.Text, "contact Sam T. by "+tt.long+".") {
				t.Errorf("text lacks %q:\n%s", tt.long, r.Text)
			}
		})
	}
}

// TestGolden keeps testdata's example emails, the ones reviewers read, in step with the
// bodies (bodies.go). Run `go test ./shared/render/email -run Golden -update` after changing them.
func TestGolden(t *testing.T) {
	t.Parallel()
	type golden struct{ file, got string }
	var tests []golden
	add := func(name string, m Message) {
		r := mustRender(t, m)
		tests = append(tests, golden{name + ".txt", "Subject: " + r.Subject + "\n\n" + r.Text}, golden{name + ".html", r.HTML})
	}
	for _, k := range []Kind{Assignment, Acknowledgement, Waitlisted, StartedSupport, Closed, ContactOverdue, OutcomeCheck, BouncingCopy} {
		add(string(k), messageFor(t, k))
	}
	add("withdrawn-specialist", messageFor(t, Withdrawn))
	toReferrer := messageFor(t, Withdrawn)
	toReferrer.To, toReferrer.RecipientName, toReferrer.Audience = []string{"priya.shah@nhs.net"}, "Dr Priya Shah", AudienceReferrer
	add("withdrawn-referrer", toReferrer)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, []byte(tt.got), 0o644); err != nil {
					t.Fatalf("update golden: %v", err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if tt.got != string(want) {
				t.Errorf("%s is out of date (run with -update); got:\n%s", path, tt.got)
			}
		})
	}
}

// TestEscaping pins the HTML escaping to what html/template produced for the same values (the
// emails were templates until issue 14; the expectations are html/template's output): values in
// text and attributes, and URLs in an href, normalised and escaped.
func TestEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		url      bool // in an href
		want     string
	}{
		{"markup", `<script>alert("x")</script>`, false, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
		{"quotes, ampersands and plus", `a&b 'c' +d &amp; é`, false, "a&amp;b &#39;c&#39; &#43;d &amp;amp; é"},
		{"NUL", "\x00", false, "\uFFFD"},
		{"URL with quotes, markup and bad escapes", `https://h.example/areas/s'<"é/worklist?token=a+b%zz%4&x=%41`, true,
			"https://h.example/areas/s%27%3c%22%c3%a9/worklist?token=a&#43;b%25zz%254&amp;x=%41"},
		{"script URL", "javascript:alert(1)", true, "#ZgotmplZ"},
		{"reserved characters kept", "https://h/a#f!$*,;@[]()~ x", true, "https://h/a#f!$*,;@[]%28%29~%20x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := &writer{html: true}
			if tt.url {
				w.F("%s", href(tt.in))
			} else {
				w.F("%s", tt.in)
			}
			if got := w.b.String(); got != tt.want {
				t.Errorf("HTML of %q = %q, want %q", tt.in, got, tt.want)
			}
			w = &writer{}
			if w.F("%s", tt.in); w.b.String() != tt.in {
				t.Errorf("text of %q = %q, want it as it is", tt.in, w.b.String())
			}
		})
	}
}

// TestRenderEscapesEveryValue puts markup in every free-text field of every kind and wants no
// tag of it in the HTML, and the link's quotes escaped so they cannot end the href.
func TestRenderEscapesEveryValue(t *testing.T) {
	t.Parallel()
	const hostile = `<i>x</i>"'&`
	for _, kind := range Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			m := messageFor(t, kind)
			m.PatientGivenName, m.AreaName, m.RecipientName = hostile, hostile, hostile
			if m.SpecialistName != "" {
				m.SpecialistName = hostile
			}
			if m.Link != "" {
				m.Link += `&x="><i>`
			}
			r := mustRender(t, m)
			if strings.Contains(r.HTML, "<i>") || strings.Contains(r.HTML, `"><`) {
				t.Errorf("HTML keeps markup from a value:\n%s", r.HTML)
			}
			if !strings.Contains(r.HTML, "&lt;i&gt;x&lt;/i&gt;&#34;&#39;&amp;") {
				t.Errorf("HTML lacks the escaped value:\n%s", r.HTML)
			}
			if !strings.Contains(r.Text, hostile) {
				t.Errorf("text does not read the value as it is:\n%s", r.Text)
			}
		})
	}
}
