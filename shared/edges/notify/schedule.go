package notify

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"
)

// ScheduleHandler is the RemindersFunction handler. "Now" is the scheduled event's time, never
// the clock: a late or replayed run sweeps as of when it was due, and tests travel in time.
type ScheduleHandler struct {
	Sweep *Sweep
}

// Handle runs one sweep. Its error fails the invocation, which is alarmed and retried.
func (h *ScheduleHandler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Summary, error) {
	if ev.Time.IsZero() {
		return Summary{}, errors.New("scheduled event has no time: the schedule's input must carry <aws.scheduler.scheduled-time>")
	}
	return h.Sweep.Run(ctx, ev.Time)
}
