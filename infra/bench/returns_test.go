package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/returns"
)

const (
	reportArea       = "bench-north"
	reportFrom       = "2026-01"
	reportTo         = "2026-12"
	reportOwn        = 1_000 // the area's referrals in the months asked for
	reportSmall      = 10_000
	reportLarge      = 100_000
	factsPerReferral = 4 // received, assigned at intake, a caseload unit, contacted on time
)

var _ dynamo.ReturnsAPI = (*meteredDB)(nil)

type reportResult struct {
	Small, Large reading // per report
	Received     int     // what the report counted (reportOwn when right)
	SeedLarge    time.Duration
}

// measureReport reads one area's return for 12 months from the returns table, with 10,000 and
// with 100,000 other referrals' facts stored in other months and areas, each in its own table.
func measureReport(t *testing.T, root string) reportResult {
	t.Helper()
	var r reportResult
	run := func(others int) (reading, int, time.Duration) {
		db, tables := benchTables(t, root)
		table := tables["ReturnsTable"]
		start := time.Now()
		seedFacts(t, dynamo.NewReturns(db, table), others)
		seeded := time.Since(start)
		m := newMeter(tables)
		store := dynamo.NewReturns(&meteredDB{db: db, m: m, mode: ddb.ReturnConsumedCapacityIndexes}, table)
		rows, err := returns.Read(context.Background(), store, []string{reportArea}, reportFrom, reportTo)
		if err != nil {
			t.Fatalf("report over %d others: %v", others, err)
		}
		received := 0
		for _, row := range rows {
			received += row.Flow[returns.Received]
		}
		if len(rows) != 12 || received != reportOwn {
			t.Fatalf("report over %d others: %d rows, %d received; want 12 and %d", others, len(rows), received, reportOwn)
		}
		return m.take(), received, seeded
	}
	r.Small, r.Received, _ = run(reportSmall)
	r.Large, _, r.SeedLarge = run(reportLarge)
	t.Logf("report: small %+v, large %+v, seeding %d took %s", r.Small, r.Large, reportLarge, r.SeedLarge)
	return r
}

// seedFacts writes the area's own referrals' facts in the months asked for, the month-end
// snapshot before them (as the daily schedule would have), and others referrals' facts: a quarter
// in the same area in earlier months, the rest in eleven other areas across 2024–2026.
func seedFacts(t *testing.T, store *dynamo.Returns, others int) {
	t.Helper()
	ctx := context.Background()
	if err := store.PutSnapshot(ctx, reportArea, returns.PreviousMonth(reportFrom), []returns.Fact{
		{Column: returns.WaitlistLevel, Count: 0}, {Column: returns.CaseloadLevel, Specialist: "s0", Count: 5},
	}); err != nil {
		t.Fatal(err)
	}
	facts := func(id string, area, month string, specialist string) []returns.Fact {
		day := month + "-15"
		return []returns.Fact{
			{Area: area, Month: month, Day: day, Referral: id, Index: 0, Column: returns.Received, Count: 1},
			{Area: area, Month: month, Day: day, Referral: id, Index: 1, Column: returns.AssignedAtIntake, Count: 1},
			{Area: area, Month: month, Day: day, Referral: id, Index: 1, Seq: 1, Column: returns.CaseloadDelta, Specialist: specialist, Count: 1},
			{Area: area, Month: month, Day: day, Referral: id, Index: 2, Column: returns.ContactedOnTime, Count: 1},
		}
	}
	batches := make(chan []returns.Fact)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for range seedWriters {
		wg.Go(func() {
			for batch := range batches {
				if err := store.Write(ctx, batch, nil); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		})
	}
	var pending []returns.Fact
	flush := func(force bool) {
		for len(pending) >= 25 || (force && len(pending) > 0) {
			n := min(25, len(pending))
			batches <- pending[:n:n]
			pending = pending[n:]
		}
	}
	for i := range reportOwn {
		month := fmt.Sprintf("2026-%02d", 1+i%12)
		pending = append(pending, facts(fmt.Sprintf("R-OWN%05d", i), reportArea, month, fmt.Sprintf("s%d", i%10))...)
		flush(false)
	}
	for i := range others {
		area := fmt.Sprintf("bench-other-%d", i%11)
		month := fmt.Sprintf("%d-%02d", 2024+i/12%3, 1+i%12)
		if i%4 == 0 { // the same area, before the months asked for
			area, month = reportArea, fmt.Sprintf("%d-%02d", 2024+i/12%2, 1+i%12)
		}
		pending = append(pending, facts(fmt.Sprintf("R-OTH%06d", i), area, month, "s1")...)
		flush(false)
	}
	flush(true)
	close(batches)
	wg.Wait()
	if failed != nil {
		t.Fatalf("seed returns: %v", failed)
	}
}

// reportFigure judges the report's reads against issue 13's target.
func (r reportResult) figure() figure {
	ratio := r.Large.Read / r.Small.Read
	return figure{Name: fmt.Sprintf("Report reads, one area × 12 months, at %s vs %s other referrals stored", thousands(reportLarge), thousands(reportSmall)),
		Measured: fmt.Sprintf("%s vs %s RCU = %.2f× (%s referrals' facts in the months asked for; by table at %s: %s)",
			units(r.Large.Read), units(r.Small.Read), ratio, thousands(reportOwn), thousands(reportLarge), breakdown(r.Large.ByRead)),
		Target: "≤ 1.2×", Met: ratio <= 1.2,
		Why: "A report should read one partition of the returns table per month asked for (area#month) and one snapshot " +
			"item; a ratio above 1.2 means it reads something that grows with other months or areas (a Scan, a Query " +
			"not bounded by area and month, or a walk back past a missing snapshot)."}
}
