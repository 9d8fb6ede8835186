package referral

import (
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// The job-started event carries the documented Detail, which ParseJobStart (and returns) read back.
func TestJobStartDetailRoundTrip(t *testing.T) {
	r := referralIn(StatusEngaged)
	c := validCommand(KindJobStart)
	c.StartDate, c.HoursPerWeek, c.SelfEmployed = "2026-03-02", 7, "yes"
	tr, err := Apply(r, c, transitionNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := "start=2026-03-02;hours=7;self-employed=yes"; tr.Event.Detail != want {
		t.Errorf("Detail = %q, want %q", tr.Event.Detail, want)
	}
	j, ok := ParseJobStart(tr.Event.Detail)
	if want := (JobStart{Start: calendar.Date{Year: 2026, Month: 3, Day: 2}, HoursPerWeek: 7, SelfEmployed: "yes"}); !ok || j != want {
		t.Errorf("ParseJobStart = %+v, %v; want %+v", j, ok, want)
	}
	for _, bad := range []string{"", "hours=7", "start=2026-02-30;hours=7", "2026-03-02;16h"} {
		if j, ok := ParseJobStart(bad); ok {
			t.Errorf("ParseJobStart(%q) = %+v, want not ok", bad, j)
		}
	}
}

// AwaitingOutcome: 16 weeks after the first job start (not a later one), while in work and until
// an outcome is recorded.
func TestAwaitingOutcome(t *testing.T) {
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	job := func(detail string) Event { return Event{At: at, Type: EventJobStarted, Detail: detail} }
	first := job("start=2026-03-02;hours=16;self-employed=no")
	tests := []struct {
		name   string
		status Status
		events []Event
		want   string // the due day; "" when not awaiting
	}{
		{"first job start", StatusInWork, []Event{first}, "2026-06-22"},
		{"a later job start changes nothing", StatusInWork, []Event{first, job("start=2026-05-04;hours=30;self-employed=no")}, "2026-06-22"},
		{"no start date: from the day recorded", StatusInWork, []Event{job("")}, "2026-06-30"},
		{"outcome recorded", StatusInWork, []Event{first, {At: at, Type: EventOutcome, Detail: "not-sustained"}}, ""},
		{"closed", StatusClosed, []Event{first, {At: at, Type: EventClosed, Detail: "job-started"}}, ""},
		{"engaged", StatusEngaged, nil, ""},
		{"in work without a job start event", StatusInWork, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := referralIn(tt.status)
			r.Events = tt.events
			due, ok := AwaitingOutcome(r)
			got := ""
			if ok {
				got = due.String()
			}
			if got != tt.want {
				t.Errorf("AwaitingOutcome = %q, want %q", got, tt.want)
			}
		})
	}
}
