package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// leaks returns, for every patient the suite made, each of their details found in the output of
// the functions (SPEC §8: no patient data in logs, ever).
func leaks(output string) []string {
	patientsMu.Lock()
	defer patientsMu.Unlock()
	var found []string
	for _, p := range patients {
		for label, value := range p.private() {
			if strings.Contains(output, value) {
				found = append(found, fmt.Sprintf("%s %q", label, value))
			}
		}
	}
	return found
}

// private lists what of p must never reach a log line, in the forms it could be written.
func (p patient) private() map[string]string {
	national := strings.ReplaceAll(p.Phone, " ", "")
	return map[string]string{
		"given name": p.GivenName, "family name": p.FamilyName, "date of birth": p.DOB,
		"NHS number": p.NHS, "spaced NHS number": p.NHS[:3] + " " + p.NHS[3:6] + " " + p.NHS[6:],
		"phone": p.Phone, "phone digits": national, "international phone": "+44" + national[1:],
		"email": p.Email, "notes": p.Notes,
	}
}

// checkLogs runs after every test: the captured output must hold log lines from every function
// (so the check covers them all) and none of the suite's patients' details.
func checkLogs() error {
	out := logs.String()
	for _, fn := range stack.Functions() {
		if !strings.Contains(out, fn+" ") {
			return fmt.Errorf("no output from %s: the no-patient-data check would not cover it", fn)
		}
	}
	if found := leaks(out); len(found) > 0 {
		return fmt.Errorf("patient data in function logs: %s", strings.Join(found, ", "))
	}
	return nil
}

func TestLeakCheckerCatchesPatientData(t *testing.T) {
	t.Parallel()
	p := newPatient(t)
	for label, value := range p.private() {
		if found := leaks("IntakeFunction {\"x\":\"" + value + "\"}"); len(found) == 0 {
			t.Errorf("a log line with the %s was not caught", label)
		}
	}
}

// BounceFunction runs on SES events, which the local stack does not route: invoke it as SNS would,
// for an address the directory does not have, so its output is in the logs check too.
func TestBounceEventIsHandled(t *testing.T) {
	requireStack(t)
	t.Parallel()
	event, err := os.ReadFile("../../shared/edges/bounce/testdata/sns-bounce-permanent.json")
	if err != nil {
		t.Fatal(err)
	}
	_, ferr, err := stack.Invoke(context.Background(), "BounceFunction", event)
	if err != nil || ferr != nil {
		t.Fatalf("BounceFunction: %v %v", err, ferr)
	}
}
