// Package tally keeps the programme returns' facts (SPEC §12) from the referrals table's stream,
// and writes the month-end level snapshots on a daily schedule. Both reach ReturnsFunction, whose
// handler tells them apart by shape.
//
// Exactly once under retries: a record's facts are worked out from its own images (old and new),
// not from a re-read, and stored as overwrites by key (returns.Changes): a retried or replayed
// record writes the same items again, so nothing is counted twice.
package tally

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/returns"
)

// Ledger is what the stream writes (dynamo.Returns).
type Ledger interface {
	Write(ctx context.Context, put, remove []returns.Fact) error
}

// Decoder reads a referral item's stream image (dynamo.ReferralFromImage): the adapter owns the
// item format.
type Decoder func(image map[string]events.DynamoDBAttributeValue) (referral.Referral, error)

// AreaLister lists the directory's areas (dynamo.Directory).
type AreaLister interface {
	Areas(ctx context.Context) ([]directory.Area, error)
}

// Handler is ReturnsFunction's handler.
type Handler struct {
	Ledger Ledger
	Decode Decoder
	Log    *slog.Logger
	// Snapshots and Areas serve the daily schedule; without them a scheduled event is an error.
	Snapshots returns.SnapshotWriter
	Areas     AreaLister
}

// referralKeyPrefix and referralSortKey match shared/adapters/dynamo's referral items; the
// stream's FilterCriteria in template.yaml passes only these.
const (
	referralKeyPrefix = "REFERRAL#"
	referralSortKey   = "#REFERRAL"
)

// Handle takes a DynamoDB stream batch or a scheduled event (ScheduleV2, its time the run's now).
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Records    json.RawMessage `json:"Records"`
		DetailType string          `json:"detail-type"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("returns: unreadable event: %w", err)
	}
	switch {
	case probe.Records != nil:
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("returns: unreadable stream batch: %w", err)
		}
		return h.Stream(ctx, ev)
	case probe.DetailType != "":
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("returns: unreadable scheduled event: %w", err)
		}
		return nil, h.Schedule(ctx, ev)
	}
	return nil, errors.New("returns: neither a stream batch nor a scheduled event")
}

// Stream stores the facts of each record's new events, in order. At the first record that fails
// it stops and reports that record, so Lambda retries from there (records after it again too,
// which only overwrites). It never returns an error (ReportBatchItemFailures).
func (h *Handler) Stream(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var res events.DynamoDBEventResponse
	written, skipped := 0, 0
	for _, rec := range ev.Records {
		// A removed referral (retention's TTL) keeps its counted facts: returns count what
		// happened, and carry no patient data.
		if !isReferral(rec) || rec.EventName == string(events.DynamoDBOperationTypeRemove) {
			skipped++
			continue
		}
		n, err := h.record(ctx, rec)
		if err != nil {
			pk := rec.Change.Keys["pk"].String()
			h.Log.ErrorContext(ctx, "returns", slog.String("referralId", strings.TrimPrefix(pk, referralKeyPrefix)),
				slog.String("outcome", "failed"), slog.String("error", err.Error()))
			res.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			break
		}
		written += n
	}
	h.Log.InfoContext(ctx, "batch", slog.Int("records", len(ev.Records)), slog.Int("skipped", skipped),
		slog.Int("facts", written), slog.Int("failed", len(res.BatchItemFailures)))
	return res, nil
}

// record writes what one change did to the referral's facts and returns how many items it wrote.
func (h *Handler) record(ctx context.Context, rec events.DynamoDBEventRecord) (int, error) {
	var old, new []returns.Fact
	if len(rec.Change.OldImage) > 0 {
		r, err := h.Decode(rec.Change.OldImage)
		if err != nil {
			return 0, fmt.Errorf("old image: %w", err)
		}
		old = returns.Facts(r)
	}
	if len(rec.Change.NewImage) > 0 {
		r, err := h.Decode(rec.Change.NewImage)
		if err != nil {
			return 0, fmt.Errorf("new image: %w", err)
		}
		new = returns.Facts(r)
	}
	put, remove := returns.Changes(old, new)
	if len(put)+len(remove) == 0 {
		return 0, nil
	}
	return len(put) + len(remove), h.Ledger.Write(ctx, put, remove)
}

// Schedule writes the month-end snapshots due at the event's time (returns.Close).
func (h *Handler) Schedule(ctx context.Context, ev events.EventBridgeEvent) error {
	if h.Snapshots == nil || h.Areas == nil {
		return errors.New("returns: no snapshot store wired")
	}
	now := ev.Time
	if now.IsZero() {
		return errors.New("returns: scheduled event without a time")
	}
	all, err := h.Areas.Areas(ctx)
	if err != nil {
		return fmt.Errorf("returns: %w", err)
	}
	ids := make([]string, 0, len(all))
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	n, err := returns.Close(ctx, h.Snapshots, ids, now)
	h.Log.InfoContext(ctx, "snapshots", slog.String("at", now.UTC().Format(time.RFC3339)), slog.Int("areas", len(ids)), slog.Int("written", n))
	return err
}

// isReferral reports whether a stream record is about a referral item (not a notification or
// open-case item), as the FilterCriteria already ensures on AWS.
func isReferral(rec events.DynamoDBEventRecord) bool {
	pk, sk := rec.Change.Keys["pk"], rec.Change.Keys["sk"]
	return pk.DataType() == events.DataTypeString && strings.HasPrefix(pk.String(), referralKeyPrefix) &&
		sk.DataType() == events.DataTypeString && sk.String() == referralSortKey
}
