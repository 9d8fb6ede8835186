package referral

import (
	"testing"
	"time"
)

// FuzzApplySequence drives random event sequences through Apply on one referral in an area of
// three specialists, applying each transition's caseload effect as the store would. Caseloads never
// go negative or above capacity, terminal statuses stay terminal, every accepted event appends
// exactly one audit event, and an "already recorded" answer changes nothing.
func FuzzApplySequence(f *testing.F) {
	f.Add([]byte{0, 3, 4, 8})                // receive, contact, meeting, close
	f.Add([]byte{0, 2, 2, 9, 3})             // receive, attempts, withdraw, contact after it
	f.Add([]byte{0, 4, 6, 5, 7, 10, 8})      // receive, meeting, job start, employer, outcome, reassign, close
	f.Add([]byte{0, 11, 9, 9, 1})            // receive, transfer, withdraw twice, assign
	f.Add([]byte{0x40, 0x80, 3, 0xc8, 0x49}) // odd actors and fields
	f.Fuzz(func(t *testing.T, ops []byte) {
		capacity := map[string]int{"sp-1": 1, "sp-2": 2, "sp-3": 1}
		caseload := map[string]int{"sp-1": 1} // someone else's case fills sp-1
		r := Referral{ID: "R", Area: "area-1", Submission: Submission{Patient: Patient{Postcode: "M1 1AA"}}}
		now := transitionNow
		for i, op := range ops {
			if i > 64 {
				break
			}
			now = now.Add(time.Hour)
			c := validCommand(Kinds[int(op&0x0f)%len(Kinds)])
			if op&0x40 != 0 {
				c.Actor = []Actor{ActorSpecialist, ActorReferrer, ActorLead, ActorSystem}[int(op>>4)%4]
			}
			if op&0x80 != 0 {
				c.Method, c.Reason, c.Sustained, c.HoursPerWeek = "", "", "", int(op)
			}
			c.Specialist = []string{"sp-1", "sp-2", "sp-3"}[int(op>>5)%3]
			c.Area = []string{"area-1", "area-2"}[int(op>>4)%2]
			c.Candidates = nil
			for _, id := range []string{"sp-1", "sp-2", "sp-3"} {
				c.Candidates = append(c.Candidates, Candidate{ID: id, Capacity: capacity[id], Caseload: caseload[id], Active: id != "sp-3" || op&0x20 == 0})
			}
			before := r
			tr, err := Apply(r, c, now)
			if err != nil {
				if ErrorCode(err) == CodeInternal {
					t.Fatalf("%s from %s: untyped error %v", c.Kind, r.Status, err)
				}
				continue
			}
			if tr.AlreadyRecorded {
				if tr.Referral.Status != before.Status || len(tr.Referral.Events) != len(before.Events) || tr.Event != (Event{}) {
					t.Fatalf("%s from %s: already recorded but changed %+v", c.Kind, before.Status, tr)
				}
				continue
			}
			if len(tr.Referral.Events) != len(before.Events)+1 || tr.Referral.Events[len(before.Events)] != tr.Event {
				t.Fatalf("%s from %s: %d events after %d", c.Kind, before.Status, len(tr.Referral.Events), len(before.Events))
			}
			if before.Status.Terminal() {
				t.Fatalf("%s moved terminal %s to %s", c.Kind, before.Status, tr.Referral.Status)
			}
			checkUnits(t, before, tr)
			if id := tr.Caseload.Release; id != "" {
				caseload[id]--
			}
			if id := tr.Caseload.Take; id != "" {
				caseload[id]++
			}
			for id, n := range caseload {
				if n < 0 || n > capacity[id] {
					t.Fatalf("%s from %s: caseload of %s is %d (capacity %d)", c.Kind, before.Status, id, n, capacity[id])
				}
			}
			r = tr.Referral
		}
	})
}
