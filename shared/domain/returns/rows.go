package returns

import (
	"fmt"
	"slices"
	"time"
)

// Header is SPEC §12's CSV header, in its fixed order.
var Header = []string{"area", "month", Received, AssignedAtIntake, WaitlistedAtIntake, ContactedOnTime, ContactedLate,
	MetOnTime, MetLate, EmployerContactIn30Days, JobStarts, FirstJobStarts, JobStarts16Hours, JobOutcomes, Closed,
	WithdrawnRevoked, WithdrawnEnteredInError, "caseload_max", "waitlist_at_month_end"}

// Row is one area's figures for one month. Counts only.
type Row struct {
	Area  string `json:"area"`
	Month string `json:"month"`
	// Flow holds the counted columns, Header[2:17], by name.
	Flow               map[string]int `json:"figures"`
	CaseloadMax        int            `json:"caseload_max"`
	WaitlistAtMonthEnd int            `json:"waitlist_at_month_end"`
	// Report-only: the employment rate's numerator and denominator for this month.
	EngagedUnemployed        int `json:"engaged_unemployed"`
	FirstJobStartsUnemployed int `json:"first_job_starts_unemployed"`
}

// Values returns the row's fields in Header order, as text.
func (r Row) Values() []string {
	out := []string{r.Area, r.Month}
	for _, c := range Header[2:17] {
		out = append(out, fmt.Sprint(r.Flow[c]))
	}
	return append(out, fmt.Sprint(r.CaseloadMax), fmt.Sprint(r.WaitlistAtMonthEnd))
}

// Months returns every month from from to to inclusive (YYYY-MM), or an error naming the field.
func Months(from, to string) ([]string, error) {
	f, err := time.Parse("2006-01", from)
	if err != nil {
		return nil, fmt.Errorf("from: %q is not a month as YYYY-MM", from)
	}
	t, err := time.Parse("2006-01", to)
	if err != nil {
		return nil, fmt.Errorf("to: %q is not a month as YYYY-MM", to)
	}
	if t.Before(f) {
		return nil, fmt.Errorf("to: %s is before from %s", to, from)
	}
	var out []string
	for m := f; !m.After(t); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
		if len(out) > 120 {
			return nil, fmt.Errorf("to: at most 120 months at once")
		}
	}
	return out, nil
}

// PreviousMonth returns the month before m (YYYY-MM).
func PreviousMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return ""
	}
	return t.AddDate(0, -1, 0).Format("2006-01")
}

// levels is an area's running caseload per specialist and waitlist length.
type levels struct {
	caseload map[string]int
	waitlist int
}

// Rows folds facts into one row per area and month from..to (areas as given, each with a row for
// every month, zeros included). The caseload and waitlist levels start from the latest snapshot
// facts (CaseloadLevel, WaitlistLevel) dated before from, plus every delta fact after that snapshot
// and before from; so a caller may pass either the whole history or just the snapshot of the
// month before from and the months asked for. Facts of other areas are ignored.
func Rows(facts []Fact, areas []string, from, to string) ([]Row, error) {
	months, err := Months(from, to)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, area := range areas {
		mine := inArea(facts, area)
		lv := opening(mine, from)
		for _, m := range months {
			row := Row{Area: area, Month: m, Flow: map[string]int{}}
			for _, f := range mine {
				if f.Month != m {
					continue
				}
				if lv.apply(f) {
					continue
				}
				switch f.Column {
				case EngagedUnemployed:
					row.EngagedUnemployed += f.Count
				case FirstJobStartsUnemployed:
					row.FirstJobStartsUnemployed += f.Count
				case CaseloadLevel, WaitlistLevel:
				default:
					row.Flow[f.Column] += f.Count
				}
			}
			for _, n := range lv.caseload {
				row.CaseloadMax = max(row.CaseloadMax, n)
			}
			row.WaitlistAtMonthEnd = lv.waitlist
			for _, c := range Header[2:17] {
				row.Flow[c] += 0
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// apply adds a delta fact to the levels and reports whether f was one.
func (lv *levels) apply(f Fact) bool {
	switch f.Column {
	case CaseloadDelta:
		lv.caseload[f.Specialist] += f.Count
	case WaitlistDelta:
		lv.waitlist += f.Count
	default:
		return false
	}
	return true
}

func inArea(facts []Fact, area string) []Fact {
	var mine []Fact
	for _, f := range facts {
		if f.Area == area {
			mine = append(mine, f)
		}
	}
	return mine
}

// opening returns the levels at the start of month from.
func opening(facts []Fact, from string) levels {
	lv := levels{caseload: map[string]int{}}
	snap := ""
	for _, f := range facts {
		if (f.Column == CaseloadLevel || f.Column == WaitlistLevel) && f.Month < from && f.Month > snap {
			snap = f.Month
		}
	}
	for _, f := range facts {
		switch {
		case f.Month == snap && f.Column == CaseloadLevel:
			lv.caseload[f.Specialist] += f.Count
		case f.Month == snap && f.Column == WaitlistLevel:
			lv.waitlist += f.Count
		case f.Month > snap && f.Month < from && f.Column == CaseloadDelta:
			lv.caseload[f.Specialist] += f.Count
		case f.Month > snap && f.Month < from && f.Column == WaitlistDelta:
			lv.waitlist += f.Count
		}
	}
	return lv
}

// Snapshot returns area's level facts at the end of month: one CaseloadLevel per specialist with a
// non-zero caseload and one WaitlistLevel. A store writes them once a month has ended, so a later
// report starts from them instead of from every delta ever recorded.
func Snapshot(facts []Fact, area, month string) []Fact {
	mine := inArea(facts, area)
	lv := opening(mine, month)
	for _, f := range mine {
		if f.Month == month {
			lv.apply(f)
		}
	}
	out := []Fact{{Area: area, Month: month, Column: WaitlistLevel, Count: lv.waitlist}}
	specs := make([]string, 0, len(lv.caseload))
	for s, n := range lv.caseload {
		if n != 0 {
			specs = append(specs, s)
		}
	}
	slices.Sort(specs)
	for i, s := range specs {
		out = append(out, Fact{Area: area, Month: month, Seq: i + 1, Column: CaseloadLevel, Specialist: s, Count: lv.caseload[s]})
	}
	return out
}

// Rate is the employment rate over rows (IPS Grow): people with a first job start who were
// unemployed at referral ÷ people engaged who were unemployed at referral. ok is false when
// nobody was engaged.
func Rate(rows []Row) (numerator, denominator int, ok bool) {
	for _, r := range rows {
		numerator += r.FirstJobStartsUnemployed
		denominator += r.EngagedUnemployed
	}
	return numerator, denominator, denominator > 0
}
