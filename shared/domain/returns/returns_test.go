package returns

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
)

var areas = []string{"north", "south"}

// loadExample reads the hand-worked example of docs/returns.md. A store test can load the same
// file, store the referrals and compare its report with testdata/example.csv.
func loadExample(t *testing.T) []referral.Referral {
	t.Helper()
	b, err := os.ReadFile("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	var rs []referral.Referral
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 30 {
		t.Fatalf("example has %d referrals, want 30", len(rs))
	}
	return rs
}

func allFacts(rs []referral.Referral) []Fact {
	var facts []Fact
	for _, r := range rs {
		facts = append(facts, Facts(r)...)
	}
	return facts
}

func TestHandWorkedExample(t *testing.T) {
	rows, err := Rows(allFacts(loadExample(t)), areas, "2026-09", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteCSV(&got, rows); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/example.csv")
	if err != nil {
		t.Fatal(err)
	}
	gotLines, wantLines := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	if len(gotLines) != len(wantLines) {
		t.Fatalf("got %d lines, want %d:\n%s", len(gotLines), len(wantLines), got.String())
	}
	for i := range wantLines {
		if gotLines[i] != wantLines[i] {
			t.Errorf("line %d:\n got  %s\n want %s", i+1, gotLines[i], wantLines[i])
		}
	}
}

func TestHeaderIsSpecSection12(t *testing.T) {
	const spec = "area,month,received,assigned_at_intake,waitlisted_at_intake,contacted_on_time,contacted_late,met_on_time,met_late,employer_contact_within_30_days,job_starts,first_job_starts,job_starts_16_hours,job_outcomes,closed,withdrawn_revoked,withdrawn_entered_in_error,caseload_max,waitlist_at_month_end"
	var b bytes.Buffer
	if err := WriteCSV(&b, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.String()); got != spec {
		t.Errorf("header\n got  %s\n want %s", got, spec)
	}
}

// Starting from a month-end snapshot must give the same rows as replaying every delta ever
// recorded: that is what lets a report read only the months asked for.
func TestSnapshotGivesSameLevelsAsFullHistory(t *testing.T) {
	facts := allFacts(loadExample(t))
	full, err := Rows(facts, areas, "2026-10", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	var window []Fact
	for _, a := range areas {
		window = append(window, Snapshot(facts, a, "2026-09")...)
	}
	for _, f := range facts {
		if f.Month >= "2026-10" && f.Month <= "2026-11" {
			window = append(window, f)
		}
	}
	fromSnapshot, err := Rows(window, areas, "2026-10", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		if a, b := full[i].Values(), fromSnapshot[i].Values(); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("row %d: full history %v, from snapshot %v", i, a, b)
		}
	}
}

// Facts are keyed by referral, event and position: recomputing a referral (a stream retry, or the
// next event of the same referral) overwrites its earlier facts instead of adding to them.
func TestFactKeysAreStableAndUnique(t *testing.T) {
	for _, r := range loadExample(t) {
		first, again := Facts(r), Facts(r)
		seen := map[string]Fact{}
		for _, f := range first {
			if _, dup := seen[f.Key()]; dup {
				t.Errorf("%s: key %s used twice", r.ID, f.Key())
			}
			seen[f.Key()] = f
		}
		for _, f := range again {
			if seen[f.Key()] != f {
				t.Errorf("%s: recomputed fact %+v differs from %+v", r.ID, f, seen[f.Key()])
			}
		}
		// Adding events must not move earlier events' facts.
		shorter := prefix(r, len(r.Events)-1)
		for _, f := range Facts(shorter) {
			if g, ok := seen[f.Key()]; !ok || g != f {
				t.Errorf("%s: fact %+v of the shorter history changed to %+v", r.ID, f, g)
			}
		}
	}
}

func TestEmploymentRate(t *testing.T) {
	rows, err := Rows(allFacts(loadExample(t)), areas, "2026-09", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		area     string
		num, den int
	}{{"north", 3, 3}, {"south", 2, 3}}
	for _, tt := range tests {
		var mine []Row
		for _, r := range rows {
			if r.Area == tt.area {
				mine = append(mine, r)
			}
		}
		num, den, ok := Rate(mine)
		if num != tt.num || den != tt.den || !ok {
			t.Errorf("%s: rate %d/%d (ok %v), want %d/%d", tt.area, num, den, ok, tt.num, tt.den)
		}
	}
}

func TestMonthsRejectsBadRanges(t *testing.T) {
	tests := []struct{ from, to, field string }{
		{"2026-13", "2026-12", "from"}, {"2026-01", "26-02", "to"}, {"2026-05", "2026-04", "to"}, {"2000-01", "2026-01", "to"},
	}
	for _, tt := range tests {
		if _, err := Months(tt.from, tt.to); err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
			t.Errorf("Months(%q, %q) = %v, want an error naming %s", tt.from, tt.to, err, tt.field)
		}
	}
	m, err := Months("2026-11", "2027-02")
	if err != nil || strings.Join(m, ",") != "2026-11,2026-12,2027-01,2027-02" {
		t.Errorf("Months across a year = %v, %v", m, err)
	}
}

func TestJSONCarriesCountsOnly(t *testing.T) {
	rows, err := Rows(allFacts(loadExample(t)), areas, "2026-09", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, rows); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"N01", "S07", "n1", "s2", "unreachable", "re-referral"} {
		if strings.Contains(b.String(), ref) {
			t.Errorf("JSON return contains %q", ref)
		}
	}
	var doc struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.Rows) != 6 || doc.Rows[0]["received"] != float64(6) {
		t.Errorf("JSON rows: %v, %v", doc.Rows, err)
	}
}

// prefix is r as stored after its first k events: in the area and with the specialist it had then.
func prefix(r referral.Referral, k int) referral.Referral {
	p := r
	p.Events = r.Events[:k]
	p.Area = areaAt(r, k-1)
	p.SpecialistID = holders(r)[k-1]
	return p
}

// A store that overwrites facts by key on every stream record, retries included, ends with exactly
// the facts of the whole history: no fact of an earlier record is left behind under another key.
func TestStreamReplayOverwrites(t *testing.T) {
	for _, r := range loadExample(t) {
		stored := map[string]Fact{}
		for k := 1; k <= len(r.Events); k++ {
			for range 2 { // every record delivered twice
				for _, f := range Facts(prefix(r, k)) {
					stored[f.Key()] = f
				}
			}
		}
		final := Facts(r)
		if len(stored) != len(final) {
			t.Errorf("%s: %d facts stored after replay, want %d", r.ID, len(stored), len(final))
		}
		for _, f := range final {
			if stored[f.Key()] != f {
				t.Errorf("%s: stored %+v, want %+v", r.ID, stored[f.Key()], f)
			}
		}
	}
}
