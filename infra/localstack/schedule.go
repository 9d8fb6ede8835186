package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ScheduleFirer invokes a function on a Schedule/ScheduleV2 event's expression, as EventBridge
// would.
type ScheduleFirer struct {
	Event ScheduleEvent
	// Speedup divides rate() intervals (60: hourly fires every minute). cron() schedules run on
	// the wall clock: compressing them would fire at times the expression never names.
	Speedup   float64
	Region    string
	AccountID string
	Logger    *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (f *ScheduleFirer) String() string {
	return fmt.Sprintf("%s (%s)", eventName(f.Event.Function, f.Event.Event), f.Event.Expression)
}

// Run fires until ctx is cancelled.
func (f *ScheduleFirer) Run(ctx context.Context, target Invoker) error {
	now := f.Now
	if now == nil {
		now = time.Now
	}
	next, err := f.scheduler(now)
	if err != nil {
		return err
	}
	for {
		at := next(now())
		timer := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		payload, err := ScheduledEvent(f.Event, now(), f.Region, f.AccountID)
		if err != nil {
			return err
		}
		_, ferr, err := target.Invoke(ctx, f.Event.Function, payload)
		switch {
		case err != nil && ctx.Err() == nil:
			f.logger().Warn("scheduled invoke failed", "schedule", f.String(), "error", err)
		case ferr != nil:
			f.logger().Warn("scheduled invoke: function error", "schedule", f.String(), "errorType", ferr.Type, "errorMessage", ferr.Message)
		}
	}
}

func (f *ScheduleFirer) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.Default()
	}
	return f.Logger
}

// scheduler returns a function giving the next firing time after a moment.
func (f *ScheduleFirer) scheduler(now func() time.Time) (func(time.Time) time.Time, error) {
	expr := strings.TrimSpace(f.Event.Expression)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		every, err := ParseRate(expr)
		if err != nil {
			return nil, err
		}
		speedup := f.Speedup
		if speedup <= 0 {
			speedup = 1
		}
		every = time.Duration(float64(every) / speedup)
		// EventBridge fires a rate schedule one interval after it is created.
		return func(t time.Time) time.Time { return t.Add(every) }, nil
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		c, err := ParseCron(expr)
		if err != nil {
			return nil, err
		}
		loc := time.UTC
		if f.Event.Timezone != "" {
			if loc, err = time.LoadLocation(f.Event.Timezone); err != nil {
				return nil, fmt.Errorf("%s: ScheduleExpressionTimezone: %w", f, err)
			}
		}
		return func(t time.Time) time.Time { return c.Next(t.In(loc)) }, nil
	}
	return nil, fmt.Errorf("%s: only rate() and cron() schedules are emulated; invoke it by hand", f)
}

// ParseRate reads "rate(5 minutes)", "rate(1 hour)", "rate(2 days)".
func ParseRate(expr string) (time.Duration, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(expr), "rate("), ")")
	fields := strings.Fields(inner)
	if len(fields) != 2 {
		return 0, fmt.Errorf("%s: want rate(N unit)", expr)
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive whole number", expr, fields[0])
	}
	unit := map[string]time.Duration{
		"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour,
		"day": 24 * time.Hour, "days": 24 * time.Hour,
	}[fields[1]]
	if unit == 0 {
		return 0, fmt.Errorf("%s: unit must be minute(s), hour(s) or day(s)", expr)
	}
	return time.Duration(n) * unit, nil
}

// ScheduledEvent builds the payload a schedule delivers at a moment. With Input set, that JSON is
// the payload (EventBridge Scheduler's context placeholders substituted); otherwise it is an
// EventBridge "Scheduled Event" whose time is the moment, which handlers read as "now".
func ScheduledEvent(ev ScheduleEvent, at time.Time, region, account string) ([]byte, error) {
	arn := fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", region, account, ev.Name)
	at = at.UTC().Truncate(time.Second)
	if ev.Input != "" {
		in := strings.NewReplacer(
			"<aws.scheduler.scheduled-time>", at.Format(time.RFC3339),
			"<aws.scheduler.schedule-arn>", arn,
			"<aws.scheduler.execution-id>", newUUID(),
			"<aws.scheduler.attempt-number>", "1",
		).Replace(ev.Input)
		if !json.Valid([]byte(in)) {
			return nil, fmt.Errorf("%s: Input is not JSON", eventName(ev.Function, ev.Event))
		}
		return []byte(in), nil
	}
	return json.Marshal(events.EventBridgeEvent{
		Version:    "0",
		ID:         newUUID(),
		DetailType: "Scheduled Event",
		Source:     "aws.scheduler",
		AccountID:  account,
		Time:       at,
		Region:     region,
		Resources:  []string{arn},
		Detail:     json.RawMessage("{}"),
	})
}

// Cron is an EventBridge cron expression: minutes hours day-of-month month day-of-week year.
type Cron struct {
	fields [6]map[int]bool // nil means any
}

var cronNames = map[string]int{
	"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
	"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7,
}

// ParseCron reads "cron(0 * * * ? *)". It supports *, ?, values, names, lists, ranges and steps;
// L, W and # are refused rather than misread.
func ParseCron(expr string) (*Cron, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(expr), "cron("), ")")
	parts := strings.Fields(inner)
	if len(parts) != 6 {
		return nil, fmt.Errorf("%s: want six fields (minutes hours day-of-month month day-of-week year)", expr)
	}
	bounds := [6][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {1, 7}, {1970, 2199}}
	c := &Cron{}
	for i, p := range parts {
		set, err := cronField(p, bounds[i][0], bounds[i][1])
		if err != nil {
			return nil, fmt.Errorf("%s: field %d %q: %w", expr, i+1, p, err)
		}
		c.fields[i] = set
	}
	return c, nil
}

func cronField(s string, lo, hi int) (map[int]bool, error) {
	if s == "*" || s == "?" {
		return nil, nil
	}
	set := map[int]bool{}
	for item := range strings.SplitSeq(s, ",") {
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("bad step %q", stepStr)
			}
			step = n
		}
		from, to := lo, hi
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if from, err = cronValue(a); err != nil {
				return nil, err
			}
			to = from
			if isRange {
				if to, err = cronValue(b); err != nil {
					return nil, err
				}
			} else if hasStep {
				to = hi
			}
		}
		if from < lo || to > hi || from > to {
			return nil, fmt.Errorf("%d-%d is outside %d-%d", from, to, lo, hi)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func cronValue(s string) (int, error) {
	if n, ok := cronNames[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if strings.ContainsAny(s, "LW#") {
			return 0, fmt.Errorf("%q: L, W and # are not emulated", s)
		}
		return 0, fmt.Errorf("bad value %q", s)
	}
	return n, nil
}

// Next returns the first minute strictly after t that the expression names, in t's location.
func (c *Cron) Next(t time.Time) time.Time {
	t = t.Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for ; t.Before(limit); t = t.Add(time.Minute) {
		if c.match(t) {
			return t
		}
	}
	return limit // unreachable for a valid expression; keeps the firer from spinning
}

func (c *Cron) match(t time.Time) bool {
	in := func(i, v int) bool { return c.fields[i] == nil || c.fields[i][v] }
	return in(0, t.Minute()) && in(1, t.Hour()) && in(2, t.Day()) && in(3, int(t.Month())) &&
		in(4, int(t.Weekday())+1) && in(5, t.Year())
}
