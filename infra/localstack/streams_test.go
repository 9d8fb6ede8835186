package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fakeInvoker records stream batches and answers with what respond returns.
type fakeInvoker struct {
	mu      sync.Mutex
	batches [][]string // the pk of each record, per invocation
	respond func(call int, ev events.DynamoDBEvent) ([]byte, *FunctionError)
}

func (f *fakeInvoker) Invoke(_ context.Context, _ string, payload []byte) ([]byte, *FunctionError, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	var keys []string
	for _, r := range ev.Records {
		keys = append(keys, r.Change.Keys["pk"].String())
	}
	f.batches = append(f.batches, keys)
	call := len(f.batches)
	f.mu.Unlock()
	res, ferr := f.respond(call, ev)
	return res, ferr, nil
}

func (f *fakeInvoker) seen() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches)
}

// streamTable creates stream.yaml's table under a unique prefix and writes n items to it.
func streamTable(t *testing.T, n int) (*dynamodb.Client, string, *Template, string) {
	t.Helper()
	endpoint := dynamoEndpoint(t)
	tmpl := mustLoad(t, "stream.yaml", TemplateOptions{})
	client := DynamoDBClient(endpoint, "")
	names, err := CreateTables(context.Background(), client, tmpl, uniquePrefix(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = DeleteTables(context.Background(), client, names) })
	for i := range n {
		_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String(names["ItemsTable"]),
			Item:      map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("item-%d", i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return client, names["ItemsTable"], tmpl, endpoint
}

func TestStreamPollerBatchItemFailures(t *testing.T) {
	client, table, tmpl, endpoint := streamTable(t, 4)
	ev := tmpl.Function("StreamFunction").Streams[0]
	ev.BatchSize = 4

	tests := []struct {
		name    string
		event   func(StreamEvent) StreamEvent
		respond func(call int, ev events.DynamoDBEvent) ([]byte, *FunctionError)
		want    [][]string
	}{
		{
			name:  "retry from the first failed record",
			event: func(e StreamEvent) StreamEvent { return e },
			respond: func(call int, ev events.DynamoDBEvent) ([]byte, *FunctionError) {
				if call == 1 { // fail item-2 and item-1: the retry starts at item-1
					resp, _ := json.Marshal(events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
						{ItemIdentifier: ev.Records[2].Change.SequenceNumber}, {ItemIdentifier: ev.Records[1].Change.SequenceNumber},
					}})
					return resp, nil
				}
				return []byte(`{"batchItemFailures":[]}`), nil
			},
			want: [][]string{{"item-0", "item-1", "item-2", "item-3"}, {"item-1", "item-2", "item-3"}},
		},
		{
			name:  "function error retries the whole batch, bounded",
			event: func(e StreamEvent) StreamEvent { e.MaximumRetryAttempts = 1; return e },
			respond: func(int, events.DynamoDBEvent) ([]byte, *FunctionError) {
				return nil, newFunctionError("errorString", "boom")
			},
			want: [][]string{{"item-0", "item-1", "item-2", "item-3"}, {"item-0", "item-1", "item-2", "item-3"}},
		},
		{
			name:  "bisect splits a failing batch",
			event: func(e StreamEvent) StreamEvent { e.MaximumRetryAttempts = 1; e.BisectOnError = true; return e },
			respond: func(call int, ev events.DynamoDBEvent) ([]byte, *FunctionError) {
				if call == 1 {
					return nil, newFunctionError("errorString", "boom")
				}
				return nil, nil
			},
			want: [][]string{{"item-0", "item-1", "item-2", "item-3"}, {"item-0", "item-1"}, {"item-2", "item-3"}},
		},
		{
			name: "without ReportBatchItemFailures the response is ignored",
			event: func(e StreamEvent) StreamEvent {
				e.ReportBatchItemFailures = false
				return e
			},
			respond: func(call int, ev events.DynamoDBEvent) ([]byte, *FunctionError) {
				resp, _ := json.Marshal(events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
					{ItemIdentifier: ev.Records[0].Change.SequenceNumber},
				}})
				return resp, nil
			},
			want: [][]string{{"item-0", "item-1", "item-2", "item-3"}},
		},
		{
			name: "filters drop records",
			event: func(e StreamEvent) StreamEvent {
				e.Filters = []string{`{"dynamodb":{"Keys":{"pk":{"S":["item-1","item-3"]}}}}`}
				return e
			},
			respond: func(int, events.DynamoDBEvent) ([]byte, *FunctionError) {
				return nil, nil
			},
			want: [][]string{{"item-1", "item-3"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeInvoker{respond: tt.respond}
			p := &StreamPoller{
				Event: tt.event(ev), TableName: table, Tables: client, Streams: StreamsClient(endpoint, ""),
				Region: DefaultRegion, MaxRetries: 3, PollInterval: 20 * time.Millisecond,
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx, fake) }()
			waitFor(t, 10*time.Second, fmt.Sprintf("%d batches", len(tt.want)), func() bool { return len(fake.seen()) >= len(tt.want) })
			// A wrong extra retry would come before the poller reads a marker written now.
			awaitMarker(t, client, table, p)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := fake.seen(); !slices.EqualFunc(got, tt.want, slices.Equal[[]string]) {
				t.Errorf("batches = %v, want %v", got, tt.want)
			}
		})
	}
}

// awaitMarker writes a barrier marker to table and waits until p has read it with everything
// before it delivered.
func awaitMarker(t *testing.T, client *dynamodb.Client, table string, p *StreamPoller) {
	t.Helper()
	waitReleased(t, putMarker(t, client, table, p))
}

func putMarker(t *testing.T, client *dynamodb.Client, table string, p *StreamPoller) <-chan struct{} {
	t.Helper()
	pk := barrierPrefix + t.Name()
	released := p.marks.await(pk)
	_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return released
}

func waitReleased(t *testing.T, released <-chan struct{}) {
	t.Helper()
	select {
	case <-released:
	case <-time.After(20 * time.Second):
		t.Fatal("the poller never read the marker")
	}
}

// TestStreamMarkerFollowsDelivery checks the barrier behind Stack.StreamsCaughtUp: a marker is
// released only after every record before it was delivered (a slow function included), and is
// never delivered itself.
func TestStreamMarkerFollowsDelivery(t *testing.T) {
	client, table, tmpl, endpoint := streamTable(t, 6)
	ev := tmpl.Function("StreamFunction").Streams[0]
	ev.BatchSize = 4 // the marker is read in the same page as the last records, before they are delivered
	var mu sync.Mutex
	var delivered []string // records whose invocation has finished
	fake := &fakeInvoker{respond: func(_ int, ev events.DynamoDBEvent) ([]byte, *FunctionError) {
		time.Sleep(50 * time.Millisecond) // a slow function: the marker must wait for it to finish
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			delivered = append(delivered, r.Change.Keys["pk"].String())
		}
		return nil, nil
	}}
	p := &StreamPoller{
		Event: ev, TableName: table, Tables: client, Streams: StreamsClient(endpoint, ""),
		Region: DefaultRegion, MaxRetries: 3, PollInterval: 20 * time.Millisecond,
	}
	released := putMarker(t, client, table, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, fake) }()
	waitReleased(t, released)
	mu.Lock()
	got := slices.Clone(delivered)
	mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{"item-0", "item-1", "item-2", "item-3", "item-4", "item-5"}
	if !slices.Equal(got, want) {
		t.Errorf("delivered when the marker was released = %v, want %v (and never the marker)", got, want)
	}
}

// TestStackStreamTrigger runs the real echofn from the template's stream event.
func TestStackStreamTrigger(t *testing.T) {
	endpoint := dynamoEndpoint(t)
	s, _ := startStack(t, "stream.yaml", func(c *Config) {
		c.DynamoDBEndpoint = endpoint
		c.TablePrefix = uniquePrefix(t)
		c.DropTables = true
	})
	for i := range 3 {
		_, err := s.DynamoDB().PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String(s.TableName("ItemsTable")),
			Item:      map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 15*time.Second, "the stream to invoke StreamFunction", func() bool {
		return s.Stats("StreamFunction").Invocations > 0
	})
}

func TestMatchFilters(t *testing.T) {
	rec := events.DynamoDBEventRecord{
		EventName: "INSERT",
		Change: events.DynamoDBStreamRecord{NewImage: map[string]events.DynamoDBAttributeValue{
			"status": events.NewStringAttribute("assigned"), "n": events.NewNumberAttribute("5"),
		}},
	}
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"eventName":["INSERT"]}`, true},
		{`{"eventName":["MODIFY","REMOVE"]}`, false},
		{`{"dynamodb":{"NewImage":{"status":{"S":["assigned"]}}}}`, true},
		{`{"dynamodb":{"NewImage":{"status":{"S":[{"prefix":"ass"}]}}}}`, true},
		{`{"dynamodb":{"NewImage":{"status":{"S":[{"anything-but":["assigned"]}]}}}}`, false},
		{`{"dynamodb":{"NewImage":{"closedAt":[{"exists":false}]}}}`, true},
		{`{"dynamodb":{"NewImage":{"status":[{"exists":true}]}}}`, true},
		{`{"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",3,"<=",5]}]}}}}`, true},
		{`{"dynamodb":{"NewImage":{"n":{"N":[{"numeric":[">",5]}]}}}}`, false},
	}
	for _, tt := range tests {
		f, err := compileFilters([]string{tt.pattern})
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := matchAny(f, rec); got != tt.want {
			t.Errorf("%s: match = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}
