package calendar

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The examples in SPEC §6, exactly as written there, weekdays included.
func TestAddWorkingDaysSpecExamples(t *testing.T) {
	tests := []struct {
		received    string
		receivedDay time.Weekday
		n           int
		want        string
		wantDay     time.Weekday
	}{
		{"2026-11-23", time.Monday, 2, "2026-11-25", time.Wednesday},
		{"2026-11-28", time.Saturday, 2, "2026-12-01", time.Tuesday},
		{"2026-11-28", time.Saturday, 10, "2026-12-11", time.Friday},
		{"2026-12-23", time.Wednesday, 2, "2026-12-29", time.Tuesday},
	}
	for _, tc := range tests {
		from := mustDate(t, tc.received)
		got, err := Embedded().AddWorkingDays(from, tc.n)
		if err != nil {
			t.Fatalf("AddWorkingDays(%s, %d): %v", from, tc.n, err)
		}
		if got.String() != tc.want || from.Weekday() != tc.receivedDay || got.Weekday() != tc.wantDay {
			t.Errorf("AddWorkingDays(%s %s, %d) = %s %s, want %s %s",
				from.Weekday(), from, tc.n, got.Weekday(), got, tc.wantDay, tc.want)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"n=0 on a weekend returns the day itself", "2026-11-28", 0, "2026-11-28"},
		{"n=0 on a bank holiday returns the day itself", "2026-12-25", 0, "2026-12-25"},
		{"Friday to Monday", "2026-11-27", 1, "2026-11-30"},
		{"Sunday to Monday", "2026-11-29", 1, "2026-11-30"},
		{"from a bank holiday", "2026-12-25", 1, "2026-12-29"},
		{"Christmas 2025 (Thu, Fri)", "2025-12-24", 1, "2025-12-29"},
		{"Christmas 2025, two days", "2025-12-24", 2, "2025-12-30"},
		{"New Year 2026 (Thu)", "2025-12-31", 1, "2026-01-02"},
		{"New Year 2027 (Fri) across the year end", "2026-12-31", 1, "2027-01-04"},
		{"Christmas 2027 on a weekend: substitute Mon and Tue", "2027-12-24", 1, "2027-12-29"},
		{"New Year 2028 on a Saturday: substitute Monday", "2027-12-31", 1, "2028-01-04"},
		{"Easter 2025", "2025-04-17", 1, "2025-04-22"},
		{"Easter 2026", "2026-04-02", 1, "2026-04-07"},
		{"Easter 2029 (computed year)", "2029-03-29", 1, "2029-04-03"},
		{"Early May 2026", "2026-05-01", 1, "2026-05-05"},
		{"the last days covered", "2030-12-27", 2, "2030-12-31"},
		{"from before the data, examining only covered days", "2023-12-31", 1, "2024-01-02"},
		// 2026 has 261 weekdays and all 8 of its bank holidays fall on weekdays: 253 working days.
		{"a whole year", "2025-12-31", 253, "2026-12-31"},
	}
	for _, tc := range tests {
		got, err := Embedded().AddWorkingDays(mustDate(t, tc.from), tc.n)
		if err != nil || got.String() != tc.want {
			t.Errorf("%s: AddWorkingDays(%s, %d) = %s, %v; want %s", tc.name, tc.from, tc.n, got, err, tc.want)
		}
	}
}

func TestNextWorkingDay(t *testing.T) {
	tests := []struct{ from, want string }{
		{"2026-11-23", "2026-11-24"},
		{"2026-11-27", "2026-11-30"},
		{"2027-12-24", "2027-12-29"},
	}
	for _, tc := range tests {
		got, err := Embedded().NextWorkingDay(mustDate(t, tc.from))
		if err != nil || got.String() != tc.want {
			t.Errorf("NextWorkingDay(%s) = %s, %v; want %s", tc.from, got, err, tc.want)
		}
	}
}

func TestPreviousWorkingDay(t *testing.T) {
	tests := []struct{ from, want string }{
		{"2026-11-25", "2026-11-24"},
		{"2026-11-30", "2026-11-27"}, // Monday: back over the weekend
		{"2026-11-28", "2026-11-27"}, // from a Saturday
		{"2026-12-29", "2026-12-24"}, // over Christmas and the Boxing Day substitute
		{"2026-04-07", "2026-04-02"}, // over Easter
		{"2027-01-04", "2026-12-31"}, // back across the year end and New Year's Day
	}
	for _, tc := range tests {
		got, err := Embedded().PreviousWorkingDay(mustDate(t, tc.from))
		if err != nil || got.String() != tc.want {
			t.Errorf("PreviousWorkingDay(%s) = %s, %v; want %s", tc.from, got, err, tc.want)
		}
	}
}

func TestIsWorkingDay(t *testing.T) {
	tests := []struct {
		day  string
		want bool
	}{
		{"2026-11-23", true},  // Monday
		{"2026-11-27", true},  // Friday
		{"2026-11-28", false}, // Saturday
		{"2026-11-29", false}, // Sunday
		{"2026-04-03", false}, // Good Friday
		{"2026-04-06", false}, // Easter Monday
		{"2026-12-24", true},  // Christmas Eve is not a bank holiday
		{"2026-12-28", false}, // Boxing Day substitute
		{"2027-12-27", false}, // Christmas Day substitute
		{"2028-01-03", false}, // New Year's Day substitute
		{"2024-01-01", false}, // first day covered
		{"2030-12-31", true},  // last day covered
	}
	for _, tc := range tests {
		got, err := Embedded().IsWorkingDay(mustDate(t, tc.day))
		if err != nil || got != tc.want {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tc.day, got, err, tc.want)
		}
	}
}

// Outside the covered years every operation must fail, never treat the day as a working day.
func TestOutOfRange(t *testing.T) {
	c := Embedded()
	if first, last := c.Covers(); first != 2024 || last != 2030 {
		t.Fatalf("Covers() = %d, %d; want 2024, 2030", first, last)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"IsWorkingDay in 2031", func() error { _, err := c.IsWorkingDay(Date{2031, time.January, 2}); return err }},
		{"IsWorkingDay in 2023", func() error { _, err := c.IsWorkingDay(Date{2023, time.December, 29}); return err }},
		{"AddWorkingDays walking past the end", func() error { _, err := c.AddWorkingDays(Date{2030, time.December, 30}, 2); return err }},
		{"AddWorkingDays from the last day", func() error { _, err := c.AddWorkingDays(Date{2030, time.December, 31}, 1); return err }},
		{"AddWorkingDays from 2023", func() error { _, err := c.AddWorkingDays(Date{2023, time.June, 1}, 1); return err }},
		{"NextWorkingDay from 2031", func() error { _, err := c.NextWorkingDay(Date{2031, time.June, 2}); return err }},
		{"PreviousWorkingDay walking past the start", func() error { _, err := c.PreviousWorkingDay(Date{2024, time.January, 2}); return err }},
	}
	for _, tc := range tests {
		err := tc.call()
		if !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: err = %v, want ErrOutOfRange", tc.name, err)
			continue
		}
		// The message must say which date and which years, so the fix is obvious from a log line.
		if msg := err.Error(); !strings.Contains(msg, "2024") || !strings.Contains(msg, "2030") {
			t.Errorf("%s: %q does not name the covered years", tc.name, msg)
		}
	}

	_, err := c.IsWorkingDay(Date{2031, time.January, 2})
	if err == nil || !strings.Contains(err.Error(), "2031-01-02") {
		t.Errorf("IsWorkingDay(2031-01-02) error %v does not name the date", err)
	}
	if _, err := c.AddWorkingDays(Date{2026, time.November, 23}, -1); err == nil {
		t.Error("AddWorkingDays(n=-1): want an error")
	}
}

// The embedded file is the only source of bank holidays in production, so check it as data.
func TestEmbeddedData(t *testing.T) {
	var file struct {
		About  string `json:"_about"`
		Events []struct {
			Date string `json:"date"`
		} `json:"events"`
	}
	if err := json.Unmarshal(embeddedJSON, &file); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(file.About, "gov.uk") {
		t.Errorf("_about must say where the data came from, got %q", file.About)
	}

	first, last := Embedded().Covers()
	perYear := map[int]int{}
	seen := map[Date]bool{}
	for _, e := range file.Events {
		d, err := ParseDate(e.Date)
		if err != nil {
			t.Errorf("event date: %v", err)
			continue
		}
		if seen[d] {
			t.Errorf("%s is listed twice", d)
		}
		seen[d] = true
		perYear[d.Year]++
		// Holidays falling on a weekend are moved to a substitute weekday, so none is listed on one.
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("%s is a %s", d, wd)
		}
		if ok, err := Embedded().IsWorkingDay(d); ok || err != nil {
			t.Errorf("IsWorkingDay(%s) = %v, %v; want false, nil for a listed holiday", d, ok, err)
		}
	}
	for y := first; y <= last; y++ {
		if perYear[y] != 8 {
			t.Errorf("%d has %d bank holidays, want 8", y, perYear[y])
		}
	}
	if len(file.Events) != 8*(last-first+1) {
		t.Errorf("%d events, want 8 for each of %d to %d", len(file.Events), first, last)
	}
}

func TestParseRejectsBadData(t *testing.T) {
	tests := map[string]string{
		"not JSON":              `{`,
		"no years":              `{"events":[]}`,
		"years reversed":        `{"firstYear":2030,"lastYear":2024,"events":[]}`,
		"holiday outside years": `{"firstYear":2024,"lastYear":2024,"events":[{"date":"2025-01-01"}]}`,
		"unreal date":           `{"firstYear":2025,"lastYear":2025,"events":[{"date":"2025-02-29"}]}`,
	}
	for name, data := range tests {
		if _, err := parse([]byte(data)); err == nil {
			t.Errorf("%s: parse accepted %s", name, data)
		}
	}
}

func TestNew(t *testing.T) {
	// A one-off holiday (like the 2022 state funeral) on a Monday, which the standing rules lack.
	holidays := []Date{{2026, time.November, 23}}
	c := New(holidays, 2026, 2026)
	holidays[0] = Date{2026, time.November, 24} // New must copy: a Calendar is immutable

	got, err := c.AddWorkingDays(Date{2026, time.November, 20}, 2)
	if err != nil || got != (Date{2026, time.November, 25}) {
		t.Errorf("AddWorkingDays over a one-off holiday = %s, %v; want 2026-11-25", got, err)
	}
	if _, err := c.IsWorkingDay(Date{2027, time.January, 4}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("IsWorkingDay(2027-01-04) outside a 2026-only calendar: err = %v, want ErrOutOfRange", err)
	}

	defer func() {
		if recover() == nil {
			t.Error("New with a holiday outside its years: want a panic")
		}
	}()
	New([]Date{{2027, time.January, 1}}, 2026, 2026)
}
