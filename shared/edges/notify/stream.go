package notify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

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
	// Workers bounds how many referrals of a batch are handled at once.
	Workers int
	// PerReferral bounds the time one referral's emails may take, so a hung dependency fails that
	// record instead of holding the shard until the function times out.
	PerReferral time.Duration
}

// referralKeyPrefix and referralSortKey match shared/adapters/dynamo's item layout; the stream's
// FilterCriteria in template.yaml passes only these items.
const (
	referralKeyPrefix = "REFERRAL#"
	referralSortKey   = "#REFERRAL"
)

// Handle sends the emails each changed referral calls for. Referrals are independent, so a batch's
// referrals are handled concurrently (up to Workers at once); one referral changed several times
// in a batch is handled once. If any fail, the earliest failed record is reported, so Lambda
// retries from there: records after it are retried too, and their emails are not sent twice
// thanks to the notification records. A referral whose only failures are unknown outcomes is not
// reported: its emails are held (SPEC §7) and SES may yet deliver them. It never returns an
// error (ReportBatchItemFailures).
func (h *StreamHandler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var res events.DynamoDBEventResponse
	type job struct {
		index int
		id    string
	}
	var jobs []job
	seen := map[string]bool{}
	for i, rec := range ev.Records {
		id, ok := ReferralID(rec)
		if !ok || rec.EventName == string(events.DynamoDBOperationTypeRemove) || seen[id] {
			continue
		}
		seen[id] = true
		jobs = append(jobs, job{i, id})
	}
	failed := make([]bool, len(ev.Records))
	workers := max(h.Workers, 1)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rctx, cancel := ctx, context.CancelFunc(func() {})
			if h.PerReferral > 0 {
				rctx, cancel = context.WithTimeout(ctx, h.PerReferral)
			}
			defer cancel()
			switch err := h.Notify.Referral(rctx, j.id); {
			case errors.Is(err, ErrOutcomeUnknown):
				// Held for UnknownOutcomeHold: a retry now would only find the hold. Not a failure.
				h.Log.WarnContext(ctx, "notify", slog.String("referralId", j.id), slog.String("outcome", "unknown"), slog.String("error", err.Error()))
			case err != nil:
				h.Log.ErrorContext(ctx, "notify", slog.String("referralId", j.id), slog.String("outcome", "failed"), slog.String("error", err.Error()))
				failed[j.index] = true
			}
		})
	}
	wg.Wait()
	nFailed := 0
	for i, f := range failed {
		if !f {
			continue
		}
		if nFailed == 0 {
			res.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[i].Change.SequenceNumber}}
		}
		nFailed++
	}
	h.Log.InfoContext(ctx, "batch", slog.Int("records", len(ev.Records)), slog.Int("referrals", len(jobs)), slog.Int("skipped", len(ev.Records)-len(jobs)), slog.Int("failed", nFailed))
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
