package dynamo

import (
	"slices"
	"sync"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// caseloadCache keeps each area's specialists (capacity, caseload, active) for a moment, per
// process. It is only a hint for routing: the caseload update's condition is what keeps a
// specialist within capacity.
type caseloadCache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	areas map[string]cachedArea
}

type cachedArea struct {
	at         time.Time
	candidates []referral.Candidate
}

func newCaseloadCache(ttl time.Duration) *caseloadCache {
	return &caseloadCache{ttl: ttl, now: time.Now, areas: map[string]cachedArea{}}
}

// get returns a copy of the area's specialists if they were read or written within the TTL.
func (c *caseloadCache) get(area string) ([]referral.Candidate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.areas[area]
	if !ok || c.now().Sub(a.at) >= c.ttl {
		return nil, false
	}
	return slices.Clone(a.candidates), true
}

func (c *caseloadCache) put(area string, candidates []referral.Candidate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.areas[area] = cachedArea{at: c.now(), candidates: slices.Clone(candidates)}
}

// took counts a referral this process has just stored for the specialist. It does not renew the
// entry: other processes' writes are only learnt from a read.
func (c *caseloadCache) took(area, specialistID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.areas[area]
	if !ok {
		return
	}
	for i := range a.candidates {
		if a.candidates[i].ID == specialistID {
			a.candidates[i].Caseload++
		}
	}
}
