package referral

import "math/rand/v2"

// Candidate is what routing needs to know of a specialist.
type Candidate struct {
	ID       string
	Capacity int
	Caseload int
	Active   bool
}

// PickSpecialist applies the routing rule of SPEC §5: among active specialists with caseload below
// capacity, the one with the lowest caseload. Ties are broken at random so that concurrent intakes
// spread over equally loaded specialists instead of all contending for the first one.
// ok is false when nobody has capacity: the referral is waitlisted.
func PickSpecialist(candidates []Candidate) (picked Candidate, ok bool) {
	ties := 0
	for _, c := range candidates {
		if !c.Active || c.Caseload >= c.Capacity {
			continue
		}
		switch {
		case !ok || c.Caseload < picked.Caseload:
			picked, ok, ties = c, true, 1
		case c.Caseload == picked.Caseload:
			ties++
			// Reservoir sampling: each of the tied candidates is kept with probability 1/ties.
			if rand.IntN(ties) == 0 {
				picked = c
			}
		}
	}
	return picked, ok
}
