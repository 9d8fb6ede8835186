package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
)

// AreaContacts returns an area's name and lead without its postcodes: one GetItem, for the
// emails, which never need the prefix list that Area loads.
func (d *Directory) AreaContacts(ctx context.Context, id string) (directory.Area, error) {
	var it directoryAreaItem
	if err := d.get(ctx, areaPK(id), areaSK, &it, fmt.Sprintf("no area %q in the directory", id)); err != nil {
		return directory.Area{}, err
	}
	return it.area(nil), nil
}

// Specialist returns one specialist, with whether their address is bouncing, or a not-found error.
func (d *Directory) Specialist(ctx context.Context, areaID, specialistID string) (directory.Specialist, error) {
	var it leadSpecialistItem
	if err := d.get(ctx, areaPK(areaID), specialistSK(specialistID), &it, fmt.Sprintf("no specialist %q in area %q", specialistID, areaID)); err != nil {
		return directory.Specialist{}, err
	}
	s := it.specialist()
	s.Bouncing = it.bouncing()
	return s, nil
}

func (d *Directory) get(ctx context.Context, pk, sk string, out any, missing string) error {
	res, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(d.table), Key: directoryKey(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("get %s %s: %w", pk, sk, err)
	}
	if res.Item == nil {
		return &referral.Error{Code: referral.CodeNotFound, Message: missing}
	}
	if err := unmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", pk, sk, err)
	}
	return nil
}
