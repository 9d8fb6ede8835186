// Package directory is the programme's directory of areas, the postcode prefixes that route a
// referral to each area, and the employment specialists who work in them. It is data: a JSON file
// (infra/directory/) loaded into DynamoDB and managed by the directory command. It imports no
// infrastructure.
package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// DefaultCapacity is the caseload limit of a specialist whose capacity a file does not give: the IPS
// fidelity limit of 20 people per employment specialist.
const DefaultCapacity = 20

// Person is someone the service emails: an area lead.
type Person struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Area is one IPSPC area: the local authorities it serves, its lead (emailed about waitlisted and
// overdue referrals) and the postcode prefixes routed to it.
//
// In a file an area entry is a partial update, so one file can hold the facts (areas.json) and
// another the people (a deployment's people file): Name, LocalAuthorities, Lead and Postcodes are
// applied only when given. Postcodes, when given, are the area's complete list.
type Area struct {
	ID               string   `json:"id"`
	Name             string   `json:"name,omitempty"`
	LocalAuthorities []string `json:"localAuthorities,omitempty"`
	Lead             Person   `json:"lead,omitzero"`
	// Postcodes are districts (outward codes, "S35") and sector overrides ("S35 0").
	Postcodes []string `json:"postcodes,omitempty"`
}

// Specialist is an IPS employment specialist. Caseload is live state kept by the service (referrals
// assigned, contacted or engaged); files never set it.
type Specialist struct {
	ID       string `json:"id"`
	AreaID   string `json:"areaId"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Capacity int    `json:"capacity"`
	Caseload int    `json:"caseload,omitempty"`
	Active   bool   `json:"active"`
	// Bouncing: their current address is marked failing (a bounce or complaint), so the area
	// lead gets a copy of their emails. Kept by the bounce handler, never imported from a file.
	Bouncing bool `json:"-"`
}

// UnmarshalJSON decodes a specialist from a file: a missing capacity is DefaultCapacity (an explicit
// 0 is kept: someone on leave takes no new referrals), a missing active is true, and unknown fields
// are rejected.
func (s *Specialist) UnmarshalJSON(data []byte) error {
	var raw struct {
		ID       string `json:"id"`
		AreaID   string `json:"areaId"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Capacity *int   `json:"capacity"`
		Caseload int    `json:"caseload"`
		Active   *bool  `json:"active"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	*s = Specialist{ID: raw.ID, AreaID: raw.AreaID, Name: raw.Name, Email: raw.Email,
		Capacity: DefaultCapacity, Caseload: raw.Caseload, Active: true}
	if raw.Capacity != nil {
		s.Capacity = *raw.Capacity
	}
	if raw.Active != nil {
		s.Active = *raw.Active
	}
	return nil
}

// File is the format of a directory file.
type File struct {
	Areas       []Area       `json:"areas"`
	Specialists []Specialist `json:"specialists"`
}

// Parse decodes a directory file, normalises its postcode prefixes and e-mail addresses, and
// validates it. Unknown fields are errors, so a misspelt field cannot be silently ignored.
func Parse(r io.Reader) (File, error) {
	var f File
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return File{}, fmt.Errorf("decode directory file: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return File{}, errors.New("decode directory file: unexpected data after the top-level object")
	}
	f = f.normalize()
	if err := f.Validate(); err != nil {
		return File{}, err
	}
	return f, nil
}

// normalize returns a copy of f with postcode prefixes in canonical form ("s35  0" → "S35 0") and
// surrounding spaces trimmed. Prefixes that cannot be normalised are kept as written, for Validate
// to report.
func (f File) normalize() File {
	out := File{Areas: make([]Area, len(f.Areas)), Specialists: make([]Specialist, len(f.Specialists))}
	for i, a := range f.Areas {
		a.ID = strings.TrimSpace(a.ID)
		a.Name = strings.TrimSpace(a.Name)
		a.Lead = Person{Name: strings.TrimSpace(a.Lead.Name), Email: strings.TrimSpace(a.Lead.Email)}
		if a.LocalAuthorities != nil {
			las := make([]string, len(a.LocalAuthorities))
			for j, la := range a.LocalAuthorities {
				las[j] = strings.TrimSpace(la)
			}
			a.LocalAuthorities = las
		}
		if a.Postcodes != nil {
			ps := make([]string, len(a.Postcodes))
			for j, p := range a.Postcodes {
				if n, err := NormalizePrefix(p); err == nil {
					ps[j] = n
				} else {
					ps[j] = p
				}
			}
			a.Postcodes = ps
		}
		out.Areas[i] = a
	}
	for i, s := range f.Specialists {
		s.ID = strings.TrimSpace(s.ID)
		s.AreaID = strings.TrimSpace(s.AreaID)
		s.Name = strings.TrimSpace(s.Name)
		s.Email = strings.TrimSpace(s.Email)
		out.Specialists[i] = s
	}
	return out
}

// Merge combines files in order into one, as importing them one after another would: an area that
// appears in several files gets each field from the last file that gives it, and a specialist
// from the last file that lists it.
func Merge(files ...File) File {
	var out File
	areaIndex := map[string]int{}
	specialistIndex := map[string]int{}
	for _, f := range files {
		for _, a := range f.Areas {
			i, seen := areaIndex[a.ID]
			if !seen {
				areaIndex[a.ID] = len(out.Areas)
				out.Areas = append(out.Areas, a)
				continue
			}
			m := &out.Areas[i]
			if a.Name != "" {
				m.Name = a.Name
			}
			if a.LocalAuthorities != nil {
				m.LocalAuthorities = a.LocalAuthorities
			}
			if a.Lead != (Person{}) {
				m.Lead = a.Lead
			}
			if a.Postcodes != nil {
				m.Postcodes = a.Postcodes
			}
		}
		for _, s := range f.Specialists {
			if i, seen := specialistIndex[s.ID]; seen {
				out.Specialists[i] = s
				continue
			}
			specialistIndex[s.ID] = len(out.Specialists)
			out.Specialists = append(out.Specialists, s)
		}
	}
	return out
}

// Validate reports every problem in f, each naming the area or specialist and the field.
//
// Area ids and specialist ids are lower-case slugs, unique within the file. Postcodes are districts
// ("S35", "W1A") or sectors ("S35 0"), and a prefix belongs to at most one area. An area that lists
// postcodes or local authorities must have a name. A lead, when given, has a name and a valid
// e-mail address. A specialist belongs to an area of the file, has a name, a valid e-mail address
// and a capacity of at least 0, and no caseload (that is live state).
func (f File) Validate() error {
	var errs []error
	areas := map[string]bool{}
	owner := map[string]string{} // canonical prefix → area id
	for i, a := range f.Areas {
		where := fmt.Sprintf("area %q", a.ID)
		if a.ID == "" {
			where = fmt.Sprintf("areas[%d]", i)
		}
		problem := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s: %s", where, field, fmt.Sprintf(format, args...)))
		}
		if err := checkSlug(a.ID); err != nil {
			problem("id", "%v", err)
		} else if areas[a.ID] {
			problem("id", "listed more than once")
		}
		areas[a.ID] = true
		if err := checkText(a.Name); err != nil {
			problem("name", "%v", err)
		}
		if a.Name == "" && (len(a.Postcodes) > 0 || len(a.LocalAuthorities) > 0) {
			problem("name", "required when postcodes or local authorities are given")
		}
		for j, la := range a.LocalAuthorities {
			if la == "" {
				problem(fmt.Sprintf("localAuthorities[%d]", j), "empty")
			} else if err := checkText(la); err != nil {
				problem(fmt.Sprintf("localAuthorities[%d]", j), "%v", err)
			}
		}
		if a.Lead != (Person{}) {
			if a.Lead.Name == "" {
				problem("lead.name", "required")
			} else if err := checkText(a.Lead.Name); err != nil {
				problem("lead.name", "%v", err)
			}
			if err := checkEmail(a.Lead.Email); err != nil {
				problem("lead.email", "%v", err)
			}
		}
		for j, p := range a.Postcodes {
			field := fmt.Sprintf("postcodes[%d]", j)
			canon, err := NormalizePrefix(p)
			if err != nil {
				problem(field, "%v", err)
				continue
			}
			switch other, taken := owner[canon]; {
			case taken && other == a.ID:
				problem(field, "%q is listed twice", canon)
			case taken:
				problem(field, "%q is already in area %q: a prefix belongs to one area", canon, other)
			default:
				owner[canon] = a.ID
			}
		}
	}
	specialists := map[string]bool{}
	for i, s := range f.Specialists {
		where := fmt.Sprintf("specialist %q", s.ID)
		if s.ID == "" {
			where = fmt.Sprintf("specialists[%d]", i)
		}
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if s.ID != "" && specialists[s.ID] {
			errs = append(errs, fmt.Errorf("%s: id: listed more than once", where))
		}
		specialists[s.ID] = true
		if s.AreaID != "" && !areas[s.AreaID] {
			errs = append(errs, fmt.Errorf("%s: areaId: no area %q in the file", where, s.AreaID))
		}
		if s.Caseload != 0 {
			errs = append(errs, fmt.Errorf("%s: caseload: kept by the service, not set by a file", where))
		}
	}
	return errors.Join(errs...)
}

// Validate checks one specialist's own fields (not whether its area exists), naming each bad field.
func (s Specialist) Validate() error {
	var errs []error
	if err := checkSlug(s.ID); err != nil {
		errs = append(errs, fmt.Errorf("id: %w", err))
	}
	if err := checkSlug(s.AreaID); err != nil {
		errs = append(errs, fmt.Errorf("areaId: %w", err))
	}
	if s.Name == "" {
		errs = append(errs, errors.New("name: required"))
	} else if err := checkText(s.Name); err != nil {
		errs = append(errs, fmt.Errorf("name: %w", err))
	}
	if err := checkEmail(s.Email); err != nil {
		errs = append(errs, fmt.Errorf("email: %w", err))
	}
	if s.Capacity < 0 {
		errs = append(errs, fmt.Errorf("capacity: %d is negative", s.Capacity))
	}
	return errors.Join(errs...)
}

// Prefixes maps each postcode prefix (district "S35" or sector "S35 0") to the id of its area.
type Prefixes map[string]string

// Prefixes returns the postcode prefixes of every area in f. Call it on a valid file.
func (f File) Prefixes() Prefixes {
	p := Prefixes{}
	for _, a := range f.Areas {
		for _, raw := range a.Postcodes {
			if canon, err := NormalizePrefix(raw); err == nil {
				p[canon] = a.ID
			}
		}
	}
	return p
}

// AreaFor returns the area of a postcode by longest-prefix match: the sector ("S35 0") before the
// district ("S35"). A district matches the whole outward code only, so W1 never routes W12. The
// postcode is expected in normalised "OUTWARD INWARD" form; case and spacing are forgiven.
func (p Prefixes) AreaFor(postcode string) (areaID string, ok bool) {
	outward, inward := splitPostcode(postcode)
	if outward == "" {
		return "", false
	}
	if inward != "" {
		if id, ok := p[outward+" "+inward[:1]]; ok {
			return id, true
		}
	}
	id, ok := p[outward]
	return id, ok
}

// splitPostcode splits a postcode into its outward code and inward code ("" when absent).
func splitPostcode(postcode string) (outward, inward string) {
	s := strings.ToUpper(strings.Join(strings.Fields(postcode), ""))
	if len(s) >= 5 && inwardCode().MatchString(s[len(s)-3:]) {
		return s[:len(s)-3], s[len(s)-3:]
	}
	return s, ""
}

// The patterns compile at first use: init time is every function's cold-start time.
var (
	districtCode = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z]{1,2}[0-9][0-9A-Z]?$`) })
	inwardCode   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9][A-Z]{2}$`) })
	slug         = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`) })
)

// NormalizePrefix returns a postcode prefix in canonical form: a district ("s35" → "S35") or a
// sector, a district, one space and the sector digit ("s35  0" → "S35 0").
func NormalizePrefix(s string) (string, error) {
	fields := strings.Fields(strings.ToUpper(s))
	switch {
	case len(fields) == 1 && districtCode().MatchString(fields[0]):
		return fields[0], nil
	case len(fields) == 2 && districtCode().MatchString(fields[0]) && len(fields[1]) == 1 &&
		fields[1][0] >= '0' && fields[1][0] <= '9':
		return fields[0] + " " + fields[1], nil
	}
	return "", fmt.Errorf("%q is not a postcode district (S35, W1A) or sector (S35 0)", s)
}

const maxSlug = 64

func checkSlug(s string) error {
	switch {
	case s == "":
		return errors.New("required")
	case len(s) > maxSlug:
		return fmt.Errorf("%q is longer than %d characters", s, maxSlug)
	case !slug().MatchString(s):
		return fmt.Errorf("%q is not a lower-case slug (letters, digits and single hyphens, e.g. south-yorkshire)", s)
	}
	return nil
}

const maxText = 100

// checkText checks a name: at most maxText characters, no control characters.
func checkText(s string) error {
	if len([]rune(s)) > maxText {
		return fmt.Errorf("longer than %d characters", maxText)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("contains a control character")
	}
	return nil
}

// checkEmail accepts a bare address (no display name) whose domain has a dot.
func checkEmail(s string) error {
	if s == "" {
		return errors.New("required")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return fmt.Errorf("%q is not an e-mail address", s)
	}
	at := strings.LastIndexByte(s, '@')
	if domain := s[at+1:]; !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return fmt.Errorf("%q is not an e-mail address", s)
	}
	return nil
}
