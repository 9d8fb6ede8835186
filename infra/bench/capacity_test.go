package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/infra/localstack"
	"github.com/ipspc/referrals/infra/seed"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/email"
)

// capacityReferrals is how many referrals the capacity figures average over.
const capacityReferrals = 50

type capacityResult struct {
	// Intake, per referral with an Idempotency-Key (the form always has its token): units as
	// DynamoDB Local reports them, asking for TOTAL (what the store asks) and for INDEXES.
	IntakeTotal, IntakeIndexes reading
	// RecordHook is what the store's own Consumed hook saw of its transaction (TOTAL).
	RecordHook float64
	// IntakeNoKey is the same without an idempotency claim.
	IntakeNoKey reading
	// Item sizes in bytes, and the write units they cost at AWS's published rates.
	Sizes map[string]int
	// IndexEntries are the referral's entries in the referrals table's indexes (template.yaml's,
	// those whose keys the stored referral has), by index, in bytes.
	IndexEntries map[string]int
	ModelWrites  float64 // transactional: 2 units per KB started, per item; each index entry at 1
	// Notifications: the two intake emails (load, claim, confirm), plus the re-read the confirms'
	// own stream record causes.
	Notify reading
}

// referralTemplate is a stored referral item, to clone into large tables quickly.
type referralTemplate struct {
	Item      map[string]ddb.AttributeValue
	Directory string // the directory table its specialist is in
}

type stubLinks struct{}

func (stubLinks) Sign(string, string, time.Time) string { return "token" }

func (stubLinks) Issue(signedlink.Claim, time.Time) string { return "token" }

type discardMailer struct{}

func (discardMailer) Send(context.Context, email.Message) (string, error) { return "message-id", nil }

type nopCounter struct{}

func (nopCounter) Count(string, float64, map[string]string) {}

// benchTables creates the template's tables under a fresh prefix, dropped when the test ends.
// They have no streams: nothing here reads them, and DynamoDB Local's streams slow every write
// more as records pile up (see disableStream).
func benchTables(t *testing.T, root string) (*dynamodb.Client, map[string]string) {
	t.Helper()
	db := localstack.DynamoDBClient(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), "")
	tmpl, err := localstack.LoadTemplate(filepath.Join(root, "template.yaml"), localstack.TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tmpl.Tables {
		tb.Input.StreamSpecification = nil
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	ctx, cancel := timeout(time.Minute)
	defer cancel()
	tables, err := localstack.CreateTables(ctx, db, tmpl, "bench-cap-"+hex.EncodeToString(suffix)+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := timeout(2 * time.Minute)
		defer cancel()
		if err := localstack.DeleteTables(ctx, db, tables); err != nil {
			t.Errorf("drop tables: %v", err)
		}
	})
	return db, tables
}

// measureCapacity records referrals with the intake's store, then sends their emails with the
// notifier, in this process over a metered client.
func measureCapacity(t *testing.T, root string) (capacityResult, referralTemplate) {
	t.Helper()
	ctx := context.Background()
	db, tables := benchTables(t, root)
	if err := seed.Directory(ctx, db, tables["DirectoryTable"], filepath.Join("testdata", "directory.json")); err != nil {
		t.Fatal(err)
	}
	m := newMeter(tables)
	storeTables := dynamo.Tables{Referrals: tables["ReferralsTable"], Directory: tables["DirectoryTable"]}
	var r capacityResult
	var ids []string
	record := func(mode ddb.ReturnConsumedCapacity, withKey bool, offset int) reading {
		store := dynamo.NewReferrals(&meteredDB{db: db, m: m, mode: mode}, storeTables)
		store.Consumed = func(op string, cc ddb.ConsumedCapacity) {
			if op == "record" && mode == ddb.ReturnConsumedCapacityTotal {
				r.RecordHook += aws.ToFloat64(cc.CapacityUnits) / capacityReferrals
			}
		}
		in := &referral.Intake{Areas: fixedArea(benchArea), Store: store, Keys: benchKeys, Calendar: calendar.Embedded(),
			Policy: referral.DefaultPolicy(), Now: time.Now, NewID: referral.NewID}
		for i := range capacityReferrals {
			req := referral.Request{Submission: submissionFor(offset + i), Via: "api"}
			if withKey {
				req.IdempotencyKey = randomKey()
			}
			out, err := in.Submit(ctx, req)
			if err != nil {
				t.Fatalf("record: %v", err)
			}
			if out.Receipt.Status != referral.StatusAssigned {
				t.Fatalf("referral %s is %s, want assigned", out.Receipt.ReferralID, out.Receipt.Status)
			}
			ids = append(ids, out.Receipt.ReferralID)
		}
		return per(m.take(), capacityReferrals)
	}
	r.IntakeTotal = record(ddb.ReturnConsumedCapacityTotal, true, 3_000_000)
	r.IntakeIndexes = record(ddb.ReturnConsumedCapacityIndexes, true, 3_100_000)
	r.IntakeNoKey = record(ddb.ReturnConsumedCapacityIndexes, false, 3_200_000)

	// What the items weigh, and what they cost at AWS's rates.
	last := ids[len(ids)-1]
	refItem := getItem(t, db, tables["ReferralsTable"], "REFERRAL#"+last, "#REFERRAL")
	patientKey := refItem["patientKey"].(*ddb.AttributeValueMemberS).Value
	specialist := refItem["specialistId"].(*ddb.AttributeValueMemberS).Value
	r.Sizes = map[string]int{
		"referral":   itemSize(refItem),
		"open case":  itemSize(getItem(t, db, tables["ReferralsTable"], "OPEN#"+benchArea+"#"+patientKey, "#OPEN")),
		"specialist": itemSize(getItem(t, db, tables["DirectoryTable"], "AREA#"+benchArea, "SPECIALIST#"+specialist)),
	}
	for _, k := range []string{"referral", "open case", "specialist"} {
		r.ModelWrites += 2 * writeUnits(r.Sizes[k])
	}
	// Index entries are written at the standard rate, transaction or not: one unit per KB each.
	r.IndexEntries = indexEntries(t, root, refItem)
	for _, size := range r.IndexEntries {
		r.ModelWrites += writeUnits(size)
	}

	// The notifier on the same referrals: acknowledgement and assignment each loaded, claimed,
	// sent and confirmed; then the load the confirms' MODIFY stream record causes.
	n := &notify.Notifier{
		Store:  dynamo.NewNotifications(&meteredDB{db: db, m: m, mode: ddb.ReturnConsumedCapacityIndexes}, tables["ReferralsTable"]),
		People: dynamo.NewDirectory(&meteredDB{db: db, m: m, mode: ddb.ReturnConsumedCapacityIndexes}, tables["DirectoryTable"]),
		Mailer: discardMailer{}, Links: stubLinks{}, BaseURL: "https://example.org", LinkTTL: 28 * 24 * time.Hour,
		Now: time.Now, Via: "stream",
	}
	notified := ids[len(ids)-capacityReferrals:]
	m.take()
	for _, id := range notified {
		for range 2 {
			if err := n.Referral(ctx, id); err != nil {
				t.Fatalf("notify %s: %v", id, err)
			}
		}
	}
	r.Notify = per(m.take(), len(notified))
	t.Logf("capacity: %+v", r)
	return r, referralTemplate{Item: refItem, Directory: tables["DirectoryTable"]}
}

func per(r reading, n int) reading {
	out := reading{Read: r.Read / float64(n), Write: r.Write / float64(n), ByRead: map[string]float64{}, ByWrite: map[string]float64{}}
	for k, v := range r.ByRead {
		out.ByRead[k] = v / float64(n)
	}
	for k, v := range r.ByWrite {
		out.ByWrite[k] = v / float64(n)
	}
	return out
}

func getItem(t *testing.T, db *dynamodb.Client, table, pk, sk string) map[string]ddb.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: pk}, "sk": &ddb.AttributeValueMemberS{Value: sk}}})
	if err != nil || out.Item == nil {
		t.Fatalf("get %s %s from %s: %v", pk, sk, table, err)
	}
	return out.Item
}

// indexEntries are item's entries in the referrals table's indexes as template.yaml declares them
// (an index whose key attributes item lacks has none), by index, in bytes: keys only, as every
// index of the table projects.
func indexEntries(t *testing.T, root string, item map[string]ddb.AttributeValue) map[string]int {
	t.Helper()
	tmpl, err := localstack.LoadTemplate(filepath.Join(root, "template.yaml"), localstack.TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, gsi := range tmpl.Table("ReferralsTable").Input.GlobalSecondaryIndexes {
		keys := []string{"pk", "sk"}
		for _, k := range gsi.KeySchema {
			keys = append(keys, aws.ToString(k.AttributeName))
		}
		if entry := keysOnly(item, keys...); len(entry) == len(keys) {
			out[aws.ToString(gsi.IndexName)] = itemSize(entry)
		}
	}
	return out
}

func keysOnly(item map[string]ddb.AttributeValue, keys ...string) map[string]ddb.AttributeValue {
	out := map[string]ddb.AttributeValue{}
	for _, k := range keys {
		if v, ok := item[k]; ok {
			out[k] = v
		}
	}
	return out
}

const (
	sweepDue       = 100
	sweepSmall     = 1_000
	sweepLarge     = 100_000
	seedWriters    = 16
	sweepReceived  = "2026-11-23T10:00:00Z"
	sweepNowRFC    = "2026-11-24T09:00:00Z" // a Tuesday: the sweep's horizon is Wednesday
	sweepNotDueMin = 30                     // days after the horizon the others are due
)

type sweepResult struct {
	Small, Large       reading // per sweep
	SmallSum, LargeSum notify.Summary
	SeedLarge          time.Duration
}

// measureSweep runs the reminders sweep over 1,000 and over 100,000 stored referrals with the
// same 100 due, each in its own table.
func measureSweep(t *testing.T, root string, tmpl referralTemplate) sweepResult {
	t.Helper()
	now, err := time.Parse(time.RFC3339, sweepNowRFC)
	if err != nil {
		t.Fatal(err)
	}
	horizon, err := calendar.Embedded().NextWorkingDay(calendar.DateOf(now))
	if err != nil {
		t.Fatal(err)
	}
	var r sweepResult
	run := func(total int) (reading, notify.Summary, time.Duration) {
		db, tables := benchTables(t, root)
		start := time.Now()
		seedReferrals(t, db, tables["ReferralsTable"], tmpl.Item, total, horizon)
		seeded := time.Since(start)
		names := maps.Clone(tables)
		names["DirectoryTable"] = tmpl.Directory // whose specialists the sweep emails
		m := newMeter(names)
		mdb := &meteredDB{db: db, m: m, mode: ddb.ReturnConsumedCapacityIndexes}
		sweep := benchSweep(mdb, tables["ReferralsTable"], tmpl.Directory, now)
		sum, err := sweep.Run(context.Background(), now)
		if err != nil {
			t.Fatalf("sweep over %d: %v", total, err)
		}
		if sum.Due != sweepDue || sum.Reminders != sweepDue {
			t.Fatalf("sweep over %d: %+v, want %d due and reminded", total, sum, sweepDue)
		}
		return m.take(), sum, seeded
	}
	r.Small, r.SmallSum, _ = run(sweepSmall)
	r.Large, r.LargeSum, r.SeedLarge = run(sweepLarge)
	t.Logf("sweep: small %+v, large %+v, seeding %d took %s", r.Small, r.Large, sweepLarge, r.SeedLarge)
	return r
}

// seedReferrals writes total copies of a stored referral straight into table with parallel
// BatchWriteItems: the first sweepDue due for contact by horizon, the rest weeks later.
func seedReferrals(t *testing.T, db *dynamodb.Client, table string, item map[string]ddb.AttributeValue, total int, horizon calendar.Date) {
	t.Helper()
	history := item["events"]
	if l, ok := history.(*ddb.AttributeValueMemberL); ok && len(l.Value) > 2 {
		history = &ddb.AttributeValueMemberL{Value: l.Value[:2]} // received, assigned
	}
	s := func(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }
	batches := make(chan []ddb.WriteRequest)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for range seedWriters {
		wg.Go(func() {
			for batch := range batches {
				pending := map[string][]ddb.WriteRequest{table: batch}
				for len(pending[table]) > 0 {
					out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: pending})
					if err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						break
					}
					pending = out.UnprocessedItems
				}
			}
		})
	}
	batch := make([]ddb.WriteRequest, 0, 25)
	for i := range total {
		id := fmt.Sprintf("R-B%07d", i)
		contactBy := horizon
		if i >= sweepDue {
			contactBy = horizon.AddDays(sweepNotDueMin + i%200)
		}
		clone := maps.Clone(item)
		clone["pk"], clone["referralId"] = s("REFERRAL#"+id), s(id)
		clone["receivedAt"], clone["assignedAt"] = s(sweepReceived), s(sweepReceived)
		clone["contactBy"], clone["dueAt"], clone["dueKind"] = s(contactBy.String()), s(contactBy.String()), s("contact")
		clone["meetBy"] = s(contactBy.AddDays(14).String())
		clone["events"] = history
		batch = append(batch, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: clone}})
		if len(batch) == 25 || i == total-1 {
			batches <- batch
			batch = make([]ddb.WriteRequest, 0, 25)
		}
	}
	close(batches)
	wg.Wait()
	if failed != nil {
		t.Fatalf("seed %s: %v", table, failed)
	}
}
