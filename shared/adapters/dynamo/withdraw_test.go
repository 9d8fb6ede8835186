package dynamo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// referrers is the domain's withdraw over this store, counting drains of the test area.
func (f progressFixture) referrers(drained *int) *referral.Referrers {
	var mu sync.Mutex
	return &referral.Referrers{Store: f.progress, Now: func() time.Time { return progressAt },
		Drain: referral.DrainFunc(func(_ context.Context, area string) error {
			mu.Lock()
			defer mu.Unlock()
			if area == "south-yorkshire" {
				*drained++
			}
			return nil
		})}
}

// rawItem reads the referral's item as DynamoDB holds it.
func (f progressFixture) rawItem(t *testing.T, id string) map[string]ddb.AttributeValue {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.tables.Referrals, Key: itemKey(referralPK(id), referralSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		t.Fatalf("get referral %s: %v", id, err)
	}
	return out.Item
}

func TestWithdrawThroughTheDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		capacity     int
		before       []referral.Action
		reasons      []string
		wantCode     referral.Code // of the last withdraw
		wantAlready  bool          // of the last withdraw
		wantStatus   string
		wantCaseload int
		wantOpenCase bool
		wantDrained  int
	}{
		{name: "revoked while assigned", capacity: 5, reasons: []string{"revoked"}, wantStatus: "withdrawn", wantDrained: 1},
		{name: "while contacted", capacity: 5, before: []referral.Action{referral.ActionContact}, reasons: []string{"revoked"}, wantStatus: "withdrawn", wantDrained: 1},
		{name: "while waitlisted", capacity: 0, reasons: []string{"revoked"}, wantStatus: "withdrawn", wantDrained: 1},
		{name: "repeat is already recorded", capacity: 5, reasons: []string{"revoked", "entered-in-error"}, wantAlready: true, wantStatus: "withdrawn", wantDrained: 1},
		{name: "after the meeting", capacity: 5, before: []referral.Action{referral.ActionMeeting}, reasons: []string{"revoked"},
			wantCode: referral.CodeConflict, wantStatus: "engaged", wantCaseload: 1, wantOpenCase: true},
		{name: "no reason", capacity: 5, reasons: []string{""}, wantCode: referral.CodeInvalid, wantStatus: "assigned", wantCaseload: 1, wantOpenCase: true},
		{name: "unknown reason", capacity: 5, reasons: []string{"changed-my-mind"}, wantCode: referral.CodeInvalid, wantStatus: "assigned", wantCaseload: 1, wantOpenCase: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newProgressFixture(t, tt.capacity)
			const nhs = "9434765919"
			r := f.record(t, nhs)
			p := &referral.Progress{Store: f.progress, Now: func() time.Time { return progressAt }}
			for _, a := range tt.before {
				if _, err := p.Record(context.Background(), referral.ActionRequest{ReferralID: r.ID, SpecialistID: r.SpecialistID, Action: a}); err != nil {
					t.Fatalf("%s: %v", a, err)
				}
			}
			drained := 0
			w := f.referrers(&drained)
			var out referral.Withdrawn
			var err error
			for _, reason := range tt.reasons {
				out, err = w.Withdraw(context.Background(), r.ID, reason)
			}
			if code := referral.ErrorCode(err); err != nil && code != tt.wantCode || err == nil && tt.wantCode != "" {
				t.Fatalf("withdraw: err = %v, want code %q", err, tt.wantCode)
			}
			if err == nil && out.AlreadyRecorded != tt.wantAlready {
				t.Errorf("already recorded = %v, want %v", out.AlreadyRecorded, tt.wantAlready)
			}
			item := f.stored(t, r.ID)
			if item.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", item.Status, tt.wantStatus)
			}
			if item.Status == "withdrawn" {
				if item.SpecialistID != r.SpecialistID || item.WaitArea != "" || item.DueAt != "" {
					t.Errorf("withdrawn item: specialist %q (want %q), waitArea %q, dueAt %q", item.SpecialistID, r.SpecialistID, item.WaitArea, item.DueAt)
				}
				if want := progressAt.Add(730 * 24 * time.Hour).Unix(); item.ExpiresAt != want {
					t.Errorf("expiresAt = %d, want %d (the closed-referral retention)", item.ExpiresAt, want)
				}
			}
			total := 0
			for _, c := range f.caseloads(t, "south-yorkshire") {
				total += c
			}
			if total != tt.wantCaseload {
				t.Errorf("caseloads sum to %d, want %d", total, tt.wantCaseload)
			}
			if open := f.openCase(t, nhs); (open != nil) != tt.wantOpenCase {
				t.Errorf("open case = %+v, want present %v", open, tt.wantOpenCase)
			}
			if drained != tt.wantDrained {
				t.Errorf("drained %d times, want %d", drained, tt.wantDrained)
			}
		})
	}
}

// TestWithdrawEnteredInErrorErasesPersonalData reads the raw item after an entered-in-error
// withdraw: none of the patient's personal fields or values are left, the open case is gone, and
// the audit history is intact.
func TestWithdrawEnteredInErrorErasesPersonalData(t *testing.T) {
	t.Parallel()
	f := newProgressFixture(t, 5)
	const nhs = "9434765919"
	in := newReferral(nhs, "south-yorkshire")
	in.Patient.Email = "sam.taylor@example.com"
	in.Notes = "Prefers mornings; lives with sister"
	in.HealthConditions = []string{"mental-health", "musculoskeletal"}
	r, err := f.store.Record(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.stored(t, r.ID).Events)
	drained := 0
	out, err := f.referrers(&drained).Withdraw(context.Background(), r.ID, referral.WithdrawEnteredInError)
	if err != nil || !out.Erased {
		t.Fatalf("withdraw: %v (erased %v)", err, out.Erased)
	}

	raw := f.rawItem(t, r.ID)
	for _, attr := range []string{"notes", "healthConditions", "patientKey"} {
		if _, ok := raw[attr]; ok {
			t.Errorf("raw item still has %s", attr)
		}
	}
	patient, ok := raw["patient"].(*ddb.AttributeValueMemberM)
	if !ok {
		t.Fatalf("raw patient = %T", raw["patient"])
	}
	for _, attr := range []string{"familyName", "nhsNumber", "dateOfBirth", "phone", "email", "preferredContact"} {
		if v, ok := patient.Value[attr]; ok {
			t.Errorf("raw patient still has %s = %v", attr, v)
		}
	}
	if g, _ := patient.Value["givenName"].(*ddb.AttributeValueMemberS); g == nil || g.Value != "S" {
		t.Errorf("givenName = %v, want the initial S", patient.Value["givenName"])
	}
	if pc, _ := patient.Value["postcode"].(*ddb.AttributeValueMemberS); pc == nil || pc.Value != "S1" {
		t.Errorf("postcode = %v, want the outward code S1", patient.Value["postcode"])
	}
	dump := fmt.Sprintf("%#v", raw)
	for _, value := range []string{"Taylor", nhs, "1988-02-29", "07700900123", "sam.taylor@example.com", "Prefers mornings", "mental-health", "S1 2HH", "Sam"} {
		if strings.Contains(dump, value) {
			t.Errorf("raw item still holds %q", value)
		}
	}
	if open := f.openCase(t, nhs); open != nil {
		t.Errorf("open case left: %+v", open)
	}
	item := f.stored(t, r.ID)
	if len(item.Events) != before+1 || item.Events[before].Type != referral.EventWithdrawn || item.Events[before].Detail != referral.WithdrawEnteredInError {
		t.Errorf("events = %+v, want the %d before and one withdrawn", item.Events, before)
	}
	if item.ReferralID != r.ID || item.Area != "south-yorkshire" || item.ReceivedAt == "" || item.Referrer.Email != "priya.shah@nhs.net" {
		t.Errorf("reference, area, dates or referrer lost: %+v", item)
	}
}

// TestLifecycleRace: 50 concurrent mixed events on one referral (withdraw, close, contact,
// meeting) leave it in one legal final state, with an exact caseload and one terminal event.
func TestLifecycleRace(t *testing.T) {
	t.Parallel()
	f := newProgressFixture(t, 5)
	const nhs = "9434765919"
	r := f.record(t, nhs)
	drained := 0
	w := f.referrers(&drained)
	p := &referral.Progress{Store: f.progress, Now: func() time.Time { return progressAt }}
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i % 4 {
			case 0:
				_, err = w.Withdraw(context.Background(), r.ID, referral.WithdrawRevoked)
			case 1:
				_, err = p.Record(context.Background(), referral.ActionRequest{ReferralID: r.ID, SpecialistID: r.SpecialistID, Action: referral.ActionClose, Reason: "declined"})
			case 2:
				_, err = p.Record(context.Background(), referral.ActionRequest{ReferralID: r.ID, SpecialistID: r.SpecialistID, Action: referral.ActionContact})
			case 3:
				_, err = p.Record(context.Background(), referral.ActionRequest{ReferralID: r.ID, SpecialistID: r.SpecialistID, Action: referral.ActionMeeting})
			}
			// Conflicts are legal answers (a meeting after a withdraw); nothing else is.
			if referral.ErrorCode(err) == referral.CodeConflict {
				err = nil
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	item := f.stored(t, r.ID)
	if item.Status != "withdrawn" && item.Status != "closed" {
		t.Fatalf("final status %s: a close and a withdraw were both asked, one must have won", item.Status)
	}
	terminal := 0
	for _, e := range item.Events {
		if e.Type == referral.EventClosed || e.Type == referral.EventWithdrawn {
			terminal++
		}
	}
	if terminal != 1 {
		t.Errorf("%d terminal events, want exactly 1: %+v", terminal, item.Events)
	}
	if item.Status == "withdrawn" && (item.MetAt != "") {
		t.Errorf("withdrawn after a meeting (metAt %s): not a legal path", item.MetAt)
	}
	if c := f.caseloads(t, "south-yorkshire")[r.SpecialistID]; c != 0 {
		t.Errorf("caseload of %s = %d, want 0 once the referral ended", r.SpecialistID, c)
	}
	if open := f.openCase(t, nhs); open != nil {
		t.Errorf("open case left: %+v", open)
	}
}
