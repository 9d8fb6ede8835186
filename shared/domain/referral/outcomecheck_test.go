package referral

import (
	"testing"
	"time"
)

// OutcomeCheckDue: 16 weeks after the first job's start date (not a later one's), while in work
// and until an outcome is recorded.
func TestOutcomeCheckDue(t *testing.T) {
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	job := func(start string) Event {
		return Event{At: at, Type: EventJobStarted, Detail: JobDetail(start, 16, "no")}
	}
	first := job("2026-03-02")
	tests := []struct {
		name   string
		status Status
		events []Event
		want   string // the due day; "" when none is to come
	}{
		{"first job start", StatusInWork, []Event{first}, "2026-06-22"},
		{"a later job start moves nothing", StatusInWork, []Event{first, job("2026-05-04")}, "2026-06-22"},
		{"outcome recorded", StatusInWork, []Event{first, {At: at, Type: EventOutcome, Detail: "not-sustained"}}, ""},
		{"closed", StatusClosed, []Event{first, {At: at, Type: EventClosed, Detail: "job-started"}}, ""},
		{"engaged", StatusEngaged, nil, ""},
		{"in work without a job start", StatusInWork, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := referralIn(tt.status)
			r.Events = tt.events
			day, ok := r.OutcomeCheckDue()
			got := ""
			if ok {
				got = day.String()
			}
			if got != tt.want {
				t.Errorf("OutcomeCheckDue = %q, want %q", got, tt.want)
			}
		})
	}
}

// The job-started event carries the documented Detail, which the history reads back.
func TestJobStartDetail(t *testing.T) {
	c := validCommand(KindJobStart)
	c.StartDate, c.HoursPerWeek, c.SelfEmployed = "2026-03-02", 7, "yes"
	tr, err := Apply(referralIn(StatusEngaged), c, transitionNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := "start=2026-03-02;hours=7;self-employed=yes"; tr.Event.Detail != want {
		t.Errorf("Detail = %q, want %q", tr.Event.Detail, want)
	}
	if jobs := tr.Referral.Jobs(); len(jobs) != 1 || jobs[0].Start.String() != "2026-03-02" || jobs[0].HoursPerWeek != 7 || !jobs[0].SelfEmployed {
		t.Errorf("Jobs() = %+v", jobs)
	}
}
