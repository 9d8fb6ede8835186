package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// ReferralsAPI is the part of the DynamoDB client the referrals store uses.
type ReferralsAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Tables names the tables the referrals store spans.
type Tables struct {
	Referrals   string
	Directory   string
	Idempotency string
}

// Referrals stores referrals and routes them with one transaction per attempt.
type Referrals struct {
	client ReferralsAPI
	tables Tables
	// MaxAttempts bounds the optimistic retries when concurrent intakes contend for the same
	// specialists; past it Record gives up with an error the edge turns into 503 + Retry-After.
	MaxAttempts int
	// Consumed, when set, is told the capacity each call consumed (benchmarks and tests).
	Consumed func(op string, cc ddb.ConsumedCapacity)
}

var _ referral.Store = (*Referrals)(nil)

// NewReferrals returns a store over the given tables.
func NewReferrals(client ReferralsAPI, tables Tables) *Referrals {
	return &Referrals{client: client, tables: tables, MaxAttempts: 30}
}

// referralItem is a referral as stored. The submission is kept whole: the specialist needs it.
type referralItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	ReferralID   string `dynamodbav:"referralId"`
	Status       string `dynamodbav:"status"`
	Area         string `dynamodbav:"area"`
	SpecialistID string `dynamodbav:"specialistId,omitempty"`
	ReReferral   bool   `dynamodbav:"reReferral,omitempty"`
	ReceivedAt   string `dynamodbav:"receivedAt"`
	ContactBy    string `dynamodbav:"contactBy"`
	MeetBy       string `dynamodbav:"meetBy"`
	referral.Submission
	Events []referral.Event `dynamodbav:"events"`
	// Sparse index keys: see template.yaml's Waitlist and Due indexes.
	WaitArea  string `dynamodbav:"waitArea,omitempty"`
	WaitSince string `dynamodbav:"waitSince,omitempty"`
	// DueAt is the next deadline still to meet (contactBy until contact is recorded, then meetBy
	// until a meeting is), DueKind says which; both are removed once a meeting is recorded or the
	// referral closes, which takes it out of the Due index.
	DueShard string `dynamodbav:"dueShard,omitempty"`
	DueAt    string `dynamodbav:"dueAt,omitempty"`
	DueKind  string `dynamodbav:"dueKind,omitempty"`
	// Progress, recorded through the specialist's signed link.
	ContactedAt string `dynamodbav:"contactedAt,omitempty"`
	MetAt       string `dynamodbav:"metAt,omitempty"`
	ClosedAt    string `dynamodbav:"closedAt,omitempty"`
	CloseReason string `dynamodbav:"closeReason,omitempty"`
	// ExpiresAt (epoch seconds, the table's TTL attribute) is set on close: retention.
	ExpiresAt  int64  `dynamodbav:"expiresAt,omitempty"`
	AssignedAt string `dynamodbav:"assignedAt,omitempty"`
}

// Kinds of deadline in the Due index.
const (
	dueContact = "contact"
	dueMeeting = "meeting"
)

// dueShard is the one partition of the Due index. Only referrals with a deadline still to meet
// are in it, so it stays small; shard by date if it ever grows hot.
const dueShard = "DUE"

// openItem exists while a patient has an open referral in an area. It carries the capacity unit:
// caseload rises when it is created and falls when its last open referral closes, which is how a
// re-referral "uses no extra capacity".
type openItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	ReferralID   string `dynamodbav:"referralId"`
	Area         string `dynamodbav:"area"`
	SpecialistID string `dynamodbav:"specialistId,omitempty"`
	OpenCount    int    `dynamodbav:"openCount"`
}

type idempotencyItem struct {
	PK          string           `dynamodbav:"pk"`
	RequestHash string           `dynamodbav:"requestHash"`
	Receipt     referral.Receipt `dynamodbav:"receipt"`
	ExpiresAt   int64            `dynamodbav:"expiresAt"` // epoch seconds: the table's TTL attribute
}

// idempotencyPK hashes the caller's key so any printable key fits and none is stored verbatim.
func idempotencyPK(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "KEY#" + hex.EncodeToString(sum[:])
}

// Record routes r and stores it atomically with its open-case item, the caseload increment and
// the idempotency claim. Concurrency is handled optimistically: every write is conditional, and a
// cancelled transaction is re-planned from fresh reads.
func (s *Referrals) Record(ctx context.Context, r referral.Referral, claim *referral.Idempotency) (referral.Referral, error) {
	var open *openItem // the patient's open case in the area, once a transaction has told us of one
	var lastErr error
	for attempt := range s.MaxAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return r, fmt.Errorf("record referral %s: %w (last: %v)", r.ID, err, lastErr)
			}
		}
		planned, items, err := s.plan(ctx, r, open, claim)
		if err != nil {
			return r, fmt.Errorf("record referral %s: %w", r.ID, err)
		}
		out, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems:          items,
			ReturnConsumedCapacity: ddb.ReturnConsumedCapacityTotal,
		})
		if err == nil {
			s.consumed("record", out.ConsumedCapacity)
			return planned, nil
		}
		lastErr = err
		var cancelled *ddb.TransactionCanceledException
		if !errors.As(err, &cancelled) {
			if retryable(err) {
				continue
			}
			return r, fmt.Errorf("record referral %s: %w", r.ID, err)
		}
		reasons := cancelled.CancellationReasons
		failed := func(i int) bool { return i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed" }
		// Item order is fixed by plan: referral, open case, [caseload], [claim].
		if claim != nil && failed(len(items)-1) {
			return r, referral.ErrKeyTaken
		}
		if failed(0) { // a reference collision: astronomically rare, but never overwrite
			r.ID = referral.NewID()
			continue
		}
		if failed(1) {
			open, err = s.openCase(ctx, reasons[1].Item, r)
			if err != nil {
				return r, fmt.Errorf("record referral %s: %w", r.ID, err)
			}
			continue
		}
		// Caseload condition failed (someone filled that specialist) or a transaction conflict:
		// re-plan from fresh reads.
	}
	return r, fmt.Errorf("record referral %s: gave up after %d attempts: %w", r.ID, s.MaxAttempts, lastErr)
}

// plan decides where r goes and returns it as stored with the transaction that stores it.
func (s *Referrals) plan(ctx context.Context, r referral.Referral, open *openItem, claim *referral.Idempotency) (referral.Referral, []ddb.TransactWriteItem, error) {
	c := referral.Command{Kind: referral.KindReceive, Actor: referral.ActorSystem, By: referral.System, Via: "intake", ReReferral: open != nil}
	if open != nil {
		c.OpenCase = open.SpecialistID // same specialist as the open case (or the same waitlist)
	} else {
		candidates, err := s.candidates(ctx, r.Area)
		if err != nil {
			return r, nil, err
		}
		c.Candidates = candidates
	}
	r.Status, r.SpecialistID, r.ReReferral = "", "", false
	r.Events = r.Events[:1:1] // a re-plan decides afresh
	t, err := referral.Apply(r, c, r.ReceivedAt)
	if err != nil {
		return r, nil, err
	}
	r = t.Referral
	var caseload *ddb.TransactWriteItem
	if t.Caseload.Take != "" {
		if caseload, err = s.incrementCaseload(r.Area, t.Caseload.Take); err != nil {
			return r, nil, err
		}
	}

	put, err := s.putReferral(r)
	if err != nil {
		return r, nil, err
	}
	items := []ddb.TransactWriteItem{put}
	openWrite, err := s.writeOpenCase(r, open)
	if err != nil {
		return r, nil, err
	}
	items = append(items, openWrite)
	if caseload != nil {
		items = append(items, *caseload)
	}
	if claim != nil {
		claimed := *claim
		claimed.Receipt = r.Receipt()
		put, err := s.putClaim(claimed, r.ReceivedAt)
		if err != nil {
			return r, nil, err
		}
		items = append(items, put)
	}
	return r, items, nil
}

func (s *Referrals) candidates(ctx context.Context, area string) ([]referral.Candidate, error) {
	key := expression.Key(attrPK).Equal(expression.Value(areaPK(area))).
		And(expression.Key(attrSK).BeginsWith(specialistPrefix))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.tables.Directory,
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true), // caseloads must be current, not a second old
		ReturnConsumedCapacity:    ddb.ReturnConsumedCapacityTotal,
	}
	var out []referral.Candidate
	for p := dynamodb.NewQueryPaginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query specialists in %s: %w", area, err)
		}
		if page.ConsumedCapacity != nil {
			s.consumed("specialists", []ddb.ConsumedCapacity{*page.ConsumedCapacity})
		}
		var rows []struct {
			SpecialistID string `dynamodbav:"specialistId"`
			Capacity     int    `dynamodbav:"capacity"`
			Caseload     int    `dynamodbav:"caseload"`
			Active       bool   `dynamodbav:"active"`
		}
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &rows); err != nil {
			return nil, fmt.Errorf("decode specialists in %s: %w", area, err)
		}
		for _, row := range rows {
			out = append(out, referral.Candidate{ID: row.SpecialistID, Capacity: row.Capacity, Caseload: row.Caseload, Active: row.Active})
		}
	}
	return out, nil
}

func (s *Referrals) incrementCaseload(area, specialistID string) (*ddb.TransactWriteItem, error) {
	cond := expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name("active").Equal(expression.Value(true))).
		And(expression.Name("caseload").LessThan(expression.Name("capacity")))
	update := expression.Set(expression.Name("caseload"), expression.Name("caseload").Plus(expression.Value(1)))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return nil, err
	}
	return &ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                 &s.tables.Directory,
		Key:                       itemKey(areaPK(area), specialistSK(specialistID)),
		ConditionExpression:       expr.Condition(),
		UpdateExpression:          expr.Update(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}}, nil
}

func (s *Referrals) putReferral(r referral.Referral) (ddb.TransactWriteItem, error) {
	item := referralItem{
		PK: referralPK(r.ID), SK: referralSK, ReferralID: r.ID, Status: string(r.Status), Area: r.Area,
		SpecialistID: r.SpecialistID, ReReferral: r.ReReferral,
		ReceivedAt: r.ReceivedAt.UTC().Format(time.RFC3339), ContactBy: r.ContactBy.String(), MeetBy: r.MeetBy.String(),
		Submission: r.Submission, Events: r.Events,
	}
	if r.Status == referral.StatusWaitlisted {
		item.WaitArea = r.Area
		item.WaitSince = waitSince(r)
	} else {
		item.DueShard, item.DueAt, item.DueKind = dueShard, r.ContactBy.String(), dueContact
		item.AssignedAt = item.ReceivedAt
	}
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return ddb.TransactWriteItem{}, fmt.Errorf("encode referral: %w", err)
	}
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Put: &ddb.Put{
		TableName: &s.tables.Referrals, Item: av,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
	}}, nil
}

// waitSince is a waitlisted referral's sort key in the Waitlist index: the instant it was
// received, to the nanosecond and in fixed width so that keys sort as the instants do, then the id,
// so the oldest comes first and no two keys are equal. ReceivedAt is kept to the second, so two
// referrals received in the same second would be ordered by id: the instant comes from the
// received event when it is of that same second.
func waitSince(r referral.Referral) string {
	at := r.ReceivedAt.UTC()
	if e, ok := r.FirstEvent(referral.EventReceived); ok && e.At.UTC().Truncate(time.Second).Equal(at) {
		at = e.At.UTC()
	}
	return at.Format("2006-01-02T15:04:05.000000000Z07:00") + "#" + r.ID
}

// writeOpenCase creates the patient's open case in the area, or joins the existing one, on the
// condition that it is still as read (same specialist) so a close or reassignment in between
// makes the transaction re-plan.
func (s *Referrals) writeOpenCase(r referral.Referral, open *openItem) (ddb.TransactWriteItem, error) {
	pk := openPK(r.Area, r.Patient.NHSNumber)
	if open == nil {
		av, err := attributevalue.MarshalMap(openItem{PK: pk, SK: openSK, ReferralID: r.ID, Area: r.Area, SpecialistID: r.SpecialistID, OpenCount: 1})
		if err != nil {
			return ddb.TransactWriteItem{}, fmt.Errorf("encode open case: %w", err)
		}
		expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
		if err != nil {
			return ddb.TransactWriteItem{}, err
		}
		return ddb.TransactWriteItem{Put: &ddb.Put{
			TableName: &s.tables.Referrals, Item: av,
			ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
			// Tells the next attempt who the open case belongs to without another read.
			ReturnValuesOnConditionCheckFailure: ddb.ReturnValuesOnConditionCheckFailureAllOld,
		}}, nil
	}
	cond := expression.AttributeExists(expression.Name(attrPK))
	if open.SpecialistID == "" {
		cond = cond.And(expression.AttributeNotExists(expression.Name("specialistId")))
	} else {
		cond = cond.And(expression.Name("specialistId").Equal(expression.Value(open.SpecialistID)))
	}
	update := expression.Add(expression.Name("openCount"), expression.Value(1)).
		Set(expression.Name("referralId"), expression.Value(r.ID))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(update).Build()
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName:                           &s.tables.Referrals,
		Key:                                 itemKey(pk, openSK),
		ConditionExpression:                 expr.Condition(),
		UpdateExpression:                    expr.Update(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: ddb.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// openCase decodes the open case returned by a failed condition; nil (it has since closed) means
// route as a new patient.
func (s *Referrals) openCase(ctx context.Context, old map[string]ddb.AttributeValue, r referral.Referral) (*openItem, error) {
	if old == nil {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &s.tables.Referrals, Key: itemKey(openPK(r.Area, r.Patient.NHSNumber), openSK), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("read open case: %w", err)
		}
		old = out.Item
	}
	if len(old) == 0 {
		return nil, nil
	}
	var open openItem
	if err := attributevalue.UnmarshalMap(old, &open); err != nil {
		return nil, fmt.Errorf("decode open case: %w", err)
	}
	return &open, nil
}

func (s *Referrals) putClaim(c referral.Idempotency, now time.Time) (ddb.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(idempotencyItem{PK: idempotencyPK(c.Key), RequestHash: c.RequestHash, Receipt: c.Receipt, ExpiresAt: c.ExpiresAt.Unix()})
	if err != nil {
		return ddb.TransactWriteItem{}, fmt.Errorf("encode idempotency claim: %w", err)
	}
	// An expired claim that TTL has not yet deleted (it can lag by days) is free to take again.
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name("expiresAt").LessThan(expression.Value(now.Unix())))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Put: &ddb.Put{
		TableName: &s.tables.Idempotency, Item: av,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// Claimed returns the unexpired claim on key.
func (s *Referrals) Claimed(ctx context.Context, key string, now time.Time) (referral.Idempotency, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Idempotency, Key: map[string]ddb.AttributeValue{attrPK: &ddb.AttributeValueMemberS{Value: idempotencyPK(key)}},
		ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: ddb.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return referral.Idempotency{}, fmt.Errorf("read idempotency claim: %w", err)
	}
	var item idempotencyItem
	if len(out.Item) == 0 {
		return referral.Idempotency{}, referral.Errorf(referral.CodeNotFound, "no such idempotency key")
	}
	if err := attributevalue.UnmarshalMap(out.Item, &item); err != nil {
		return referral.Idempotency{}, fmt.Errorf("decode idempotency claim: %w", err)
	}
	// Expired only once past its second, as putClaim's condition (expiresAt < now) sees it: in its
	// last second a claim blocks Record, so it must be found here too, or the replay is a 404.
	if item.ExpiresAt < now.Unix() {
		return referral.Idempotency{}, referral.Errorf(referral.CodeNotFound, "no such idempotency key")
	}
	return referral.Idempotency{Key: key, RequestHash: item.RequestHash, Receipt: item.Receipt, ExpiresAt: time.Unix(item.ExpiresAt, 0)}, nil
}

func (s *Referrals) consumed(op string, cc []ddb.ConsumedCapacity) {
	if s.Consumed != nil {
		for _, c := range cc {
			s.Consumed(op, c)
		}
	}
}

func itemKey(pk, sk string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{
		attrPK: &ddb.AttributeValueMemberS{Value: pk},
		attrSK: &ddb.AttributeValueMemberS{Value: sk},
	}
}

// retryable reports throttling and transient service errors, which are worth another attempt.
func retryable(err error) bool {
	var throttled *ddb.ProvisionedThroughputExceededException
	var limit *ddb.RequestLimitExceeded
	var conflict *ddb.TransactionConflictException
	var inProgress *ddb.TransactionInProgressException
	return errors.As(err, &throttled) || errors.As(err, &limit) || errors.As(err, &conflict) || errors.As(err, &inProgress)
}

// backoff is capped exponential with full jitter, so contending intakes spread out.
func backoff(attempt int) time.Duration {
	ceiling := min(5*time.Millisecond<<min(attempt, 5), 150*time.Millisecond)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
