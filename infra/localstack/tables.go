package localstack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table is an AWS::DynamoDB::Table as the local stack creates it.
type Table struct {
	LogicalID string
	Name      string // local name: TablePrefix + LogicalID
	// Input creates the table: keys, indexes and stream as in the template, on-demand billing.
	// PITR, SSE and deletion protection mean nothing locally and are left out.
	Input        *dynamodb.CreateTableInput
	TTLAttribute string // "" when TTL is not enabled
}

func parseTable(ev *evaluator, r resource) (*Table, error) {
	props := r.Properties
	tb := &Table{LogicalID: r.LogicalID, Name: ev.localName(r.LogicalID)}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(tb.Name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
	}

	defs, _, err := property(ev, props, "AttributeDefinitions")
	if err != nil {
		return nil, err
	}
	for i, d := range asList(defs) {
		m := mapOf(d)
		name, err1 := scalarString(m["AttributeName"])
		typ, err2 := scalarString(m["AttributeType"])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("AttributeDefinitions[%d]: %w", i, err)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeType(typ),
		})
	}
	keys, _, err := property(ev, props, "KeySchema")
	if err != nil {
		return nil, err
	}
	if in.KeySchema, err = keySchema(keys); err != nil {
		return nil, fmt.Errorf("KeySchema: %w", err)
	}

	gsis, _, err := property(ev, props, "GlobalSecondaryIndexes")
	if err != nil {
		return nil, err
	}
	for i, g := range asList(gsis) {
		name, ks, proj, err := index(g)
		if err != nil {
			return nil, fmt.Errorf("GlobalSecondaryIndexes[%d]: %w", i, err)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(name), KeySchema: ks, Projection: proj,
		})
	}
	lsis, _, err := property(ev, props, "LocalSecondaryIndexes")
	if err != nil {
		return nil, err
	}
	for i, l := range asList(lsis) {
		name, ks, proj, err := index(l)
		if err != nil {
			return nil, fmt.Errorf("LocalSecondaryIndexes[%d]: %w", i, err)
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName: aws.String(name), KeySchema: ks, Projection: proj,
		})
	}

	view, err := stringProp(ev, props, "", "StreamSpecification", "StreamViewType")
	if err != nil {
		return nil, err
	}
	if view != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(view),
		}
	}

	ttlOn, err := boolProp(ev, props, false, "TimeToLiveSpecification", "Enabled")
	if err != nil {
		return nil, err
	}
	if ttlOn {
		if tb.TTLAttribute, err = stringProp(ev, props, "", "TimeToLiveSpecification", "AttributeName"); err != nil {
			return nil, err
		}
	}
	tb.Input = in
	return tb, nil
}

func keySchema(v any) ([]ddbtypes.KeySchemaElement, error) {
	var out []ddbtypes.KeySchemaElement
	for i, k := range asList(v) {
		m := mapOf(k)
		name, err1 := scalarString(m["AttributeName"])
		typ, err2 := scalarString(m["KeyType"])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: ddbtypes.KeyType(typ)})
	}
	if len(out) == 0 {
		return nil, errors.New("no keys")
	}
	return out, nil
}

func index(v any) (string, []ddbtypes.KeySchemaElement, *ddbtypes.Projection, error) {
	m := mapOf(v)
	name, err := scalarString(m["IndexName"])
	if err != nil {
		return "", nil, nil, fmt.Errorf("IndexName: %w", err)
	}
	ks, err := keySchema(m["KeySchema"])
	if err != nil {
		return "", nil, nil, fmt.Errorf("%s KeySchema: %w", name, err)
	}
	pm := mapOf(m["Projection"])
	proj := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}
	if t, ok := pm["ProjectionType"].(string); ok {
		proj.ProjectionType = ddbtypes.ProjectionType(t)
	}
	for _, a := range asList(pm["NonKeyAttributes"]) {
		if s, ok := a.(string); ok {
			proj.NonKeyAttributes = append(proj.NonKeyAttributes, s)
		}
	}
	return name, ks, proj, nil
}

// TableAPI is the part of the DynamoDB client CreateTables and DeleteTables use.
type TableAPI interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
}

var _ TableAPI = (*dynamodb.Client)(nil)

// CreateTables creates every table of the template, named prefix + logical id, with TTL enabled
// where the template enables it. Tables that already exist are left as they are (TTL is still
// switched on), so running it twice is harmless. It returns logical id → local name.
//
// The prefix given here wins over the template's TablePrefix option, so one parsed template can
// create several independent sets of tables.
func CreateTables(ctx context.Context, client TableAPI, t *Template, prefix string) (map[string]string, error) {
	names := map[string]string{}
	for _, tb := range t.Tables {
		in := *tb.Input
		name := prefix + tb.LogicalID
		in.TableName = aws.String(name)
		if err := createTable(ctx, client, &in); err != nil {
			return nil, fmt.Errorf("create table %s: %w", name, err)
		}
		if tb.TTLAttribute != "" {
			if err := enableTTL(ctx, client, name, tb.TTLAttribute); err != nil {
				return nil, fmt.Errorf("enable TTL on %s: %w", name, err)
			}
		}
		names[tb.LogicalID] = name
	}
	return names, nil
}

func createTable(ctx context.Context, client TableAPI, in *dynamodb.CreateTableInput) error {
	_, err := client.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return err
	}
	// DynamoDB Local makes tables ACTIVE at once; real DynamoDB does not, so wait either way.
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err != nil {
			return err
		}
		if out.Table.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still %s after a minute", out.Table.TableStatus)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func enableTTL(ctx context.Context, client TableAPI, name, attr string) error {
	d, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return err
	}
	if desc := d.TimeToLiveDescription; desc != nil && aws.ToString(desc.AttributeName) == attr &&
		(desc.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || desc.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	})
	// A concurrent CreateTables may have enabled it between the two calls.
	if err != nil && strings.Contains(err.Error(), "already enabled") {
		return nil
	}
	return err
}

// DeleteTables deletes the named tables, ignoring those already gone.
func DeleteTables(ctx context.Context, client TableAPI, names map[string]string) error {
	var errs []error
	for _, name := range names {
		_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var notFound *ddbtypes.ResourceNotFoundException
		if err != nil && !errors.As(err, &notFound) {
			errs = append(errs, fmt.Errorf("delete table %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// existingTables reports which of the template's tables exist already, by logical id.
func existingTables(ctx context.Context, client TableAPI, t *Template, prefix string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, tb := range t.Tables {
		_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(prefix + tb.LogicalID)})
		var notFound *ddbtypes.ResourceNotFoundException
		switch {
		case err == nil:
			out[tb.LogicalID] = true
		case !errors.As(err, &notFound):
			return nil, fmt.Errorf("describe table %s: %w", prefix+tb.LogicalID, err)
		}
	}
	return out, nil
}
