package referral

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// fakeProgressStore is a hand-written fake: get says what each read returns (call n counts from
// 0), write what each write returns. It records every write.
type fakeProgressStore struct {
	get    func(n int) (Referral, error)
	write  func(method string, r Referral, e Event) error
	gets   int
	writes []progressWrite
}

type progressWrite struct {
	method string
	r      Referral
	e      Event
}

func (f *fakeProgressStore) Get(_ context.Context, _ string) (Referral, error) {
	f.gets++
	return f.get(f.gets - 1)
}

func (f *fakeProgressStore) do(method string, r Referral, e Event) error {
	f.writes = append(f.writes, progressWrite{method, r, e})
	if f.write == nil {
		return nil
	}
	return f.write(method, r, e)
}

func (f *fakeProgressStore) RecordContact(_ context.Context, r Referral, t Transition) error {
	return f.do("contact", r, t.Event)
}
func (f *fakeProgressStore) RecordMeeting(_ context.Context, r Referral, t Transition) error {
	return f.do("meeting", r, t.Event)
}
func (f *fakeProgressStore) RecordAttempt(_ context.Context, r Referral, t Transition) error {
	return f.do("attempt", r, t.Event)
}
func (f *fakeProgressStore) Close(_ context.Context, r Referral, t Transition) error {
	return f.do("close", r, t.Event)
}
func (f *fakeProgressStore) RecordEmployerContact(_ context.Context, r Referral, t Transition) error {
	return f.do("employer-contact", r, t.Event)
}
func (f *fakeProgressStore) RecordJobStart(_ context.Context, r Referral, t Transition) error {
	return f.do("job-start", r, t.Event)
}
func (f *fakeProgressStore) RecordOutcome(_ context.Context, r Referral, t Transition) error {
	return f.do("outcome", r, t.Event)
}

var _ ProgressStore = (*fakeProgressStore)(nil)

type fakeDrainer struct {
	err   error
	areas []string
}

func (f *fakeDrainer) Drain(_ context.Context, area string) error {
	f.areas = append(f.areas, area)
	return f.err
}

var progressNow = time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC)

func progressReferral(status Status, specialist string, events ...string) Referral {
	r := Referral{
		ID: "R-7K3M9QX2", Area: "south-yorkshire", Status: status, SpecialistID: specialist,
		ReceivedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		ContactBy:  calendar.Date{Year: 2026, Month: 11, Day: 25}, MeetBy: calendar.Date{Year: 2026, Month: 12, Day: 7},
		Events: []Event{
			{At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Type: EventReceived, By: System, Via: "form"},
			{At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Type: EventAssigned, By: System, Via: "intake"},
		},
	}
	for _, e := range events {
		r.Events = append(r.Events, Event{At: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), Type: e, By: specialist, Via: ViaSignedLink})
	}
	return r
}

// reads returns each referral in turn, then the last one for every later read.
func reads(rs ...Referral) func(int) (Referral, error) {
	return func(n int) (Referral, error) { return rs[min(n, len(rs)-1)], nil }
}

func codeOf(err error) Code {
	if err == nil {
		return ""
	}
	return ErrorCode(err)
}

func TestNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status      Status
		events      []string
		action      Action
		wantTo      Status
		wantAlready bool
		wantCode    Code
	}{
		{status: StatusAssigned, action: ActionContact, wantTo: StatusContacted},
		{status: StatusContacted, action: ActionContact, wantTo: StatusContacted, wantAlready: true},
		{status: StatusEngaged, action: ActionContact, wantTo: StatusEngaged, wantAlready: true},
		{status: StatusClosed, events: []string{EventContacted, EventClosed}, action: ActionContact, wantTo: StatusClosed, wantAlready: true},
		{status: StatusClosed, events: []string{EventMet, EventClosed}, action: ActionContact, wantTo: StatusClosed, wantAlready: true},
		{status: StatusClosed, events: []string{EventClosed}, action: ActionContact, wantTo: StatusClosed, wantCode: CodeConflict},
		{status: StatusWaitlisted, action: ActionContact, wantTo: StatusWaitlisted, wantCode: CodeConflict},

		{status: StatusAssigned, action: ActionMeeting, wantTo: StatusEngaged},
		{status: StatusContacted, action: ActionMeeting, wantTo: StatusEngaged},
		{status: StatusEngaged, action: ActionMeeting, wantTo: StatusEngaged, wantAlready: true},
		{status: StatusClosed, events: []string{EventMet, EventClosed}, action: ActionMeeting, wantTo: StatusClosed, wantAlready: true},
		{status: StatusClosed, events: []string{EventContacted, EventClosed}, action: ActionMeeting, wantTo: StatusClosed, wantCode: CodeConflict},
		{status: StatusWaitlisted, action: ActionMeeting, wantTo: StatusWaitlisted, wantCode: CodeConflict},

		{status: StatusAssigned, action: ActionClose, wantTo: StatusClosed},
		{status: StatusContacted, action: ActionClose, wantTo: StatusClosed},
		{status: StatusEngaged, action: ActionClose, wantTo: StatusClosed},
		{status: StatusClosed, action: ActionClose, wantTo: StatusClosed, wantAlready: true},
		{status: StatusWaitlisted, action: ActionClose, wantTo: StatusWaitlisted, wantCode: CodeConflict},

		{status: StatusAssigned, action: "archive", wantTo: StatusAssigned, wantCode: CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %v", tt.action, tt.status, tt.events), func(t *testing.T) {
			t.Parallel()
			to, already, err := next(progressReferral(tt.status, "ann", tt.events...), tt.action)
			if to != tt.wantTo || already != tt.wantAlready || codeOf(err) != tt.wantCode {
				t.Errorf("Next = %s, already %v, err %v; want %s, %v, code %q", to, already, err, tt.wantTo, tt.wantAlready, tt.wantCode)
			}
		})
	}
}

func TestProgressRecord(t *testing.T) {
	t.Parallel()
	assigned := progressReferral(StatusAssigned, "ann")
	contacted := progressReferral(StatusContacted, "ann", EventContacted)
	closed := progressReferral(StatusClosed, "ann", EventClosed)
	reassigned := progressReferral(StatusAssigned, "bob")
	changed := func(string, Referral, Event) error { return ErrChanged }
	tests := []struct {
		name        string
		req         ActionRequest
		get         func(int) (Referral, error)
		write       func(string, Referral, Event) error
		drainErr    error
		noDrainer   bool
		wantCode    Code
		wantWrites  []string // methods called, in order
		wantStatus  Status   // of the returned referral, when no error
		wantAlready bool
		wantDrained bool
		wantDrainEr bool
		wantFields  []string
	}{
		{name: "contact on assigned", req: ActionRequest{Action: ActionContact}, get: reads(assigned),
			wantWrites: []string{"contact"}, wantStatus: StatusContacted},
		{name: "contact again is already recorded", req: ActionRequest{Action: ActionContact}, get: reads(contacted),
			wantStatus: StatusContacted, wantAlready: true},
		{name: "meeting on assigned", req: ActionRequest{Action: ActionMeeting}, get: reads(assigned),
			wantWrites: []string{"meeting"}, wantStatus: StatusEngaged},
		{name: "meeting on contacted", req: ActionRequest{Action: ActionMeeting}, get: reads(contacted),
			wantWrites: []string{"meeting"}, wantStatus: StatusEngaged},
		{name: "close drains the waitlist", req: ActionRequest{Action: ActionClose, Reason: "job-started"}, get: reads(contacted),
			wantWrites: []string{"close"}, wantStatus: StatusClosed, wantDrained: true},
		{name: "close with a failing drain is still closed", req: ActionRequest{Action: ActionClose, Reason: "declined"}, get: reads(assigned),
			drainErr: errors.New("throttled"), wantWrites: []string{"close"}, wantStatus: StatusClosed, wantDrained: true, wantDrainEr: true},
		{name: "close without a drainer", req: ActionRequest{Action: ActionClose, Reason: "other"}, get: reads(assigned), noDrainer: true,
			wantWrites: []string{"close"}, wantStatus: StatusClosed},
		{name: "close again is already recorded and drains nothing", req: ActionRequest{Action: ActionClose, Reason: "other"}, get: reads(closed),
			wantStatus: StatusClosed, wantAlready: true},
		{name: "close again without a reason is already recorded too", req: ActionRequest{Action: ActionClose}, get: reads(closed),
			wantStatus: StatusClosed, wantAlready: true},
		{name: "close without a reason", req: ActionRequest{Action: ActionClose}, get: reads(assigned),
			wantCode: CodeInvalid, wantFields: []string{ReasonField}},
		{name: "close with an unknown reason", req: ActionRequest{Action: ActionClose, Reason: "bored"}, get: reads(assigned),
			wantCode: CodeInvalid, wantFields: []string{ReasonField}},
		{name: "another specialist's referral", req: ActionRequest{Action: ActionContact}, get: reads(reassigned), wantCode: CodeForbidden},
		{name: "another specialist is forbidden before the reason is checked", req: ActionRequest{Action: ActionClose}, get: reads(reassigned), wantCode: CodeForbidden},
		{name: "waitlisted referral belongs to nobody", req: ActionRequest{Action: ActionContact}, get: reads(progressReferral(StatusWaitlisted, "")), wantCode: CodeForbidden},
		{name: "contact on a closed referral without contact conflicts", req: ActionRequest{Action: ActionContact}, get: reads(closed), wantCode: CodeConflict},
		{name: "not found", req: ActionRequest{Action: ActionContact},
			get:      func(int) (Referral, error) { return Referral{}, Errorf(CodeNotFound, "Page not found") },
			wantCode: CodeNotFound},
		{name: "store down on read", req: ActionRequest{Action: ActionContact},
			get:      func(int) (Referral, error) { return Referral{}, errors.New("connection refused") },
			wantCode: CodeUnavailable},
		{name: "store down on write", req: ActionRequest{Action: ActionContact}, get: reads(assigned),
			write: func(string, Referral, Event) error { return errors.New("connection refused") }, wantCode: CodeUnavailable, wantWrites: []string{"contact"}},
		{name: "concurrent double click: re-read says already recorded", req: ActionRequest{Action: ActionContact}, get: reads(assigned, contacted),
			write: changed, wantWrites: []string{"contact"}, wantStatus: StatusContacted, wantAlready: true},
		{name: "reassigned meanwhile: re-read says forbidden", req: ActionRequest{Action: ActionMeeting}, get: reads(assigned, reassigned),
			write: changed, wantWrites: []string{"meeting"}, wantCode: CodeForbidden},
		{name: "contacted meanwhile: meeting is written again from contacted", req: ActionRequest{Action: ActionMeeting}, get: reads(assigned, contacted),
			write: func(_ string, r Referral, _ Event) error {
				if r.Status == StatusAssigned {
					return ErrChanged
				}
				return nil
			},
			wantWrites: []string{"meeting", "meeting"}, wantStatus: StatusEngaged},
		{name: "always changed gives up", req: ActionRequest{Action: ActionContact}, get: reads(assigned), write: changed,
			wantWrites: []string{"contact", "contact", "contact", "contact"}, wantCode: CodeUnavailable},
		{name: "unknown action", req: ActionRequest{Action: "archive"}, get: reads(assigned), wantCode: CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &fakeProgressStore{get: tt.get, write: tt.write}
			drainer := &fakeDrainer{err: tt.drainErr}
			p := &Progress{Store: store, Drain: drainer, Now: func() time.Time { return progressNow }}
			if tt.noDrainer {
				p.Drain = nil
			}
			req := tt.req
			req.ReferralID, req.SpecialistID = "R-7K3M9QX2", "ann"
			out, err := p.Record(context.Background(), req)
			if codeOf(err) != tt.wantCode {
				t.Fatalf("Record error = %v (code %q), want code %q", err, codeOf(err), tt.wantCode)
			}
			var methods []string
			for _, w := range store.writes {
				methods = append(methods, w.method)
			}
			if fmt.Sprint(methods) != fmt.Sprint(tt.wantWrites) {
				t.Errorf("writes = %v, want %v", methods, tt.wantWrites)
			}
			if fmt.Sprint(drainer.areas) != fmt.Sprint(map[bool][]string{true: {"south-yorkshire"}}[tt.wantDrained]) {
				t.Errorf("drained %v, want drained=%v", drainer.areas, tt.wantDrained)
			}
			if (out.DrainErr != nil) != tt.wantDrainEr {
				t.Errorf("DrainErr = %v, want set=%v", out.DrainErr, tt.wantDrainEr)
			}
			var fields []string
			for _, f := range FieldErrors(err) {
				fields = append(fields, f.Field)
			}
			if fmt.Sprint(fields) != fmt.Sprint(tt.wantFields) {
				t.Errorf("fields = %v, want %v", fields, tt.wantFields)
			}
			if tt.wantCode == CodeInvalid && out.Referral.ID != "R-7K3M9QX2" {
				t.Errorf("a field error should come with the referral, to show the page again: %+v", out)
			}
			if err != nil {
				return
			}
			if out.Referral.Status != tt.wantStatus || out.AlreadyRecorded != tt.wantAlready {
				t.Errorf("out = status %s already %v, want %s %v", out.Referral.Status, out.AlreadyRecorded, tt.wantStatus, tt.wantAlready)
			}
			if tt.wantAlready || len(store.writes) == 0 {
				return
			}
			last := store.writes[len(store.writes)-1]
			want := Event{At: progressNow, Type: eventOf[tt.req.Action], By: "ann", Via: ViaSignedLink}
			if tt.req.Action == ActionClose {
				want.Detail = tt.req.Reason
			}
			if last.e != want {
				t.Errorf("event written = %+v, want %+v", last.e, want)
			}
			if got := out.Referral.Events[len(out.Referral.Events)-1]; got != want {
				t.Errorf("returned referral's last event = %+v, want %+v", got, want)
			}
			if last.r.SpecialistID != "ann" || last.r.ID != "R-7K3M9QX2" {
				t.Errorf("write conditioned on %s/%s", last.r.ID, last.r.SpecialistID)
			}
		})
	}
}

func TestProgressView(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		referral   Referral
		getErr     error
		specialist string
		wantCode   Code
	}{
		{name: "assigned to the viewer", referral: progressReferral(StatusAssigned, "ann"), specialist: "ann"},
		{name: "closed, still theirs", referral: progressReferral(StatusClosed, "ann", EventClosed), specialist: "ann"},
		{name: "reassigned", referral: progressReferral(StatusAssigned, "bob"), specialist: "ann", wantCode: CodeForbidden},
		{name: "waitlisted", referral: progressReferral(StatusWaitlisted, ""), specialist: "ann", wantCode: CodeForbidden},
		{name: "empty specialist never matches a waitlisted referral", referral: progressReferral(StatusWaitlisted, ""), specialist: "", wantCode: CodeForbidden},
		{name: "missing", getErr: Errorf(CodeNotFound, "Page not found"), specialist: "ann", wantCode: CodeNotFound},
		{name: "store down", getErr: errors.New("timeout"), specialist: "ann", wantCode: CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &fakeProgressStore{get: func(int) (Referral, error) { return tt.referral, tt.getErr }}
			p := &Progress{Store: store, Now: func() time.Time { return progressNow }}
			r, err := p.View(context.Background(), "R-7K3M9QX2", tt.specialist)
			if codeOf(err) != tt.wantCode {
				t.Fatalf("View error = %v, want code %q", err, tt.wantCode)
			}
			if len(store.writes) != 0 {
				t.Errorf("View wrote %+v", store.writes)
			}
			if err == nil && r.ID != tt.referral.ID {
				t.Errorf("View = %+v", r)
			}
			if err != nil && r.ID != "" {
				t.Errorf("View returned a referral with an error: %+v", r)
			}
		})
	}
}

func TestFirstAndLastEvent(t *testing.T) {
	t.Parallel()
	r := progressReferral(StatusClosed, "ann", EventContacted, EventClosed)
	r.Events = append(r.Events, Event{At: progressNow, Type: EventClosed, Detail: "declined"})
	tests := []struct {
		name   string
		find   func(string) (Event, bool)
		typ    string
		wantOK bool
		want   Event
	}{
		{name: "first closed", find: r.FirstEvent, typ: EventClosed, wantOK: true, want: r.Events[3]},
		{name: "last closed", find: r.LastEvent, typ: EventClosed, wantOK: true, want: r.Events[4]},
		{name: "first contacted", find: r.FirstEvent, typ: EventContacted, wantOK: true, want: r.Events[2]},
		{name: "no meeting", find: r.FirstEvent, typ: EventMet},
		{name: "no meeting from the end", find: r.LastEvent, typ: EventMet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.find(tt.typ)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDrainFunc(t *testing.T) {
	t.Parallel()
	var got string
	var d Drainer = DrainFunc(func(_ context.Context, area string) error { got = area; return errors.New("x") })
	if err := d.Drain(context.Background(), "norfolk"); err == nil || got != "norfolk" {
		t.Errorf("DrainFunc: err %v, area %q", err, got)
	}
}

// eventOf is the audit event each action appends.
var eventOf = map[Action]string{ActionContact: EventContacted, ActionMeeting: EventMet, ActionClose: EventClosed}

// next says what action a would do to r, by Apply's rules (the table TestNext reads): the status r moves to, or
// already=true when a was already recorded, or a conflict *Error when a no longer makes sense.
// It does not check the close reason.
func next(r Referral, a Action) (to Status, already bool, err error) {
	k, ok := kindOf[a]
	if !ok {
		return r.Status, false, Errorf(CodeNotFound, "Page not found")
	}
	t, err := Apply(r, Command{Kind: k, Actor: ActorSpecialist, Reason: CloseReasons[0], Method: ContactAttemptMethods[0]}, time.Time{})
	switch {
	case err != nil:
		return r.Status, false, err
	case t.AlreadyRecorded:
		return r.Status, true, nil
	}
	return t.Referral.Status, false, nil
}
