package dynamo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/actions"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// The specialist's outcome actions (SPEC §4, §9) end to end through the actions handler and this
// store on DynamoDB Local: what each request answers, and what the stored item then holds.

// outcomesNow is 10 December 2026, 23:30 UTC: already 10 December in London (GMT). The test
// referrals were received on 23 November 2026.
var outcomesNow = time.Date(2026, 12, 10, 23, 30, 0, 0, time.UTC)

type outcomesFixture struct {
	dynamo.OutcomesStore
	handler *actions.Handler
	signer  *signedlink.Signer
}

func newOutcomesFixture(t *testing.T) outcomesFixture {
	t.Helper()
	f := dynamo.NewOutcomesStore(t)
	signer, err := signedlink.NewSigner([]byte("outcomes-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return outcomesNow }
	h := &actions.Handler{
		Links:    signer,
		Progress: &referral.Progress{Store: f.Progress, Now: now},
		Log:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now:      now,
		Budget:   10 * time.Second,
	}
	return outcomesFixture{OutcomesStore: f, handler: h, signer: signer}
}

// post sends a form to /referrals/{id}/{action} with the token of specialist (valid for a day).
func (f outcomesFixture) post(t *testing.T, r referral.Referral, specialist, action, form string, expires time.Time) events.APIGatewayV2HTTPResponse {
	t.Helper()
	token := f.signer.Sign(r.ID, specialist, expires)
	p := "/referrals/" + r.ID + "/" + action
	req := events.APIGatewayV2HTTPRequest{
		RawPath: p, Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"},
		Body: "token=" + url.QueryEscape(token) + "&" + form,
	}
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = http.MethodPost, p
	res, err := f.handler.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return res
}

func TestOutcomeActions(t *testing.T) {
	t.Parallel()
	f := newOutcomesFixture(t)
	day := outcomesNow.Add(24 * time.Hour)
	const (
		firstJob  = "startDate=2026-12-01&hoursPerWeek=20&selfEmployed=no"
		firstJobD = "start=2026-12-01;hours=20;self-employed=no"
		// The Due entry (area/dueAt/dueKind): every open assigned referral has one in its area.
		checkDue   = "south-yorkshire/2027-03-23/outcome-check" // the first job + 16 weeks
		noDeadline = "south-yorkshire/9999-12-31/"
	)
	type step struct{ action, form string }
	meeting := step{"meeting", ""}
	job := step{"job-start", firstJob}
	tests := []struct {
		name       string
		before     []step // recorded first, each must answer 200
		specialist string // "" for the one it is assigned to
		expires    time.Time
		action     string
		form       string
		wantStatus int
		wantBody   []string
		// unchanged: the raw item must be exactly as before the request.
		unchanged bool
		// else the item after it:
		wantRefStatus referral.Status
		wantEvent     string // type:detail of the last event
		wantDue       string // dueShard/dueAt/dueKind
	}{
		{name: "employer contact from the date input", before: []step{meeting}, action: "employer-contact",
			form: "date-day=1&date-month=12&date-year=2026", wantStatus: 200, wantBody: []string{"Employer contact recorded", "Tuesday 1 December 2026"},
			wantRefStatus: referral.StatusEngaged, wantEvent: "employer-contact:2026-12-01", wantDue: noDeadline},
		{name: "employer contact as one date field", before: []step{meeting}, action: "employer-contact", form: "date=2026-11-23",
			wantStatus: 200, wantRefStatus: referral.StatusEngaged, wantEvent: "employer-contact:2026-11-23", wantDue: noDeadline},
		{name: "employer contact without a date is today in London", before: []step{meeting}, action: "employer-contact",
			wantStatus: 200, wantRefStatus: referral.StatusEngaged, wantEvent: "employer-contact:2026-12-10", wantDue: noDeadline},
		{name: "employer contact again on the same date", before: []step{meeting, {"employer-contact", "date=2026-12-02"}}, action: "employer-contact",
			form: "date-day=2&date-month=12&date-year=2026", wantStatus: 200, wantBody: []string{"Employer contact already recorded", "Nothing has been changed"}, unchanged: true},
		{name: "employer contact tomorrow", before: []step{meeting}, action: "employer-contact", form: "date-day=11&date-month=12&date-year=2026",
			wantStatus: 400, wantBody: []string{"There is a problem", `href="#date-day"`, "must be today or in the past", `value="11"`}, unchanged: true},
		{name: "employer contact before the referral was received", before: []step{meeting}, action: "employer-contact", form: "date=2026-11-22",
			wantStatus: 400, wantBody: []string{`href="#date-day"`, "on or after 23 November 2026", `value="22"`}, unchanged: true},
		{name: "employer contact on 30 February", before: []step{meeting}, action: "employer-contact", form: "date=2026-02-30",
			wantStatus: 400, wantBody: []string{`href="#date-day"`, "as a real date"}, unchanged: true},
		{name: "employer contact before the first meeting", action: "employer-contact", form: "date=2026-12-01",
			wantStatus: 409, wantBody: []string{"has not yet reached the patient"}, unchanged: true},

		{name: "first job start: in work, outcome check in 16 weeks", before: []step{meeting}, action: "job-start",
			form:       "startDate-day=1&startDate-month=12&startDate-year=2026&hoursPerWeek=20&selfEmployed=no",
			wantStatus: 200, wantBody: []string{"Job start recorded", "20 hours a week"},
			wantRefStatus: referral.StatusInWork, wantEvent: "job-started:" + firstJobD, wantDue: checkDue},
		{name: "second job start is a new job and keeps the first job's check", before: []step{meeting, job}, action: "job-start",
			form: "startDate=2026-12-08&hoursPerWeek=8&selfEmployed=yes", wantStatus: 200,
			wantRefStatus: referral.StatusInWork, wantEvent: "job-started:start=2026-12-08;hours=8;self-employed=yes", wantDue: checkDue},
		{name: "the same job again", before: []step{meeting, job}, action: "job-start", form: firstJob,
			wantStatus: 200, wantBody: []string{"Job start already recorded"}, unchanged: true},
		{name: "job start 0 hours", before: []step{meeting}, action: "job-start", form: "startDate=2026-12-01&hoursPerWeek=0&selfEmployed=no",
			wantStatus: 400, wantBody: []string{`href="#hoursPerWeek"`, "whole number from 1 to 80"}, unchanged: true},
		{name: "job start 81 hours", before: []step{meeting}, action: "job-start", form: "startDate=2026-12-01&hoursPerWeek=81&selfEmployed=no",
			wantStatus: 400, wantBody: []string{`href="#hoursPerWeek"`, `value="81"`}, unchanged: true},
		{name: "job start x hours", before: []step{meeting}, action: "job-start", form: "startDate=2026-12-01&hoursPerWeek=x&selfEmployed=no",
			wantStatus: 400, wantBody: []string{`href="#hoursPerWeek"`, `value="x"`}, unchanged: true},
		{name: "job start without self-employed", before: []step{meeting}, action: "job-start", form: "startDate=2026-12-01&hoursPerWeek=20",
			wantStatus: 400, wantBody: []string{`href="#selfEmployed"`, "Select whether the patient is self-employed"}, unchanged: true},
		{name: "job start in the future, every bad field at once", before: []step{meeting}, action: "job-start",
			form:       "startDate-day=1&startDate-month=1&startDate-year=2027&hoursPerWeek=0",
			wantStatus: 400, wantBody: []string{`href="#startDate-day"`, `href="#hoursPerWeek"`, `href="#selfEmployed"`, `value="2027"`}, unchanged: true},

		{name: "outcome before any job start", before: []step{meeting}, action: "outcome", form: "sustained=yes",
			wantStatus: 409, wantBody: []string{"No job start has been recorded", "Record the job start first", "support has started"}, unchanged: true},
		{name: "outcome ends the outcome check", before: []step{meeting, job}, action: "outcome", form: "sustained=yes",
			wantStatus: 200, wantBody: []string{"Job outcome recorded", "sustained"},
			wantRefStatus: referral.StatusInWork, wantEvent: "outcome:sustained", wantDue: noDeadline},
		{name: "outcome not sustained", before: []step{meeting, job}, action: "outcome", form: "sustained=no",
			wantStatus: 200, wantRefStatus: referral.StatusInWork, wantEvent: "outcome:not-sustained", wantDue: noDeadline},
		{name: "a job after the outcome schedules no check", before: []step{meeting, job, {"outcome", "sustained=no"}}, action: "job-start",
			form: "startDate=2026-12-09&hoursPerWeek=30&selfEmployed=no", wantStatus: 200,
			wantRefStatus: referral.StatusInWork, wantEvent: "job-started:start=2026-12-09;hours=30;self-employed=no", wantDue: noDeadline},
		{name: "outcome again", before: []step{meeting, job, {"outcome", "sustained=no"}}, action: "outcome", form: "sustained=yes",
			wantStatus: 200, wantBody: []string{"Job outcome already recorded"}, unchanged: true},
		{name: "outcome without an answer", before: []step{meeting, job}, action: "outcome",
			wantStatus: 400, wantBody: []string{`href="#sustained"`}, unchanged: true},

		{name: "another specialist's token", before: []step{meeting}, specialist: "someone-else", action: "job-start", form: firstJob,
			wantStatus: 403, unchanged: true},
		{name: "an expired token", before: []step{meeting, job}, expires: outcomesNow.Add(-time.Minute), action: "outcome", form: "sustained=yes",
			wantStatus: 403, wantBody: []string{"This link has expired"}, unchanged: true},
	}
	for i, tt := range tests {
		// In turn: each case checks its specialist's caseload, which the others' referrals change.
		t.Run(tt.name, func(t *testing.T) {
			r := f.Record(t, nhsNumberFor(i))
			caseload := f.Caseload(t, r.SpecialistID)
			for _, s := range tt.before {
				if res := f.post(t, r, r.SpecialistID, s.action, s.form, day); res.StatusCode != 200 {
					t.Fatalf("before: %s %s = %d", s.action, s.form, res.StatusCode)
				}
			}
			before := f.Raw(t, r.ID)
			specialist, expires := r.SpecialistID, day
			if tt.specialist != "" {
				specialist = tt.specialist
			}
			if !tt.expires.IsZero() {
				expires = tt.expires
			}
			res := f.post(t, r, specialist, tt.action, tt.form, expires)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.wantStatus, res.Body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(res.Body, w) {
					t.Errorf("body does not contain %q", w)
				}
			}
			if tt.unchanged {
				if after := f.Raw(t, r.ID); !reflect.DeepEqual(before, after) {
					t.Errorf("item changed:\nbefore %v\nafter  %v", before, after)
				}
				return
			}
			it, err := f.Progress.Get(context.Background(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := it.Events[len(it.Events)-1]
			if it.Status != tt.wantRefStatus || last.Type+":"+last.Detail != tt.wantEvent || last.By != r.SpecialistID || last.Via != referral.ViaSignedLink {
				t.Errorf("status %s, last event %+v; want %s, %s", it.Status, last, tt.wantRefStatus, tt.wantEvent)
			}
			if n := len(before["events"].(*ddb.AttributeValueMemberL).Value); len(it.Events) != n+1 {
				t.Errorf("%d events after, want one more than the %d before", len(it.Events), n)
			}
			if due := f.Due(t, r.ID); due != tt.wantDue {
				t.Errorf("due %q, want %q", due, tt.wantDue)
			}
			if got := f.Caseload(t, r.SpecialistID); got != caseload {
				t.Errorf("caseload %d, want %d (in work keeps its unit)", got, caseload)
			}
		})
	}
}

// nhsNumberFor gives each test case its own patient, so each has its own open case.
func nhsNumberFor(i int) string { return fmt.Sprintf("94347%05d", i) }
