package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
)

// ClearEmailFailing removes the failing mark from a specialist's address (h.SpecialistID set) or
// an area lead's (h.SpecialistID empty): an operator's step once the mailbox works again. It
// returns false when the holder exists but had no mark, and a not-found error when it does not
// exist.
func (d *Directory) ClearEmailFailing(ctx context.Context, h directory.Holder) (cleared bool, err error) {
	prefix, sk, what := emailFailingAttr, specialistSK(h.SpecialistID), fmt.Sprintf("specialist %q in area %q", h.SpecialistID, h.AreaID)
	if h.SpecialistID == "" {
		prefix, sk, what = leadFailingPrefix, areaSK, fmt.Sprintf("area %q", h.AreaID)
	}
	update := expression.Remove(expression.Name(prefix))
	for _, suffix := range []string{"Since", "Reason", "Address"} {
		update = update.Remove(expression.Name(prefix + suffix))
	}
	exists := expression.AttributeExists(expression.Name(attrPK))
	marked := exists.And(expression.AttributeExists(expression.Name(prefix)))
	err = d.update(ctx, directoryKey(areaPK(h.AreaID), sk), update, &marked)
	if !directoryConditionFailed(err) {
		return err == nil, err
	}
	// Not marked, or not there at all: tell them apart for the operator.
	err = d.update(ctx, directoryKey(areaPK(h.AreaID), sk), update, &exists)
	if directoryConditionFailed(err) {
		return false, &referral.Error{Code: referral.CodeNotFound, Message: "no " + what + " in the directory"}
	}
	return false, err
}
