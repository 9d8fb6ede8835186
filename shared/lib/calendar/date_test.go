package calendar

import (
	"encoding/json"
	"testing"
	"time"
)

// mustDate parses a fixture date, stopping the test if the fixture itself is wrong.
func mustDate(tb testing.TB, s string) Date {
	tb.Helper()
	d, err := ParseDate(s)
	if err != nil {
		tb.Fatalf("fixture date: %v", err)
	}
	return d
}

func TestParseDate(t *testing.T) {
	valid := []struct {
		in   string
		want Date
	}{
		{"2026-01-01", Date{2026, time.January, 1}},
		{"2024-02-29", Date{2024, time.February, 29}},
		{"2030-12-31", Date{2030, time.December, 31}},
	}
	for _, tc := range valid {
		got, err := ParseDate(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParseDate(%q).String() = %q", tc.in, got.String())
		}
	}

	for _, in := range []string{
		"", "2025-02-29", "2026-02-30", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00",
		" 2026-01-01", "2026-01-01 ", "2026-1-1", "2026-01-1", "26-01-01", "20260101",
		"2026/01/01", "2026-01-01T00:00:00Z", "+2026-01-01",
	} {
		if got, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", in, got)
		}
	}
}

func TestDateTextRoundTrip(t *testing.T) {
	type doc struct {
		On Date `json:"on"`
	}
	b, err := json.Marshal(doc{On: Date{2026, time.November, 28}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"on":"2026-11-28"}` {
		t.Fatalf("marshal = %s", b)
	}
	var back doc
	if err := json.Unmarshal(b, &back); err != nil || back.On != (Date{2026, time.November, 28}) {
		t.Fatalf("unmarshal %s = %v, %v", b, back.On, err)
	}

	// Neither a malformed string nor an unreal date may be read or written silently.
	if err := json.Unmarshal([]byte(`{"on":"2026-11-31"}`), &back); err == nil {
		t.Errorf("unmarshal 2026-11-31: want an error, got %v", back.On)
	}
	for _, d := range []Date{{}, {2026, time.February, 29}, {10000, time.January, 1}} {
		if b, err := d.MarshalText(); err == nil {
			t.Errorf("%#v.MarshalText() = %s, want an error", d, b)
		}
	}
}

func TestAddDaysAndWeekday(t *testing.T) {
	tests := []struct {
		from    string
		n       int
		want    string
		weekday time.Weekday
	}{
		{"2026-11-28", 0, "2026-11-28", time.Saturday},
		{"2026-11-28", 2, "2026-11-30", time.Monday},
		{"2026-12-31", 1, "2027-01-01", time.Friday},
		{"2024-02-28", 1, "2024-02-29", time.Thursday},
		{"2025-02-28", 1, "2025-03-01", time.Saturday},
		{"2026-03-01", -1, "2026-02-28", time.Saturday},
		{"2026-01-01", 365, "2027-01-01", time.Friday},
	}
	for _, tc := range tests {
		got := mustDate(t, tc.from).AddDays(tc.n)
		if got.String() != tc.want || got.Weekday() != tc.weekday {
			t.Errorf("%s.AddDays(%d) = %s (%s), want %s (%s)", tc.from, tc.n, got, got.Weekday(), tc.want, tc.weekday)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2026-11-23", "2026-11-23", 0},
		{"2026-11-23", "2026-11-24", -1},
		{"2026-12-01", "2026-11-30", 1},
		{"2025-12-31", "2026-01-01", -1},
		{"2027-01-01", "2026-12-31", 1},
	}
	for _, tc := range tests {
		a, b := mustDate(t, tc.a), mustDate(t, tc.b)
		if got := a.Compare(b); got != tc.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, tc.want)
		}
		if a.Before(b) != (tc.want < 0) || a.After(b) != (tc.want > 0) {
			t.Errorf("%s.Before/After(%s) = %v/%v, inconsistent with %d", a, b, a.Before(b), a.After(b), tc.want)
		}
	}
}

func TestDateOf(t *testing.T) {
	est := time.FixedZone("EST", -5*60*60)
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"GMT before spring switch", time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC), "2026-03-29"},
		{"late UTC in GMT stays same day", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), "2026-03-28"},
		{"late UTC in BST is next day", time.Date(2026, 3, 29, 23, 30, 0, 0, time.UTC), "2026-03-30"},
		{"BST on the night of the autumn switch", time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC), "2026-10-25"},
		{"late UTC after autumn switch stays same day", time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), "2026-10-25"},
		{"BST midnight is exactly the new day", time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC), "2026-07-01"},
		{"just before BST midnight", time.Date(2026, 6, 30, 22, 59, 59, 0, time.UTC), "2026-06-30"},
		{"instant in another zone", time.Date(2026, 11, 24, 20, 0, 0, 0, est), "2026-11-25"},
	}
	for _, tc := range tests {
		if got := DateOf(tc.at); got.String() != tc.want {
			t.Errorf("%s: DateOf(%s) = %s, want %s", tc.name, tc.at.Format(time.RFC3339), got, tc.want)
		}
	}
	if got := London().String(); got != "Europe/London" {
		t.Errorf("London() = %q", got)
	}
}

func TestYearsBetween(t *testing.T) {
	tests := []struct {
		birth, on string
		want      int
	}{
		{"2008-11-23", "2026-11-22", 17},
		{"2008-11-23", "2026-11-23", 18},
		{"2008-12-31", "2026-01-01", 17},
		{"2008-01-01", "2026-12-31", 18},
		{"2026-11-23", "2026-11-23", 0},
		{"2026-11-24", "2026-11-23", -1},
		// 29 February: in a non-leap year the birthday is reached on 1 March, not 28 February.
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
		{"2008-02-29", "2028-02-28", 19},
		{"2008-02-29", "2028-02-29", 20},
	}
	for _, tc := range tests {
		if got := YearsBetween(mustDate(t, tc.birth), mustDate(t, tc.on)); got != tc.want {
			t.Errorf("YearsBetween(%s, %s) = %d, want %d", tc.birth, tc.on, got, tc.want)
		}
	}
}

func TestDateLong(t *testing.T) {
	tests := []struct {
		in   Date
		want string
	}{
		{Date{2026, time.November, 25}, "Wednesday 25 November 2026"},
		{Date{2026, time.December, 1}, "Tuesday 1 December 2026"},
		{Date{2028, time.February, 29}, "Tuesday 29 February 2028"},
		{Date{2026, time.February, 30}, "2026-02-30"}, // not a real day: as String writes it
		{Date{}, "0000-00-00"},
	}
	for _, tt := range tests {
		if got := tt.in.Long(); got != tt.want {
			t.Errorf("%v.Long() = %q, want %q", tt.in, got, tt.want)
		}
	}
}
