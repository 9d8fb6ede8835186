package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

func TestFormDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"one field wins", url.Values{"date": {"2026-11-24"}, "date-day": {"1"}, "date-month": {"1"}, "date-year": {"2026"}}, "2026-11-24"},
		{"three fields padded", url.Values{"date-day": {"5"}, "date-month": {"3"}, "date-year": {"2026"}}, "2026-03-05"},
		{"three fields with spaces", url.Values{"date-day": {" 24 "}, "date-month": {"11"}, "date-year": {" 2026"}}, "2026-11-24"},
		{"nothing", url.Values{"date-day": {""}}, ""},
		{"30 February stays a non-date", url.Values{"date-day": {"30"}, "date-month": {"2"}, "date-year": {"2026"}}, "2026-02-30"},
		{"two-digit year is not a date", url.Values{"date-day": {"5"}, "date-month": {"3"}, "date-year": {"26"}}, "26-3-5"},
		{"words are not a date", url.Values{"date-day": {"fifth"}, "date-month": {"3"}, "date-year": {"2026"}}, "2026-3-fifth"},
		{"missing day is not a date", url.Values{"date-month": {"3"}, "date-year": {"2026"}}, "2026-3-"},
	}
	for _, tt := range tests {
		got := FormDate(tt.form, "date")
		if got != tt.want {
			t.Errorf("%s: FormDate = %q, want %q", tt.name, got, tt.want)
		}
		if _, err := calendar.ParseDate(got); (err == nil) != (tt.name == "one field wins" || strings.HasPrefix(tt.name, "three fields")) {
			t.Errorf("%s: %q parses: %v", tt.name, got, err == nil)
		}
	}
}

// The outcome forms use the NHS.UK date input; a page shown again after a bad field keeps what
// was typed, marks the field and links the error summary to it.
func TestReferralPageOutcomeForms(t *testing.T) {
	t.Parallel()
	engaged := specialistReferral(referral.StatusEngaged, progressAt(referral.EventMet, "ann", "", metAt))
	today := calendar.Date{Year: 2026, Month: 12, Day: 9}
	tests := []struct {
		name      string
		page      ReferralPage
		wantValue map[string]string // input id → value
		wantError []string          // ids of inputs marked nhsuk-input--error
		wantHref  []string          // error summary links
	}{
		{name: "fresh: employer contact defaults to today, job start empty",
			page:      ReferralPage{Referral: engaged, Token: "tok", Viewer: "ann", Today: today},
			wantValue: map[string]string{"date-day": "9", "date-month": "12", "date-year": "2026", "startDate-day": "", "hoursPerWeek": ""}},
		{name: "bad start date and hours kept from the three fields",
			page: ReferralPage{Referral: engaged, Token: "tok", Viewer: "ann", Today: today,
				Values: url.Values{"startDate-day": {"30"}, "startDate-month": {"2"}, "startDate-year": {"2026"}, "hoursPerWeek": {"x"}, "selfEmployed": {"yes"}},
				Errors: []referral.FieldError{{Field: referral.StartDateField, Message: "Enter the date the job started as a real date"}, {Field: referral.HoursPerWeekField, Message: "Enter the hours a week as a whole number from 1 to 80"}}},
			wantValue: map[string]string{"startDate-day": "30", "startDate-month": "2", "startDate-year": "2026", "hoursPerWeek": "x"},
			wantError: []string{"startDate-day", "startDate-month", "startDate-year", "hoursPerWeek"},
			wantHref:  []string{"#startDate-day", "#hoursPerWeek"}},
		{name: "a single date field is shown split",
			page: ReferralPage{Referral: engaged, Token: "tok", Viewer: "ann", Today: today, Values: url.Values{"date": {"2027-01-02"}},
				Errors: []referral.FieldError{{Field: referral.DateField, Message: "The date you contacted the employer must be today or in the past"}}},
			wantValue: map[string]string{"date-day": "2", "date-month": "1", "date-year": "2027"},
			wantError: []string{"date-day", "date-month", "date-year"},
			wantHref:  []string{"#date-day"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _ := renderReferralPage(t, tt.page)
			for id, want := range tt.wantValue {
				if in := p.one(t, "input", "id", id); in.Attrs["value"] != want || in.Attrs["inputmode"] != "numeric" {
					t.Errorf("#%s value %q inputmode %q, want %q numeric", id, in.Attrs["value"], in.Attrs["inputmode"], want)
				}
			}
			var marked []string
			for _, in := range p.find("input") {
				if strings.Contains(in.Attrs["class"], "nhsuk-input--error") {
					marked = append(marked, in.Attrs["id"])
				}
			}
			if strings.Join(marked, " ") != strings.Join(tt.wantError, " ") {
				t.Errorf("inputs marked in error %v, want %v", marked, tt.wantError)
			}
			var hrefs []string
			for _, a := range p.find("a") {
				if strings.HasPrefix(a.Attrs["href"], "#") && a.Attrs["href"] != "#maincontent" {
					hrefs = append(hrefs, a.Attrs["href"])
				}
			}
			if strings.Join(hrefs, " ") != strings.Join(tt.wantHref, " ") {
				t.Errorf("error summary links %v, want %v", hrefs, tt.wantHref)
			}
			// Each date is an NHS.UK date input: a fieldset with a legend and hint around three inputs.
			for _, id := range []string{"date", "startDate"} {
				box := p.one(t, "div", "id", id)
				if !strings.Contains(box.Attrs["class"], "nhsuk-date-input") {
					t.Errorf("#%s class %q", id, box.Attrs["class"])
				}
				fs := p.ancestors(box)
				var fieldset *element
				for i := range fs {
					if fs[i].Tag == "fieldset" {
						fieldset = &fs[i]
						break
					}
				}
				if fieldset == nil || !strings.Contains(fieldset.Attrs["aria-describedby"], id+"-hint") {
					t.Errorf("#%s is not in a fieldset described by its hint", id)
				}
			}
			if tt.page.Values.Get("selfEmployed") == "yes" {
				if in := p.one(t, "input", "id", "selfEmployed"); !in.has("checked") {
					t.Errorf("self-employed yes not kept")
				}
			}
		})
	}
}
