package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/notification"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
)

// MovesAPI is the part of the DynamoDB client the lead's moves use.
type MovesAPI interface {
	WorklistAPI
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ MovesAPI = (*dynamodb.Client)(nil)

// Moves stores the lead's reassigns and transfers (SPEC §10), each as one transaction of what
// referral.Apply decided.
type Moves struct {
	client MovesAPI
	tables Tables
	refs   *Referrals
	lists  *Worklists
	dir    *Directory
	// MaxAttempts bounds the retries of a transaction that conflicted with a concurrent one.
	MaxAttempts int
}

var _ worklist.MoveStore = (*Moves)(nil)

// NewMoves returns the moves store over the referrals and directory tables.
func NewMoves(client MovesAPI, tables Tables) *Moves {
	return &Moves{client: client, tables: tables, refs: NewReferrals(client, tables), lists: NewWorklists(client, tables),
		dir: &Directory{client: directoryReader{client}, table: tables.Directory}, MaxAttempts: 8}
}

// directoryReader lets the directory's read-only scan run on the moves client; the directory's
// writes are never called from here.
type directoryReader struct{ MovesAPI }

func (directoryReader) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("moves: the directory is read-only here")
}

func (directoryReader) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, errors.New("moves: the directory is read-only here")
}

// Get reads a referral with a consistent read.
func (m *Moves) Get(ctx context.Context, referralID string) (referral.Referral, error) {
	return m.refs.load(ctx, referralPK(referralID))
}

// Specialists reads an area's specialists with their live caseloads (consistent).
func (m *Moves) Specialists(ctx context.Context, areaID string) ([]worklist.Specialist, error) {
	return m.lists.specialists(ctx, areaID)
}

// AreaName is the area's name, for the lead's confirmation.
func (m *Moves) AreaName(ctx context.Context, areaID string) (string, error) {
	name, _, err := m.lists.Area(ctx, areaID)
	return name, err
}

// SpecialistArea finds a specialist's area by a scan of the (small) directory: only a refused
// reassign gets here.
func (m *Moves) SpecialistArea(ctx context.Context, specialistID string) (string, bool, error) {
	s, err := m.dir.FindSpecialist(ctx, specialistID)
	if referral.ErrorCode(err) == referral.CodeNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return s.AreaID, true, nil
}

// OpenCase reads the patient's open case in an area (consistent).
func (m *Moves) OpenCase(ctx context.Context, areaID string, patient referral.PatientKey) (string, int, bool, error) {
	open, err := m.openCase(ctx, areaID, patient)
	if err != nil || open == nil {
		return "", 0, false, err
	}
	return open.SpecialistID, open.OpenCount, true, nil
}

func (m *Moves) openCase(ctx context.Context, areaID string, patient referral.PatientKey) (*openItem, error) {
	return m.refs.openCase(ctx, nil, referral.Referral{Area: areaID, PatientKey: patient})
}

// Move stores a reassign or transfer of before, as t decided, in one transaction:
//
//   - the referral, conditioned on its status, specialist and area as read;
//   - the patient's open case: re-pointed to the new specialist (reassign), or deleted (or its
//     count lowered when shared) in the old area and created in the new one (transfer);
//   - the caseload released (above 0) and the one taken (active, below capacity);
//   - the notification records the move makes due again: the assignment email (a new
//     specialist), and on a transfer the waitlisted email and the reminders (new area, new
//     deadlines). The audit history keeps every email sent before.
//
// A failed condition on the referral or an open case is referral.ErrChanged; on the caseload
// taken, referral.ErrNoRoom. A caseload already at 0 releases nothing (as a close).
func (m *Moves) Move(ctx context.Context, before referral.Referral, t referral.Transition) error {
	open, err := m.openCase(ctx, before.Area, before.PatientKey)
	if err != nil {
		return err
	}
	skipRelease := false
	var p movePlan
	plan := func() ([]ddb.TransactWriteItem, error) {
		p, err = m.plan(before, t, open, skipRelease)
		return p.items, err
	}
	return transact(ctx, m.client, m.MaxAttempts, "move referral "+before.ID, plan, func(failed func(int) bool) error {
		switch {
		case failed(0), failed(p.oldOpen), failed(p.newOpen):
			return referral.ErrChanged // decide again from fresh reads
		case failed(p.take):
			return referral.ErrNoRoom
		case failed(p.release):
			skipRelease = true // the caseload is already 0: nothing to release, as a close
		}
		return nil // a transaction conflict: try again
	})
}

// movePlan is a move's transaction and where in it each conditional item is (-1: absent).
type movePlan struct {
	items                           []ddb.TransactWriteItem
	oldOpen, newOpen, release, take int
}

func (m *Moves) plan(before referral.Referral, t referral.Transition, open *openItem, skipRelease bool) (movePlan, error) {
	p := movePlan{oldOpen: -1, newOpen: -1, release: -1, take: -1}
	r := t.Referral
	add := func(item ddb.TransactWriteItem) int { p.items = append(p.items, item); return len(p.items) - 1 }
	update := func(key map[string]ddb.AttributeValue, cond expression.ConditionBuilder, u expression.UpdateBuilder) (ddb.TransactWriteItem, error) {
		return updateItem(m.tables.Referrals, key, cond, u) // the caseloads: releaseCaseload, incrementCaseload
	}

	// 1. The referral, as read.
	item, err := update(itemKey(referralPK(r.ID), referralSK), asRead(before), referralMove(before, r, t))
	if err != nil {
		return p, err
	}
	add(item)

	moved := r.Area != before.Area
	// 2. The patient's open case.
	if open != nil {
		oldKey := itemKey(openPK(before.Area, before.PatientKey), openSK)
		held := heldBy(open.SpecialistID)
		switch {
		case !moved:
			item, err = update(oldKey, held.And(expression.Name("openCount").LessThanEqual(expression.Value(1))),
				expression.Set(expression.Name("specialistId"), expression.Value(r.SpecialistID)))
		case open.OpenCount > 1:
			item, err = update(oldKey, expression.Name("openCount").GreaterThan(expression.Value(1)),
				expression.Set(expression.Name("openCount"), expression.Name("openCount").Minus(expression.Value(1))))
		default:
			var expr expression.Expression
			expr, err = expression.NewBuilder().WithCondition(held.And(expression.Name("openCount").LessThanEqual(expression.Value(1)))).Build()
			item = ddb.TransactWriteItem{Delete: &ddb.Delete{
				TableName: &m.tables.Referrals, Key: oldKey,
				ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			}}
		}
		if err != nil {
			return p, err
		}
		p.oldOpen = add(item)
	}
	if moved && r.ReReferral {
		// Joins the patient's open case in the new area, as read (same specialist, or waiting).
		item, err := update(itemKey(openPK(r.Area, r.PatientKey), openSK), expression.AttributeExists(expression.Name(attrPK)).And(heldBy(r.SpecialistID)),
			expression.Add(expression.Name("openCount"), expression.Value(1)).Set(expression.Name("referralId"), expression.Value(r.ID)))
		if err != nil {
			return p, err
		}
		p.newOpen = add(item)
	} else if moved {
		av, err := marshalMap(openItem{PK: openPK(r.Area, r.PatientKey), SK: openSK, ReferralID: r.ID,
			Area: r.Area, SpecialistID: r.SpecialistID, OpenCount: 1})
		if err != nil {
			return p, fmt.Errorf("encode open case: %w", err)
		}
		expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
		if err != nil {
			return p, err
		}
		p.newOpen = add(ddb.TransactWriteItem{Put: &ddb.Put{
			TableName: &m.tables.Referrals, Item: av,
			ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		}})
	}

	// 3. Caseloads.
	if rel := t.Caseload.Release; rel != "" && !skipRelease {
		item, err := releaseCaseload(m.tables.Directory, before.Area, rel)
		if err != nil {
			return p, err
		}
		p.release = add(item)
	}
	if take := t.Caseload.Take; take != "" {
		item, err := m.refs.incrementCaseload(r.Area, take)
		if err != nil {
			return p, err
		}
		p.take = add(*item)
	}

	// 4. The emails the move makes due again.
	for _, n := range renotify(before, t) {
		add(ddb.TransactWriteItem{Delete: &ddb.Delete{TableName: &m.tables.Referrals, Key: itemKey(referralPK(r.ID), noticeSK(n))}})
	}
	return p, nil
}

// asRead is the condition of a move or a withdraw on the referral: still in the status, area and
// specialist read (none while it was waitlisted).
func asRead(r referral.Referral) expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(attrPK)).
		And(expression.Name("status").Equal(expression.Value(r.Status))).
		And(expression.Name("area").Equal(expression.Value(r.Area))).
		And(heldBy(r.SpecialistID))
}

// referralMove is the update of the referral item from before to r: its specialist, and for a
// transfer its area, postcode, status, deadlines and index keys (Waitlist or Due).
func referralMove(before, r referral.Referral, t referral.Transition) expression.UpdateBuilder {
	u := appendEvent(t.Event)
	if r.SpecialistID != "" {
		u = u.Set(expression.Name("specialistId"), expression.Value(r.SpecialistID))
	} else {
		u = u.Remove(expression.Name("specialistId"))
	}
	if r.Area == before.Area {
		return withDue(u, r) // a reassign: deadlines, and so the due entry, stay (docs/decisions.md)
	}
	u = u.Set(expression.Name("area"), expression.Value(r.Area)).
		Set(expression.Name("patient.postcode"), expression.Value(r.Patient.Postcode)).
		Set(expression.Name("status"), expression.Value(r.Status)).
		Set(expression.Name("contactBy"), expression.Value(r.ContactBy.String())).
		Set(expression.Name("meetBy"), expression.Value(r.MeetBy.String())).
		Remove(expression.Name("contactedAt"))
	if r.ReReferral {
		u = u.Set(expression.Name("reReferral"), expression.Value(true))
	} else {
		u = u.Remove(expression.Name("reReferral"))
	}
	// A transfer moves the due entry to the new area's partition (withDue).
	if r.Status == referral.StatusWaitlisted {
		return withDue(u.Set(expression.Name("waitArea"), expression.Value(r.Area)).
			Set(expression.Name("waitSince"), expression.Value(waitSince(r))), r)
	}
	return withDue(u.Set(expression.Name("assignedAt"), expression.Value(stamp(t.Event.At))).
		Remove(expression.Name("waitArea")).
		Remove(expression.Name("waitSince")), r)
}

// renotify lists the notification records a move clears so that its emails go again: the
// assignment to a new specialist; on a transfer also the new area lead's waitlisted email and the
// reminders of the new deadlines. Each with the lead's copy of it (sent while the specialist's
// address bounces). Each stays once per referral, kind and current recipient.
func renotify(before referral.Referral, t referral.Transition) []notification.Notice {
	var kinds []notification.Kind
	if t.Referral.SpecialistID != "" && t.Referral.SpecialistID != before.SpecialistID {
		kinds = append(kinds, notification.Assignment)
	}
	if t.Referral.Area != before.Area {
		kinds = append(kinds, notification.Waitlisted, notification.ContactReminder, notification.MeetingReminder, notification.ContactOverdue, notification.MeetingOverdue)
	}
	var out []notification.Notice
	for _, k := range kinds {
		out = append(out, notification.Notice{Kind: k}, notification.Notice{Kind: k, Audience: notification.AudienceLead})
	}
	return out
}
