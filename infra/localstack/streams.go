package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamsAPI is the part of the DynamoDB Streams client the poller uses.
type StreamsAPI interface {
	DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// TableDescriber finds a table's stream.
type TableDescriber interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var (
	_ StreamsAPI     = (*dynamodbstreams.Client)(nil)
	_ TableDescriber = (*dynamodb.Client)(nil)
)

// StreamsClient returns a DynamoDB Streams client for a local endpoint (DynamoDB Local serves
// streams on its own port).
func StreamsClient(endpoint, region string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(LocalAWSConfig(region), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// StreamPoller is a DynamoDB stream event source mapping: it reads a table's stream and invokes
// the function with batches of records, retrying failed batches from the first failed record
// when the function reports batch item failures.
type StreamPoller struct {
	Event     StreamEvent
	TableName string
	Tables    TableDescriber
	Streams   StreamsAPI
	Region    string
	// MaxRetries bounds retries when the event leaves MaximumRetryAttempts at Lambda's default
	// (-1: until the record expires, a day), which locally would wedge the shard.
	MaxRetries int
	// PollInterval is the wait after an empty read; default 250 ms (Lambda polls about 4 times a
	// second).
	PollInterval time.Duration
	Logger       *slog.Logger
	// OnDiscard, when set, is told about batches given up on (Lambda's on-failure destination).
	OnDiscard func(records []events.DynamoDBEventRecord, reason string)

	marks markers // Stack.StreamsCaughtUp's markers
}

func (p *StreamPoller) String() string {
	return fmt.Sprintf("%s (%s stream)", eventName(p.Event.Function, p.Event.Event), p.TableName)
}

func (p *StreamPoller) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}

// Run polls every shard of the table's stream until ctx is cancelled.
func (p *StreamPoller) Run(ctx context.Context, target Invoker) error {
	filters, err := compileFilters(p.Event.Filters)
	if err != nil {
		return fmt.Errorf("%s: FilterCriteria: %w", p, err)
	}
	desc, err := p.Tables.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.TableName)})
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	streamARN := aws.ToString(desc.Table.LatestStreamArn)
	if streamARN == "" {
		return fmt.Errorf("%s: table %s has no stream", p, p.TableName)
	}
	interval := p.PollInterval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		started  = map[string]bool{}
		finished = map[string]bool{}
		first    = true
	)
	defer wg.Wait()
	for {
		shards, err := p.shards(ctx, streamARN)
		if err != nil && ctx.Err() == nil {
			p.logger().Warn("describe stream failed", "trigger", p.String(), "error", err)
		}
		for _, sh := range shards {
			id := aws.ToString(sh.ShardId)
			parent := aws.ToString(sh.ParentShardId)
			mu.Lock()
			// A child shard waits for its parent, so records of one item stay in order.
			ready := !started[id] && (parent == "" || finished[parent] || !knownShard(shards, parent))
			if ready {
				started[id] = true
			}
			mu.Unlock()
			if !ready {
				continue
			}
			position := streamtypes.ShardIteratorTypeTrimHorizon
			if first && p.Event.StartingPosition == "LATEST" {
				position = streamtypes.ShardIteratorTypeLatest
			}
			wg.Go(func() {
				p.pollShard(ctx, target, streamARN, id, position, interval, filters)
				mu.Lock()
				finished[id] = true
				mu.Unlock()
			})
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second): // new shards appear rarely
		}
	}
}

func knownShard(shards []streamtypes.Shard, id string) bool {
	for _, s := range shards {
		if aws.ToString(s.ShardId) == id {
			return true
		}
	}
	return false
}

func (p *StreamPoller) shards(ctx context.Context, streamARN string) ([]streamtypes.Shard, error) {
	var out []streamtypes.Shard
	var last *string
	for {
		d, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(streamARN), ExclusiveStartShardId: last})
		if err != nil {
			return out, err
		}
		out = append(out, d.StreamDescription.Shards...)
		last = d.StreamDescription.LastEvaluatedShardId
		if last == nil {
			return out, nil
		}
	}
}

// pollShard reads one shard until it closes or ctx is cancelled.
func (p *StreamPoller) pollShard(ctx context.Context, target Invoker, streamARN, shardID string,
	position streamtypes.ShardIteratorType, interval time.Duration, filters []filterPattern) {
	// checkpoint is the sequence number of the last record read: a lost iterator resumes after it,
	// as Lambda's poller resumes from its checkpoint.
	var checkpoint string
	newIterator := func() (*string, error) {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(streamARN), ShardId: aws.String(shardID), ShardIteratorType: position}
		if checkpoint != "" {
			in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(checkpoint)
		}
		it, err := p.Streams.GetShardIterator(ctx, in)
		if err != nil {
			return nil, err
		}
		return it.ShardIterator, nil
	}
	iterator, err := newIterator()
	if err != nil {
		if ctx.Err() == nil {
			p.logger().Warn("get shard iterator failed", "trigger", p.String(), "shard", shardID, "error", err)
		}
		return
	}
	batchSize := max(p.Event.BatchSize, 1)
	var pending []events.DynamoDBEventRecord
	var windowStart time.Time
	for iterator != nil {
		if ctx.Err() != nil {
			return
		}
		out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
			ShardIterator: iterator, Limit: aws.Int32(int32(min(batchSize, 1000))),
		})
		if err != nil {
			var trimmed *streamtypes.TrimmedDataAccessException
			var expired *streamtypes.ExpiredIteratorException
			if errors.As(err, &trimmed) || errors.As(err, &expired) {
				// DynamoDB Local trims iterators taken on an empty shard once records arrive.
				if fresh, ierr := newIterator(); ierr == nil {
					iterator = fresh
					continue
				}
			}
			if ctx.Err() == nil {
				p.logger().Warn("get records failed", "trigger", p.String(), "shard", shardID, "error", err)
				sleep(ctx, interval)
			}
			continue
		}
		iterator = out.NextShardIterator
		if n := len(out.Records); n > 0 {
			checkpoint = aws.ToString(out.Records[n-1].Dynamodb.SequenceNumber)
		}
		for _, r := range out.Records {
			if p.marks.marker(r) {
				continue
			}
			rec := toEventRecord(r, p.Region, streamARN)
			if matchAny(filters, rec) {
				if len(pending) == 0 {
					windowStart = time.Now()
				}
				pending = append(pending, rec)
			}
		}
		// Deliver full batches at once; a part batch when the batching window has passed (at
		// once with no window) or the shard has closed.
		for len(pending) >= batchSize {
			p.deliver(ctx, target, pending[:batchSize])
			pending = pending[batchSize:]
			windowStart = time.Now()
		}
		if len(pending) > 0 && (iterator == nil || time.Since(windowStart) >= p.Event.BatchWindow) {
			p.deliver(ctx, target, pending)
			pending = nil
		}
		if len(pending) == 0 {
			p.marks.delivered()
		}
		if len(out.Records) == 0 {
			sleep(ctx, interval)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// deliver invokes the function with a batch until it succeeds or retries run out, as Lambda does:
// with ReportBatchItemFailures the retry starts at the first failed record; with bisection a
// failing batch is split in two and each half retried on its own.
func (p *StreamPoller) deliver(ctx context.Context, target Invoker, batch []events.DynamoDBEventRecord) {
	maxRetries := p.Event.MaximumRetryAttempts
	if maxRetries < 0 {
		maxRetries = p.MaxRetries
	}
	for attempt := 0; ctx.Err() == nil; attempt++ {
		failedFrom, reason := p.invokeBatch(ctx, target, batch)
		if failedFrom < 0 {
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= maxRetries {
			p.logger().Warn("stream batch discarded after retries", "trigger", p.String(),
				"records", len(batch)-failedFrom, "firstSequenceNumber", batch[failedFrom].Change.SequenceNumber, "reason", reason)
			if p.OnDiscard != nil {
				p.OnDiscard(batch[failedFrom:], reason)
			}
			return
		}
		batch = batch[failedFrom:]
		if p.Event.BisectOnError && len(batch) > 1 {
			half := len(batch) / 2
			p.deliver(ctx, target, batch[:half])
			p.deliver(ctx, target, batch[half:])
			return
		}
		sleep(ctx, min(100*time.Millisecond<<attempt, 2*time.Second))
	}
}

// invokeBatch runs one batch and returns the index to retry from (-1: all done) and why.
func (p *StreamPoller) invokeBatch(ctx context.Context, target Invoker, batch []events.DynamoDBEventRecord) (int, string) {
	payload, err := json.Marshal(events.DynamoDBEvent{Records: batch})
	if err != nil {
		return 0, err.Error()
	}
	result, ferr, err := target.Invoke(ctx, p.Event.Function, payload)
	switch {
	case err != nil:
		return 0, err.Error()
	case ferr != nil:
		return 0, ferr.Error()
	case !p.Event.ReportBatchItemFailures:
		return -1, "" // without the response type Lambda ignores what the function returns
	}
	var resp events.DynamoDBEventResponse
	if len(result) > 0 && string(result) != "null" {
		if err := json.Unmarshal(result, &resp); err != nil {
			return 0, "response is not a DynamoDBEventResponse: " + err.Error()
		}
	}
	if len(resp.BatchItemFailures) == 0 {
		return -1, ""
	}
	first := len(batch)
	for _, f := range resp.BatchItemFailures {
		idx := -1
		for i, r := range batch {
			if r.Change.SequenceNumber == f.ItemIdentifier {
				idx = i
				break
			}
		}
		if idx < 0 {
			// Lambda treats an empty or unknown identifier as a failure of the whole batch.
			return 0, fmt.Sprintf("batch item failure %q names no record of the batch", f.ItemIdentifier)
		}
		first = min(first, idx)
	}
	return first, "function reported batch item failures"
}

// toEventRecord converts an SDK stream record to the event record Lambda delivers.
func toEventRecord(r streamtypes.Record, region, streamARN string) events.DynamoDBEventRecord {
	rec := events.DynamoDBEventRecord{
		AWSRegion:      region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
	}
	if r.UserIdentity != nil {
		rec.UserIdentity = &events.DynamoDBUserIdentity{
			Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId),
		}
	}
	if d := r.Dynamodb; d != nil {
		rec.Change = events.DynamoDBStreamRecord{
			Keys:           toEventImage(d.Keys),
			NewImage:       toEventImage(d.NewImage),
			OldImage:       toEventImage(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return rec
}

func toEventImage(m map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = toEventAttribute(v)
	}
	return out
}

func toEventAttribute(v streamtypes.AttributeValue) events.DynamoDBAttributeValue {
	switch a := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(a.Value)
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(a.Value)
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(a.Value)
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(a.Value)
	case *streamtypes.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(a.Value)
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(a.Value)
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(a.Value)
	case *streamtypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(a.Value))
		for i, el := range a.Value {
			l[i] = toEventAttribute(el)
		}
		return events.NewListAttribute(l)
	case *streamtypes.AttributeValueMemberM:
		return events.NewMapAttribute(toEventImage(a.Value))
	}
	return events.NewNullAttribute()
}

// filterPattern is one FilterCriteria pattern, matched against the record's JSON.
type filterPattern map[string]any

func compileFilters(patterns []string) ([]filterPattern, error) {
	var out []filterPattern
	for i, s := range patterns {
		var p filterPattern
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			return nil, fmt.Errorf("pattern %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// matchAny reports whether rec passes the filters: no filters, or any one of them matching.
func matchAny(filters []filterPattern, rec events.DynamoDBEventRecord) bool {
	if len(filters) == 0 {
		return true
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return false
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return false
	}
	for _, f := range filters {
		if matchObject(f, doc) {
			return true
		}
	}
	return false
}

// matchObject implements the event filtering pattern language's common part: nested objects,
// lists of allowed values, and the prefix, exists, anything-but and numeric operators.
func matchObject(pattern map[string]any, doc map[string]any) bool {
	for k, want := range pattern {
		got, present := doc[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matchObject(w, sub) {
				return false
			}
		case []any:
			if !matchValues(w, got, present) {
				return false
			}
		default:
			return false // a pattern's leaves must be lists
		}
	}
	return true
}

func matchValues(allowed []any, got any, present bool) bool {
	for _, a := range allowed {
		if op, ok := a.(map[string]any); ok {
			if matchOperator(op, got, present) {
				return true
			}
			continue
		}
		if present && equalJSON(a, got) {
			return true
		}
	}
	return false
}

func matchOperator(op map[string]any, got any, present bool) bool {
	for name, arg := range op {
		switch name {
		case "exists":
			want, _ := arg.(bool)
			return present == want
		case "prefix":
			s, ok1 := got.(string)
			pre, ok2 := arg.(string)
			return ok1 && ok2 && len(s) >= len(pre) && s[:len(pre)] == pre
		case "anything-but":
			if !present {
				return false
			}
			if list, ok := arg.([]any); ok {
				for _, x := range list {
					if equalJSON(x, got) {
						return false
					}
				}
				return true
			}
			return !equalJSON(arg, got)
		case "numeric":
			return matchNumeric(arg, got)
		}
	}
	return false
}

func matchNumeric(arg, got any) bool {
	var n float64
	switch g := got.(type) {
	case float64:
		n = g
	case string: // DynamoDB numbers arrive as strings ({"N": "5"})
		if _, err := fmt.Sscan(g, &n); err != nil {
			return false
		}
	default:
		return false
	}
	conds, ok := arg.([]any)
	if !ok || len(conds)%2 != 0 {
		return false
	}
	for i := 0; i < len(conds); i += 2 {
		opName, _ := conds[i].(string)
		v, ok := conds[i+1].(float64)
		if !ok {
			return false
		}
		pass := map[string]bool{"=": n == v, "<": n < v, "<=": n <= v, ">": n > v, ">=": n >= v}[opName]
		if !pass {
			return false
		}
	}
	return true
}

func equalJSON(a, b any) bool {
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	return errors.Join(err1, err2) == nil && string(ab) == string(bb)
}
