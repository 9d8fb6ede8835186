package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// The specialist's outcome forms (SPEC §9): employer contact, job start and job outcome, and the
// history of jobs and employer contacts on the referral's page.

// Suffixes of the NHS.UK date input's three fields: a date field "date" is posted by the page as
// "date-day", "date-month" and "date-year".
const (
	daySuffix   = "-day"
	monthSuffix = "-month"
	yearSuffix  = "-year"
)

// FormDate reads date field name from a posted form as YYYY-MM-DD: the field itself when sent
// (SPEC §4's name, for API and form clients), else the page's three date-input fields put
// together. All empty gives "". Parts that are not numbers, or a year that is not four digits,
// give a string that is not a date, so the domain's rule refuses it by name.
func FormDate(form url.Values, name string) string {
	if v := strings.TrimSpace(form.Get(name)); v != "" {
		return v
	}
	day, month, year := dateParts(form, name)
	if day == "" && month == "" && year == "" {
		return ""
	}
	d, errD := strconv.Atoi(day)
	m, errM := strconv.Atoi(month)
	if errD != nil || errM != nil || len(day) > 2 || len(month) > 2 || len(year) != 4 || strings.Trim(year, "0123456789") != "" {
		return year + "-" + month + "-" + day
	}
	return fmt.Sprintf("%s-%02d-%02d", year, m, d)
}

func dateParts(form url.Values, name string) (day, month, year string) {
	return strings.TrimSpace(form.Get(name + daySuffix)), strings.TrimSpace(form.Get(name + monthSuffix)), strings.TrimSpace(form.Get(name + yearSuffix))
}

// dateInput is an NHS.UK date input: a fieldset with a legend, a hint and three text inputs.
type dateInput struct {
	ID, Legend, Hint, Error string
	Day, Month, Year        string
}

// DescribedBy is the aria-describedby of the fieldset: its hint and its error message.
func (d dateInput) DescribedBy() string {
	ids := []string{d.ID + "-hint"}
	if d.Error != "" {
		ids = append(ids, d.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// newDateInput builds the date input for field name: the values as posted (either way) when the
// page is shown again, else def (today, for the employer contact).
func newDateInput(name, legend string, posted url.Values, def calendar.Date, errs []referral.FieldError, now calendar.Date) dateInput {
	in := dateInput{ID: name, Legend: legend, Hint: fmt.Sprintf("For example, %d %d %d", now.Day, int(now.Month), now.Year), Error: fieldMessage(errs, name)}
	switch day, month, year := dateParts(posted, name); {
	case posted.Has(name):
		// Sent as one YYYY-MM-DD field: shown split, or as typed in the year when it is not one.
		in.Year = posted.Get(name)
		if y, m, d, ok := splitISODate(posted.Get(name)); ok {
			in.Day, in.Month, in.Year = d, m, y
		}
	case day != "" || month != "" || year != "" || posted.Has(name+daySuffix):
		in.Day, in.Month, in.Year = day, month, year
	case def != calendar.Date{}:
		in.Day, in.Month, in.Year = strconv.Itoa(def.Day), strconv.Itoa(int(def.Month)), strconv.Itoa(def.Year)
	}
	return in
}

// datePart is one of a date input's three fields.
type datePart struct {
	Name, Label, Value string
	Width              int
}

// Parts lists the fields in the order the page shows them.
func (d dateInput) Parts() []datePart {
	return []datePart{{"day", "Day", d.Day, 2}, {"month", "Month", d.Month, 2}, {"year", "Year", d.Year, 4}}
}

func splitISODate(s string) (year, month, day string, ok bool) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], strings.TrimLeft(parts[1], "0"), strings.TrimLeft(parts[2], "0"), true
}

// fieldMessage is the first error about field.
func fieldMessage(errs []referral.FieldError, field string) string {
	for _, e := range errs {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// outcomeForms are the forms and lists of SPEC §9's outcomes on the referral's page.
type outcomeForms struct {
	EmployerContactAction, JobStartAction, OutcomeAction string
	CanEmployerContact, CanJobStart, CanOutcome          bool
	EmployerDate, StartDate                              dateInput
	Hours                                                textInput
	SelfEmployed, Sustained                              choiceGroup
	Jobs                                                 []jobRow
	EmployerContacts                                     []string
}

type jobRow struct {
	Start, Hours, SelfEmployed, Outcome string
}

var yesNo = []string{"yes", "no"}

func newOutcomeForms(p ReferralPage, today calendar.Date) outcomeForms {
	r := p.Referral
	posted := p.Values
	if posted == nil {
		posted = url.Values{}
	}
	f := outcomeForms{
		EmployerContactAction: ActionPath(r.ID, referral.ActionEmployerContact),
		JobStartAction:        ActionPath(r.ID, referral.ActionJobStart),
		OutcomeAction:         ActionPath(r.ID, referral.ActionOutcome),
		CanEmployerContact:    r.Status == referral.StatusEngaged || r.Status == referral.StatusInWork,
		CanOutcome:            r.Status == referral.StatusInWork && !r.OutcomeRecorded(),
	}
	f.CanJobStart = f.CanEmployerContact
	f.EmployerDate = newDateInput(referral.DateField, "When did you contact the employer?", posted, today, p.Errors, today)
	f.StartDate = newDateInput(referral.StartDateField, "When did the job start?", posted, calendar.Date{}, p.Errors, today)
	f.Hours = textInput{Name: referral.HoursPerWeekField, ID: referral.HoursPerWeekField, Label: "Hours a week",
		Hint: "A whole number from 1 to 80. If the hours vary, give the usual hours.", Type: "text", InputMode: "numeric",
		Width: "nhsuk-input--width-3", Value: posted.Get(referral.HoursPerWeekField), Error: fieldMessage(p.Errors, referral.HoursPerWeekField)}
	f.SelfEmployed = radios(referral.SelfEmployedField, "Is the patient self-employed in this job?", yesNo, yesNoLabel, posted.Get(referral.SelfEmployedField), p.Errors)
	f.Sustained = radios(referral.SustainedField, "Is the patient still in the job?", yesNo, yesNoLabel, posted.Get(referral.SustainedField), p.Errors)
	f.Sustained.Hint = "Answer for the job that started last. You will be asked 16 weeks after the first job started."
	for _, j := range r.Jobs() {
		f.Jobs = append(f.Jobs, jobRow{Start: j.Start.Long(), Hours: strconv.Itoa(j.HoursPerWeek),
			SelfEmployed: yesNoLabel(map[bool]string{true: "yes", false: "no"}[j.SelfEmployed]), Outcome: outcomeLabel(j.Outcome)})
	}
	for _, e := range r.Events {
		if e.Type == referral.EventEmployerContact {
			f.EmployerContacts = append(f.EmployerContacts, LongDate(e.Detail))
		}
	}
	return f
}

// outcomeFieldHref is the error summary's link for an outcome field shown on the page, or "".
func (f outcomeForms) outcomeFieldHref(field string) string {
	switch {
	case field == referral.DateField && f.CanEmployerContact, field == referral.StartDateField && f.CanJobStart:
		return "#" + field + daySuffix // the date input's first field
	case (field == referral.HoursPerWeekField || field == referral.SelfEmployedField) && f.CanJobStart,
		field == referral.SustainedField && f.CanOutcome:
		return "#" + field
	}
	return ""
}

func yesNoLabel(v string) string {
	return map[string]string{"yes": "Yes", "no": "No"}[v]
}

// outcomeLabel says a job outcome (an outcome event's Detail) in words.
func outcomeLabel(detail string) string {
	switch detail {
	case "sustained":
		return "Still in the job (sustained)"
	case "not-sustained":
		return "No longer in the job (not sustained)"
	}
	return "Not recorded yet"
}

// jobText says a job-started event's Detail in words.
func jobText(detail string) string {
	jobs := referral.Referral{Events: []referral.Event{{Type: referral.EventJobStarted, Detail: detail}}}.Jobs()
	if len(jobs) == 0 {
		return "Job started"
	}
	j := jobs[0]
	text := fmt.Sprintf("Job started on %s, %d hours a week", j.Start.Long(), j.HoursPerWeek)
	if j.SelfEmployed {
		text += ", self-employed"
	}
	return text
}
