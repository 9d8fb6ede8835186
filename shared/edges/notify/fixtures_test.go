package notify

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The testdata events double as `sam local invoke` events (events/ links to them): they must be
// what the handlers read.
func TestFixturesAreWhatTheHandlersRead(t *testing.T) {
	var stream events.DynamoDBEvent
	mustReadJSON(t, "testdata/stream-referral-insert.json", &stream)
	if len(stream.Records) != 1 {
		t.Fatalf("stream fixture has %d records, want 1", len(stream.Records))
	}
	if id, ok := ReferralID(stream.Records[0]); !ok || id != "R-PABEN93S" {
		t.Errorf("ReferralID(stream fixture) = %q, %v; want R-PABEN93S, true", id, ok)
	}
	var schedule events.EventBridgeEvent
	mustReadJSON(t, "testdata/schedule.json", &schedule)
	if want := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC); !schedule.Time.Equal(want) {
		t.Errorf("schedule fixture time = %v, want %v (the sweep's now)", schedule.Time, want)
	}
}

func mustReadJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
