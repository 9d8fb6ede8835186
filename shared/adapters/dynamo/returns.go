package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// ReturnsTable (SPEC §12's programme returns, maintained from the referrals stream)
//
//	pk = "<areaId>#<YYYY-MM>"  sk = Fact.Key() ("<referralId>#<index>#<seq>")  one counted fact
//	pk = "<areaId>#<YYYY-MM>"  sk = "#SNAPSHOT"                                the area's levels at
//	                                                                           the month's end
//
// A report reads one partition per month asked for and one snapshot item, so its cost follows
// the area's months asked for, never the table's size. The referral id in a fact's key is what
// makes a stream retry overwrite instead of double count; no return ever shows it.
const returnsSnapshotSK = "#SNAPSHOT"

func returnsPK(area, month string) string { return area + "#" + month }

// ReturnsAPI is the part of the DynamoDB client the returns store uses.
type ReturnsAPI interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ ReturnsAPI = (*dynamodb.Client)(nil)

// Returns keeps the returns table: the ledger of returns.Read and returns.Close, and the writes of
// the stream edge.
type Returns struct {
	client ReturnsAPI
	table  string
}

var _ returns.SnapshotWriter = (*Returns)(nil)

// NewReturns returns the store over the returns table.
func NewReturns(client ReturnsAPI, table string) *Returns {
	return &Returns{client: client, table: table}
}

// factItem is a fact as stored: the area, month, referral, index and seq are in its keys.
type factItem struct {
	PK         string `json:"pk"`
	SK         string `json:"sk"`
	Column     string `json:"column"`
	Count      int    `json:"count"`
	Specialist string `json:"specialist,omitempty"`
	Day        string `json:"day,omitempty"`
}

// levelItem is one level of a snapshot item.
type levelItem struct {
	Column     string `json:"column"`
	Specialist string `json:"specialist,omitempty"`
	Count      int    `json:"count"`
}

type snapshotItem struct {
	PK     string      `json:"pk"`
	SK     string      `json:"sk"`
	Levels []levelItem `json:"levels"`
}

// Write puts and removes facts (returns.Changes) with BatchWriteItem, retrying unprocessed items.
// Puts overwrite by key, so writing the same facts again changes nothing.
func (s *Returns) Write(ctx context.Context, put, remove []returns.Fact) error {
	reqs := make([]ddb.WriteRequest, 0, len(put)+len(remove))
	for _, f := range remove {
		reqs = append(reqs, ddb.WriteRequest{DeleteRequest: &ddb.DeleteRequest{Key: itemKey(returnsPK(f.Area, f.Month), f.Key())}})
	}
	for _, f := range put {
		item, err := marshalMap(factItem{PK: returnsPK(f.Area, f.Month), SK: f.Key(), Column: f.Column, Count: f.Count, Specialist: f.Specialist, Day: f.Day})
		if err != nil {
			return fmt.Errorf("encode fact %s: %w", f.Key(), err)
		}
		reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item}})
	}
	if err := batchWrite(ctx, s.client, s.table, reqs); err != nil {
		return fmt.Errorf("write returns: %w", err)
	}
	return nil
}

// MonthFacts reads one area's month: one Query of its partition (the snapshot item left out).
func (s *Returns) MonthFacts(ctx context.Context, area, month string) ([]returns.Fact, error) {
	var out []returns.Fact
	err := s.query(ctx, area, month, nil, func(res *dynamodb.QueryOutput) error {
		var page []factItem
		if err := unmarshalListOfMaps(res.Items, &page); err != nil {
			return fmt.Errorf("decode returns: %w", err)
		}
		for _, it := range page {
			if it.SK == returnsSnapshotSK {
				continue
			}
			f, err := it.fact(area, month)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

func (it factItem) fact(area, month string) (returns.Fact, error) {
	parts := strings.Split(it.SK, "#")
	if len(parts) < 3 {
		return returns.Fact{}, fmt.Errorf("returns item %q: not a fact key", it.SK)
	}
	n := len(parts)
	index, err1 := strconv.Atoi(parts[n-2])
	seq, err2 := strconv.Atoi(parts[n-1])
	if err1 != nil || err2 != nil {
		return returns.Fact{}, fmt.Errorf("returns item %q: not a fact key", it.SK)
	}
	return returns.Fact{Area: area, Month: month, Referral: strings.Join(parts[:n-2], "#"), Index: index, Seq: seq,
		Column: it.Column, Specialist: it.Specialist, Count: it.Count, Day: it.Day}, nil
}

// Snapshot reads an area's snapshot at the end of month: one GetItem.
func (s *Returns) Snapshot(ctx context.Context, area, month string) ([]returns.Fact, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: itemKey(returnsPK(area, month), returnsSnapshotSK)})
	if err != nil {
		return nil, false, fmt.Errorf("get snapshot: %w", err)
	}
	if len(out.Item) == 0 {
		return nil, false, nil
	}
	var it snapshotItem
	if err := unmarshalMap(out.Item, &it); err != nil {
		return nil, false, fmt.Errorf("decode snapshot: %w", err)
	}
	facts := make([]returns.Fact, 0, len(it.Levels))
	for i, l := range it.Levels {
		facts = append(facts, returns.Fact{Area: area, Month: month, Seq: i, Column: l.Column, Specialist: l.Specialist, Count: l.Count})
	}
	return facts, true, nil
}

// PutSnapshot writes an area's snapshot at the end of month as one item, so it is there whole or
// not at all.
func (s *Returns) PutSnapshot(ctx context.Context, area, month string, facts []returns.Fact) error {
	it := snapshotItem{PK: returnsPK(area, month), SK: returnsSnapshotSK, Levels: []levelItem{}}
	for _, f := range facts {
		it.Levels = append(it.Levels, levelItem{Column: f.Column, Specialist: f.Specialist, Count: f.Count})
	}
	item, err := marshalMap(it)
	if err != nil {
		return err
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("put snapshot: %w", err)
	}
	return nil
}

// ReceivedBetween counts the area's received facts on the days from (inclusive) to to
// (exclusive): a counting Query of each month partition the days touch, filtered to the received
// facts of those days (the lead digest's "received last week").
func (s *Returns) ReceivedBetween(ctx context.Context, area string, from, to calendar.Date) (int, error) {
	if !from.Before(to) {
		return 0, nil
	}
	last := to.AddDays(-1)
	filter := expression.Name("column").Equal(expression.Value(returns.Received)).
		And(expression.Name("day").Between(expression.Value(from.String()), expression.Value(last.String())))
	var months []string
	for d := from; !d.After(last); d = d.AddDays(1) {
		if m := d.String()[:7]; !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	n := 0
	for _, m := range months {
		err := s.query(ctx, area, m, &filter, func(out *dynamodb.QueryOutput) error {
			n += int(out.Count)
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("count received in %s: %w", area, err)
		}
	}
	return n, nil
}

// query reads one area-month partition, page by page; with a filter, it only counts.
func (s *Returns) query(ctx context.Context, area, month string, filter *expression.ConditionBuilder, fn func(*dynamodb.QueryOutput) error) error {
	b := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(returnsPK(area, month))))
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return err
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}
	if filter != nil {
		in.Select = ddb.SelectCount
	}
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("query returns %s: %w", returnsPK(area, month), err)
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}

// batchWriter is what batchWrite needs of a client.
type batchWriter interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// batchWrite writes reqs to table in batches of batchWriteSize, retrying unprocessed items with
// backoff (at most batchWriteAttempts times a batch).
func batchWrite(ctx context.Context, client batchWriter, table string, reqs []ddb.WriteRequest) error {
	for batch := range slices.Chunk(reqs, batchWriteSize) {
		pending := map[string][]ddb.WriteRequest{table: batch}
		for attempt := 0; len(pending[table]) > 0; attempt++ {
			if attempt == batchWriteAttempts {
				return fmt.Errorf("%d writes still unprocessed after %d attempts", len(pending[table]), attempt)
			}
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return err
				}
			}
			out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
