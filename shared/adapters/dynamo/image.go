package dynamo

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// ReferralFromImage decodes a referral item's stream image (NewImage or OldImage) as the adapter
// stores it. Images are the lambda events' attribute values, which attributevalue cannot read
// (STYLE "Known traps"): fromImage converts them first.
func ReferralFromImage(image map[string]events.DynamoDBAttributeValue) (referral.Referral, error) {
	item, err := fromImage(image)
	if err != nil {
		return referral.Referral{}, err
	}
	return decodeReferral(item)
}

func fromImage(image map[string]events.DynamoDBAttributeValue) (map[string]ddb.AttributeValue, error) {
	out := make(map[string]ddb.AttributeValue, len(image))
	for k, v := range image {
		av, err := fromImageValue(v)
		if err != nil {
			return nil, fmt.Errorf("stream image attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func fromImageValue(v events.DynamoDBAttributeValue) (ddb.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &ddb.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &ddb.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &ddb.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &ddb.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &ddb.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &ddb.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &ddb.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &ddb.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l := make([]ddb.AttributeValue, 0, len(v.List()))
		for _, el := range v.List() {
			av, err := fromImageValue(el)
			if err != nil {
				return nil, err
			}
			l = append(l, av)
		}
		return &ddb.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m, err := fromImage(v.Map())
		if err != nil {
			return nil, err
		}
		return &ddb.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %v", v.DataType())
}
