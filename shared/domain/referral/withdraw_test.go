package referral

import (
	"reflect"
	"testing"
	"time"
)

func TestWithdrawEnteredInErrorMinimises(t *testing.T) {
	t.Parallel()
	r := Referral{ID: "R-7K3M9QX2", Area: "south-yorkshire", Status: StatusAssigned, SpecialistID: "ann",
		Submission: Submission{
			Patient: Patient{GivenName: "élodie", FamilyName: "Taylor", DateOfBirth: "1988-02-29", NHSNumber: "9434765919",
				Postcode: "S35 0AB", Phone: "+447700900123", Email: "e@example.com", PreferredContact: "phone"},
			Referrer:         Referrer{Name: "Dr Priya Shah", PracticeCode: "C88038", Email: "priya.shah@nhs.net"},
			EmploymentStatus: "unemployed", HealthConditions: []string{"mental-health"}, Consent: true, Notes: "notes",
		}}
	tests := []struct {
		reason     string
		wantErased bool
		want       Patient
	}{
		{reason: WithdrawRevoked, want: r.Patient},
		{reason: WithdrawEnteredInError, wantErased: true, want: Patient{GivenName: "É", Postcode: "S35"}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			t.Parallel()
			tr, err := Apply(r, Command{Kind: KindWithdraw, Actor: ActorReferrer, Reason: tt.reason}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			got := tr.Referral
			if tr.Erased != tt.wantErased || got.Patient != tt.want {
				t.Errorf("erased %v, patient %+v; want %v, %+v", tr.Erased, got.Patient, tt.wantErased, tt.want)
			}
			if tt.wantErased && (got.Notes != "" || got.HealthConditions != nil || got.Referrer != r.Referrer || got.ID != r.ID || got.Area != r.Area) {
				t.Errorf("minimised referral = %+v", got)
			}
			if !tt.wantErased && !reflect.DeepEqual(got.Submission, r.Submission) {
				t.Errorf("revoked changed the submission: %+v", got.Submission)
			}
			if got.SpecialistID != "ann" || got.Status != StatusWithdrawn || tr.Event.Type != EventWithdrawn || tr.Event.Detail != tt.reason {
				t.Errorf("transition = %+v", tr)
			}
		})
	}
}
