package postcode

import "sync"

// knownAreas are the postcode areas in use: the 121 of the UK plus the Crown Dependencies (GY, IM,
// JE) and British Forces (BF). Anything else that passes the format check maps to OtherArea, so a
// value derived from a postcode comes from a fixed set of at most 126 (125 + OtherArea), whatever anyone types.
// Built at first use: init time is every function's cold-start time.
var knownAreas = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, a := range []string{
		"AB", "AL", "B", "BA", "BB", "BD", "BF", "BH", "BL", "BN", "BR", "BS", "BT", "CA", "CB", "CF",
		"CH", "CM", "CO", "CR", "CT", "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT", "DY",
		"E", "EC", "EH", "EN", "EX", "FK", "FY", "G", "GL", "GU", "GY", "HA", "HD", "HG", "HP", "HR",
		"HS", "HU", "HX", "IG", "IM", "IP", "IV", "JE", "KA", "KT", "KW", "KY", "L", "LA", "LD", "LE",
		"LL", "LN", "LS", "LU", "M", "ME", "MK", "ML", "N", "NE", "NG", "NN", "NP", "NR", "NW", "OL",
		"OX", "PA", "PE", "PH", "PL", "PO", "PR", "RG", "RH", "RM", "S", "SA", "SE", "SG", "SK", "SL",
		"SM", "SN", "SO", "SP", "SR", "SS", "ST", "SW", "SY", "TA", "TD", "TF", "TN", "TQ", "TR", "TS",
		"TW", "UB", "W", "WA", "WC", "WD", "WF", "WN", "WR", "WS", "WV", "YO", "ZE",
	} {
		m[a] = true
	}
	return m
})

// OtherArea is the Area of a well-formed postcode whose letters are no postcode area in use.
const OtherArea = "other"

// Area returns the postcode area, the leading letters of the outward code ("S35" → "S",
// "AB10" → "AB"), or OtherArea when those letters are no area in use ("YY1" parses but is no
// area). It is the only postcode-derived value fit for a metric dimension (SPEC §4, §8).
func (p Postcode) Area() string {
	i := 0
	for i < len(p.Outward) && p.Outward[i] >= 'A' && p.Outward[i] <= 'Z' {
		i++
	}
	if a := p.Outward[:i]; knownAreas()[a] {
		return a
	}
	return OtherArea
}
