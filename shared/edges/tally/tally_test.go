package tally

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/returns"
)

// fakeLedger records writes; failOn makes the write of that call number (1-based) fail.
type fakeLedger struct {
	calls       int
	failOn      int
	put, remove []returns.Fact
}

func (l *fakeLedger) Write(_ context.Context, put, remove []returns.Fact) error {
	l.calls++
	if l.calls == l.failOn {
		return errors.New("dynamodb: throttled")
	}
	l.put, l.remove = append(l.put, put...), append(l.remove, remove...)
	return nil
}

func newTestHandler(l *fakeLedger) *Handler {
	return &Handler{Ledger: l, Decode: dynamo.ReferralFromImage, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func fixture(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/stream-referral-modify.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// A contact recorded on a referral writes its one new fact, in the referral's area and month,
// and nothing of the events it had before.
func TestStreamWritesOnlyTheNewEventsFacts(t *testing.T) {
	l := &fakeLedger{}
	raw, _ := os.ReadFile("testdata/stream-referral-modify.json")
	res, err := newTestHandler(l).Handle(t.Context(), raw)
	if err != nil || len(res.(events.DynamoDBEventResponse).BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
	want := returns.Fact{Area: "south-yorkshire", Month: "2026-11", Day: "2026-11-24", Referral: "R-PABEN93S", Index: 2,
		Column: returns.ContactedOnTime, Count: 1}
	if len(l.put) != 1 || l.put[0] != want || len(l.remove) != 0 {
		t.Errorf("put %+v, remove %+v; want only %+v", l.put, l.remove, want)
	}
}

func TestStreamReportsTheFirstFailureAndStops(t *testing.T) {
	one := fixture(t).Records[0]
	var ev events.DynamoDBEvent
	for i, seq := range []string{"101", "102", "103"} {
		rec := one
		rec.Change.SequenceNumber = seq
		if i == 0 { // an insert: all its facts are new
			rec.EventName, rec.Change.OldImage = "INSERT", nil
		}
		ev.Records = append(ev.Records, rec)
	}
	removed := one
	removed.EventName = "REMOVE"
	notification := one
	notification.Change.Keys = map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("REFERRAL#R-PABEN93S"), "sk": events.NewStringAttribute("NOTIFIED#assignment")}
	ev.Records = append([]events.DynamoDBEventRecord{removed, notification}, ev.Records...)

	l := &fakeLedger{failOn: 2}
	res, err := newTestHandler(l).Stream(t.Context(), ev)
	if err != nil || len(res.BatchItemFailures) != 1 || res.BatchItemFailures[0].ItemIdentifier != "102" {
		t.Fatalf("Stream = %+v, %v; want record 102 reported", res, err)
	}
	if l.calls != 2 {
		t.Errorf("ledger written %d times, want 2: nothing after the failed record, nothing for the removal or the notification item", l.calls)
	}
	// The retry from 102 on writes the same fact again: overwritten by key, never counted twice.
	l.failOn = 0
	res, _ = newTestHandler(l).Stream(t.Context(), events.DynamoDBEvent{Records: ev.Records[3:]})
	if len(res.BatchItemFailures) != 0 || l.calls != 4 {
		t.Errorf("retry: %+v after %d writes", res, l.calls)
	}
}

type fakeSnapshots struct {
	puts []string
}

func (f *fakeSnapshots) MonthFacts(context.Context, string, string) ([]returns.Fact, error) {
	return nil, nil
}

func (f *fakeSnapshots) Snapshot(_ context.Context, area, month string) ([]returns.Fact, bool, error) {
	return nil, month < "2026-10", nil // snapshots exist up to September
}

func (f *fakeSnapshots) PutSnapshot(_ context.Context, area, month string, _ []returns.Fact) error {
	f.puts = append(f.puts, area+"#"+month)
	return nil
}

type twoAreas struct{}

func (twoAreas) Areas(context.Context) ([]directory.Area, error) {
	return []directory.Area{{ID: "essex"}, {ID: "norfolk"}}, nil
}

// The daily schedule closes the last settled month of every area, at the event's time.
func TestScheduleWritesTheSettledMonthsSnapshots(t *testing.T) {
	snaps := &fakeSnapshots{}
	h := newTestHandler(&fakeLedger{})
	h.Snapshots, h.Areas = snaps, twoAreas{}
	ev, _ := json.Marshal(events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.scheduler",
		Time: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), Detail: json.RawMessage(`{}`)})
	if _, err := h.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	want := []string{"essex#2026-10", "essex#2026-11", "norfolk#2026-10", "norfolk#2026-11"}
	if len(snaps.puts) != len(want) {
		t.Fatalf("snapshots written %v, want %v", snaps.puts, want)
	}
	for i := range want {
		if snaps.puts[i] != want[i] {
			t.Errorf("snapshots written %v, want %v", snaps.puts, want)
		}
	}
	if _, err := h.Handle(t.Context(), json.RawMessage(`{"hello": 1}`)); err == nil {
		t.Error("an event of neither kind was accepted")
	}
}
