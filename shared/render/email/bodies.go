package email

// What each kind says (SPEC §7, §11): its subject, and its body in plain text and in HTML, side
// by side: one body function writes both, through the writer's paragraphs and lists, and says
// where the two differ with w.html. Render tidies both bodies (trailing spaces go, runs of blank
// lines become one, blank HTML lines are dropped).
// testdata holds every kind as rendered (go test ./shared/render/email -run Golden -update).

type content struct {
	subject func(v view) string
	body    func(w *writer, v view) // writes the text body or, when w.html, the HTML body
}

var contents = map[Kind]content{
	Assignment: {
		subject: func(v view) string { return "New referral " + v.ReferralID + ": contact by " + v.ContactByShort },
		body: func(w *writer, v view) {
			w.P("You have a new referral.")
			w.details(v)
			if v.ReReferral {
				w.P("%s has been referred again. They already have an open referral with you, so this one does not use any more of your capacity.", v.Patient)
			}
			w.deadlines("You need to:", v)
			w.P("%s would prefer to be contacted %s.", v.Patient, v.Contact)
			w.open("Open the referral to see their contact details and record your progress", ".", v)
			w.P(onlyForYou)
		},
	},
	Acknowledgement: {
		subject: func(v view) string { return "Referral " + v.ReferralID + " received" },
		body: func(w *writer, v view) {
			w.P("We have received your referral.")
			w.details(v)
			if v.Waitlisted {
				w.P("All employment specialists in %s are fully booked at the moment, so %s is on a waiting list. They will be assigned to the next specialist who has space.", v.Area, v.Patient)
				w.P("The deadlines to contact and meet %s will be set when a specialist is assigned.", v.Patient)
			} else {
				w.deadlines("An employment specialist in %s has been assigned. They will:", v, v.Area)
			}
			w.P("You do not need to do anything else. If you contact the IPS service about this referral, give the reference %s.", v.ReferralID)
			w.open("See how the referral is going, or withdraw it, with this link (it works for 90 days)", ":", v)
			w.P("If you did not make this referral, use the link to withdraw it.")
			w.P(onlyForYou)
		},
	},
	Waitlisted: {
		subject: func(v view) string { return "Referral " + v.ReferralID + " is on the waiting list" },
		body: func(w *writer, v view) {
			w.P("A new referral in %s is on the waiting list because no employment specialist in the area has space.", v.Area)
			w.details(v)
			w.P("It will be assigned automatically as soon as a specialist in %s has space: when a referral is closed, a specialist's capacity is raised or a specialist is added.", v.Area)
			w.P("You need to check whether you can free up space or add a specialist, so that %s is not left waiting.", v.Patient)
			if w.html {
				w.P(`<a href="%s">Open your worklist</a> to see the area's waiting list and each specialist's caseload (the link works for 7 days).`, href(v.Link))
			} else {
				w.P("Open your worklist to see the area's waiting list and each specialist's caseload (the link works for 7 days):\n%s", href(v.Link))
			}
		},
	},
	ContactReminder: {
		subject: func(v view) string {
			return "Reminder for referral " + v.ReferralID + ": contact by " + v.ContactByShort
		},
		body: func(w *writer, v view) {
			w.P("You need to contact %s by %s. No contact has been recorded yet.", v.Patient, v.ContactBy)
			w.details(v)
			w.P("%s would prefer to be contacted %s.", v.Patient, v.Contact)
			w.open("When you have contacted them, open the referral and record it", ".", v)
			w.P("If contact is not recorded by %s, your area lead will be told.", v.ContactBy)
		},
	},
	MeetingReminder: {
		subject: func(v view) string { return "Reminder for referral " + v.ReferralID + ": meet by " + v.MeetByShort },
		body: func(w *writer, v view) {
			w.P("You need to meet %s by %s. No meeting has been recorded yet.", v.Patient, v.MeetBy)
			w.details(v)
			w.open("When you have met them, open the referral and record the meeting", ".", v)
			w.P("If a meeting is not recorded by %s, your area lead will be told.", v.MeetBy)
		},
	},
	ContactOverdue: {
		subject: func(v view) string {
			return "Overdue: contact for referral " + v.ReferralID + " was due by " + v.ContactByShort
		},
		body: func(w *writer, v view) {
			w.P("The deadline to contact %s has passed. Contact was due by %s and none has been recorded. %s", v.Patient, v.ContactBy, v.Attempts)
			w.details(v)
			w.P("You need to contact %s %s as soon as you can, then record it on the referral. If you have already contacted them, record it now. Use the link in your earlier emails about this referral.", v.Patient, v.Contact)
			w.P(leadCopied)
		},
	},
	MeetingOverdue: {
		subject: func(v view) string {
			return "Overdue: meeting for referral " + v.ReferralID + " was due by " + v.MeetByShort
		},
		body: func(w *writer, v view) {
			w.P("The deadline to meet %s has passed. A meeting was due by %s and none has been recorded. %s", v.Patient, v.MeetBy, v.Attempts)
			w.details(v)
			w.P("You need to meet %s as soon as you can, then record the meeting on the referral. If you have already met them, record it now. Use the link in your earlier emails about this referral.", v.Patient)
			w.P(leadCopied)
		},
	},
	StartedSupport: {
		subject: func(v view) string { return "Referral " + v.ReferralID + ": support has started" },
		body: func(w *writer, v view) {
			w.P("%s has had their first meeting with an employment specialist, so their employment support has started.", v.Patient)
			w.details(v)
			w.P("You do not need to do anything. We will email you again when their support ends.")
		},
	},
	Closed: {
		subject: func(v view) string { return "Referral " + v.ReferralID + " has been closed" },
		body: func(w *writer, v view) {
			w.P("The employment support for %s has ended because %s.", v.Patient, v.Reason)
			w.details(v)
			if v.ReasonCode == "unreachable" {
				w.P("If they would still like employment support, a new referral is welcome.")
			} else {
				w.P("You do not need to do anything.")
			}
		},
	},
	Withdrawn: {
		subject: func(v view) string {
			if v.ForSpecialist {
				return "Do not contact: referral " + v.ReferralID + " withdrawn"
			}
			return "Referral " + v.ReferralID + " withdrawn"
		},
		body: func(w *writer, v view) {
			if v.ForSpecialist {
				w.P("The referrer has withdrawn this referral because %s. Do not contact %s about it.", v.Reason, v.Patient)
				w.details(v)
				w.P("It no longer counts towards your caseload. If you have already arranged anything with them, tell your area lead.")
				return
			}
			w.P("You have withdrawn this referral because %s. The IPS service will not contact %s about it.", v.Reason, v.Patient)
			w.details(v)
			w.P("You do not need to do anything else.")
		},
	},
	OutcomeCheck: {
		subject: func(v view) string { return "Referral " + v.ReferralID + ": record the job outcome" },
		body: func(w *writer, v view) {
			w.P("It is 16 weeks since %s started work on %s. Please record the job outcome.", v.Patient, v.JobStart)
			w.details(v)
			w.P("In those 16 weeks, did %s work at least 7 hours a week in at least 13 of the weeks? This is the IPSPC job outcome.", v.Patient)
			w.open("Open the referral and answer yes or no", ".", v)
			w.P("If you have already recorded the outcome, you do not need to do anything.")
			w.P(onlyForYou)
		},
	},
	BouncingCopy: {
		subject: func(v view) string {
			return "Referral " + v.ReferralID + ": " + v.Specialist + "'s email address is bouncing"
		},
		body: func(w *writer, v view) {
			w.P("We have emailed %s about referral %s in %s: %s. The specialist's address is bouncing, so they may not receive it. This copy is for you, so that the referral is not held up.", v.Specialist, v.ReferralID, v.Area, v.CopyOf)
			w.details(v)
			// The deadlines the specialist was told, when the copied email had them.
			switch {
			case w.html && (v.ContactBy != "" || v.MeetBy != ""):
				w.Raw("<p>")
				if v.ContactBy != "" {
					w.F("<strong>Contact due by:</strong> %s", v.ContactBy)
				}
				if v.ContactBy != "" && v.MeetBy != "" {
					w.Raw("<br>")
				}
				if v.MeetBy != "" {
					w.F("<strong>First meeting due by:</strong> %s", v.MeetBy)
				}
				w.Raw("\n</p>\n")
			case !w.html:
				if v.ContactBy != "" {
					w.F("Contact due by: %s\n", v.ContactBy)
				}
				if v.MeetBy != "" {
					w.F("First meeting due by: %s\n", v.MeetBy)
				}
				w.Raw("\n")
			}
			w.P("This copy does not include the specialist's link to the referral.")
			w.List("What to do:")
			w.Item("check their email address with them, and have the directory corrected")
			if w.html {
				w.Item(`or, if they cannot take the referral, reassign it to another specialist from <a href="%s">your worklist</a> (the link works for 7 days)`, href(v.Link))
			} else {
				w.Item("or, if they cannot take the referral, reassign it to another specialist from your worklist (the link works for 7 days):\n%s", href(v.Link))
			}
			w.EndList()
		},
	},
}

const (
	onlyForYou = "This link is only for you. Do not forward this email."
	leadCopied = "Your area lead has been copied into this email."
)

func digestSubject(v digestView) string { return "Weekly summary for " + v.Area }

func digestBody(w *writer, v digestView) {
	days := "days"
	if v.OldestWaitDays == 1 {
		days = "day"
	}
	if !w.html {
		w.F("This is this week's summary of referrals in %s.\n\n", v.Area)
		w.F("Waiting for a specialist: %s", v.Waitlisted)
		if v.Waitlisted != 0 {
			w.F(" (the longest for %s %s)", v.OldestWaitDays, days)
		}
		w.F("\nOverdue: %s\nReceived last week: %s\nSpecialists whose email address is bouncing: %s\n", v.Overdue, v.ReceivedLastWeek, v.Bouncing)
		if v.Bouncing != 0 {
			w.Raw("Emails to them are not getting through: check their address with them, and have the directory corrected.\n")
		}
		w.F("\nOpen your worklist to see each referral, reassign it or transfer it (the link works for 7 days):\n%s\n", href(v.Link))
		return
	}
	w.F("<p>This is this week's summary of referrals in %s.</p>\n<ul>\n", v.Area)
	w.F("<li>Waiting for a specialist: <strong>%s</strong>", v.Waitlisted)
	if v.Waitlisted != 0 {
		w.F(" (the longest for %s %s)", v.OldestWaitDays, days)
	}
	w.F("</li>\n<li>Overdue: <strong>%s</strong></li>\n<li>Received last week: <strong>%s</strong></li>\n", v.Overdue, v.ReceivedLastWeek)
	w.F("<li>Specialists whose email address is bouncing: <strong>%s</strong>", v.Bouncing)
	if v.Bouncing != 0 {
		w.Raw(". Emails to them are not getting through: check their address with them, and have the directory corrected.")
	}
	w.Raw("</li>\n</ul>\n")
	w.button(v.Link, "Open your worklist")
	w.Raw("<p>The link works for 7 days.</p>\n")
}
