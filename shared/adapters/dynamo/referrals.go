package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	Referrals string
	Directory string
}

// Referrals stores referrals and routes them with one transaction per attempt.
type Referrals struct {
	client ReferralsAPI
	tables Tables
	// caseloads holds each area's specialists for a moment, so the common intake is one round trip.
	caseloads *caseloadCache
	// MaxAttempts bounds the optimistic retries when concurrent intakes contend for the same
	// specialists; past it Record gives up with an error the edge turns into 503 + Retry-After.
	MaxAttempts int
	// Consumed, when set, is told the capacity each call consumed (benchmarks and tests).
	Consumed func(op string, cc ddb.ConsumedCapacity)
}

var _ referral.Store = (*Referrals)(nil)

// NewReferrals returns a store over the given tables.
func NewReferrals(client ReferralsAPI, tables Tables) *Referrals {
	return &Referrals{client: client, tables: tables, MaxAttempts: 30, caseloads: newCaseloadCache(CaseloadTTL)}
}

// CaseloadTTL is how long an area's specialists, as read or last written by this process, are
// routed from without reading them again. A stale choice costs nothing but a retry: the caseload
// update's condition (active, below capacity) refuses it and the store re-reads and re-plans.
const CaseloadTTL = 1500 * time.Millisecond

// referralItem is a referral as stored. The submission is kept whole: the specialist needs it.
type referralItem struct {
	PK           string `json:"pk"`
	SK           string `json:"sk"`
	ReferralID   string `json:"referralId"`
	Status       string `json:"status"`
	Area         string `json:"area"`
	SpecialistID string `json:"specialistId,omitempty"`
	ReReferral   bool   `json:"reReferral,omitempty"`
	// PatientKey keys the patient's open case; it is stored so that later writes (close, withdraw,
	// drain) find the open case without the NHS number or the secret.
	PatientKey string `json:"patientKey"`
	// Claim is the idempotency key's claim when the referral was created with one.
	Claim      *claimItem `json:"claim,omitempty"`
	ReceivedAt string     `json:"receivedAt"`
	ContactBy  string     `json:"contactBy"`
	MeetBy     string     `json:"meetBy"`
	referral.Submission
	Events []referral.Event `json:"events"`
	// Sparse index keys: see template.yaml's Waitlist and Due indexes.
	WaitArea  string `json:"waitArea,omitempty"`
	WaitSince string `json:"waitSince,omitempty"`
	// The referral's entry in the Due index (its area's partition), as dueOf decides: DueAt is the
	// next deadline still to meet or noDeadline, DueKind says which deadline.
	DueShard string `json:"dueShard,omitempty"`
	DueAt    string `json:"dueAt,omitempty"`
	DueKind  string `json:"dueKind,omitempty"`
	// Progress, recorded through the specialist's signed link.
	ContactedAt string `json:"contactedAt,omitempty"`
	MetAt       string `json:"metAt,omitempty"`
	ClosedAt    string `json:"closedAt,omitempty"`
	CloseReason string `json:"closeReason,omitempty"`
	// ExpiresAt (epoch seconds, the table's TTL attribute) is set on close: retention.
	ExpiresAt  int64  `json:"expiresAt,omitempty"`
	AssignedAt string `json:"assignedAt,omitempty"`
}

// openItem exists while a patient has an open referral in an area. It carries the capacity unit:
// caseload rises when it is created and falls when its last open referral closes, which is how a
// re-referral "uses no extra capacity".
type openItem struct {
	PK           string `json:"pk"`
	SK           string `json:"sk"`
	ReferralID   string `json:"referralId"`
	Area         string `json:"area"`
	SpecialistID string `json:"specialistId,omitempty"`
	OpenCount    int    `json:"openCount"`
}

// claimItem is an idempotency claim as kept on its referral: the first receipt, less what the
// item already holds unchanged (the id and the time received). Short names: the referral must stay
// under 1 KB, DynamoDB's unit of write capacity.
type claimItem struct {
	Tag         string `json:"tag"`
	RequestHash string `json:"hash"`
	Status      string `json:"status"`
	Area        string `json:"area"`
	ContactBy   string `json:"contactBy"`
	MeetBy      string `json:"meetBy"`
}

// Record routes r and stores it atomically with its open-case item and the caseload increment,
// on the condition that r.ID is new: with a key-derived id that condition is the idempotency
// claim, and a taken id is returned as *referral.IDTaken with what its holder claimed. Concurrency
// is handled optimistically: every write is conditional, and a cancelled transaction is re-planned
// from fresh reads.
func (s *Referrals) Record(ctx context.Context, r referral.Referral, claim *referral.Idempotency) (referral.Referral, error) {
	if err := hasPatientKey(r); err != nil {
		return r, fmt.Errorf("record referral: %w", err)
	}
	var open *openItem // the patient's open case in the area, once a transaction has told us of one
	var lastErr error
	fresh := false // route from a fresh read, not the cache, after a stale choice was refused
	for attempt := range s.MaxAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return r, fmt.Errorf("record referral %s: %w (last: %v)", r.ID, err, lastErr)
			}
		}
		planned, items, err := s.plan(ctx, r, open, claim, fresh)
		if err != nil {
			return r, fmt.Errorf("record referral %s: %w", r.ID, err)
		}
		out, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems:          items,
			ReturnConsumedCapacity: ddb.ReturnConsumedCapacityTotal,
		})
		if err == nil {
			s.consumed("record", out.ConsumedCapacity)
			if len(items) > 2 { // the caseload item: this process knows the specialist's new count
				s.caseloads.took(r.Area, planned.SpecialistID)
			}
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
		// Item order is fixed by plan: referral, open case, [caseload].
		if failed(0) {
			held, err := s.heldClaim(ctx, reasons[0].Item, r.ID)
			if err != nil {
				return r, fmt.Errorf("record referral %s: %w", r.ID, err)
			}
			return r, &referral.IDTaken{Held: held}
		}
		if failed(1) {
			open, err = s.openCase(ctx, reasons[1].Item, r)
			if err != nil {
				return r, fmt.Errorf("record referral %s: %w", r.ID, err)
			}
			continue
		}
		// Caseload condition failed (someone filled that specialist, or the cached caseloads were
		// stale) or a transaction conflict: re-plan from fresh reads.
		fresh = true
	}
	return r, fmt.Errorf("record referral %s: gave up after %d attempts: %w", r.ID, s.MaxAttempts, lastErr)
}

// plan decides where r goes and returns it as stored with the transaction that stores it.
func (s *Referrals) plan(ctx context.Context, r referral.Referral, open *openItem, claim *referral.Idempotency, fresh bool) (referral.Referral, []ddb.TransactWriteItem, error) {
	c := referral.Command{Kind: referral.KindReceive, Actor: referral.ActorSystem, By: referral.System, Via: "intake", ReReferral: open != nil}
	r.Status, r.SpecialistID, r.ReReferral = "", "", false
	r.Events = r.Events[:1:1] // a re-plan decides afresh
	var t referral.Transition
	var err error
	if open != nil {
		c.OpenCase = open.SpecialistID // same specialist as the open case (or the same waitlist)
		t, err = referral.Apply(r, c, r.ReceivedAt)
	} else {
		t, err = s.route(ctx, r, c, fresh)
	}
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

	put, err := s.putReferral(r, claim)
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
	return r, items, nil
}

// route lets the domain choose among the area's specialists, as cached unless fresh. A choice to
// waitlist is never made from the cache: capacity freed in the last moment must not be missed.
func (s *Referrals) route(ctx context.Context, r referral.Referral, c referral.Command, fresh bool) (referral.Transition, error) {
	if !fresh {
		if cached, ok := s.caseloads.get(r.Area); ok {
			c.Candidates = cached
			t, err := referral.Apply(r, c, r.ReceivedAt)
			if err != nil || t.Caseload.Take != "" {
				return t, err
			}
		}
	}
	candidates, err := s.candidates(ctx, r.Area)
	if err != nil {
		return referral.Transition{}, err
	}
	s.caseloads.put(r.Area, candidates)
	c.Candidates = candidates
	return referral.Apply(r, c, r.ReceivedAt)
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
			SpecialistID string `json:"specialistId"`
			Capacity     int    `json:"capacity"`
			Caseload     int    `json:"caseload"`
			Active       bool   `json:"active"`
		}
		if err := unmarshalListOfMaps(page.Items, &rows); err != nil {
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
	item, err := updateItem(s.tables.Directory, itemKey(areaPK(area), specialistSK(specialistID)), cond, update)
	if err != nil {
		return nil, err
	}
	return &item, nil
}

func (s *Referrals) putReferral(r referral.Referral, claim *referral.Idempotency) (ddb.TransactWriteItem, error) {
	item := referralItem{
		PK: referralPK(r.ID), SK: referralSK, ReferralID: r.ID, Status: string(r.Status), Area: r.Area,
		SpecialistID: r.SpecialistID, ReReferral: r.ReReferral, PatientKey: string(r.PatientKey),
		ReceivedAt: r.ReceivedAt.UTC().Format(time.RFC3339), ContactBy: r.ContactBy.String(), MeetBy: r.MeetBy.String(),
		Submission: r.Submission, Events: r.Events,
	}
	if r.Status == referral.StatusWaitlisted {
		item.WaitArea = r.Area
		item.WaitSince = waitSince(r)
	} else {
		item.AssignedAt = item.ReceivedAt
	}
	due := dueOf(r)
	item.DueShard, item.DueAt, item.DueKind = due.Shard, due.At, due.Kind
	if claim != nil {
		item.Claim = &claimItem{Tag: claim.Tag, RequestHash: claim.RequestHash, Status: string(r.Status), Area: r.Area, ContactBy: item.ContactBy, MeetBy: item.MeetBy}
	}
	av, err := marshalMap(item)
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
		// The referral holding the id, so the domain can tell a replay from a collision unread.
		ReturnValuesOnConditionCheckFailure: ddb.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// heldClaim returns the idempotency claim of the referral stored under id (from the failed
// condition's old item, or read when the service did not return it); nil when it has none.
func (s *Referrals) heldClaim(ctx context.Context, old map[string]ddb.AttributeValue, id string) (*referral.Idempotency, error) {
	if old == nil {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &s.tables.Referrals, Key: itemKey(referralPK(id), referralSK), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("read referral holding the id: %w", err)
		}
		old = out.Item
	}
	var item struct {
		ReceivedAt string     `json:"receivedAt"`
		Claim      *claimItem `json:"claim"`
	}
	if err := unmarshalMap(old, &item); err != nil {
		return nil, fmt.Errorf("decode referral holding the id: %w", err)
	}
	if item.Claim == nil {
		return nil, nil
	}
	at, err := time.Parse(time.RFC3339, item.ReceivedAt)
	if err != nil {
		return nil, fmt.Errorf("decode referral holding the id: %w", err)
	}
	c := item.Claim
	return &referral.Idempotency{Tag: c.Tag, RequestHash: c.RequestHash, Receipt: referral.Receipt{
		ReferralID: id, Status: referral.Status(c.Status), Area: c.Area, ReceivedAt: at, ContactBy: c.ContactBy, MeetBy: c.MeetBy,
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
	pk := openPK(r.Area, r.PatientKey)
	if open == nil {
		av, err := marshalMap(openItem{PK: pk, SK: openSK, ReferralID: r.ID, Area: r.Area, SpecialistID: r.SpecialistID, OpenCount: 1})
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
	cond := expression.AttributeExists(expression.Name(attrPK)).And(heldBy(open.SpecialistID))
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
		return readOpenCase(ctx, s.client, s.tables.Referrals, r)
	}
	if err := hasPatientKey(r); err != nil {
		return nil, err
	}
	return decodeOpenCase(old)
}

// getItemAPI is the one call readOpenCase makes.
type getItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// readOpenCase reads the patient's open case in r's area (consistent), or nil if there is none.
func readOpenCase(ctx context.Context, client getItemAPI, table string, r referral.Referral) (*openItem, error) {
	if err := hasPatientKey(r); err != nil {
		return nil, err
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &table, Key: itemKey(openPK(r.Area, r.PatientKey), openSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read open case: %w", err)
	}
	return decodeOpenCase(out.Item)
}

func decodeOpenCase(old map[string]ddb.AttributeValue) (*openItem, error) {
	if len(old) == 0 {
		return nil, nil
	}
	var open openItem
	if err := unmarshalMap(old, &open); err != nil {
		return nil, fmt.Errorf("decode open case: %w", err)
	}
	return &open, nil
}

// hasPatientKey refuses a referral with no patient key (one stored before keyed hashes, not yet
// migrated: docs/operations.md): its open case must not be looked for under any other key, or its
// capacity would never be released.
func hasPatientKey(r referral.Referral) error {
	if !r.PatientKey.Valid() {
		return fmt.Errorf("referral %s has no patient key: migrate it (docs/operations.md, patient key secret)", r.ID)
	}
	return nil
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
