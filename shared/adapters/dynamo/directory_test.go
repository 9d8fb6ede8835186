package dynamo

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
)

// directoryTableInput is the DirectoryTable of template.yaml.
func directoryTableInput() *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
	}
}

// newTestDirectory returns a Directory on a fresh table, and the client behind it.
func newTestDirectory(tb testing.TB) (*Directory, *dynamodb.Client) {
	tb.Helper()
	client := newTestClient(tb)
	return NewDirectory(client, createTable(tb, client, directoryTableInput())), client
}

// mustImport imports files in order, failing the test on the first error.
func mustImport(tb testing.TB, d *Directory, files ...directory.File) {
	tb.Helper()
	for i, f := range files {
		if err := d.Import(context.Background(), f); err != nil {
			tb.Fatalf("import file %d: %v", i, err)
		}
	}
}

func testFacts() directory.File {
	return directory.File{Areas: []directory.Area{
		{ID: "slough", Name: "Slough", LocalAuthorities: []string{"Slough"}, Postcodes: []string{"SL1", "SL2", "SL3"}},
		{ID: "surrey", Name: "Surrey", LocalAuthorities: []string{"Surrey"}, Postcodes: []string{"GU1", "TW16", "KT10"}},
		{ID: "west-london", Name: "West London", LocalAuthorities: []string{"Ealing", "Hounslow"},
			Postcodes: []string{"W12", "W3", "TW16 5"}},
	}}
}

func testPeople() directory.File {
	return directory.File{
		Areas: []directory.Area{
			{ID: "slough", Lead: directory.Person{Name: "Alex Lead", Email: "lead.slough@example.org"}},
			{ID: "surrey", Lead: directory.Person{Name: "Pat Lead", Email: "lead.surrey@example.org"}},
		},
		Specialists: []directory.Specialist{
			{ID: "slough-1", AreaID: "slough", Name: "Sam Specialist", Email: "sam@example.org", Capacity: 20, Active: true},
			{ID: "slough-2", AreaID: "slough", Name: "Jo Specialist", Email: "jo@example.org", Capacity: 10, Active: false},
			{ID: "surrey-1", AreaID: "surrey", Name: "Kim Specialist", Email: "kim@example.org", Capacity: 20, Active: true},
		},
	}
}

func TestDirectoryImport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		files    []directory.File
		wantCode referral.Code // of the last import's error; "" for success
		want     directory.Prefixes
	}{
		{
			name:  "areas then people: people files leave prefixes alone",
			files: []directory.File{testFacts(), testPeople()},
			want:  testFacts().Prefixes(),
		},
		{
			name: "a prefix removed from an area is deleted",
			files: []directory.File{testFacts(), {Areas: []directory.Area{
				{ID: "slough", Name: "Slough", Postcodes: []string{"SL1", "SL3"}},
			}}},
			want: directory.Prefixes{"SL1": "slough", "SL3": "slough", "GU1": "surrey", "TW16": "surrey",
				"KT10": "surrey", "W12": "west-london", "W3": "west-london", "TW16 5": "west-london"},
		},
		{
			name: "a prefix moves between areas in one file",
			files: []directory.File{testFacts(), {Areas: []directory.Area{
				{ID: "slough", Name: "Slough", Postcodes: []string{"SL1", "SL2"}},
				{ID: "surrey", Name: "Surrey", Postcodes: []string{"GU1", "SL3"}},
			}}},
			want: directory.Prefixes{"SL1": "slough", "SL2": "slough", "SL3": "surrey", "GU1": "surrey",
				"W12": "west-london", "W3": "west-london", "TW16 5": "west-london"},
		},
		{
			name: "a prefix moves to an area imported on its own",
			files: []directory.File{testFacts(), {Areas: []directory.Area{
				{ID: "west-london", Name: "West London", Postcodes: []string{"W12", "W3", "TW16"}},
			}}},
			want: directory.Prefixes{"SL1": "slough", "SL2": "slough", "SL3": "slough", "GU1": "surrey",
				"KT10": "surrey", "TW16": "west-london", "W12": "west-london", "W3": "west-london"},
		},
		{
			name: "an empty postcode list removes every prefix of the area",
			files: []directory.File{testFacts(), {Areas: []directory.Area{
				{ID: "surrey", Name: "Surrey", Postcodes: []string{}},
			}}},
			want: directory.Prefixes{"SL1": "slough", "SL2": "slough", "SL3": "slough",
				"W12": "west-london", "W3": "west-london", "TW16 5": "west-london"},
		},
		{
			name:     "people for an area not in the table",
			files:    []directory.File{testPeople()},
			wantCode: referral.CodeNotFound,
			want:     directory.Prefixes{},
		},
		{
			name: "a specialist cannot move area",
			files: []directory.File{testFacts(), testPeople(), {
				Areas: []directory.Area{{ID: "surrey"}},
				Specialists: []directory.Specialist{
					{ID: "slough-1", AreaID: "surrey", Name: "Sam Specialist", Email: "sam@example.org", Capacity: 20, Active: true},
				},
			}},
			wantCode: referral.CodeConflict,
			want:     testFacts().Prefixes(),
		},
		{
			name: "an invalid file writes nothing",
			files: []directory.File{{Areas: []directory.Area{
				{ID: "slough", Name: "Slough", Postcodes: []string{"SL1"}},
				{ID: "Surrey", Name: "Surrey", Postcodes: []string{"GU1"}},
			}}},
			wantCode: referral.CodeInvalid,
			want:     directory.Prefixes{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			d, _ := newTestDirectory(t)
			last := len(tt.files) - 1
			mustImport(t, d, tt.files[:last]...)
			err := d.Import(ctx, tt.files[last])
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("Import() = %v", err)
			case tt.wantCode != "" && referral.ErrorCode(err) != tt.wantCode:
				t.Fatalf("Import() = %v, want code %s", err, tt.wantCode)
			}
			got, err := d.Prefixes(ctx)
			if err != nil {
				t.Fatalf("Prefixes() = %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("Prefixes() = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestDirectoryImportMerges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, _ := newTestDirectory(t)
	mustImport(t, d, testFacts(), testPeople())

	got, err := d.Area(ctx, "slough")
	if err != nil {
		t.Fatalf("Area() = %v", err)
	}
	want := directory.Area{ID: "slough", Name: "Slough", LocalAuthorities: []string{"Slough"},
		Lead: directory.Person{Name: "Alex Lead", Email: "lead.slough@example.org"}, Postcodes: []string{"SL1", "SL2", "SL3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Area() = %+v\nwant %+v", got, want)
	}

	specialists, err := d.Specialists(ctx, "slough")
	if err != nil {
		t.Fatalf("Specialists() = %v", err)
	}
	wantSpecialists := testPeople().Specialists[:2]
	if !reflect.DeepEqual(specialists, wantSpecialists) {
		t.Errorf("Specialists() = %+v\nwant %+v", specialists, wantSpecialists)
	}
}

func TestDirectoryImportKeepsCaseload(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, client := newTestDirectory(t)
	mustImport(t, d, testFacts(), testPeople())
	setCaseload(t, client, d.table, "slough", "slough-1", 7)

	people := testPeople()
	people.Specialists[0].Name = "Sam Smith"
	people.Specialists[0].Capacity = 15
	people.Specialists[0].Active = false
	mustImport(t, d, people)

	got, err := d.FindSpecialist(ctx, "slough-1")
	if err != nil {
		t.Fatalf("FindSpecialist() = %v", err)
	}
	want := directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Smith", Email: "sam@example.org",
		Capacity: 15, Caseload: 7, Active: false}
	if got != want {
		t.Errorf("after re-import: %+v\nwant %+v", got, want)
	}
}

// setCaseload stands in for the routing transaction that keeps caseloads.
func setCaseload(tb testing.TB, client *dynamodb.Client, table, areaID, specialistID string, n int) {
	tb.Helper()
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("caseload"), expression.Value(n))).Build()
	if err != nil {
		tb.Fatal(err)
	}
	_, err = client.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       directoryKey(areaPK(areaID), specialistSK(specialistID)),
		UpdateExpression:          expr.Update(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		tb.Fatalf("set caseload: %v", err)
	}
}

func TestDirectoryAreas(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, _ := newTestDirectory(t)
	mustImport(t, d, testFacts(), testPeople())

	got, err := d.Areas(ctx)
	if err != nil {
		t.Fatalf("Areas() = %v", err)
	}
	want := []directory.Area{
		{ID: "slough", Name: "Slough", LocalAuthorities: []string{"Slough"},
			Lead: directory.Person{Name: "Alex Lead", Email: "lead.slough@example.org"}, Postcodes: []string{"SL1", "SL2", "SL3"}},
		{ID: "surrey", Name: "Surrey", LocalAuthorities: []string{"Surrey"},
			Lead: directory.Person{Name: "Pat Lead", Email: "lead.surrey@example.org"}, Postcodes: []string{"GU1", "KT10", "TW16"}},
		{ID: "west-london", Name: "West London", LocalAuthorities: []string{"Ealing", "Hounslow"},
			Postcodes: []string{"TW16 5", "W3", "W12"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Areas() =\n%+v\nwant\n%+v", got, want)
	}

	_, err = d.Area(ctx, "norfolk")
	if code := referral.ErrorCode(err); code != referral.CodeNotFound {
		t.Errorf("Area(unknown) = %v, want code %s", err, referral.CodeNotFound)
	}
}

func TestDirectorySpecialistChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		change   func(ctx context.Context, d *Directory) error
		wantCode referral.Code        // "" for success
		id       string               // the specialist to read back afterwards
		want     directory.Specialist // zero: must not exist
	}{
		{
			name:   "raise capacity",
			change: func(ctx context.Context, d *Directory) error { return d.SetCapacity(ctx, "slough", "slough-1", 25) },
			id:     "slough-1",
			want: directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Specialist", Email: "sam@example.org",
				Capacity: 25, Caseload: 3, Active: true},
		},
		{
			name:     "negative capacity",
			change:   func(ctx context.Context, d *Directory) error { return d.SetCapacity(ctx, "slough", "slough-1", -1) },
			wantCode: referral.CodeInvalid,
			id:       "slough-1",
			want: directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Specialist", Email: "sam@example.org",
				Capacity: 20, Caseload: 3, Active: true},
		},
		{
			name:     "capacity of an unknown specialist creates nothing",
			change:   func(ctx context.Context, d *Directory) error { return d.SetCapacity(ctx, "slough", "ghost", 5) },
			wantCode: referral.CodeNotFound,
			id:       "ghost",
		},
		{
			name:     "capacity of a specialist in another area",
			change:   func(ctx context.Context, d *Directory) error { return d.SetCapacity(ctx, "surrey", "slough-1", 5) },
			wantCode: referral.CodeNotFound,
			id:       "slough-1",
			want: directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Specialist", Email: "sam@example.org",
				Capacity: 20, Caseload: 3, Active: true},
		},
		{
			name:   "deactivate",
			change: func(ctx context.Context, d *Directory) error { return d.SetActive(ctx, "slough", "slough-1", false) },
			id:     "slough-1",
			want: directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Specialist", Email: "sam@example.org",
				Capacity: 20, Caseload: 3, Active: false},
		},
		{
			name:   "activate",
			change: func(ctx context.Context, d *Directory) error { return d.SetActive(ctx, "slough", "slough-2", true) },
			id:     "slough-2",
			want: directory.Specialist{ID: "slough-2", AreaID: "slough", Name: "Jo Specialist", Email: "jo@example.org",
				Capacity: 10, Active: true},
		},
		{
			name:     "activate an unknown specialist creates nothing",
			change:   func(ctx context.Context, d *Directory) error { return d.SetActive(ctx, "slough", "ghost", true) },
			wantCode: referral.CodeNotFound,
			id:       "ghost",
		},
		{
			name: "add a specialist",
			change: func(ctx context.Context, d *Directory) error {
				return d.PutSpecialist(ctx, directory.Specialist{ID: "surrey-2", AreaID: "surrey", Name: "Lee Specialist",
					Email: "lee@example.org", Capacity: 20, Active: true})
			},
			id: "surrey-2",
			want: directory.Specialist{ID: "surrey-2", AreaID: "surrey", Name: "Lee Specialist", Email: "lee@example.org",
				Capacity: 20, Active: true},
		},
		{
			name: "update a specialist keeps the caseload",
			change: func(ctx context.Context, d *Directory) error {
				return d.PutSpecialist(ctx, directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Smith",
					Email: "sam.smith@example.org", Capacity: 12, Active: true})
			},
			id: "slough-1",
			want: directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Smith", Email: "sam.smith@example.org",
				Capacity: 12, Caseload: 3, Active: true},
		},
		{
			name: "add to an unknown area",
			change: func(ctx context.Context, d *Directory) error {
				return d.PutSpecialist(ctx, directory.Specialist{ID: "norfolk-1", AreaID: "norfolk", Name: "Lee Specialist",
					Email: "lee@example.org", Capacity: 20, Active: true})
			},
			wantCode: referral.CodeNotFound,
			id:       "norfolk-1",
		},
		{
			name: "move a specialist to another area",
			change: func(ctx context.Context, d *Directory) error {
				return d.PutSpecialist(ctx, directory.Specialist{ID: "slough-1", AreaID: "surrey", Name: "Sam Specialist",
					Email: "sam@example.org", Capacity: 20, Active: true})
			},
			wantCode: referral.CodeConflict,
			id:       "slough-1",
			want: directory.Specialist{ID: "slough-1", AreaID: "slough", Name: "Sam Specialist", Email: "sam@example.org",
				Capacity: 20, Caseload: 3, Active: true},
		},
		{
			name: "add an invalid specialist",
			change: func(ctx context.Context, d *Directory) error {
				return d.PutSpecialist(ctx, directory.Specialist{ID: "surrey-3", AreaID: "surrey", Name: "Lee Specialist",
					Email: "not an address", Capacity: 20, Active: true})
			},
			wantCode: referral.CodeInvalid,
			id:       "surrey-3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			d, client := newTestDirectory(t)
			mustImport(t, d, testFacts(), testPeople())
			setCaseload(t, client, d.table, "slough", "slough-1", 3)

			err := tt.change(ctx, d)
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("change = %v", err)
			case tt.wantCode != "" && referral.ErrorCode(err) != tt.wantCode:
				t.Fatalf("change = %v, want code %s", err, tt.wantCode)
			}

			got, err := d.FindSpecialist(ctx, tt.id)
			if tt.want == (directory.Specialist{}) {
				if referral.ErrorCode(err) != referral.CodeNotFound {
					t.Errorf("FindSpecialist(%q) = %+v, %v; want not found", tt.id, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindSpecialist(%q) = %v", tt.id, err)
			}
			if got != tt.want {
				t.Errorf("FindSpecialist(%q) = %+v\nwant %+v", tt.id, got, tt.want)
			}
		})
	}
}

func TestDirectorySpecialistsByArea(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d, _ := newTestDirectory(t)
	mustImport(t, d, testFacts(), testPeople())
	tests := []struct {
		area string
		want []string
	}{
		{"slough", []string{"slough-1", "slough-2"}},
		{"surrey", []string{"surrey-1"}},
		{"west-london", nil},
		{"norfolk", nil},
	}
	for _, tt := range tests {
		specialists, err := d.Specialists(ctx, tt.area)
		if err != nil {
			t.Fatalf("Specialists(%q) = %v", tt.area, err)
		}
		var got []string
		for _, s := range specialists {
			if s.AreaID != tt.area {
				t.Errorf("Specialists(%q) returned %+v", tt.area, s)
			}
			got = append(got, s.ID)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Specialists(%q) = %v, want %v", tt.area, got, tt.want)
		}
	}
}

// pagedQuery is a DirectoryAPI whose Query answers from pages, one per call, following
// ExclusiveStartKey; the other methods are not used.
type pagedQuery struct {
	DirectoryAPI
	pages [][]directoryPrefixItem
	calls int
}

func (p *pagedQuery) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if (p.calls == 0) != (in.ExclusiveStartKey == nil) {
		return nil, errors.New("ExclusiveStartKey not passed on")
	}
	page := p.pages[p.calls]
	p.calls++
	items, err := attributevalue.MarshalList(page)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.QueryOutput{}
	for _, it := range items {
		out.Items = append(out.Items, it.(*types.AttributeValueMemberM).Value)
	}
	if p.calls < len(p.pages) {
		out.LastEvaluatedKey = directoryKey(prefixesPK, page[len(page)-1].SK)
	}
	return out, nil
}

func TestDirectoryPrefixesReadsEveryPage(t *testing.T) {
	t.Parallel()
	client := &pagedQuery{pages: [][]directoryPrefixItem{
		{{PK: prefixesPK, SK: "S1", AreaID: "south-yorkshire"}, {PK: prefixesPK, SK: "S35 0", AreaID: "derbyshire"}},
		{{PK: prefixesPK, SK: "W12", AreaID: "west-london"}},
	}}
	got, err := NewDirectory(client, "directory").Prefixes(t.Context())
	if err != nil {
		t.Fatalf("Prefixes() = %v", err)
	}
	want := directory.Prefixes{"S1": "south-yorkshire", "S35 0": "derbyshire", "W12": "west-london"}
	if !maps.Equal(got, want) || client.calls != 2 {
		t.Errorf("Prefixes() = %v after %d calls, want %v after 2", got, client.calls, want)
	}
}
