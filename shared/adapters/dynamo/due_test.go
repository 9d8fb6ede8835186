package dynamo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/email"
)

// capacityMeter sums the read capacity units reported by the stores.
type capacityMeter struct {
	mu    sync.Mutex
	units map[string]float64
}

func (m *capacityMeter) add(op string, cc ddb.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.units == nil {
		m.units = map[string]float64{}
	}
	m.units[op] += aws.ToFloat64(cc.CapacityUnits)
}

func (m *capacityMeter) total() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	sum := 0.0
	for _, u := range m.units {
		sum += u
	}
	return sum
}

type discardMailer struct{}

func (discardMailer) Send(context.Context, email.Message) (string, error) { return "m", nil }

type linkStub struct{}

func (linkStub) Sign(id, s string, _ time.Time) string { return "t" }

func (linkStub) Issue(signedlink.Claim, time.Time) string { return "t" }

// seedReferrals writes total assigned referrals straight into the table, due of them with a
// contact deadline by the sweep's horizon and the rest weeks later.
func seedReferrals(t *testing.T, client *dynamodb.Client, table string, total, due int, horizon calendar.Date) {
	t.Helper()
	received := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	items := make([]ddb.WriteRequest, 0, total)
	for i := range total {
		r := newReferral(fmt.Sprintf("%010d", i), "south-yorkshire")
		r.ID = fmt.Sprintf("R-%08d", i)
		r.ReceivedAt, r.Status, r.SpecialistID = received, referral.StatusAssigned, "ann"
		r.ContactBy, r.MeetBy = horizon.AddDays(30+i%200), horizon.AddDays(60+i%200)
		if i < due {
			r.ContactBy = horizon
		}
		put, err := (&Referrals{tables: Tables{Referrals: table}}).putReferral(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: put.Put.Item}})
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for start := 0; start < len(items); start += 25 {
		batch := items[start:min(start+25, len(items))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			pending := map[string][]ddb.WriteRequest{table: batch}
			for len(pending[table]) > 0 {
				out, err := client.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					t.Error(err)
					return
				}
				pending = out.UnprocessedItems
			}
		})
	}
	wg.Wait()
}

// sweepReadUnits runs a real sweep over total stored referrals with due of them due, and returns
// the read capacity it consumed on the referrals table and how many it visited.
func sweepReadUnits(t *testing.T, total, due int) (units float64, visited int) {
	t.Helper()
	client := newTestClient(t)
	table := createTable(t, client, templateTable(t, "ReferralsTable"))
	dirTable := createTable(t, client, templateTable(t, "DirectoryTable"))
	if err := NewDirectory(client, dirTable).Import(context.Background(), directory.File{
		Areas:       []directory.Area{{ID: "south-yorkshire", Name: "South Yorkshire", Postcodes: []string{"S1"}, Lead: directory.Person{Name: "L", Email: "lead@example.org"}}},
		Specialists: []directory.Specialist{specialist("ann", "south-yorkshire", 100000, true)},
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) // Tuesday: the horizon is Wednesday
	horizon, _ := calendar.Embedded().NextWorkingDay(calendar.DateOf(now))
	seedReferrals(t, client, table, total, due, horizon)

	meter := &capacityMeter{}
	finder := NewDue(client, Tables{Referrals: table, Directory: dirTable})
	finder.Consumed = meter.add
	store := NewNotifications(client, table)
	store.Consumed = meter.add
	sweep := &notify.Sweep{
		Due:      finder,
		Notifier: &notify.Notifier{Store: store, People: NewDirectory(client, dirTable), Mailer: discardMailer{}, Links: linkStub{}, Now: func() time.Time { return now }, Via: "schedule"},
		Calendar: calendar.Embedded(), Metrics: nopCounter{}, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		ResendAfter: 24 * time.Hour,
	}
	sum, err := sweep.Run(context.Background(), now)
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if sum.Reminders != due {
		t.Errorf("sweep sent %d reminders, want %d", sum.Reminders, due)
	}
	return meter.total(), sum.Due
}

type nopCounter struct{}

func (nopCounter) Count(string, float64, map[string]string) {}

// A sweep's reads grow with the referrals that are due, not with all stored referrals.
func TestSweepReadsOnlyWhatIsDue(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("writes 21,000 referrals")
	}
	small, visitedSmall := sweepReadUnits(t, 1000, 50)
	large, visitedLarge := sweepReadUnits(t, 20000, 50)
	t.Logf("sweep read capacity: %.1f RCU at 1,000 stored, %.1f RCU at 20,000 stored (50 due)", small, large)
	if visitedSmall != 50 || visitedLarge != 50 {
		t.Errorf("visited %d and %d referrals, want the 50 due", visitedSmall, visitedLarge)
	}
	if large > small*1.2 {
		t.Errorf("read %.1f RCU at 20,000 stored vs %.1f at 1,000: the sweep must not grow with stored referrals", large, small)
	}
	// Each due referral costs one small consistent Query; the index query is about half a unit
	// per 4 KB of keys. 50 due referrals must stay far below one unit per stored referral.
	if large > 4*50 {
		t.Errorf("read %.1f RCU for 50 due referrals", large)
	}
}
