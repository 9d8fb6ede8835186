package notify

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ReferralNotifier is what the stream handler needs: send a referral's due emails.
type ReferralNotifier interface {
	Referral(ctx context.Context, referralID string) error
}

// StreamHandler is the NotifierFunction handler on the referrals table's stream.
type StreamHandler struct {
	Notify ReferralNotifier
	Log    *slog.Logger
}

// referralKeyPrefix and referralSortKey match shared/dynamo's item layout; the stream's
// FilterCriteria in template.yaml passes only these items.
const (
	referralKeyPrefix = "REFERRAL#"
	referralSortKey   = "#REFERRAL"
)

// Handle sends the emails each changed referral calls for. Records are handled in order; at the
// first failure it stops and reports that record, so Lambda retries from there (later records
// are retried too, and their emails are not sent twice thanks to the notification records).
// It never returns an error: failures are batch item failures (ReportBatchItemFailures).
func (h *StreamHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var res events.DynamoDBEventResponse
	done := map[string]bool{} // one referral changed several times in a batch is handled once
	sent, skipped := 0, 0
	for _, rec := range ev.Records {
		id, ok := ReferralID(rec)
		if !ok || rec.EventName == string(events.DynamoDBOperationTypeRemove) || done[id] {
			skipped++
			continue
		}
		if err := h.Notify.Referral(ctx, id); err != nil {
			h.Log.ErrorContext(ctx, "notify", slog.String("referralId", id), slog.String("outcome", "failed"), slog.String("error", err.Error()))
			res.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: rec.Change.SequenceNumber}}
			break
		}
		done[id] = true
		sent++
	}
	h.Log.InfoContext(ctx, "batch", slog.Int("records", len(ev.Records)), slog.Int("referrals", sent), slog.Int("skipped", skipped), slog.Int("failed", len(res.BatchItemFailures)))
	return res, nil
}

// ReferralID returns the referral id of a stream record about a referral item. Only the keys are
// read: the state is re-read before sending, so images are never trusted.
func ReferralID(rec events.DynamoDBEventRecord) (string, bool) {
	pk, sk := rec.Change.Keys["pk"], rec.Change.Keys["sk"]
	if pk.DataType() != events.DataTypeString || sk.DataType() != events.DataTypeString || sk.String() != referralSortKey {
		return "", false
	}
	id, ok := strings.CutPrefix(pk.String(), referralKeyPrefix)
	return id, ok && id != ""
}
