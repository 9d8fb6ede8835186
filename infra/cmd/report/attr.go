package main

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func attrString(item map[string]types.AttributeValue, name string, out *string) error {
	s, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("scan referrals: item without a string %s", name)
	}
	*out = s.Value
	return nil
}
