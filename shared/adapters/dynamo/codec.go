package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// Attribute names come from `json` tags, on this package's item types and on the domain's types it
// stores whole (the submission, audit events, receipts), so the domain carries no storage tags and
// an item's attributes are named as the API names the same fields.

func withJSONTags(o *attributevalue.EncoderOptions) { o.TagKey = "json" }
func fromJSONTags(o *attributevalue.DecoderOptions) { o.TagKey = "json" }
func marshal(v any) (ddb.AttributeValue, error) {
	return attributevalue.MarshalWithOptions(v, withJSONTags)
}
func marshalMap(v any) (map[string]ddb.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, withJSONTags)
}
func unmarshalMap(m map[string]ddb.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, fromJSONTags)
}
func unmarshalListOfMaps(l []map[string]ddb.AttributeValue, v any) error {
	return attributevalue.UnmarshalListOfMapsWithOptions(l, v, fromJSONTags)
}

// eventList is events as a list attribute, for appending to a referral's history.
func eventList(events ...referral.Event) ddb.AttributeValue {
	av, err := marshal(events)
	if err != nil {
		// Events are times and strings: they always marshal.
		panic("dynamo: marshal audit events: " + err.Error())
	}
	return av
}
