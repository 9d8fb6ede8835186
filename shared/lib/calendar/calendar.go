package calendar

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrOutOfRange means a date falls outside the years the calendar has bank-holiday data for. It is
// returned wrapped, with the date and the covered years; test for it with errors.Is. A deadline
// must never be computed by assuming a year has no bank holidays.
var ErrOutOfRange = errors.New("calendar: date outside the years with bank-holiday data")

// Calendar knows which days are working days: Monday to Friday, except bank holidays, within the
// years it covers. It is immutable once built, so one value is safe for concurrent use.
type Calendar struct {
	firstYear, lastYear int
	holidays            map[Date]bool
	// load is set on the embedded calendar only: it parses the embedded data once, at first use.
	load func() *Calendar
}

// data is the calendar with its data loaded.
func (c *Calendar) data() *Calendar {
	if c.load != nil {
		return c.load()
	}
	return c
}

// New returns a calendar covering firstYear to lastYear inclusive with the given bank holidays.
// It is meant for tests; production code uses Embedded. It panics if the years are reversed or a
// holiday falls outside them, since either is a mistake in the caller's fixture.
func New(holidays []Date, firstYear, lastYear int) *Calendar {
	c, err := build(holidays, firstYear, lastYear)
	if err != nil {
		panic(err)
	}
	return c
}

func build(holidays []Date, firstYear, lastYear int) (*Calendar, error) {
	if firstYear > lastYear {
		return nil, fmt.Errorf("calendar: first year %d is after last year %d", firstYear, lastYear)
	}
	c := &Calendar{firstYear: firstYear, lastYear: lastYear, holidays: make(map[Date]bool, len(holidays))}
	for _, h := range holidays {
		if !c.covers(h) {
			return nil, fmt.Errorf("calendar: holiday %s is outside the covered years %d to %d", h, firstYear, lastYear)
		}
		c.holidays[h] = true
	}
	return c, nil
}

//go:embed bank-holidays-england-and-wales.json
var embeddedJSON []byte

// embedded is parsed at its first use, not at package initialisation, where it would lengthen
// every function's cold start (0.2 ms) including those that never compute a deadline. A corrupt
// data file is a build-time bug that this package's tests catch (TestEmbeddedData); in a
// deployed function it would panic on the first deadline computed, never give a wrong date.
var embedded = &Calendar{load: sync.OnceValue(func() *Calendar { return mustParse(embeddedJSON) })}

func mustParse(data []byte) *Calendar {
	c, err := parse(data)
	if err != nil {
		panic("calendar: embedded bank holidays: " + err.Error())
	}
	return c
}

func parse(data []byte) (*Calendar, error) {
	var file struct {
		FirstYear int `json:"firstYear"`
		LastYear  int `json:"lastYear"`
		Events    []struct {
			Date Date `json:"date"` // Date.UnmarshalText rejects anything but a real YYYY-MM-DD
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, err
	}
	if file.FirstYear == 0 || file.LastYear == 0 {
		return nil, errors.New("firstYear and lastYear are required")
	}
	holidays := make([]Date, len(file.Events))
	for i, e := range file.Events {
		holidays[i] = e.Date
	}
	return build(holidays, file.FirstYear, file.LastYear)
}

// Embedded returns the England and Wales calendar built from the data embedded in this package.
func Embedded() *Calendar { return embedded }

// Covers returns the first and last years, inclusive, for which c has bank-holiday data.
func (c *Calendar) Covers() (firstYear, lastYear int) {
	c = c.data()
	return c.firstYear, c.lastYear
}

func (c *Calendar) covers(d Date) bool {
	return d.Year >= c.firstYear && d.Year <= c.lastYear
}

// IsWorkingDay reports whether d is a Monday to Friday that is not a bank holiday. Outside the
// covered years it returns an error wrapping ErrOutOfRange.
func (c *Calendar) IsWorkingDay(d Date) (bool, error) {
	c = c.data()
	if !c.covers(d) {
		return false, fmt.Errorf("%w: %s is outside the covered years %d to %d", ErrOutOfRange, d, c.firstYear, c.lastYear)
	}
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false, nil
	}
	return !c.holidays[d], nil
}

// AddWorkingDays returns the nth working day strictly after d: d itself never counts, whether or
// not it is a working day (SPEC §6: received Saturday, Monday is the first day counted). n = 0
// returns d unchanged. It fails if n is negative or if any day it has to examine is outside the
// covered years, rather than guess whether that day is a holiday.
func (c *Calendar) AddWorkingDays(d Date, n int) (Date, error) {
	if n < 0 {
		return Date{}, fmt.Errorf("calendar: add %d working days to %s: n must not be negative", n, d)
	}
	for n > 0 {
		d = d.AddDays(1)
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return Date{}, err
		}
		if ok {
			n--
		}
	}
	return d, nil
}

// NextWorkingDay returns the first working day strictly after d.
func (c *Calendar) NextWorkingDay(d Date) (Date, error) {
	return c.AddWorkingDays(d, 1)
}

// PreviousWorkingDay returns the latest working day strictly before d, the day a reminder for a
// deadline on d goes out.
func (c *Calendar) PreviousWorkingDay(d Date) (Date, error) {
	for {
		d = d.AddDays(-1)
		ok, err := c.IsWorkingDay(d)
		if err != nil {
			return Date{}, err
		}
		if ok {
			return d, nil
		}
	}
}
