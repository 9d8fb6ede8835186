package web

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
)

func testWorklist() worklist.Worklist {
	ann := worklist.Specialist{ID: "ann", Name: "Ann Able", Caseload: 3, Capacity: 20, Active: true, Bouncing: true}
	bob := worklist.Specialist{ID: "bob", Name: "Bob Brown", Caseload: 20, Capacity: 20, Active: true}
	sam := worklist.Person{GivenName: "Sam", Initial: "T"}
	return worklist.Worklist{
		AreaID: "norfolk", AreaName: "Norfolk",
		Waitlist:    []worklist.Waiting{{ReferralID: "R-AAAA0005", Person: sam, DaysWaiting: 6}},
		Overdue:     []worklist.Overdue{{ReferralID: "R-AAAA0002", Person: sam, SpecialistID: "bob", What: []string{"contact", "meeting"}, Attempts: 3}},
		Specialists: []worklist.Specialist{ann, bob},
		Open: []worklist.Open{
			{ReferralID: "R-AAAA0002", Person: sam, Status: referral.StatusAssigned, SpecialistID: "bob", CanReassign: true, CanTransfer: true, ReassignTo: []worklist.Specialist{ann}},
			{ReferralID: "R-AAAA0003", Person: sam, Status: referral.StatusAssigned, SpecialistID: "ann", CanReassign: true, CanTransfer: true},
			{ReferralID: "R-AAAA0005", Person: sam, Status: referral.StatusWaitlisted, CanTransfer: true},
		},
	}
}

func TestRenderWorklist(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderWorklist(&buf, WorklistPage{Worklist: testWorklist(), Token: "tok&en"}); err != nil {
		t.Fatal(err)
	}
	p := parsePage(t, buf.String())
	if got := p.title(t); !strings.Contains(got, "Worklist for Norfolk") {
		t.Errorf("title = %q", got)
	}
	for _, want := range []string{"R-AAAA0005", "Sam T.", "First contact and First meeting", "3 of 20", "Emails bouncing", "Nobody yet", "No other specialist in the area has space"} {
		if !strings.Contains(p.HTML, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	forms := p.find("form")
	var actions []string
	for _, f := range forms {
		actions = append(actions, f.Attrs["action"])
		if f.Attrs["method"] != "post" {
			t.Errorf("form %s method %q, want post", f.Attrs["action"], f.Attrs["method"])
		}
	}
	want := []string{
		"/areas/norfolk/referrals/R-AAAA0002/reassign", "/areas/norfolk/referrals/R-AAAA0002/transfer",
		"/areas/norfolk/referrals/R-AAAA0003/transfer", "/areas/norfolk/referrals/R-AAAA0005/transfer",
	}
	if !slices.Equal(actions, want) {
		t.Errorf("forms = %v, want %v (no reassign without a choice, none for a waitlisted referral)", actions, want)
	}
	tokens := p.find("input", "type", "hidden")
	if len(tokens) != len(want) {
		t.Errorf("%d hidden inputs, want one token per form", len(tokens))
	}
	for _, in := range tokens {
		if in.Attrs["name"] != LinkTokenField || in.Attrs["value"] != "tok&en" {
			t.Errorf("hidden input %v", in.Attrs)
		}
	}
	sel := p.one(t, "select", "name", SpecialistField)
	if opts := p.children(sel); len(opts) != 1 || opts[0].Attrs["value"] != "ann" || opts[0].Text != "Ann Able" {
		t.Errorf("reassign choices = %+v, want Ann only", opts)
	}
	if n := len(p.find("input", "name", PostcodeField)); n != 3 {
		t.Errorf("%d postcode inputs, want 3", n)
	}
	// Every control has its own label.
	seen := map[string]bool{}
	for _, e := range p.Elements {
		if id := e.Attrs["id"]; id != "" {
			if seen[id] {
				t.Errorf("duplicate id %q", id)
			}
			seen[id] = true
		}
	}
	for _, tag := range []string{"select", "input"} {
		for _, e := range p.find(tag) {
			if e.Attrs["type"] == "hidden" {
				continue
			}
			if len(p.find("label", "for", e.Attrs["id"])) != 1 {
				t.Errorf("%s %q has no label", tag, e.Attrs["id"])
			}
		}
	}
}

func TestRenderWorklistEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderWorklist(&buf, WorklistPage{Worklist: worklist.Worklist{AreaID: "essex", AreaName: "Essex"}, Token: "t"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Nobody is waiting.", "Nothing is overdue.", "There are no open referrals."} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("empty worklist lacks %q", want)
		}
	}
}

func TestRenderLeadResult(t *testing.T) {
	for _, tc := range []struct {
		page    LeadResultPage
		status  int
		heading string
		says    string
	}{
		{LeadResultPage{Outcome: LeadReassigned, Specialist: "Ann Able"}, http.StatusOK, "Referral reassigned", "Ann Able has the referral now"},
		{LeadResultPage{Outcome: LeadTransferred, Specialist: "Sue Smith", NewArea: "Essex"}, http.StatusOK, "Referral transferred to Essex", "deadlines count from today"},
		{LeadResultPage{Outcome: LeadTransferred, NewArea: "Essex", Waitlisted: true}, http.StatusOK, "Referral transferred to Essex", "waiting list"},
		{LeadResultPage{Outcome: LeadNoRoom, Specialist: "Bob Brown"}, http.StatusConflict, "Bob Brown has no space", "Nothing has been changed."},
		{LeadResultPage{Outcome: LeadInactive, Specialist: "Cal Cole"}, http.StatusConflict, "Cal Cole is not taking referrals", "Nothing has been changed."},
		{LeadResultPage{Outcome: LeadOtherArea, Specialist: "Sue Smith"}, http.StatusConflict, "Sue Smith works in another area", "transfer the referral"},
		{LeadResultPage{Outcome: LeadStatusConflict, Status: referral.StatusWaitlisted}, http.StatusConflict, "You cannot do that to this referral now", "On the waiting list"},
		{LeadResultPage{Outcome: LeadNoSpecialist}, http.StatusBadRequest, "Choose a specialist", "Nothing has been changed."},
		{LeadResultPage{Outcome: LeadBadPostcode}, http.StatusBadRequest, "Enter a real postcode", "Nothing has been changed."},
		{LeadResultPage{Outcome: LeadOutOfArea}, http.StatusUnprocessableEntity, "This postcode is not in an IPSPC area", "Nothing has been changed."},
	} {
		t.Run(string(tc.page.Outcome), func(t *testing.T) {
			tc.page.AreaID, tc.page.Token, tc.page.ReferralID = "norfolk", "tok", "R-AAAA0002"
			if got := tc.page.HTTPStatus(); got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
			var buf bytes.Buffer
			if err := RenderLeadResult(&buf, tc.page); err != nil {
				t.Fatal(err)
			}
			p := parsePage(t, buf.String())
			if h := p.one(t, "h1"); !strings.Contains(p.HTML, tc.heading) || h.Index < 0 {
				t.Errorf("heading lacks %q", tc.heading)
			}
			if !strings.Contains(p.title(t), tc.heading) {
				t.Errorf("title = %q, want %q", p.title(t), tc.heading)
			}
			if !strings.Contains(p.HTML, tc.says) || !strings.Contains(p.HTML, "R-AAAA0002") {
				t.Errorf("page lacks %q or the reference", tc.says)
			}
			if back := p.one(t, "a", "href", "/areas/norfolk/worklist?token=tok"); back.Text != "Go back to the worklist" {
				t.Errorf("back link = %+v", back)
			}
		})
	}
}
