package bench

import (
	"context"
	"math"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
)

// meteredDB is a DynamoDB client that asks every call for its consumed capacity and adds it to a
// meter, so the stores can be measured as they are, without changing them.
type meteredDB struct {
	db *dynamodb.Client
	m  *meter
	// mode is the ReturnConsumedCapacity every call is given (TOTAL or INDEXES).
	mode ddb.ReturnConsumedCapacity
}

var (
	_ dynamo.ReferralsAPI     = (*meteredDB)(nil)
	_ dynamo.NotificationsAPI = (*meteredDB)(nil)
	_ dynamo.DirectoryAPI     = (*meteredDB)(nil)
	_ dynamo.DueAPI           = (*meteredDB)(nil)
)

// meter sums read and write capacity units, in all and by table or index.
type meter struct {
	mu     sync.Mutex
	tables map[string]string // local table name → logical id, for the breakdown
	read   float64
	write  float64
	// By table or index ("ReferralsTable", "ReferralsTable/Due"; INDEXES only), reads and writes.
	byRead, byWrite map[string]float64
}

func newMeter(tables map[string]string) *meter {
	names := map[string]string{}
	for logical, local := range tables {
		names[local] = logical
	}
	return &meter{tables: names, byRead: map[string]float64{}, byWrite: map[string]float64{}}
}

func (m *meter) add(write bool, ccs ...*ddb.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, cc := range ccs {
		if cc == nil {
			continue
		}
		units, by := aws.ToFloat64(cc.CapacityUnits), m.byRead
		if write {
			m.write += units
			by = m.byWrite
		} else {
			m.read += units
		}
		name := m.tables[aws.ToString(cc.TableName)]
		if cc.Table != nil {
			by[name] += aws.ToFloat64(cc.Table.CapacityUnits)
		}
		for index, c := range cc.GlobalSecondaryIndexes {
			by[name+"/"+index] += aws.ToFloat64(c.CapacityUnits)
		}
	}
}

// reading is what a meter has counted: units read and written, and the breakdown.
type reading struct {
	Read, Write     float64
	ByRead, ByWrite map[string]float64
}

func (m *meter) take() reading {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := reading{Read: m.read, Write: m.write, ByRead: m.byRead, ByWrite: m.byWrite}
	m.read, m.write, m.byRead, m.byWrite = 0, 0, map[string]float64{}, map[string]float64{}
	return r
}

func (d *meteredDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.GetItem(ctx, in, opts...)
	if err == nil {
		d.m.add(false, out.ConsumedCapacity)
	}
	return out, err
}

func (d *meteredDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.Query(ctx, in, opts...)
	if err == nil {
		d.m.add(false, out.ConsumedCapacity)
	}
	return out, err
}

func (d *meteredDB) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.Scan(ctx, in, opts...)
	if err == nil {
		d.m.add(false, out.ConsumedCapacity)
	}
	return out, err
}

func (d *meteredDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.PutItem(ctx, in, opts...)
	if err == nil {
		d.m.add(true, out.ConsumedCapacity)
	}
	return out, err
}

func (d *meteredDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.UpdateItem(ctx, in, opts...)
	if err == nil {
		d.m.add(true, out.ConsumedCapacity)
	}
	return out, err
}

func (d *meteredDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.DeleteItem(ctx, in, opts...)
	if err == nil {
		d.m.add(true, out.ConsumedCapacity)
	}
	return out, err
}

func (d *meteredDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		for i := range out.ConsumedCapacity {
			d.m.add(true, &out.ConsumedCapacity[i])
		}
	}
	return out, err
}

func (d *meteredDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = d.mode
	out, err := d.db.BatchWriteItem(ctx, in, opts...)
	if err == nil {
		for i := range out.ConsumedCapacity {
			d.m.add(true, &out.ConsumedCapacity[i])
		}
	}
	return out, err
}

// itemSize is an item's size as DynamoDB bills it: attribute names plus values (UTF-8 strings,
// numbers about one byte per two digits, and three bytes plus a byte per element for lists and
// maps).
func itemSize(item map[string]ddb.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v ddb.AttributeValue) int {
	switch a := v.(type) {
	case *ddb.AttributeValueMemberS:
		return len(a.Value)
	case *ddb.AttributeValueMemberN:
		digits := len(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(a.Value), "0"))
		return (digits+1)/2 + 1
	case *ddb.AttributeValueMemberB:
		return len(a.Value)
	case *ddb.AttributeValueMemberBOOL, *ddb.AttributeValueMemberNULL:
		return 1
	case *ddb.AttributeValueMemberSS:
		n := 0
		for _, s := range a.Value {
			n += len(s)
		}
		return n
	case *ddb.AttributeValueMemberL:
		n := 3
		for _, e := range a.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *ddb.AttributeValueMemberM:
		n := 3
		for k, e := range a.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// writeUnits is what writing an item of size bytes costs: one unit per KB started.
func writeUnits(size int) float64 { return math.Max(1, math.Ceil(float64(size)/1024)) }
