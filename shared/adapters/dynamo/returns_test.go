package dynamo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/edges/tally"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

func newTestReturns(t *testing.T) *Returns {
	t.Helper()
	client := newTestClient(t)
	return NewReturns(client, createTable(t, client, templateTable(t, "ReturnsTable")))
}

// The hand-worked example of docs/returns.md, fed through the stream edge as the referrals table's
// stream delivers it (one record per event, each with its old and new image) with every record
// delivered twice, then read back month by month: the CSV is testdata/example.csv exactly.
func TestHandWorkedExampleThroughTheStream(t *testing.T) {
	t.Parallel()
	store := newTestReturns(t)
	b, err := os.ReadFile("../../domain/returns/testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	var rs []referral.Referral
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	h := &tally.Handler{Ledger: store, Decode: ReferralFromImage, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	seq := 0
	for _, r := range rs {
		var old map[string]events.DynamoDBAttributeValue
		for k := 1; k <= len(r.Events); k++ {
			stored := r
			stored.Events = r.Events[:k]
			img := streamImage(t, stored)
			rec := events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
				Keys:     map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute(referralPK(r.ID)), "sk": events.NewStringAttribute(referralSK)},
				OldImage: old, NewImage: img, StreamViewType: "NEW_AND_OLD_IMAGES"}}
			if old == nil {
				rec.EventName = "INSERT"
			}
			for range 2 { // a retried batch: the same record again
				seq++
				rec.Change.SequenceNumber = fmt.Sprint(seq)
				res, err := h.Stream(t.Context(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
				if err != nil || len(res.BatchItemFailures) != 0 {
					t.Fatalf("%s record %d: %+v, %v", r.ID, k, res, err)
				}
			}
			old = img
		}
	}
	rows, err := returns.Read(t.Context(), store, []string{"north", "south"}, "2026-09", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := returns.WriteCSV(&got, rows); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../domain/returns/testdata/example.csv")
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("CSV from the returns table:\n%s\nwant (testdata/example.csv):\n%s", got.String(), want)
	}

	// The lead digest's count: received facts by day, across a month boundary.
	tests := []struct {
		area     string
		from, to string
		want     int
	}{
		{"north", "2026-09-01", "2026-12-01", 14},
		{"north", "2026-09-01", "2026-09-02", countReceived(rs, "north", "2026-09-01", "2026-09-02")},
		{"south", "2026-09-28", "2026-10-05", countReceived(rs, "south", "2026-09-28", "2026-10-05")},
		{"north", "2026-10-26", "2026-11-02", countReceived(rs, "north", "2026-10-26", "2026-11-02")},
		{"north", "2026-12-01", "2026-12-08", 0},
	}
	for _, tt := range tests {
		from, _ := calendar.ParseDate(tt.from)
		to, _ := calendar.ParseDate(tt.to)
		n, err := store.ReceivedBetween(t.Context(), tt.area, from, to)
		if err != nil || n != tt.want {
			t.Errorf("ReceivedBetween(%s, %s, %s) = %d, %v; want %d", tt.area, tt.from, tt.to, n, err, tt.want)
		}
	}
}

// countReceived counts the example's referrals received in area on days [from, to), by hand.
func countReceived(rs []referral.Referral, area, from, to string) int {
	n := 0
	for _, r := range rs {
		first := r.Area
		for _, e := range r.Events {
			if e.Type == referral.EventTransferred {
				for part := range strings.SplitSeq(e.Detail, ";") {
					if v, ok := strings.CutPrefix(part, "from="); ok {
						first = v
						break
					}
				}
				break
			}
		}
		d := calendar.DateOf(r.ReceivedAt).String()
		if first == area && d >= from && d < to {
			n++
		}
	}
	return n
}

func TestSnapshotsRoundTrip(t *testing.T) {
	t.Parallel()
	store := newTestReturns(t)
	if _, ok, err := store.Snapshot(t.Context(), "north", "2026-10"); ok || err != nil {
		t.Fatalf("snapshot before any written: ok %v, %v", ok, err)
	}
	want := []returns.Fact{
		{Area: "north", Month: "2026-10", Column: returns.WaitlistLevel, Count: 2},
		{Area: "north", Month: "2026-10", Seq: 1, Column: returns.CaseloadLevel, Specialist: "n1", Count: 3},
	}
	if err := store.PutSnapshot(t.Context(), "north", "2026-10", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := store.Snapshot(t.Context(), "north", "2026-10")
	if err != nil || !ok || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("snapshot read back %+v (ok %v, %v), want %+v", got, ok, err, want)
	}
	// The snapshot item is in the month's partition but is no fact of it.
	if facts, err := store.MonthFacts(t.Context(), "north", "2026-10"); err != nil || len(facts) != 0 {
		t.Errorf("MonthFacts = %+v, %v; want none", facts, err)
	}
	// Closing November once it settled writes its snapshot from October's and November's facts.
	if err := store.Write(t.Context(), []returns.Fact{
		{Area: "north", Month: "2026-11", Day: "2026-11-03", Referral: "R-AAAA2222", Index: 3, Column: returns.CaseloadDelta, Specialist: "n1", Count: -1},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := returns.Close(t.Context(), store, []string{"north"}, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)); n != 1 || err != nil {
		t.Fatalf("Close wrote %d, %v; want 1", n, err)
	}
	nov, ok, err := store.Snapshot(t.Context(), "north", "2026-11")
	if err != nil || !ok || len(nov) != 2 || nov[1].Count != 2 || nov[0].Count != 2 {
		t.Errorf("November snapshot %+v (ok %v, %v), want waitlist 2 and n1 at 2", nov, ok, err)
	}
}

// streamImage is r's item as the stream carries it: the adapter's encoding, as lambda events'
// attribute values.
func streamImage(t *testing.T, r referral.Referral) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	item, err := marshalMap(referralItem{
		PK: referralPK(r.ID), SK: referralSK, ReferralID: r.ID, Status: string(r.Status), Area: r.Area,
		SpecialistID: r.SpecialistID, PatientKey: "k", ReceivedAt: r.ReceivedAt.UTC().Format(time.RFC3339),
		ContactBy: r.ContactBy.String(), MeetBy: r.MeetBy.String(), Submission: r.Submission, Events: r.Events,
	})
	if err != nil {
		t.Fatal(err)
	}
	return toImage(item)
}

func toImage(m map[string]ddb.AttributeValue) map[string]events.DynamoDBAttributeValue {
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = toImageValue(v)
	}
	return out
}

func toImageValue(v ddb.AttributeValue) events.DynamoDBAttributeValue {
	switch a := v.(type) {
	case *ddb.AttributeValueMemberS:
		return events.NewStringAttribute(a.Value)
	case *ddb.AttributeValueMemberN:
		return events.NewNumberAttribute(a.Value)
	case *ddb.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(a.Value)
	case *ddb.AttributeValueMemberSS:
		return events.NewStringSetAttribute(a.Value)
	case *ddb.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(a.Value))
		for i, el := range a.Value {
			l[i] = toImageValue(el)
		}
		return events.NewListAttribute(l)
	case *ddb.AttributeValueMemberM:
		return events.NewMapAttribute(toImage(a.Value))
	}
	return events.NewNullAttribute()
}
