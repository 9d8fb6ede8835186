package referral

import (
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// outcomesReferral is received on 2026-03-02 late in the evening UTC, which is still 2 March in
// London (GMT); it has met the specialist and has the given later events.
func outcomesReferral(s Status, events ...Event) Referral {
	r := referralIn(s)
	r.ReceivedAt = time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)
	r.Events = append([]Event{{Type: EventReceived}, {Type: EventMet}}, events...)
	return r
}

func TestApplyOutcomes(t *testing.T) {
	job := Event{Type: EventJobStarted, Detail: "start=2026-03-09;hours=16;self-employed=no"}
	tests := []struct {
		name        string
		r           Referral
		edit        func(*Command)
		wantCode    Code
		wantField   string
		wantText    string // in the refusal's message
		wantAlready bool
		wantStatus  Status
		wantDetail  string
		wantDue     string // the outcome check's due day, "" for none
		wantDone    bool
	}{
		{name: "employer contact", r: outcomesReferral(StatusEngaged), edit: func(c *Command) { c.Kind = KindEmployerContact },
			wantStatus: StatusEngaged, wantDetail: "2026-03-09"},
		{name: "employer contact defaults to today in London", r: outcomesReferral(StatusInWork, job),
			edit: func(c *Command) { c.Kind, c.Date = KindEmployerContact, "" }, wantStatus: StatusInWork, wantDetail: "2026-03-10", wantDue: "2026-06-29"},
		{name: "employer contact on the day received", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.Date = KindEmployerContact, "2026-03-02" }, wantStatus: StatusEngaged, wantDetail: "2026-03-02"},
		{name: "employer contact the day before received", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.Date = KindEmployerContact, "2026-03-01" }, wantCode: CodeInvalid, wantField: DateField, wantText: "on or after 2 March 2026"},
		{name: "employer contact tomorrow", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.Date = KindEmployerContact, "2026-03-11" }, wantCode: CodeInvalid, wantField: DateField, wantText: "today or in the past"},
		{name: "employer contact on 30 February", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.Date = KindEmployerContact, "2026-02-30" }, wantCode: CodeInvalid, wantField: DateField, wantText: "real date"},
		{name: "employer contact again on the same date", r: outcomesReferral(StatusEngaged, Event{Type: EventEmployerContact, Detail: "2026-03-09"}),
			edit: func(c *Command) { c.Kind = KindEmployerContact }, wantAlready: true, wantStatus: StatusEngaged},
		{name: "employer contact before the meeting", r: outcomesReferral(StatusContacted),
			edit: func(c *Command) { c.Kind = KindEmployerContact }, wantCode: CodeConflict, wantText: StatusContacted.Words()},

		{name: "first job start schedules the outcome check 16 weeks on", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind = KindJobStart }, wantStatus: StatusInWork, wantDetail: job.Detail, wantDue: "2026-06-29"},
		{name: "second job start is a new job, the first job's check stays", r: outcomesReferral(StatusInWork, job),
			edit: func(c *Command) {
				c.Kind, c.StartDate, c.HoursPerWeek, c.SelfEmployed = KindJobStart, "2026-03-10", 30, "yes"
			},
			wantStatus: StatusInWork, wantDetail: "start=2026-03-10;hours=30;self-employed=yes", wantDue: "2026-06-29"},
		{name: "the same job again", r: outcomesReferral(StatusInWork, job),
			edit: func(c *Command) { c.Kind = KindJobStart }, wantAlready: true, wantStatus: StatusInWork, wantDue: "2026-06-29"},
		{name: "job start 0 hours", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.HoursPerWeek = KindJobStart, 0 }, wantCode: CodeInvalid, wantField: HoursPerWeekField},
		{name: "job start before received", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.StartDate = KindJobStart, "2026-02-27" }, wantCode: CodeInvalid, wantField: StartDateField},
		{name: "job start without a date", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.StartDate = KindJobStart, "" }, wantCode: CodeInvalid, wantField: StartDateField, wantText: "Enter the date the job started"},
		{name: "job start without self-employment", r: outcomesReferral(StatusEngaged),
			edit: func(c *Command) { c.Kind, c.SelfEmployed = KindJobStart, "" }, wantCode: CodeInvalid, wantField: SelfEmployedField},

		{name: "outcome", r: outcomesReferral(StatusInWork, job), edit: func(c *Command) { c.Kind, c.Sustained = KindOutcome, "no" },
			wantStatus: StatusInWork, wantDetail: "not-sustained"},
		{name: "outcome before any job start", r: outcomesReferral(StatusEngaged), edit: func(c *Command) { c.Kind = KindOutcome },
			wantCode: CodeConflict, wantText: "No job start has been recorded"},
		{name: "outcome again for the same job", r: outcomesReferral(StatusInWork, job, Event{Type: EventOutcome, Detail: "sustained"}),
			edit: func(c *Command) { c.Kind, c.Sustained = KindOutcome, "no" }, wantAlready: true, wantStatus: StatusInWork},
		{name: "outcome of a second job", r: outcomesReferral(StatusInWork, job, Event{Type: EventOutcome, Detail: "sustained"}, job),
			edit: func(c *Command) { c.Kind = KindOutcome }, wantStatus: StatusInWork, wantDetail: "sustained"},
		{name: "a job after an outcome schedules no check", r: outcomesReferral(StatusInWork, Event{Type: EventOutcome, Detail: "sustained"}),
			edit: func(c *Command) { c.Kind = KindJobStart }, wantStatus: StatusInWork, wantDetail: job.Detail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCommand(KindContact)
			tt.edit(&c)
			tr, err := Apply(tt.r, c, transitionNow)
			if tt.wantCode != "" {
				// A field's words are in its field error (checked below), a conflict's in the error.
				if ErrorCode(err) != tt.wantCode || (tt.wantField == "" && !strings.Contains(err.Error(), tt.wantText)) {
					t.Fatalf("got %+v, %v; want %s saying %q", tr, err, tt.wantCode, tt.wantText)
				}
				if fs := FieldErrors(err); tt.wantField != "" && (len(fs) != 1 || fs[0].Field != tt.wantField || !strings.Contains(fs[0].Message, tt.wantText)) {
					t.Errorf("fields %+v, want one on %s saying %q", fs, tt.wantField, tt.wantText)
				}
				return
			}
			if err != nil || tr.AlreadyRecorded != tt.wantAlready || tr.Referral.Status != tt.wantStatus || tr.Event.Detail != tt.wantDetail {
				t.Fatalf("got %+v, %v; want status %s detail %q already %v", tr, err, tt.wantStatus, tt.wantDetail, tt.wantAlready)
			}
			if due, ok := tr.Referral.OutcomeCheckDue(); ok != (tt.wantDue != "") || (ok && due.String() != tt.wantDue) {
				t.Errorf("outcome check due %v (%v), want %q", due, ok, tt.wantDue)
			}
		})
	}
}

// Jobs reads the job-started details Apply writes (the returns' format) and pairs each outcome
// with the job started last before it.
func TestJobs(t *testing.T) {
	r := outcomesReferral(StatusInWork,
		Event{Type: EventJobStarted, Detail: JobDetail("2026-03-03", 12, "yes")},
		Event{Type: EventOutcome, Detail: "not-sustained"},
		Event{Type: EventJobStarted, Detail: "start=2026-03-04;hours=x;self-employed=no"}, // unreadable: left out
		Event{Type: EventJobStarted, Detail: JobDetail("2026-03-09", 37, "no")},
	)
	got := r.Jobs()
	want := []Job{
		{Start: calendar.Date{Year: 2026, Month: 3, Day: 3}, HoursPerWeek: 12, SelfEmployed: true, Outcome: "not-sustained"},
		{Start: calendar.Date{Year: 2026, Month: 3, Day: 9}, HoursPerWeek: 37},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Jobs = %+v, want %+v", got, want)
	}
	if r.OutcomeRecorded() {
		t.Error("the latest job has no outcome yet")
	}
	if JobDetail("2026-03-09", 37, "no") != "start=2026-03-09;hours=37;self-employed=no" {
		t.Errorf("JobDetail = %q", JobDetail("2026-03-09", 37, "no"))
	}
}
