package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// storeFixture is a referrals store over fresh tables, with a directory of one area.
type storeFixture struct {
	client *dynamodb.Client
	store  *Referrals
	dir    *Directory
	tables Tables
}

func newStoreFixture(t *testing.T, specialists ...directory.Specialist) storeFixture {
	t.Helper()
	client := newTestClient(t)
	tables := Tables{
		Referrals: createTable(t, client, templateTable(t, "ReferralsTable")),
		Directory: createTable(t, client, templateTable(t, "DirectoryTable")),
	}
	dir := NewDirectory(client, tables.Directory)
	file := directory.File{
		Areas: []directory.Area{
			{ID: "south-yorkshire", Name: "South Yorkshire", Postcodes: []string{"S1"}, Lead: directory.Person{Name: "Lee Lead", Email: "lead@example.org"}},
			{ID: "norfolk", Name: "Norfolk", Postcodes: []string{"NR1"}, Lead: directory.Person{Name: "Nia Lead", Email: "nlead@example.org"}},
		},
		Specialists: specialists,
	}
	if err := dir.Import(context.Background(), file); err != nil {
		t.Fatalf("import directory: %v", err)
	}
	return storeFixture{client: client, store: NewReferrals(client, tables), dir: dir, tables: tables}
}

func specialist(id, area string, capacity int, active bool) directory.Specialist {
	return directory.Specialist{ID: id, AreaID: area, Name: "Spec " + id, Email: id + "@example.org", Capacity: capacity, Active: active}
}

// testKeys is the Keyer of store tests: a fixed test secret.
var testKeys, _ = referral.NewKeyer([]byte("store-test-patient-key-secret-32-bytes"))

func newReferral(nhs, area string) referral.Referral {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return referral.Referral{
		ID: referral.NewID(), Area: area, ReceivedAt: now, PatientKey: testKeys.PatientKey(nhs),
		ContactBy: calendar.Date{Year: 2026, Month: 11, Day: 25}, MeetBy: calendar.Date{Year: 2026, Month: 12, Day: 7},
		Submission: referral.Submission{
			Patient:          referral.Patient{GivenName: "Sam", FamilyName: "Taylor", DateOfBirth: "1988-02-29", NHSNumber: nhs, Postcode: "S1 2HH", Phone: "07700900123", PreferredContact: "phone"},
			Referrer:         referral.Referrer{Name: "Dr Priya Shah", PracticeCode: "C88038", Email: "priya.shah@nhs.net"},
			EmploymentStatus: "unemployed", Consent: true,
		},
		Events: []referral.Event{{At: now, Type: referral.EventReceived, By: referral.System, Via: "api"}},
	}
}

func (f storeFixture) caseloads(t *testing.T, area string) map[string]int {
	t.Helper()
	specs, err := f.dir.Specialists(context.Background(), area)
	if err != nil {
		t.Fatalf("specialists: %v", err)
	}
	out := map[string]int{}
	for _, s := range specs {
		out[s.ID] = s.Caseload
	}
	return out
}

func (f storeFixture) stored(t *testing.T, id string) referralItem {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.tables.Referrals, Key: itemKey(referralPK(id), referralSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		t.Fatalf("get referral %s: %v (found %v)", id, err, out != nil && out.Item != nil)
	}
	var item referralItem
	if err := unmarshalMap(out.Item, &item); err != nil {
		t.Fatal(err)
	}
	return item
}

func TestRecordRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		specialists   []directory.Specialist
		prior         []directory.Specialist // caseload to give before recording: one referral per unit
		wantStatus    referral.Status
		wantSpecialst string
	}{
		{name: "lowest caseload wins", specialists: []directory.Specialist{specialist("ann", "south-yorkshire", 20, true), specialist("bob", "south-yorkshire", 20, true)},
			prior: []directory.Specialist{specialist("ann", "", 0, true)}, wantStatus: referral.StatusAssigned, wantSpecialst: "bob"},
		{name: "inactive specialist skipped", specialists: []directory.Specialist{specialist("ann", "south-yorkshire", 20, false), specialist("bob", "south-yorkshire", 20, true)},
			wantStatus: referral.StatusAssigned, wantSpecialst: "bob"},
		{name: "full specialist skipped", specialists: []directory.Specialist{specialist("ann", "south-yorkshire", 1, true), specialist("bob", "south-yorkshire", 5, true)},
			prior: []directory.Specialist{specialist("bob", "", 0, true), specialist("bob", "", 0, true), specialist("ann", "", 0, true)}, wantStatus: referral.StatusAssigned, wantSpecialst: "bob"},
		{name: "no capacity waitlists", specialists: []directory.Specialist{specialist("ann", "south-yorkshire", 0, true)},
			wantStatus: referral.StatusWaitlisted},
		{name: "no specialists waitlists", wantStatus: referral.StatusWaitlisted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newStoreFixture(t, tt.specialists...)
			ctx := context.Background()
			for i, p := range tt.prior {
				// Build caseload through the store itself, pinned to one specialist by leaving
				// only them with room: simplest is a direct caseload increment.
				item, err := f.store.incrementCaseload("south-yorkshire", p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{*item}}); err != nil {
					t.Fatalf("prior %d: %v", i, err)
				}
			}
			before := f.caseloads(t, "south-yorkshire")
			got, err := f.store.Record(ctx, newReferral("9434765919", "south-yorkshire"), nil)
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if got.Status != tt.wantStatus || got.SpecialistID != tt.wantSpecialst {
				t.Fatalf("Record = %s/%q, want %s/%q", got.Status, got.SpecialistID, tt.wantStatus, tt.wantSpecialst)
			}
			after := f.caseloads(t, "south-yorkshire")
			for id := range after {
				want := before[id]
				if id == tt.wantSpecialst {
					want++
				}
				if after[id] != want {
					t.Errorf("caseload of %s = %d, want %d", id, after[id], want)
				}
			}
			item := f.stored(t, got.ID)
			if item.Status != string(tt.wantStatus) || item.SpecialistID != tt.wantSpecialst || item.Patient.NHSNumber != "9434765919" {
				t.Errorf("stored = %+v", item)
			}
			if len(item.Events) != 2 || item.Events[0].Type != referral.EventReceived || item.Events[1].Type != string(tt.wantStatus) {
				t.Errorf("events = %+v", item.Events)
			}
			waitlisted := tt.wantStatus == referral.StatusWaitlisted
			if (item.WaitArea != "") != waitlisted || (item.DueAt != "") == waitlisted {
				t.Errorf("index keys: waitArea=%q dueAt=%q for %s", item.WaitArea, item.DueAt, tt.wantStatus)
			}
		})
	}
}

func TestRecordReReferral(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		capacity   int
		secondArea string
		wantSame   bool
		wantStatus referral.Status
	}{
		{name: "same area goes to the same specialist without capacity", capacity: 1, secondArea: "south-yorkshire", wantSame: true, wantStatus: referral.StatusAssigned},
		{name: "waitlisted patient re-referred stays waitlisted", capacity: 0, secondArea: "south-yorkshire", wantSame: true, wantStatus: referral.StatusWaitlisted},
		{name: "another area is a new case", capacity: 1, secondArea: "norfolk", wantSame: false, wantStatus: referral.StatusAssigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newStoreFixture(t, specialist("ann", "south-yorkshire", tt.capacity, true), specialist("nat", "norfolk", 1, true))
			ctx := context.Background()
			first, err := f.store.Record(ctx, newReferral("9434765919", "south-yorkshire"), nil)
			if err != nil {
				t.Fatal(err)
			}
			second, err := f.store.Record(ctx, newReferral("9434765919", tt.secondArea), nil)
			if err != nil {
				t.Fatal(err)
			}
			if second.ReReferral != tt.wantSame || second.Status != tt.wantStatus {
				t.Fatalf("second = status %s reReferral %v, want %s %v", second.Status, second.ReReferral, tt.wantStatus, tt.wantSame)
			}
			if tt.wantSame && second.SpecialistID != first.SpecialistID {
				t.Errorf("re-referral went to %q, first to %q", second.SpecialistID, first.SpecialistID)
			}
			if got := f.caseloads(t, "south-yorkshire")["ann"]; got != min(tt.capacity, 1) {
				t.Errorf("ann's caseload = %d, want %d (a re-referral uses no capacity)", got, min(tt.capacity, 1))
			}
			if tt.wantSame {
				if item := f.stored(t, second.ID); !item.ReReferral || item.Events[1].Detail != "re-referral" {
					t.Errorf("stored re-referral not flagged: %+v", item)
				}
			}
		})
	}
}

func TestRecordIdempotencyClaims(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 20, true))
	ctx := context.Background()
	r := newReferral("9434765919", "south-yorkshire")
	r.ID = testKeys.KeyedID("key-1", 0)
	claim := &referral.Idempotency{Tag: testKeys.KeyTag("key-1"), RequestHash: "h1"}
	first, err := f.store.Record(ctx, r, claim)
	if err != nil {
		t.Fatal(err)
	}
	again := newReferral("4010232137", "south-yorkshire")
	again.ID = r.ID
	_, err = f.store.Record(ctx, again, &referral.Idempotency{Tag: claim.Tag, RequestHash: "h2"})
	var taken *referral.IDTaken
	if !errors.As(err, &taken) || taken.Held == nil {
		t.Fatalf("second Record under the same id: err = %v, want *IDTaken with the held claim", err)
	}
	if want := (referral.Idempotency{Tag: claim.Tag, RequestHash: "h1", Receipt: first.Receipt()}); *taken.Held != want {
		t.Errorf("held claim = %+v, want %+v (the original receipt)", *taken.Held, want)
	}
	// Nothing of the refused attempt was written (one transaction: all or nothing).
	if got := f.caseloads(t, "south-yorkshire")["ann"]; got != 1 {
		t.Errorf("caseload = %d after a refused duplicate, want 1", got)
	}
	if out, _ := f.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.tables.Referrals, Key: itemKey(openPK("south-yorkshire", again.PatientKey), openSK)}); out.Item != nil {
		t.Errorf("refused referral's open case was stored")
	}
	// A referral made without a key holds its id with no claim.
	plain, err := f.store.Record(ctx, newReferral("9990548609", "south-yorkshire"), nil)
	if err != nil {
		t.Fatal(err)
	}
	clash := newReferral("9434765919", "norfolk")
	clash.ID = plain.ID
	if _, err := f.store.Record(ctx, clash, claim); !errors.As(err, &taken) || taken.Held != nil {
		t.Errorf("Record under a keyless referral's id: err = %v, want *IDTaken with no claim", err)
	}
	// The claim keeps the referral under DynamoDB's 1 KB write unit.
	out, err := f.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.tables.Referrals, Key: itemKey(referralPK(first.ID), referralSK)})
	if err != nil {
		t.Fatal(err)
	}
	if size := itemBytes(out.Item); size >= 1024 {
		t.Errorf("keyed referral is %d bytes, want under 1024", size)
	}
}

// itemBytes is an item's size by DynamoDB's rules for strings, numbers, booleans, lists and maps
// (names plus values; the overheads of lists and maps counted as 3 bytes and 1 per element).
func itemBytes(item map[string]ddb.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueBytes(v)
	}
	return n
}

func valueBytes(v ddb.AttributeValue) int {
	switch v := v.(type) {
	case *ddb.AttributeValueMemberS:
		return len(v.Value)
	case *ddb.AttributeValueMemberN:
		return (len(v.Value)+1)/2 + 1
	case *ddb.AttributeValueMemberBOOL, *ddb.AttributeValueMemberNULL:
		return 1
	case *ddb.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueBytes(e)
		}
		return n
	case *ddb.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueBytes(e)
		}
		return n
	}
	return 0
}

// TestNoKeyHoldsAnNHSNumber scans every item written by intake, re-referral, close and drain: the
// NHS number is in no key, and the open case is keyed by the referral's stored patient key.
func TestNoKeyHoldsAnNHSNumber(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 1, true))
	ctx := context.Background()
	nhs := []string{"9434765919", "4010232137"}
	first, err := f.store.Record(ctx, newReferral(nhs[0], "south-yorkshire"), &referral.Idempotency{Tag: testKeys.KeyTag("k"), RequestHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Record(ctx, newReferral(nhs[0], "south-yorkshire"), nil); err != nil { // a re-referral
		t.Fatal(err)
	}
	if _, err := f.store.Record(ctx, newReferral(nhs[1], "south-yorkshire"), nil); err != nil { // waitlisted
		t.Fatal(err)
	}
	out, err := f.client.Scan(ctx, &dynamodb.ScanInput{TableName: &f.tables.Referrals})
	if err != nil {
		t.Fatal(err)
	}
	opens := 0
	for _, item := range out.Items {
		for _, attr := range []string{attrPK, attrSK, "waitArea", "waitSince", "dueShard", "dueAt", "patientKey"} {
			v, _ := item[attr].(*ddb.AttributeValueMemberS)
			for _, n := range nhs {
				if v != nil && strings.Contains(v.Value, n) {
					t.Errorf("key attribute %s = %q holds an NHS number", attr, v.Value)
				}
			}
		}
		if pk := item[attrPK].(*ddb.AttributeValueMemberS).Value; strings.HasPrefix(pk, openPrefix) {
			opens++
			if pk != openPK("south-yorkshire", testKeys.PatientKey(nhs[0])) && pk != openPK("south-yorkshire", testKeys.PatientKey(nhs[1])) {
				t.Errorf("open case %s is not keyed by a patient key", pk)
			}
		}
	}
	if opens != 2 || len(out.Items) != 5 {
		t.Errorf("scanned %d items with %d open cases, want 5 (3 referrals, 2 open cases)", len(out.Items), opens)
	}
	// A stored referral carries its key, so later writes find the open case without recomputing it.
	loaded, err := f.store.load(ctx, referralPK(first.ID))
	if err != nil || loaded.PatientKey != testKeys.PatientKey(nhs[0]) {
		t.Errorf("loaded patient key = %q, %v", loaded.PatientKey, err)
	}
	// A referral without a patient key is refused, not keyed by anything else.
	bare := newReferral(nhs[1], "norfolk")
	bare.PatientKey = ""
	if _, err := f.store.Record(ctx, bare, nil); err == nil {
		t.Error("Record without a patient key succeeded")
	}
}

// TestRecordFromStaleCaseloads: a process whose cached caseloads are stale (another process filled
// the specialist meanwhile) is refused by the caseload condition, re-reads and waitlists; it never
// takes a specialist past capacity.
func TestRecordFromStaleCaseloads(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 2, true))
	ctx := context.Background()
	a := f.store
	b := NewReferrals(f.client, f.tables) // a second process, with its own cache
	var reads int
	a.Consumed = func(op string, _ ddb.ConsumedCapacity) {
		if op == "specialists" {
			reads++
		}
	}
	if r, err := a.Record(ctx, newReferral(validNHS(t, 1), "south-yorkshire"), nil); err != nil || r.Status != referral.StatusAssigned {
		t.Fatalf("first: %+v, %v", r, err)
	}
	if r, err := b.Record(ctx, newReferral(validNHS(t, 2), "south-yorkshire"), nil); err != nil || r.Status != referral.StatusAssigned {
		t.Fatalf("second, other process: %+v, %v", r, err)
	}
	// a's cache still says ann has one: its choice is stale and must be caught.
	r, err := a.Record(ctx, newReferral(validNHS(t, 3), "south-yorkshire"), nil)
	if err != nil || r.Status != referral.StatusWaitlisted {
		t.Fatalf("third, from a stale cache: %+v, %v; want waitlisted", r, err)
	}
	if got := f.caseloads(t, "south-yorkshire")["ann"]; got != 2 {
		t.Errorf("ann's caseload = %d, want 2 (her capacity)", got)
	}
	if reads != 2 {
		t.Errorf("process a read the specialists %d times, want 2 (once to start, once after the stale choice)", reads)
	}
}

func TestRecordConcurrentNeverExceedsCapacity(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 3, true), specialist("bob", "south-yorkshire", 3, true), specialist("cat", "south-yorkshire", 4, true))
	const n = 60
	var wg sync.WaitGroup
	results := make([]referral.Referral, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.store.Record(context.Background(), newReferral(validNHS(t, i), "south-yorkshire"), nil)
		}()
	}
	wg.Wait()
	assigned := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("referral %d: %v", i, errs[i])
		}
		if results[i].Status == referral.StatusAssigned {
			assigned[results[i].SpecialistID]++
		}
	}
	total := assigned["ann"] + assigned["bob"] + assigned["cat"]
	if total != 10 {
		t.Errorf("assigned %d, want exactly 10 (total capacity): %v", total, assigned)
	}
	for id, c := range f.caseloads(t, "south-yorkshire") {
		if c != assigned[id] || c > map[string]int{"ann": 3, "bob": 3, "cat": 4}[id] {
			t.Errorf("caseload of %s = %d, assigned %d", id, c, assigned[id])
		}
	}
}

// validNHS returns a distinct valid NHS number for i (modulus 11).
func validNHS(t *testing.T, i int) string {
	t.Helper()
	for base := 400000000 + i*10; ; base++ {
		s := fmt.Sprintf("%09d", base)
		sum := 0
		for k := range 9 {
			sum += int(s[k]-'0') * (10 - k)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check != 10 {
			return s + fmt.Sprint(check)
		}
	}
}
