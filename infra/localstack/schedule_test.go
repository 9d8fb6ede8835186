package localstack

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		expr    string
		want    time.Duration
		wantErr bool
	}{
		{"rate(1 hour)", time.Hour, false},
		{"rate(5 minutes)", 5 * time.Minute, false},
		{"rate(2 days)", 48 * time.Hour, false},
		{"rate(0 hours)", 0, true},
		{"rate(1 fortnight)", 0, true},
		{"rate(hour)", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.expr)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v (error %v)", tt.expr, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCronNext(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	at := func(s string, loc *time.Location) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr string
		from time.Time
		want time.Time
	}{
		{"cron(0 * * * ? *)", at("2026-11-23 10:15", time.UTC), at("2026-11-23 11:00", time.UTC)},
		{"cron(0 * * * ? *)", at("2026-11-23 11:00", time.UTC), at("2026-11-23 12:00", time.UTC)}, // strictly after
		{"cron(30 8 ? * MON-FRI *)", at("2026-11-27 09:00", time.UTC), at("2026-11-30 08:30", time.UTC)},
		{"cron(0/15 * * * ? *)", at("2026-11-23 10:16", time.UTC), at("2026-11-23 10:30", time.UTC)},
		{"cron(0 2 1 JAN,JUL ? *)", at("2026-02-01 00:00", time.UTC), at("2026-07-01 02:00", time.UTC)},
		{"cron(0 9 * * ? *)", at("2026-03-28 10:00", london), at("2026-03-29 09:00", london)}, // across the clock change
	}
	for _, tt := range tests {
		c, err := ParseCron(tt.expr)
		if err != nil {
			t.Fatalf("ParseCron(%q): %v", tt.expr, err)
		}
		if got := c.Next(tt.from); !got.Equal(tt.want) {
			t.Errorf("%s after %v = %v, want %v", tt.expr, tt.from, got, tt.want)
		}
	}
	for _, bad := range []string{"cron(0 * * * ?)", "cron(0 * L * ? *)", "cron(61 * * * ? *)", "cron(0 * * * 2#1 *)"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("ParseCron(%q) accepted", bad)
		}
	}
}

func TestScheduledEvent(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	t.Run("EventBridge event with time", func(t *testing.T) {
		b, err := ScheduledEvent(ScheduleEvent{Function: "RemindersFunction", Event: "Hourly", Name: "hourly"}, at, "eu-west-2", DefaultAccountID)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if !ev.Time.Equal(at) || ev.DetailType != "Scheduled Event" || ev.Region != "eu-west-2" || len(ev.Resources) != 1 {
			t.Errorf("event = %+v", ev)
		}
	})
	t.Run("Input with placeholders", func(t *testing.T) {
		in := `{"now":"<aws.scheduler.scheduled-time>","attempt":"<aws.scheduler.attempt-number>"}`
		b, err := ScheduledEvent(ScheduleEvent{Input: in, Name: "hourly"}, at, "eu-west-2", DefaultAccountID)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"now":"2026-11-23T09:00:00Z","attempt":"1"}`; string(b) != want {
			t.Errorf("payload = %s, want %s", b, want)
		}
	})
}

// recordingInvoker records payloads per function.
type recordingInvoker struct {
	mu       sync.Mutex
	payloads [][]byte
}

func (r *recordingInvoker) Invoke(_ context.Context, _ string, payload []byte) ([]byte, *FunctionError, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payloads = append(r.payloads, payload)
	return nil, nil, nil
}

func (r *recordingInvoker) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.payloads)
}

func TestScheduleFirerSpeedup(t *testing.T) {
	// rate(1 minute) 600 times faster fires every 100 ms.
	f := &ScheduleFirer{
		Event:   ScheduleEvent{Function: "RemindersFunction", Event: "Hourly", Expression: "rate(1 minute)", Name: "x"},
		Speedup: 600, Region: DefaultRegion, AccountID: DefaultAccountID,
	}
	inv := &recordingInvoker{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- f.Run(ctx, inv) }()
	waitFor(t, 5*time.Second, "two firings", func() bool { return inv.count() >= 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(inv.payloads[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time.Before(start.Add(-time.Second)) || ev.Time.After(time.Now()) {
		t.Errorf("event time %v is not the firing time", ev.Time)
	}
}

func TestScheduleFirerRejectsAt(t *testing.T) {
	f := &ScheduleFirer{Event: ScheduleEvent{Function: "F", Event: "Once", Expression: "at(2026-12-01T00:00:00)"}}
	if err := f.Run(context.Background(), &recordingInvoker{}); err == nil {
		t.Error("Run accepted an at() schedule it cannot emulate")
	}
}
