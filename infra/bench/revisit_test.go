package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// revisitResult is what the hourly sweep costs for a due referral it has already reminded: the
// visits between the reminder and the specialist's action.
type revisitResult struct {
	PerDue  reading // the second run's units, per due referral
	Summary notify.Summary
}

// TestBenchSweepRevisit is the sweep's re-visits alone: the report's re-visit figure.
func TestBenchSweepRevisit(t *testing.T) {
	root := benchRoot(t)
	_, tmpl := measureCapacity(t, root)
	f := measureRevisit(t, root, tmpl).figure()
	fmt.Print(table([]figure{f}))
}

// measureRevisit stores sweepSmall referrals (sweepDue of them due), runs the sweep once (it sends
// their reminders), then again half an hour later over a metered client: the second run's units,
// per due referral, are what each hourly visit costs until the specialist acts.
func measureRevisit(t *testing.T, root string, tmpl referralTemplate) revisitResult {
	t.Helper()
	now, err := time.Parse(time.RFC3339, sweepNowRFC)
	if err != nil {
		t.Fatal(err)
	}
	horizon, err := calendar.Embedded().NextWorkingDay(calendar.DateOf(now))
	if err != nil {
		t.Fatal(err)
	}
	db, tables := benchTables(t, root)
	seedReferrals(t, db, tables["ReferralsTable"], tmpl.Item, sweepSmall, horizon)
	names := maps.Clone(tables)
	names["DirectoryTable"] = tmpl.Directory
	m := newMeter(names)
	mdb := &meteredDB{db: db, m: m, mode: ddb.ReturnConsumedCapacityIndexes}
	run := func(at time.Time) notify.Summary {
		sweep := benchSweep(mdb, tables["ReferralsTable"], tmpl.Directory, at)
		sum, err := sweep.Run(context.Background(), at)
		if err != nil {
			t.Fatalf("sweep at %s: %v", at, err)
		}
		return sum
	}
	if sum := run(now); sum.Reminders != sweepDue {
		t.Fatalf("first sweep: %+v, want %d reminders", sum, sweepDue)
	}
	m.take()
	// Half an hour on: still within a day of the assignment, so nothing is resent.
	var r revisitResult
	r.Summary = run(now.Add(30 * time.Minute))
	if r.Summary.Due != sweepDue || r.Summary.Reminders != 0 || r.Summary.Resent != 0 {
		t.Fatalf("second sweep: %+v, want %d due and nothing sent", r.Summary, sweepDue)
	}
	r.PerDue = per(m.take(), sweepDue)
	t.Logf("revisit: %+v", r)
	return r
}

func (r revisitResult) figure() figure {
	return figure{Name: "Reminder sweep re-visit per due referral (already reminded)",
		Measured: fmt.Sprintf("%s RCU, %s WCU (by table: reads %s): its share of the Due index queries and the load of the "+
			"referral and its notification records; the sweep does this every hour until the specialist acts",
			units(r.PerDue.Read), units(r.PerDue.Write), breakdown(r.PerDue.ByRead))}
}

// benchSweep is the reminders sweep as RemindersFunction wires it, over client, with a mailer that
// discards and the clock stopped at at; the directory table is the one whose specialists it emails.
func benchSweep(client *meteredDB, referrals, directory string, at time.Time) *notify.Sweep {
	return &notify.Sweep{
		Due: dynamo.NewDue(client, dynamo.Tables{Referrals: referrals, Directory: directory}),
		Notifier: &notify.Notifier{
			Store: dynamo.NewNotifications(client, referrals), People: dynamo.NewDirectory(client, directory),
			Mailer: discardMailer{}, Links: stubLinks{}, BaseURL: "https://example.org", LinkTTL: 28 * 24 * time.Hour,
			Now: func() time.Time { return at }, Via: "schedule",
		},
		Calendar: calendar.Embedded(), Metrics: nopCounter{}, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		ResendAfter: 24 * time.Hour,
	}
}
