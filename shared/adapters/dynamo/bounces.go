package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
)

// Failing-address attributes, set by the bounce handler on the item that holds the address:
//
//	specialist item:  emailFailing, emailFailingSince, emailFailingReason, emailFailingAddress
//	area item:        leadEmailFailing, leadEmailFailingSince, leadEmailFailingReason, leadEmailFailingAddress
//
// ...FailingAddress is the address that failed. A flag whose address is no longer the item's
// address (the address was corrected) no longer counts, so correcting an address clears it
// without anything else having to remember to.
const (
	attrEmail         = "email"
	attrLeadEmail     = "leadEmail"
	emailFailingAttr  = "emailFailing"
	leadFailingPrefix = "leadEmailFailing"
)

// emailHolderItem is the projection of a directory item that holds an address.
type emailHolderItem struct {
	PK           string `json:"pk"`
	SK           string `json:"sk"`
	AreaID       string `json:"areaId"`
	SpecialistID string `json:"specialistId"`
	Email        string `json:"email"`
	LeadEmail    string `json:"leadEmail"`

	EmailFailing        bool   `json:"emailFailing"`
	EmailFailingSince   string `json:"emailFailingSince"`
	EmailFailingReason  string `json:"emailFailingReason"`
	EmailFailingAddress string `json:"emailFailingAddress"`

	LeadEmailFailing        bool   `json:"leadEmailFailing"`
	LeadEmailFailingSince   string `json:"leadEmailFailingSince"`
	LeadEmailFailingReason  string `json:"leadEmailFailingReason"`
	LeadEmailFailingAddress string `json:"leadEmailFailingAddress"`
}

// MarkEmailFailing marks every specialist whose email, and every area whose lead's email, is one
// of addresses (compared without regard to case) as failing for reason since at. An entry
// already failing keeps its since. It reads the directory with one Scan (the table is small, and
// a filter on the address could not ignore case) and updates each matching item on condition
// that its address is still the one that failed; an address changed in between is left alone.
func (d *Directory) MarkEmailFailing(ctx context.Context, addresses []string, reason directory.FailingReason, at time.Time) ([]directory.Holder, error) {
	if len(addresses) == 0 {
		return nil, nil
	}
	items, err := d.emailHolders(ctx, expression.AttributeExists(expression.Name(attrEmail)).
		Or(expression.AttributeExists(expression.Name(attrLeadEmail))))
	if err != nil {
		return nil, fmt.Errorf("mark email failing: %w", err)
	}
	matches := func(stored string) bool {
		return stored != "" && slices.ContainsFunc(addresses, func(a string) bool {
			return strings.EqualFold(strings.TrimSpace(stored), strings.TrimSpace(a))
		})
	}
	since := at.UTC().Format(time.RFC3339)
	var marked []directory.Holder
	for _, it := range items {
		switch {
		case it.SK == areaSK && matches(it.LeadEmail):
			ok, err := d.markFailing(ctx, it, attrLeadEmail, leadFailingPrefix, it.LeadEmail, reason, since)
			if err != nil {
				return marked, fmt.Errorf("mark email failing: lead of %s: %w", it.AreaID, err)
			}
			if ok {
				marked = append(marked, directory.Holder{AreaID: it.AreaID})
			}
		case strings.HasPrefix(it.SK, specialistPrefix) && matches(it.Email):
			ok, err := d.markFailing(ctx, it, attrEmail, emailFailingAttr, it.Email, reason, since)
			if err != nil {
				return marked, fmt.Errorf("mark email failing: specialist %s: %w", it.SpecialistID, err)
			}
			if ok {
				marked = append(marked, directory.Holder{AreaID: it.AreaID, SpecialistID: it.SpecialistID})
			}
		}
	}
	return marked, nil
}

// markFailing sets <prefix>, <prefix>Since (unless set), <prefix>Reason and <prefix>Address on
// the item, on condition that its address attribute is still stored. ok is false when it is not.
func (d *Directory) markFailing(ctx context.Context, it emailHolderItem, addressAttr, prefix, stored string, reason directory.FailingReason, since string) (ok bool, err error) {
	update := expression.
		Set(expression.Name(prefix), expression.Value(true)).
		Set(expression.Name(prefix+"Since"), expression.IfNotExists(expression.Name(prefix+"Since"), expression.Value(since))).
		Set(expression.Name(prefix+"Reason"), expression.Value(string(reason))).
		Set(expression.Name(prefix+"Address"), expression.Value(stored))
	cond := expression.Name(addressAttr).Equal(expression.Value(stored))
	err = d.update(ctx, directoryKey(it.PK, it.SK), update, &cond)
	if directoryConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// FailingEmails lists the specialists and leads whose current address is marked failing, by area
// then specialist (a lead before the area's specialists), for the directory command's list.
func (d *Directory) FailingEmails(ctx context.Context) ([]directory.Failing, error) {
	items, err := d.emailHolders(ctx, expression.Name(emailFailingAttr).Equal(expression.Value(true)).
		Or(expression.Name(leadFailingPrefix).Equal(expression.Value(true))))
	if err != nil {
		return nil, fmt.Errorf("list failing emails: %w", err)
	}
	var out []directory.Failing
	for _, it := range items {
		switch {
		case it.SK == areaSK && it.LeadEmailFailing && strings.EqualFold(it.LeadEmailFailingAddress, it.LeadEmail):
			out = append(out, failing(directory.Holder{AreaID: it.AreaID}, it.LeadEmailFailingReason, it.LeadEmailFailingSince))
		case strings.HasPrefix(it.SK, specialistPrefix) && it.EmailFailing && strings.EqualFold(it.EmailFailingAddress, it.Email):
			out = append(out, failing(directory.Holder{AreaID: it.AreaID, SpecialistID: it.SpecialistID}, it.EmailFailingReason, it.EmailFailingSince))
		}
	}
	slices.SortFunc(out, func(a, b directory.Failing) int {
		if c := strings.Compare(a.AreaID, b.AreaID); c != 0 {
			return c
		}
		return strings.Compare(a.SpecialistID, b.SpecialistID)
	})
	return out, nil
}

func failing(h directory.Holder, reason, since string) directory.Failing {
	t, _ := time.Parse(time.RFC3339, since) // written by markFailing; zero if edited by hand
	return directory.Failing{Holder: h, Reason: directory.FailingReason(reason), Since: t}
}

// emailHolders scans the directory for items matching filter, reading only the attributes about
// addresses.
func (d *Directory) emailHolders(ctx context.Context, filter expression.ConditionBuilder) ([]emailHolderItem, error) {
	var names []expression.NameBuilder
	for _, n := range []string{attrPK, attrSK, "areaId", "specialistId", attrEmail, attrLeadEmail} {
		names = append(names, expression.Name(n))
	}
	for _, p := range []string{emailFailingAttr, leadFailingPrefix} {
		for _, suffix := range []string{"", "Since", "Reason", "Address"} {
			names = append(names, expression.Name(p+suffix))
		}
	}
	expr, err := expression.NewBuilder().WithFilter(filter).
		WithProjection(expression.NamesList(names[0], names[1:]...)).Build()
	if err != nil {
		return nil, err
	}
	pages := dynamodb.NewScanPaginator(d.client, &dynamodb.ScanInput{
		TableName:                 aws.String(d.table),
		FilterExpression:          expr.Filter(),
		ProjectionExpression:      expr.Projection(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	var raw []map[string]types.AttributeValue
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan directory: %w", err)
		}
		raw = append(raw, page.Items...)
	}
	var items []emailHolderItem
	if err := unmarshalListOfMaps(raw, &items); err != nil {
		return nil, fmt.Errorf("decode directory items: %w", err)
	}
	return items, nil
}
