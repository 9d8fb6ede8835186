package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
)

// DirectoryAPI is the part of the DynamoDB client the directory uses.
type DirectoryAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ DirectoryAPI = (*dynamodb.Client)(nil)

// Directory keeps the directory (areas, postcode prefixes, specialists and their caseloads) in the
// DirectoryTable, laid out as keys.go describes.
type Directory struct {
	client DirectoryAPI
	table  string
}

// NewDirectory returns the directory kept in table.
func NewDirectory(client DirectoryAPI, table string) *Directory {
	return &Directory{client: client, table: table}
}

// Item shapes, for reading. Writes are UpdateItem expressions so that they never touch what they do
// not own (a specialist's live caseload above all).
type directoryAreaItem struct {
	AreaID           string   `json:"areaId"`
	Name             string   `json:"name"`
	LocalAuthorities []string `json:"localAuthorities"`
	LeadName         string   `json:"leadName"`
	LeadEmail        string   `json:"leadEmail"`
}

type directorySpecialistItem struct {
	SpecialistID string `json:"specialistId"`
	AreaID       string `json:"areaId"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	Capacity     int    `json:"capacity"`
	Caseload     int    `json:"caseload"`
	Active       bool   `json:"active"`
}

func (it directorySpecialistItem) specialist() directory.Specialist {
	return directory.Specialist{ID: it.SpecialistID, AreaID: it.AreaID, Name: it.Name, Email: it.Email,
		Capacity: it.Capacity, Caseload: it.Caseload, Active: it.Active}
}

type directoryPrefixItem struct {
	PK     string `json:"pk"`
	SK     string `json:"sk"`
	AreaID string `json:"areaId"`
}

// Import upserts the file's areas, prefixes and specialists.
//
// Each area entry is a partial update (see directory.Area): an entry without a name only updates
// an area already in the table, or fails with a not-found error. When an entry lists postcodes,
// they become the area's complete set: its other prefixes are deleted, and a prefix listed for it
// moves to it from any other area. Specialists get name, e-mail, capacity and active from the
// file; their caseload is kept (0 for a new one). A specialist cannot move to another area.
//
// Import is idempotent: after a failure part-way, run it again.
func (d *Directory) Import(ctx context.Context, f directory.File) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("import directory: %w", &referral.Error{Code: referral.CodeInvalid, Message: err.Error()})
	}
	stored, err := d.Prefixes(ctx)
	if err != nil {
		return fmt.Errorf("import directory: %w", err)
	}
	homes, err := d.specialistAreas(ctx)
	if err != nil {
		return fmt.Errorf("import directory: %w", err)
	}
	for _, s := range f.Specialists {
		if home, ok := homes[s.ID]; ok && home != s.AreaID {
			return fmt.Errorf("import directory: %w", movedSpecialist(s, home))
		}
	}

	for _, a := range f.Areas {
		if err := d.updateArea(ctx, a); err != nil {
			return fmt.Errorf("import directory: %w", err)
		}
	}

	want := f.Prefixes()
	owning := map[string]bool{} // areas whose entry lists their complete set of postcodes
	for _, a := range f.Areas {
		if a.Postcodes != nil {
			owning[a.ID] = true
		}
	}
	var writes []types.WriteRequest
	for _, prefix := range slices.Sorted(maps.Keys(want)) {
		if stored[prefix] == want[prefix] {
			continue
		}
		item, err := marshalMap(directoryPrefixItem{PK: prefixesPK, SK: prefix, AreaID: want[prefix]})
		if err != nil {
			return fmt.Errorf("import directory: marshal prefix %s: %w", prefix, err)
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for _, prefix := range slices.Sorted(maps.Keys(stored)) {
		if _, kept := want[prefix]; !kept && owning[stored[prefix]] {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: directoryKey(prefixesPK, prefix)}})
		}
	}
	if err := d.batchWrite(ctx, writes); err != nil {
		return fmt.Errorf("import directory: prefixes: %w", err)
	}

	for _, s := range f.Specialists {
		if err := d.upsertSpecialist(ctx, s); err != nil {
			return fmt.Errorf("import directory: %w", err)
		}
		// Freed capacity drains the waitlist: the directory command runs referral.Waitlist after this.
	}
	return nil
}

// updateArea applies one area entry: the fields it gives, and nothing else.
func (d *Directory) updateArea(ctx context.Context, a directory.Area) error {
	update := expression.Set(expression.Name("areaId"), expression.Value(a.ID))
	if a.Name != "" {
		update = update.Set(expression.Name("name"), expression.Value(a.Name))
	}
	if a.LocalAuthorities != nil {
		update = update.Set(expression.Name("localAuthorities"), expression.Value(a.LocalAuthorities))
	}
	if a.Lead != (directory.Person{}) {
		update = update.
			Set(expression.Name("leadName"), expression.Value(a.Lead.Name)).
			Set(expression.Name("leadEmail"), expression.Value(a.Lead.Email))
	}
	var cond *expression.ConditionBuilder
	if a.Name == "" {
		// An entry without a name refers to an area defined elsewhere (the areas file).
		exists := expression.AttributeExists(expression.Name(attrPK))
		cond = &exists
	}
	err := d.update(ctx, directoryKey(areaPK(a.ID), areaSK), update, cond)
	if directoryConditionFailed(err) {
		return &referral.Error{Code: referral.CodeNotFound,
			Message: fmt.Sprintf("area %q is not in the directory: import its areas file first", a.ID)}
	}
	if err != nil {
		return fmt.Errorf("update area %s: %w", a.ID, err)
	}
	return nil
}

// upsertSpecialist sets a specialist's name, e-mail, capacity and active flag, keeping its caseload
// (0 when new).
func (d *Directory) upsertSpecialist(ctx context.Context, s directory.Specialist) error {
	update := expression.
		Set(expression.Name("specialistId"), expression.Value(s.ID)).
		Set(expression.Name("areaId"), expression.Value(s.AreaID)).
		Set(expression.Name("name"), expression.Value(s.Name)).
		Set(expression.Name("email"), expression.Value(s.Email)).
		Set(expression.Name("capacity"), expression.Value(s.Capacity)).
		Set(expression.Name("active"), expression.Value(s.Active)).
		Set(expression.Name("caseload"), expression.IfNotExists(expression.Name("caseload"), expression.Value(0)))
	if err := d.update(ctx, directoryKey(areaPK(s.AreaID), specialistSK(s.ID)), update, nil); err != nil {
		return fmt.Errorf("update specialist %s: %w", s.ID, err)
	}
	return nil
}

// Prefixes returns every postcode prefix and its area: one (paginated) Query.
func (d *Directory) Prefixes(ctx context.Context) (directory.Prefixes, error) {
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(prefixesPK))).
		Build()
	if err != nil {
		return nil, fmt.Errorf("load prefixes: %w", err)
	}
	pages := dynamodb.NewQueryPaginator(d.client, &dynamodb.QueryInput{
		TableName:                 aws.String(d.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	prefixes := directory.Prefixes{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("load prefixes: %w", err)
		}
		var items []directoryPrefixItem
		if err := unmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, fmt.Errorf("load prefixes: %w", err)
		}
		for _, it := range items {
			prefixes[it.SK] = it.AreaID
		}
	}
	return prefixes, nil
}

// Area returns one area with its postcodes, or a not-found error.
func (d *Directory) Area(ctx context.Context, id string) (directory.Area, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            directoryKey(areaPK(id), areaSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return directory.Area{}, fmt.Errorf("get area %s: %w", id, err)
	}
	if out.Item == nil {
		return directory.Area{}, &referral.Error{Code: referral.CodeNotFound, Message: fmt.Sprintf("no area %q in the directory", id)}
	}
	var it directoryAreaItem
	if err := unmarshalMap(out.Item, &it); err != nil {
		return directory.Area{}, fmt.Errorf("get area %s: %w", id, err)
	}
	prefixes, err := d.Prefixes(ctx)
	if err != nil {
		return directory.Area{}, fmt.Errorf("get area %s: %w", id, err)
	}
	return it.area(prefixes), nil
}

// Areas returns every area with its postcodes, by id.
func (d *Directory) Areas(ctx context.Context) ([]directory.Area, error) {
	var items []directoryAreaItem
	if err := d.scan(ctx, expression.Name(attrSK).Equal(expression.Value(areaSK)), &items); err != nil {
		return nil, fmt.Errorf("list areas: %w", err)
	}
	prefixes, err := d.Prefixes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list areas: %w", err)
	}
	areas := make([]directory.Area, len(items))
	for i, it := range items {
		areas[i] = it.area(prefixes)
	}
	slices.SortFunc(areas, func(a, b directory.Area) int { return strings.Compare(a.ID, b.ID) })
	return areas, nil
}

func (it directoryAreaItem) area(prefixes directory.Prefixes) directory.Area {
	a := directory.Area{ID: it.AreaID, Name: it.Name, LocalAuthorities: it.LocalAuthorities,
		Lead: directory.Person{Name: it.LeadName, Email: it.LeadEmail}}
	for prefix, areaID := range prefixes {
		if areaID == it.AreaID {
			a.Postcodes = append(a.Postcodes, prefix)
		}
	}
	slices.SortFunc(a.Postcodes, comparePrefixes)
	return a
}

// comparePrefixes orders prefixes as people read them: S1, S2, S10, S10 1, W1, W1A, W12.
func comparePrefixes(a, b string) int {
	ka, kb := prefixSortKey(a), prefixSortKey(b)
	return cmp.Or(cmp.Compare(ka.area, kb.area), cmp.Compare(ka.number, kb.number), cmp.Compare(ka.rest, kb.rest))
}

type prefixKey struct {
	area   string
	number int
	rest   string
}

func prefixSortKey(p string) prefixKey {
	i := strings.IndexFunc(p, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return prefixKey{area: p}
	}
	j := i
	for j < len(p) && p[j] >= '0' && p[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(p[i:j])
	return prefixKey{area: p[:i], number: n, rest: p[j:]}
}

// Specialists returns an area's specialists with their live caseloads: one strongly consistent
// Query.
func (d *Directory) Specialists(ctx context.Context, areaID string) ([]directory.Specialist, error) {
	var items []directorySpecialistItem
	if err := querySpecialists(ctx, d.client, d.table, areaID, &items); err != nil {
		return nil, err
	}
	var specialists []directory.Specialist
	for _, it := range items {
		specialists = append(specialists, it.specialist())
	}
	return specialists, nil
}

// querySpecialists reads the specialist items of an area (strongly consistent, every page) into
// out, a pointer to a slice of an item shape.
func querySpecialists(ctx context.Context, client dynamodb.QueryAPIClient, table, areaID string, out any) error {
	expr, err := expression.NewBuilder().
		WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(areaPK(areaID))).
			And(expression.KeyBeginsWith(expression.Key(attrSK), specialistPrefix))).
		Build()
	if err != nil {
		return fmt.Errorf("list specialists of %s: %w", areaID, err)
	}
	pages := dynamodb.NewQueryPaginator(client, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	var items []map[string]types.AttributeValue
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list specialists of %s: %w", areaID, err)
		}
		items = append(items, page.Items...)
	}
	if err := unmarshalListOfMaps(items, out); err != nil {
		return fmt.Errorf("list specialists of %s: %w", areaID, err)
	}
	return nil
}

// PutSpecialist adds a specialist to an existing area, or updates one's name, e-mail, capacity and
// active flag, keeping its caseload.
func (d *Directory) PutSpecialist(ctx context.Context, s directory.Specialist) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("put specialist %s: %w", s.ID, &referral.Error{Code: referral.CodeInvalid, Message: err.Error()})
	}
	exists, err := d.areaExists(ctx, s.AreaID)
	if err != nil {
		return fmt.Errorf("put specialist %s: %w", s.ID, err)
	}
	if !exists {
		return &referral.Error{Code: referral.CodeNotFound, Message: fmt.Sprintf("no area %q in the directory", s.AreaID)}
	}
	current, err := d.FindSpecialist(ctx, s.ID)
	switch {
	case err == nil && current.AreaID != s.AreaID:
		return movedSpecialist(s, current.AreaID)
	case err != nil && referral.ErrorCode(err) != referral.CodeNotFound:
		return fmt.Errorf("put specialist %s: %w", s.ID, err)
	}
	if err := d.upsertSpecialist(ctx, s); err != nil {
		return err
	}
	// Freed capacity drains the waitlist: the directory command runs referral.Waitlist after this.
	return nil
}

// SetCapacity sets a specialist's capacity (its caseload limit), or returns a not-found error.
func (d *Directory) SetCapacity(ctx context.Context, areaID, specialistID string, n int) error {
	if n < 0 {
		return &referral.Error{Code: referral.CodeInvalid, Message: fmt.Sprintf("capacity %d is negative", n)}
	}
	update := expression.Set(expression.Name("capacity"), expression.Value(n))
	if err := d.updateSpecialist(ctx, areaID, specialistID, update); err != nil {
		return fmt.Errorf("set capacity of %s: %w", specialistID, err)
	}
	// Freed capacity drains the waitlist: the directory command runs referral.Waitlist after this.
	return nil
}

// SetActive activates or deactivates a specialist, or returns a not-found error. An inactive
// specialist keeps their caseload but is given no new referrals.
func (d *Directory) SetActive(ctx context.Context, areaID, specialistID string, active bool) error {
	update := expression.Set(expression.Name("active"), expression.Value(active))
	if err := d.updateSpecialist(ctx, areaID, specialistID, update); err != nil {
		return fmt.Errorf("set active of %s: %w", specialistID, err)
	}
	// Freed capacity drains the waitlist: the directory command runs referral.Waitlist after this.
	return nil
}

// updateSpecialist applies update to an existing specialist only.
func (d *Directory) updateSpecialist(ctx context.Context, areaID, specialistID string, update expression.UpdateBuilder) error {
	exists := expression.AttributeExists(expression.Name(attrPK))
	err := d.update(ctx, directoryKey(areaPK(areaID), specialistSK(specialistID)), update, &exists)
	if directoryConditionFailed(err) {
		return &referral.Error{Code: referral.CodeNotFound,
			Message: fmt.Sprintf("no specialist %q in area %q", specialistID, areaID)}
	}
	return err
}

// FindSpecialist finds a specialist by id in any area. It scans the table: for admin use only.
func (d *Directory) FindSpecialist(ctx context.Context, specialistID string) (directory.Specialist, error) {
	var items []directorySpecialistItem
	if err := d.scan(ctx, expression.Name(attrSK).Equal(expression.Value(specialistSK(specialistID))), &items); err != nil {
		return directory.Specialist{}, fmt.Errorf("find specialist %s: %w", specialistID, err)
	}
	if len(items) == 0 {
		return directory.Specialist{}, &referral.Error{Code: referral.CodeNotFound,
			Message: fmt.Sprintf("no specialist %q in the directory", specialistID)}
	}
	return items[0].specialist(), nil
}

// specialistAreas returns the area of every specialist in the table.
func (d *Directory) specialistAreas(ctx context.Context) (map[string]string, error) {
	var items []directorySpecialistItem
	if err := d.scan(ctx, expression.Name(attrSK).BeginsWith(specialistPrefix), &items); err != nil {
		return nil, fmt.Errorf("list specialists: %w", err)
	}
	homes := make(map[string]string, len(items))
	for _, it := range items {
		homes[it.SpecialistID] = it.AreaID
	}
	return homes, nil
}

func movedSpecialist(s directory.Specialist, home string) error {
	return &referral.Error{Code: referral.CodeConflict, Message: fmt.Sprintf(
		"specialist %q is in area %q, not %q: a specialist cannot move area (their caseload belongs to it); add them under a new id",
		s.ID, home, s.AreaID)}
}

func (d *Directory) areaExists(ctx context.Context, areaID string) (bool, error) {
	expr, err := expression.NewBuilder().WithProjection(expression.NamesList(expression.Name(attrPK))).Build()
	if err != nil {
		return false, err
	}
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(d.table),
		Key:                      directoryKey(areaPK(areaID), areaSK),
		ProjectionExpression:     expr.Projection(),
		ExpressionAttributeNames: expr.Names(),
		ConsistentRead:           aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("get area %s: %w", areaID, err)
	}
	return out.Item != nil, nil
}

// scan reads every item matching filter into out (a pointer to a slice). The directory table is
// small; scans are for listing and admin only.
func (d *Directory) scan(ctx context.Context, filter expression.ConditionBuilder, out any) error {
	return scanItems(ctx, d.client, d.table, filter, out)
}

// scanItems reads every item of table matching filter into out (a pointer to a slice), consistently.
func scanItems(ctx context.Context, client dynamodb.ScanAPIClient, table string, filter expression.ConditionBuilder, out any) error {
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		return err
	}
	pages := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	var items []map[string]types.AttributeValue
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		items = append(items, page.Items...)
	}
	return unmarshalListOfMaps(items, out)
}

// update runs one UpdateItem built from update and, if given, cond.
func (d *Directory) update(ctx context.Context, key map[string]types.AttributeValue, update expression.UpdateBuilder, cond *expression.ConditionBuilder) error {
	b := expression.NewBuilder().WithUpdate(update)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	expr, err := b.Build()
	if err != nil {
		return err
	}
	_, err = d.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       key,
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	return err
}

const (
	batchWriteSize     = 25 // DynamoDB's limit per BatchWriteItem
	batchWriteAttempts = 8
)

// batchWrite writes reqs in batches, retrying unprocessed items with backoff.
func (d *Directory) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	return batchWrite(ctx, d.client, d.table, reqs)
}

func directoryKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func directoryConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
