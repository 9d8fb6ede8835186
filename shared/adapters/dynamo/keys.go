// Package dynamo implements the service's ports on Amazon DynamoDB. Constructors take a client and
// table names; they never load AWS configuration.
package dynamo

import "github.com/ipspc/referrals/shared/domain/referral"

// Item layout. Every table has a string partition key "pk"; the referrals and directory tables also
// have a string sort key "sk".
//
// DirectoryTable
//
//	pk = "AREA#<areaId>"  sk = "#AREA"                      one area: name, local authorities, lead
//	pk = "AREA#<areaId>"  sk = "SPECIALIST#<specialistId>"  one specialist: capacity, caseload, active
//	pk = "PREFIXES"       sk = "<prefix>"                   "S35" or "S35 0" → areaId (one Query loads all)
//
// ReferralsTable
//
//	pk = "REFERRAL#<referralId>"  sk = "#REFERRAL"             the referral and its append-only events
//	pk = "REFERRAL#<referralId>"  sk = "NOTIFIED#<kind>"       one per email kind sent (issue 3)
//	pk = "OPEN#<areaId>#<patientKey>"  sk = "#OPEN"            exists while the patient has an open
//	                                                           referral in the area (re-referral rule)
//
// No key holds an NHS number: patientKey is its keyed hash (referral.Keyer), stored on the
// referral. An idempotency key's claim is its referral: the id is derived from the key.
const (
	attrPK = "pk"
	attrSK = "sk"

	areaPrefix       = "AREA#"
	areaSK           = "#AREA"
	specialistPrefix = "SPECIALIST#"
	prefixesPK       = "PREFIXES"

	referralPrefix = "REFERRAL#"
	referralSK     = "#REFERRAL"
	notifiedPrefix = "NOTIFIED#"
	openPrefix     = "OPEN#"
	openSK         = "#OPEN"
)

func areaPK(areaID string) string             { return areaPrefix + areaID }
func specialistSK(specialistID string) string { return specialistPrefix + specialistID }
func referralPK(referralID string) string     { return referralPrefix + referralID }

// openPK keys a patient's open case in an area. It takes the referral's stored patient key, never
// an NHS number (the type keeps one from being passed).
func openPK(areaID string, patient referral.PatientKey) string {
	return openPrefix + areaID + "#" + string(patient)
}
