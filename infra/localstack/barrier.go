package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// barrierPrefix starts the partition key of a barrier marker. No function's FilterCriteria lets it
// through, and no store reads it.
const barrierPrefix = "BARRIER#"

// markers tracks the barrier markers a stream poller is waiting to read.
type markers struct {
	mu      sync.Mutex
	waiting map[string]chan struct{} // marker pk → closed once read and everything before it delivered
	seen    []string                 // read, not yet released: released when nothing is pending
}

func (m *markers) await(pk string) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.waiting == nil {
		m.waiting = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	m.waiting[pk] = ch
	return ch
}

// marker reports whether r is a barrier marker, and notes it if so. Markers belong to the
// harness: they are never delivered to a function, whatever its filters.
func (m *markers) marker(r streamtypes.Record) bool {
	if r.Dynamodb == nil {
		return false
	}
	pk, ok := r.Dynamodb.Keys["pk"].(*streamtypes.AttributeValueMemberS)
	if !ok || !strings.HasPrefix(pk.Value, barrierPrefix) {
		return false
	}
	m.mu.Lock()
	m.seen = append(m.seen, pk.Value)
	m.mu.Unlock()
	return true
}

// delivered releases the markers read so far: the poller calls it when every record read before
// them has been delivered (retries and bisection included).
func (m *markers) delivered() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, pk := range m.seen {
		if ch, ok := m.waiting[pk]; ok {
			close(ch)
			delete(m.waiting, pk)
		}
	}
	m.seen = m.seen[:0]
}

// StreamsCaughtUp returns once every record written to the table's stream before the call has
// been delivered to its functions, each batch to completion (retries included), so whatever those
// invocations did (send an email, write an item) has happened. Tests use it to prove that
// something did not happen: "no duplicate email" holds once the stream has caught up, with no sleep.
//
// It writes a marker item and waits until each of the table's stream pollers has read it with
// nothing pending before it, then deletes the marker. DynamoDB Local keeps one open shard per
// stream, so the marker follows every earlier record of the table.
func (s *Stack) StreamsCaughtUp(ctx context.Context, tableLogicalID string) error {
	var waits []<-chan struct{}
	suffix := make([]byte, 8)
	_, _ = rand.Read(suffix)
	pk := barrierPrefix + hex.EncodeToString(suffix)
	for _, p := range s.pollers {
		if p.Event.Table == tableLogicalID {
			waits = append(waits, p.marks.await(pk))
		}
	}
	if len(waits) == 0 {
		return fmt.Errorf("no stream trigger reads %s", tableLogicalID)
	}
	name := s.tables[tableLogicalID]
	desc, err := s.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("stream barrier: %w", err)
	}
	key := map[string]ddbtypes.AttributeValue{}
	for _, k := range desc.Table.KeySchema {
		key[aws.ToString(k.AttributeName)] = &ddbtypes.AttributeValueMemberS{Value: pk}
	}
	if _, err := s.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: key}); err != nil {
		return fmt.Errorf("stream barrier: write marker: %w", err)
	}
	defer func() {
		_, _ = s.ddb.DeleteItem(context.WithoutCancel(ctx), &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: key})
	}()
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return fmt.Errorf("stream barrier on %s: %w", tableLogicalID, ctx.Err())
		}
	}
	return nil
}
