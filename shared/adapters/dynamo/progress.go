package dynamo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// ProgressAPI is the part of the DynamoDB client the progress store uses.
type ProgressAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ ProgressAPI = (*dynamodb.Client)(nil)

// Progress records what specialists do with their referrals (contact, first meeting, close) as
// conditional writes on the referrals table, and on the directory's caseloads when a close frees
// capacity. It uses Tables.Referrals and Tables.Directory.
type Progress struct {
	client ProgressAPI
	tables Tables
	// MaxAttempts bounds the attempts at a close's transaction when it conflicts with concurrent
	// writes to the patient's open case or the specialist's caseload.
	MaxAttempts int
	// ClosedRetention is how long a closed referral is kept: the close sets the table's TTL
	// attribute (expiresAt) this far ahead, and DynamoDB deletes the referral after it.
	ClosedRetention time.Duration
}

var _ referral.ProgressStore = (*Progress)(nil)

// NewProgress returns a progress store over the given tables.
func NewProgress(client ProgressAPI, tables Tables) *Progress {
	return &Progress{client: client, tables: tables, MaxAttempts: 8}
}

// openStatuses are the statuses a specialist can close a referral from.
var openStatuses = []referral.Status{referral.StatusAssigned, referral.StatusContacted, referral.StatusEngaged, referral.StatusInWork}

// Get reads a referral with a consistent read.
func (p *Progress) Get(ctx context.Context, id string) (referral.Referral, error) {
	out, err := p.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &p.tables.Referrals, Key: itemKey(referralPK(id), referralSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return referral.Referral{}, fmt.Errorf("read referral %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return referral.Referral{}, referral.Errorf(referral.CodeNotFound, "no such referral")
	}
	return decodeReferral(out.Item)
}

// RecordContact stores t, a contact on r as read: its status and event. The next deadline becomes
// the meeting (withDue).
func (p *Progress) RecordContact(ctx context.Context, r referral.Referral, t referral.Transition) error {
	e := t.Event
	update := appendEvent(e).
		Set(expression.Name("status"), expression.Value(t.Referral.Status)).
		Set(expression.Name("contactedAt"), expression.Value(stamp(e.At)))
	return p.update(ctx, "record contact on", r, stillAsRead(r), withDue(update, t.Referral))
}

// RecordMeeting stores t, a first meeting on r as read: its status and event. No deadline is
// left: the referral stays in its area's Due partition at noDeadline (withDue), for the worklist.
func (p *Progress) RecordMeeting(ctx context.Context, r referral.Referral, t referral.Transition) error {
	e := t.Event
	update := appendEvent(e).
		Set(expression.Name("status"), expression.Value(t.Referral.Status)).
		Set(expression.Name("metAt"), expression.Value(stamp(e.At))).
		Set(expression.Name("contactedAt"), expression.IfNotExists(expression.Name("contactedAt"), expression.Value(stamp(e.At))))
	return p.update(ctx, "record meeting on", r, stillAsRead(r), withDue(update, t.Referral))
}

// RecordAttempt appends t's event (a contact attempt) to r, on condition that it is still as read.
func (p *Progress) RecordAttempt(ctx context.Context, r referral.Referral, t referral.Transition) error {
	return p.update(ctx, "record contact attempt on", r, stillAsRead(r), appendEvent(t.Event))
}

// RecordEmployerContact stores t, an employer contact on r as read: its event, on condition that r
// is still as read, history included.
func (p *Progress) RecordEmployerContact(ctx context.Context, r referral.Referral, t referral.Transition) error {
	return p.update(ctx, "record employer contact on", r, historyAsRead(r), appendEvent(t.Event))
}

// RecordJobStart stores t, a job start on r as read: its status (in-work), its event and its Due
// entry (dueOf: the first job's outcome check, until an outcome is recorded), on condition that r
// is still as read, history included. The caseload is unchanged: in-work holds its unit.
func (p *Progress) RecordJobStart(ctx context.Context, r referral.Referral, t referral.Transition) error {
	update := appendEvent(t.Event).Set(expression.Name("status"), expression.Value(t.Referral.Status))
	return p.update(ctx, "record job start on", r, historyAsRead(r), withDue(update, t.Referral))
}

// RecordOutcome stores t, a job outcome on r as read: its event and its Due entry (dueOf: no
// outcome check is due any more), on condition that r is still as read, history included.
func (p *Progress) RecordOutcome(ctx context.Context, r referral.Referral, t referral.Transition) error {
	return p.update(ctx, "record outcome on", r, historyAsRead(r), withDue(appendEvent(t.Event), t.Referral))
}

func (p *Progress) update(ctx context.Context, what string, r referral.Referral, cond expression.ConditionBuilder, update expression.UpdateBuilder) error {
	err := conditionalUpdate(ctx, p.client, p.tables.Referrals, itemKey(referralPK(r.ID), referralSK), cond, update)
	var failed *ddb.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return referral.ErrChanged
	}
	if err != nil {
		return fmt.Errorf("%s referral %s: %w", what, r.ID, err)
	}
	return nil
}

// Close closes r in one transaction with the release of its capacity:
//
//  1. the referral: t's status (closed), with closedAt, closeReason (the event's Detail) and the
//     event appended, its due
//     attributes removed; on condition that it is still open and still r.SpecialistID's;
//  2. and 3. the release of the patient's open case and caseload unit (see end).
func (p *Progress) Close(ctx context.Context, r referral.Referral, t referral.Transition) error {
	e := t.Event
	var inOpen []expression.OperandBuilder
	for _, s := range openStatuses[1:] {
		inOpen = append(inOpen, expression.Value(s))
	}
	cond := expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name("status").In(expression.Value(openStatuses[0]), inOpen...)).
		And(expression.Name("specialistId").Equal(expression.Value(r.SpecialistID)))
	update := appendEvent(e).
		Set(expression.Name("status"), expression.Value(t.Referral.Status)).
		Set(expression.Name("closedAt"), expression.Value(stamp(e.At))).
		Set(expression.Name("closeReason"), expression.Value(e.Detail))
	return p.end(ctx, "close", r, e, cond, p.retain(withDue(update, t.Referral), e.At))
}

// Withdraw stores t, a withdraw of r (SPEC §9), in one transaction with the release of its
// capacity, exactly as Close releases it (see end). The referral is withdrawn on condition that it
// is still in the status, and with the specialist, it was read in; it leaves the Waitlist and Due
// indexes and gets the closed referrals' retention. When t.Erased the patient's personal data goes
// in the same write: the patient becomes t.Referral's minimised one, notes and health conditions
// are removed.
func (p *Progress) Withdraw(ctx context.Context, r referral.Referral, t referral.Transition) error {
	e := t.Event
	update := appendEvent(e).
		Set(expression.Name("status"), expression.Value(t.Referral.Status)).
		Set(expression.Name("withdrawnAt"), expression.Value(stamp(e.At))).
		Remove(expression.Name("waitArea")).Remove(expression.Name("waitSince"))
	if t.Erased {
		patient, err := marshalMap(t.Referral.Patient)
		if err != nil {
			return fmt.Errorf("withdraw referral %s: %w", r.ID, err)
		}
		// Nothing removed is kept, not even as an empty string.
		for k, v := range patient {
			if s, ok := v.(*ddb.AttributeValueMemberS); ok && s.Value == "" {
				delete(patient, k)
			}
		}
		update = update.Set(expression.Name("patient"), expression.Value(&ddb.AttributeValueMemberM{Value: patient})).
			Remove(expression.Name("notes")).Remove(expression.Name("healthConditions")).Remove(expression.Name("patientKey"))
	}
	return p.end(ctx, "withdraw", r, e, asRead(r), p.retain(withDue(update, t.Referral), e.At))
}

// retain sets the table's TTL attribute (expiresAt) ClosedRetention after at: a closed or
// withdrawn referral is deleted by DynamoDB once its retention ends (SPEC §8).
func (p *Progress) retain(u expression.UpdateBuilder, at time.Time) expression.UpdateBuilder {
	if p.ClosedRetention > 0 {
		u = u.Set(expression.Name("expiresAt"), expression.Value(at.Add(p.ClosedRetention).Unix()))
	}
	return u
}

// end ends r (close or withdraw) in one transaction with the release of its capacity:
//
//  1. the referral: update, on condition cond;
//  2. the patient's open case in the area: openCount goes down by one, or, when this was the
//     last open referral, the item is deleted;
//  3. only when the open case is deleted, the caseload of the specialist it names goes down by
//     one, on condition that it is above 0.
//
// A failed condition on the referral is ErrChanged. Any other cancellation (the open case changed
// under us, a transaction conflict) re-reads the open case and tries again with backoff. If the
// caseload is already 0 (or the specialist has left the directory) there is nothing to release:
// the end goes ahead without step 3.
func (p *Progress) end(ctx context.Context, what string, r referral.Referral, e referral.Event, cond expression.ConditionBuilder, update expression.UpdateBuilder) error {
	first, err := updateItem(p.tables.Referrals, itemKey(referralPK(r.ID), referralSK), cond, update)
	if err != nil {
		return fmt.Errorf("%s referral %s: %w", what, r.ID, err)
	}
	// Two requests with the same event (the same instant, by two people) must not share a token:
	// DynamoDB would refuse the second as a mismatched repeat of the first.
	call := rand.Text()
	skipCaseload := false
	var lastErr error
	for attempt := range p.MaxAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("%s referral %s: %w (last: %v)", what, r.ID, err, lastErr)
			}
		}
		open, err := readOpenCase(ctx, p.client, p.tables.Referrals, r)
		if err != nil {
			return fmt.Errorf("%s referral %s: %w", what, r.ID, err)
		}
		items, err := p.planRelease(r, open, skipCaseload)
		if err != nil {
			return fmt.Errorf("%s referral %s: %w", what, r.ID, err)
		}
		items = append([]ddb.TransactWriteItem{first}, items...)
		_, err = p.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: items,
			// Makes the SDK's own retries of this very request idempotent: an end that succeeded
			// but whose answer was lost is not applied twice.
			ClientRequestToken: aws.String(requestToken(r.ID, e, call, attempt)),
		})
		if err == nil {
			return nil
		}
		lastErr = err
		var cancelled *ddb.TransactionCanceledException
		if !errors.As(err, &cancelled) {
			if retryable(err) {
				continue
			}
			return fmt.Errorf("%s referral %s: %w", what, r.ID, err)
		}
		reasons := cancelled.CancellationReasons
		failed := func(i int) bool { return i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed" }
		// Item order is fixed: referral, open case, [caseload].
		if failed(0) {
			return referral.ErrChanged
		}
		if len(items) == 3 && failed(2) {
			skipCaseload = true
		}
	}
	return fmt.Errorf("%s referral %s: gave up after %d attempts: %w", what, r.ID, p.MaxAttempts, lastErr)
}

// planRelease is steps 2 and 3 of end: the release of the patient's open case in r's area and,
// with the last open referral, of the caseload unit it holds.
func (p *Progress) planRelease(r referral.Referral, open *openItem, skipCaseload bool) ([]ddb.TransactWriteItem, error) {
	var items []ddb.TransactWriteItem
	openKey := itemKey(openPK(r.Area, r.PatientKey), openSK)
	switch {
	case open == nil:
		// No open case holds capacity for this patient (the data predates open cases, or was
		// repaired by hand): close without releasing any, provided none appears meanwhile.
		expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
		if err != nil {
			return nil, err
		}
		items = append(items, ddb.TransactWriteItem{ConditionCheck: &ddb.ConditionCheck{
			TableName: &p.tables.Referrals, Key: openKey,
			ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		}})
	case open.OpenCount > 1:
		// Another referral of the patient is still open: it keeps the capacity.
		item, err := updateItem(p.tables.Referrals, openKey, expression.Name("openCount").GreaterThan(expression.Value(1)),
			expression.Set(expression.Name("openCount"), expression.Name("openCount").Minus(expression.Value(1))))
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	default:
		// The last open referral: the open case goes, and with it the capacity unit it holds for
		// the specialist it names (none while it was waitlisted).
		cond := expression.Name("openCount").LessThanEqual(expression.Value(1)).And(heldBy(open.SpecialistID))
		expr, err := expression.NewBuilder().WithCondition(cond).Build()
		if err != nil {
			return nil, err
		}
		items = append(items, ddb.TransactWriteItem{Delete: &ddb.Delete{
			TableName: &p.tables.Referrals, Key: openKey,
			ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		}})
		if open.SpecialistID != "" && !skipCaseload {
			item, err := releaseCaseload(p.tables.Directory, r.Area, open.SpecialistID)
			if err != nil {
				return nil, err
			}
			items = append(items, item)
		}
	}
	return items, nil
}

// stillAsRead is the condition of contact and meeting: the referral exists, in the status, area
// and with the specialist it had when read (the due entry written is worked out from them).
func stillAsRead(r referral.Referral) expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name("status").Equal(expression.Value(r.Status))).
		And(expression.Name("area").Equal(expression.Value(r.Area))).
		And(expression.Name("specialistId").Equal(expression.Value(r.SpecialistID)))
}

// historyAsRead is stillAsRead with r's history unchanged too: events that keep the status (an
// employer contact, a second job, an outcome) are then decided on the history they were read with.
func historyAsRead(r referral.Referral) expression.ConditionBuilder {
	return stillAsRead(r).And(expression.Name("events").Size().Equal(expression.Value(len(r.Events))))
}

// appendEvent starts an update that appends e to the referral's audit history.
func appendEvent(e referral.Event) expression.UpdateBuilder {
	return expression.Set(expression.Name("events"),
		expression.ListAppend(expression.Name("events"), expression.Value(eventList(e))))
}

// stamp is how progress times are stored: RFC 3339 in UTC, like receivedAt.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// requestToken is a ClientRequestToken (at most 36 characters) unique to one attempt of one call
// ending a referral; the SDK's own retries of that attempt send the same one.
func requestToken(referralID string, e referral.Event, call string, attempt int) string {
	sum := sha256.Sum256([]byte(referralID + "|" + e.At.UTC().Format(time.RFC3339Nano) + "|" + e.Detail + "|" + call + "|" + strconv.Itoa(attempt)))
	return hex.EncodeToString(sum[:18])
}
