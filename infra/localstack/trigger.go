package localstack

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// Invoker runs a function synchronously; the Stack is one. Triggers depend on this alone, so they
// can be tested with a fake.
type Invoker interface {
	Invoke(ctx context.Context, functionLogicalID string, payload []byte) (result []byte, functionErr *FunctionError, err error)
}

// Trigger feeds events to functions as a Lambda event source does (a stream's event source
// mapping, an EventBridge schedule). The Stack runs each in its own goroutine.
type Trigger interface {
	// Run delivers events until ctx is cancelled. An error return ends only this trigger; the
	// stack logs it.
	Run(ctx context.Context, target Invoker) error
	// String names the trigger in logs: "NotifierFunction.Stream (ReferralsTable stream)".
	String() string
}

// templateTriggers makes a trigger for each enabled stream and schedule event of the functions.
func (s *Stack) templateTriggers(fns []*Function) []Trigger {
	var out []Trigger
	var streams *dynamodbstreams.Client
	for _, f := range fns {
		for _, ev := range f.Streams {
			if !ev.Enabled {
				continue
			}
			if s.ddb == nil {
				s.logger.Warn("stream trigger needs a DynamoDB endpoint; not started", "function", f.LogicalID, "event", ev.Event)
				continue
			}
			if streams == nil {
				streams = StreamsClient(s.cfg.DynamoDBEndpoint, s.cfg.Region)
			}
			if s.existing[ev.Table] {
				// The table outlived an earlier run (-dbPath): its records were delivered then,
				// as a deployed event source mapping's checkpoint would remember. Start at the
				// end rather than replay a day of stream.
				ev.StartingPosition = "LATEST"
			}
			if s.cfg.StreamRetriesOverride {
				ev.MaximumRetryAttempts = s.cfg.StreamMaxRetries
			}
			poller := &StreamPoller{
				Event:      ev,
				TableName:  s.tables[ev.Table],
				Tables:     s.ddb,
				Streams:    streams,
				Region:     s.cfg.Region,
				MaxRetries: s.cfg.StreamMaxRetries,
				Logger:     s.logger,
			}
			if discard := s.cfg.OnStreamDiscard; discard != nil {
				poller.OnDiscard = func(records []events.DynamoDBEventRecord, reason string) {
					discard(f.LogicalID, records, reason)
				}
			}
			out = append(out, poller)
			s.pollers = append(s.pollers, poller)
		}
		for _, ev := range f.Schedules {
			if !ev.Enabled {
				continue
			}
			out = append(out, &ScheduleFirer{
				Event: ev, Speedup: s.cfg.ScheduleSpeedup, Region: s.cfg.Region,
				AccountID: DefaultAccountID, Logger: s.logger,
			})
		}
	}
	return out
}

func eventName(function, event string) string { return fmt.Sprintf("%s.%s", function, event) }
