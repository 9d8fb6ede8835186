package directory

import (
	"reflect"
	"strings"
	"testing"
)

func TestAreaFor(t *testing.T) {
	t.Parallel()
	prefixes := File{Areas: []Area{
		{ID: "south-yorkshire", Name: "South Yorkshire", Postcodes: []string{"S35", "S1"}},
		{ID: "derbyshire", Name: "Derbyshire", Postcodes: []string{"S32", "S35 9"}},
		{ID: "west-london", Name: "West London", Postcodes: []string{"W12", "W1A"}},
		{ID: "central", Name: "Central", Postcodes: []string{"W1", "CH4 8"}},
	}}.Prefixes()

	tests := []struct {
		name     string
		postcode string
		want     string // "" for out of area
	}{
		{"district", "S35 0AB", "south-yorkshire"},
		{"sector override beats its district", "S35 9ZZ", "derbyshire"},
		{"other sectors of the overridden district keep the district's area", "S35 8AA", "south-yorkshire"},
		{"sector in a district that is otherwise in no area", "CH4 8AB", "central"},
		{"other sectors of that district are out of area", "CH4 7AB", ""},
		{"out of area", "NE1 4ST", ""},
		{"W1 is not a string prefix of W12", "W12 7RJ", "west-london"},
		{"W1 matches W1", "W1 1AA", "central"},
		{"W1A is its own district", "W1A 1AA", "west-london"},
		{"S1 does not catch S10", "S10 2TN", ""},
		{"lower case and no space are forgiven", "s350ab", "south-yorkshire"},
		{"extra spaces are forgiven", "  S35   9ZZ ", "derbyshire"},
		{"outward code alone matches its district", "S35", "south-yorkshire"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := prefixes.AreaFor(tt.postcode)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("AreaFor(%q) = %q, %v; want %q, %v", tt.postcode, got, ok, tt.want, tt.want != "")
			}
		})
	}
}

func TestNormalizePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" for an error
	}{
		{"S35", "S35"},
		{" s35 ", "S35"},
		{"s35  0", "S35 0"},
		{"W1A", "W1A"},
		{"EC1A 1", "EC1A 1"},
		{"E1W", "E1W"},
		{"S35 0A", ""},
		{"S35 A", ""},
		{"S350", ""},
		{"35", ""},
		{"SSS1", ""},
		{"S35 0AB", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := NormalizePrefix(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizePrefix(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePrefix(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// validFile returns a small valid file; each Validate case breaks one thing in it.
func validFile() File {
	return File{
		Areas: []Area{
			{ID: "south-yorkshire", Name: "South Yorkshire", LocalAuthorities: []string{"Sheffield"},
				Lead: Person{Name: "Alex Lead", Email: "lead.south-yorkshire@example.org"}, Postcodes: []string{"S1", "S35", "S35 0"}},
			{ID: "newham", Name: "Newham", Postcodes: []string{"E6"}},
		},
		Specialists: []Specialist{
			{ID: "sy-1", AreaID: "south-yorkshire", Name: "Sam Specialist", Email: "sam@example.org", Capacity: 20, Active: true},
			{ID: "nh-1", AreaID: "newham", Name: "Jo Specialist", Email: "jo@example.org", Capacity: 0},
		},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(f *File)
		want   []string // substrings of the error; none for a valid file
	}{
		{"valid", func(f *File) {}, nil},
		{"people only: an area with just an id and a lead", func(f *File) {
			f.Areas[1] = Area{ID: "newham", Lead: Person{Name: "Pat Lead", Email: "pat@example.org"}}
		}, nil},
		{"duplicate prefix across areas", func(f *File) {
			f.Areas[1].Postcodes = append(f.Areas[1].Postcodes, "S35")
		}, []string{`area "newham"`, `postcodes[1]`, `"S35" is already in area "south-yorkshire"`}},
		{"duplicate prefix across areas, written differently", func(f *File) {
			f.Areas[1].Postcodes = append(f.Areas[1].Postcodes, "s35  0")
		}, []string{`area "newham"`, `"S35 0" is already in area "south-yorkshire"`}},
		{"prefix twice in one area", func(f *File) {
			f.Areas[0].Postcodes = append(f.Areas[0].Postcodes, "S1")
		}, []string{`area "south-yorkshire"`, `"S1" is listed twice`}},
		{"bad prefix", func(f *File) {
			f.Areas[0].Postcodes[1] = "S35 0AB"
		}, []string{`area "south-yorkshire": postcodes[1]`, "not a postcode district"}},
		{"bad area slug", func(f *File) {
			f.Areas[0].ID = "South Yorkshire"
			f.Specialists[0].AreaID = "South Yorkshire"
		}, []string{`area "South Yorkshire": id`, "not a lower-case slug"}},
		{"missing area id", func(f *File) {
			f.Areas[1].ID = ""
			f.Specialists = f.Specialists[:1]
		}, []string{"areas[1]: id: required"}},
		{"duplicate area id", func(f *File) {
			f.Areas[1].ID = "south-yorkshire"
			f.Areas[1].Postcodes = nil
			f.Specialists = f.Specialists[:1]
		}, []string{`area "south-yorkshire": id: listed more than once`}},
		{"postcodes without a name", func(f *File) {
			f.Areas[1].Name = ""
		}, []string{`area "newham": name: required when postcodes`}},
		{"lead without email", func(f *File) {
			f.Areas[0].Lead.Email = ""
		}, []string{`area "south-yorkshire": lead.email: required`}},
		{"lead with a bad email", func(f *File) {
			f.Areas[0].Lead.Email = "Alex <alex@example.org>"
		}, []string{`area "south-yorkshire": lead.email`, "not an e-mail address"}},
		{"lead without name", func(f *File) {
			f.Areas[0].Lead.Name = ""
		}, []string{`area "south-yorkshire": lead.name: required`}},
		{"control character in a name", func(f *File) {
			f.Areas[0].Name = "South\nYorkshire"
		}, []string{`area "south-yorkshire": name: contains a control character`}},
		{"unknown area for a specialist", func(f *File) {
			f.Specialists[0].AreaID = "yorkshire"
		}, []string{`specialist "sy-1": areaId: no area "yorkshire" in the file`}},
		{"duplicate specialist id", func(f *File) {
			f.Specialists[1].ID = "sy-1"
		}, []string{`specialist "sy-1": id: listed more than once`}},
		{"bad specialist slug", func(f *File) {
			f.Specialists[0].ID = "sy_1"
		}, []string{`specialist "sy_1": id:`, "not a lower-case slug"}},
		{"negative capacity", func(f *File) {
			f.Specialists[0].Capacity = -1
		}, []string{`specialist "sy-1": capacity: -1 is negative`}},
		{"specialist email without a dot in the domain", func(f *File) {
			f.Specialists[0].Email = "sam@localhost"
		}, []string{`specialist "sy-1": email:`, "not an e-mail address"}},
		{"specialist without name", func(f *File) {
			f.Specialists[1].Name = ""
		}, []string{`specialist "nh-1": name: required`}},
		{"caseload in a file", func(f *File) {
			f.Specialists[0].Caseload = 3
		}, []string{`specialist "sy-1": caseload: kept by the service`}},
		{"every problem is reported", func(f *File) {
			f.Areas[0].Lead.Email = "nope"
			f.Specialists[1].Capacity = -5
		}, []string{`area "south-yorkshire": lead.email`, `specialist "nh-1": capacity`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := validFile()
			tt.change(&f)
			err := f.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		want    File
		wantErr string
	}{
		{
			name: "defaults and normalisation",
			json: `{"areas":[{"id":"slough","name":"Slough","postcodes":["sl1"," sl2  3 "]}],
				"specialists":[{"id":"sl-1","areaId":"slough","name":"Sam","email":"sam@example.org"},
				{"id":"sl-2","areaId":"slough","name":"Jo","email":"jo@example.org","capacity":0,"active":false}]}`,
			want: File{
				Areas: []Area{{ID: "slough", Name: "Slough", Postcodes: []string{"SL1", "SL2 3"}}},
				Specialists: []Specialist{
					{ID: "sl-1", AreaID: "slough", Name: "Sam", Email: "sam@example.org", Capacity: DefaultCapacity, Active: true},
					{ID: "sl-2", AreaID: "slough", Name: "Jo", Email: "jo@example.org", Capacity: 0, Active: false},
				},
			},
		},
		{
			name:    "unknown field in an area",
			json:    `{"areas":[{"id":"slough","nmae":"Slough"}]}`,
			wantErr: `unknown field "nmae"`,
		},
		{
			name:    "unknown field in a specialist",
			json:    `{"areas":[{"id":"slough"}],"specialists":[{"id":"sl-1","areaId":"slough","name":"S","email":"s@example.org","capcity":3}]}`,
			wantErr: `unknown field "capcity"`,
		},
		{
			name:    "unknown top-level field",
			json:    `{"area":[]}`,
			wantErr: `unknown field "area"`,
		},
		{
			name:    "trailing data",
			json:    `{"areas":[]} {"areas":[]}`,
			wantErr: "unexpected data",
		},
		{
			name:    "invalid",
			json:    `{"areas":[{"id":"slough","name":"Slough","postcodes":["SL1 0AB"]}]}`,
			wantErr: `area "slough": postcodes[0]`,
		},
		{
			name:    "malformed",
			json:    `{"areas":[`,
			wantErr: "decode directory file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(strings.NewReader(tt.json))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	facts := File{Areas: []Area{
		{ID: "slough", Name: "Slough", LocalAuthorities: []string{"Slough"}, Postcodes: []string{"SL1", "SL2"}},
		{ID: "surrey", Name: "Surrey", Postcodes: []string{"GU1"}},
	}}
	people := File{
		Areas: []Area{{ID: "slough", Lead: Person{Name: "Alex Lead", Email: "lead.slough@example.org"}}},
		Specialists: []Specialist{
			{ID: "sl-1", AreaID: "slough", Name: "Sam", Email: "sam@example.org", Capacity: 20, Active: true},
		},
	}
	update := File{
		Areas: []Area{{ID: "slough", Postcodes: []string{"SL1"}}},
		Specialists: []Specialist{
			{ID: "sl-1", AreaID: "slough", Name: "Sam Smith", Email: "sam@example.org", Capacity: 10},
		},
	}
	want := File{
		Areas: []Area{
			{ID: "slough", Name: "Slough", LocalAuthorities: []string{"Slough"},
				Lead: Person{Name: "Alex Lead", Email: "lead.slough@example.org"}, Postcodes: []string{"SL1"}},
			{ID: "surrey", Name: "Surrey", Postcodes: []string{"GU1"}},
		},
		Specialists: []Specialist{
			{ID: "sl-1", AreaID: "slough", Name: "Sam Smith", Email: "sam@example.org", Capacity: 10},
		},
	}
	got := Merge(facts, people, update)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge() =\n%+v\nwant\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("merged file does not validate: %v", err)
	}
}
