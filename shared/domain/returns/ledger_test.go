package returns

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// memLedger keeps facts by area and month, counting reads, as dynamo.Returns does in a table.
type memLedger struct {
	facts     map[string][]Fact // area#month
	snapshots map[string][]Fact
	reads     int
}

func newMemLedger(facts []Fact) *memLedger {
	l := &memLedger{facts: map[string][]Fact{}, snapshots: map[string][]Fact{}}
	for _, f := range facts {
		l.facts[f.Area+"#"+f.Month] = append(l.facts[f.Area+"#"+f.Month], f)
	}
	return l
}

func (l *memLedger) MonthFacts(_ context.Context, area, month string) ([]Fact, error) {
	l.reads++
	return l.facts[area+"#"+month], nil
}

func (l *memLedger) Snapshot(_ context.Context, area, month string) ([]Fact, bool, error) {
	l.reads++
	s, ok := l.snapshots[area+"#"+month]
	return s, ok, nil
}

func (l *memLedger) PutSnapshot(_ context.Context, area, month string, facts []Fact) error {
	l.snapshots[area+"#"+month] = facts
	return nil
}

func csvOf(t *testing.T, rows []Row) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r.Values(), ",") + "\n")
	}
	return b.String()
}

// A report read month by month from the ledger, with or without month-end snapshots, gives the
// rows of the whole history.
func TestReadMatchesRowsOfWholeHistory(t *testing.T) {
	facts := allFacts(loadExample(t))
	for _, tt := range []struct{ from, to string }{{"2026-09", "2026-11"}, {"2026-10", "2026-11"}, {"2026-11", "2026-12"}} {
		want, err := Rows(facts, areas, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		l := newMemLedger(facts)
		got, err := Read(t.Context(), l, areas, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if csvOf(t, got) != csvOf(t, want) {
			t.Errorf("%s..%s without snapshots:\n%s\nwant\n%s", tt.from, tt.to, csvOf(t, got), csvOf(t, want))
		}
		// After the schedule closed 2026-11 (writing 2026-11 and the months rebuilt before it).
		n, err := Close(t.Context(), l, areas, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
		if err != nil || n != 2*WalkBack {
			t.Fatalf("Close wrote %d snapshots, %v; want %d", n, err, 2*WalkBack)
		}
		l.reads = 0
		got, err = Read(t.Context(), l, areas, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if csvOf(t, got) != csvOf(t, want) {
			t.Errorf("%s..%s with snapshots:\n%s\nwant\n%s", tt.from, tt.to, csvOf(t, got), csvOf(t, want))
		}
		months, _ := Months(tt.from, tt.to)
		if wantReads := len(areas) * (1 + len(months)); l.reads != wantReads {
			t.Errorf("%s..%s read %d times with snapshots, want %d (one snapshot and one read per month and area)", tt.from, tt.to, l.reads, wantReads)
		}
	}
}

func TestCloseWaitsForTheMonthToSettleAndWritesOnce(t *testing.T) {
	l := newMemLedger(allFacts(loadExample(t)))
	tests := []struct {
		now     time.Time
		written int
		month   string
	}{
		{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), 2 * WalkBack, "2026-10"}, // November not settled yet
		{time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), 2, "2026-11"},
		{time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), 0, "2026-11"},
	}
	for _, tt := range tests {
		n, err := Close(t.Context(), l, areas, tt.now)
		if err != nil || n != tt.written {
			t.Errorf("Close at %s wrote %d, %v; want %d", tt.now, n, err, tt.written)
		}
		if _, ok := l.snapshots["north#"+tt.month]; !ok {
			t.Errorf("after Close at %s no snapshot of %s", tt.now, tt.month)
		}
	}
	if _, ok := l.snapshots["north#2026-12"]; ok {
		t.Error("Close wrote a snapshot of a month not ended")
	}
	// The snapshot of November is what the whole history gives.
	want := Snapshot(allFacts(loadExample(t)), "south", "2026-11")
	if got := l.snapshots["south#2026-11"]; len(got) != len(want) || got[0] != want[0] {
		t.Errorf("south November snapshot %+v, want %+v", got, want)
	}
}

func TestChangesWritesOnlyWhatChanged(t *testing.T) {
	for _, r := range loadExample(t) {
		stored := map[string]Fact{} // area#month#key
		place := func(f Fact) string { return f.Area + "#" + f.Month + "#" + f.Key() }
		var before []Fact
		for k := 1; k <= len(r.Events); k++ {
			after := Facts(prefix(r, k))
			for range 2 { // every record delivered twice
				put, remove := Changes(before, after)
				for _, f := range remove {
					delete(stored, place(f))
				}
				for _, f := range put {
					stored[place(f)] = f
				}
			}
			if put, remove := Changes(after, after); len(put)+len(remove) != 0 {
				t.Errorf("%s: a repeated record changes %d facts", r.ID, len(put)+len(remove))
			}
			before = after
		}
		final := Facts(r)
		if len(stored) != len(final) {
			t.Errorf("%s: %d facts stored, want %d", r.ID, len(stored), len(final))
		}
		for _, f := range final {
			if stored[place(f)] != f {
				t.Errorf("%s: stored %+v, want %+v", r.ID, stored[place(f)], f)
			}
		}
	}
	// A fact that moves month (or area) is removed from where it was.
	old := []Fact{{Area: "north", Month: "2026-10", Referral: "R-1", Column: JobStarts, Count: 1}}
	moved := []Fact{{Area: "north", Month: "2026-11", Referral: "R-1", Column: JobStarts, Count: 1}}
	put, remove := Changes(old, moved)
	if len(put) != 1 || len(remove) != 1 || remove[0].Month != "2026-10" {
		t.Errorf("moved fact: put %v, remove %v", put, remove)
	}
}

// Resnapshot replaces stale snapshots with what the facts give.
func TestResnapshotReplacesStaleSnapshots(t *testing.T) {
	facts := allFacts(loadExample(t))
	l := newMemLedger(facts)
	l.snapshots["north#2026-10"] = []Fact{{Area: "north", Month: "2026-10", Column: WaitlistLevel, Count: 99}}
	n, err := Resnapshot(t.Context(), l, areas, "2026-08", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	if err != nil || n != 8 {
		t.Fatalf("Resnapshot wrote %d, %v; want 8 (two areas, four months)", n, err)
	}
	want := Snapshot(facts, "north", "2026-10")
	if got := l.snapshots["north#2026-10"]; len(got) != len(want) || got[0] != want[0] {
		t.Errorf("north October = %+v, want %+v", got, want)
	}
	rows, err := Read(t.Context(), l, areas, "2026-11", "2026-11")
	full, _ := Rows(facts, areas, "2026-11", "2026-11")
	if err != nil || csvOf(t, rows) != csvOf(t, full) {
		t.Errorf("after Resnapshot: %s, %v; want %s", csvOf(t, rows), err, csvOf(t, full))
	}
}

// Every fact's day is a date of its month.
func TestFactDaysAreInTheirMonth(t *testing.T) {
	for _, f := range allFacts(loadExample(t)) {
		if len(f.Day) != 10 || f.Day[:7] != f.Month {
			t.Errorf("fact %+v: day %q not in month %s", f, f.Day, f.Month)
		}
	}
}

// The facts a usual life and a life that starts a job write (docs/cost.md's returns rows): each is
// one item of ReturnsTable, written once by the stream, 1 WCU at AWS rates (under 1 KB).
func TestFactsOfTypicalLives(t *testing.T) {
	at := func(day int) time.Time { return time.Date(2026, 10, day, 10, 0, 0, 0, time.UTC) }
	ev := func(day int, typ, detail string) referral.Event {
		return referral.Event{At: at(day), Type: typ, By: "s1", Via: "signed-link", Detail: detail}
	}
	base := referral.Referral{ID: "R-LIFE0001", Area: "north", SpecialistID: "s1", ReceivedAt: at(1),
		Submission: referral.Submission{EmploymentStatus: "unemployed"},
		Events: []referral.Event{
			{At: at(1), Type: referral.EventReceived, By: referral.System, Via: "api"},
			{At: at(1), Type: referral.EventAssigned, By: referral.System, Via: "intake"},
			ev(2, referral.EventContacted, ""), ev(6, referral.EventMet, "")}}
	base.ContactBy, _ = calendar.ParseDate("2026-10-05")
	base.MeetBy, _ = calendar.ParseDate("2026-10-15")
	usual := base
	usual.Events = append(append([]referral.Event{}, base.Events...), ev(20, referral.EventClosed, "support-complete"))
	job := base
	job.Events = append(append([]referral.Event{}, base.Events...), ev(8, referral.EventEmployerContact, "2026-10-08"),
		ev(12, referral.EventJobStarted, "start=2026-10-12;hours=20;self-employed=no"), ev(28, referral.EventOutcome, "sustained"),
		ev(29, referral.EventClosed, "support-complete"))
	for _, tt := range []struct {
		name string
		r    referral.Referral
		want int
	}{{"usual life", usual, 8}, {"a life that starts a job", job, 14}} {
		if got := len(Facts(tt.r)); got != tt.want {
			t.Errorf("%s: %d facts, want %d: %+v", tt.name, got, tt.want, Facts(tt.r))
		}
	}
}
