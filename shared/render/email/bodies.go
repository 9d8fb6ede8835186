package email

// What each kind says (SPEC §7, §11): its subject, and its body in plain text and in HTML, side
// by side. Render tidies both bodies (trailing spaces go, runs of blank lines become one, blank
// HTML lines are dropped), so paragraphs here are simply separated by blank lines.
// testdata holds every kind as rendered (go test ./shared/render/email -run Golden -update).

type content struct {
	subject func(v view) string
	body    func(w *writer, v view) // w.html says which body
}

var contents = map[Kind]content{
	Assignment: {
		subject: func(v view) string { return "New referral " + v.ReferralID + ": contact by " + v.ContactByShort },
		body: func(w *writer, v view) {
			if !w.html {
				w.Raw("You have a new referral.\n")
				w.details(v)
				if v.ReReferral {
					w.F("%s has been referred again. They already have an open referral with you, so this one does not use any more of your capacity.\n\n", v.Patient)
				}
				w.F("You need to:\n- contact %s by %s\n- meet them by %s\n\n", v.Patient, v.ContactBy, v.MeetBy)
				w.F("%s would prefer to be contacted %s.\n\n", v.Patient, v.Contact)
				w.F("Open the referral to see their contact details and record your progress:\n%s\n\n", href(v.Link))
				w.Raw("This link is only for you. Do not forward this email.\n")
				return
			}
			w.Raw("<p>You have a new referral.</p>\n")
			w.details(v)
			if v.ReReferral {
				w.F("<p>%s has been referred again. They already have an open referral with you, so this one does not use any more of your capacity.</p>\n", v.Patient)
			}
			w.F("<p>You need to:</p>\n<ul>\n<li>contact %s by %s</li>\n<li>meet them by %s</li>\n</ul>\n", v.Patient, v.ContactBy, v.MeetBy)
			w.F("<p>%s would prefer to be contacted %s.</p>\n", v.Patient, v.Contact)
			w.Raw("<p>Open the referral to see their contact details and record your progress.</p>\n")
			w.button(v.Link, "Open referral %s", v.ReferralID)
			w.Raw("<p>This link is only for you. Do not forward this email.</p>\n")
		},
	},
	Acknowledgement: {
		subject: func(v view) string { return "Referral " + v.ReferralID + " received" },
		body: func(w *writer, v view) {
			if !w.html {
				w.Raw("We have received your referral.\n")
				w.details(v)
				if v.Waitlisted {
					w.F("All employment specialists in %s are fully booked at the moment, so %s is on a waiting list. They will be assigned to the next specialist who has space.\n\n", v.Area, v.Patient)
					w.F("The deadlines to contact and meet %s will be set when a specialist is assigned.\n\n", v.Patient)
				} else {
					w.F("An employment specialist in %s has been assigned. They will:\n- contact %s by %s\n- meet them by %s\n\n", v.Area, v.Patient, v.ContactBy, v.MeetBy)
				}
				w.F("You do not need to do anything else. If you contact the IPS service about this referral, give the reference %s.\n\n", v.ReferralID)
				w.F("See how the referral is going, or withdraw it, with this link (it works for 90 days):\n%s\n\n", href(v.Link))
				w.Raw("If you did not make this referral, use the link to withdraw it.\n\nThis link is only for you. Do not forward this email.\n")
				return
			}
			w.Raw("<p>We have received your referral.</p>\n")
			w.details(v)
			if v.Waitlisted {
				w.F("<p>All employment specialists in %s are fully booked at the moment, so %s is on a waiting list. They will be assigned to the next specialist who has space.</p>\n", v.Area, v.Patient)
				w.F("<p>The deadlines to contact and meet %s will be set when a specialist is assigned.</p>\n", v.Patient)
			} else {
				w.F("<p>An employment specialist in %s has been assigned. They will:</p>\n<ul>\n<li>contact %s by %s</li>\n<li>meet them by %s</li>\n</ul>\n", v.Area, v.Patient, v.ContactBy, v.MeetBy)
			}
			w.F("<p>You do not need to do anything else. If you contact the IPS service about this referral, give the reference %s.</p>\n", v.ReferralID)
			w.Raw("<p>See how the referral is going, or withdraw it, with this link (it works for 90 days):</p>\n")
			w.button(v.Link, "Open referral %s", v.ReferralID)
			w.Raw("<p>If you did not make this referral, use the link to withdraw it.</p>\n<p>This link is only for you. Do not forward this email.</p>\n")
		},
	},
	Waitlisted: {
		subject: func(v view) string { return "Referral " + v.ReferralID + " is on the waiting list" },
		body: func(w *writer, v view) {
			if !w.html {
				w.F("A new referral in %s is on the waiting list because no employment specialist in the area has space.\n", v.Area)
				w.details(v)
				w.F("It will be assigned automatically as soon as a specialist in %s has space: when a referral is closed, a specialist's capacity is raised or a specialist is added.\n\n", v.Area)
				w.F("You need to check whether you can free up space or add a specialist, so that %s is not left waiting.\n\n", v.Patient)
				w.F("Open your worklist to see the area's waiting list and each specialist's caseload (the link works for 7 days):\n%s\n", href(v.Link))
				return
			}
			w.F("<p>A new referral in %s is on the waiting list because no employment specialist in the area has space.</p>\n", v.Area)
			w.details(v)
			w.F("<p>It will be assigned automatically as soon as a specialist in %s has space: when a referral is closed, a specialist's capacity is raised or a specialist is added.</p>\n", v.Area)
			w.F("<p>You need to check whether you can free up space or add a specialist, so that %s is not left waiting.</p>\n", v.Patient)
			w.F(`<p><a href="%s">Open your worklist</a> to see the area's waiting list and each specialist's caseload (the link works for 7 days).</p>`+"\n", href(v.Link))
		},
	},
	ContactReminder: {
		subject: func(v view) string {
			return "Reminder for referral " + v.ReferralID + ": contact by " + v.ContactByShort
		},
		body: func(w *writer, v view) {
			if !w.html {
				w.F("You need to contact %s by %s. No contact has been recorded yet.\n", v.Patient, v.ContactBy)
				w.details(v)
				w.F("%s would prefer to be contacted %s.\n\n", v.Patient, v.Contact)
				w.F("When you have contacted them, open the referral and record it:\n%s\n\n", href(v.Link))
				w.F("If contact is not recorded by %s, your area lead will be told.\n", v.ContactBy)
				return
			}
			w.F("<p>You need to contact %s by %s. No contact has been recorded yet.</p>\n", v.Patient, v.ContactBy)
			w.details(v)
			w.F("<p>%s would prefer to be contacted %s.</p>\n", v.Patient, v.Contact)
			w.Raw("<p>When you have contacted them, open the referral and record it.</p>\n")
			w.button(v.Link, "Open referral %s", v.ReferralID)
			w.F("<p>If contact is not recorded by %s, your area lead will be told.</p>\n", v.ContactBy)
		},
	},
	MeetingReminder: {
		subject: func(v view) string { return "Reminder for referral " + v.ReferralID + ": meet by " + v.MeetByShort },
		body: func(w *writer, v view) {
			if !w.html {
				w.F("You need to meet %s by %s. No meeting has been recorded yet.\n", v.Patient, v.MeetBy)
				w.details(v)
				w.F("When you have met them, open the referral and record the meeting:\n%s\n\n", href(v.Link))
				w.F("If a meeting is not recorded by %s, your area lead will be told.\n", v.MeetBy)
				return
			}
			w.F("<p>You need to meet %s by %s. No meeting has been recorded yet.</p>\n", v.Patient, v.MeetBy)
			w.details(v)
			w.Raw("<p>When you have met them, open the referral and record the meeting.</p>\n")
			w.button(v.Link, "Open referral %s", v.ReferralID)
			w.F("<p>If a meeting is not recorded by %s, your area lead will be told.</p>\n", v.MeetBy)
		},
	},
	ContactOverdue: {
		subject: func(v view) string {
			return "Overdue: contact for referral " + v.ReferralID + " was due by " + v.ContactByShort
		},
		body: func(w *writer, v view) {
			if !w.html {
				w.F("The deadline to contact %s has passed. Contact was due by %s and none has been recorded. %s\n", v.Patient, v.ContactBy, v.Attempts)
				w.details(v)
				w.F("You need to contact %s %s as soon as you can, then record it on the referral. If you have already contacted them, record it now. Use the link in your earlier emails about this referral.\n\n", v.Patient, v.Contact)
				w.Raw("Your area lead has been copied into this email.\n")
				return
			}
			w.F("<p>The deadline to contact %s has passed. Contact was due by %s and none has been recorded. %s</p>\n", v.Patient, v.ContactBy, v.Attempts)
			w.details(v)
			w.F("<p>You need to contact %s %s as soon as you can, then record it on the referral. If you have already contacted them, record it now. Use the link in your earlier emails about this referral.</p>\n", v.Patient, v.Contact)
			w.Raw("<p>Your area lead has been copied into this email.</p>\n")
		},
	},
	MeetingOverdue: {
		subject: func(v view) string {
			return "Overdue: meeting for referral " + v.ReferralID + " was due by " + v.MeetByShort
		},
		body: func(w *writer, v view) {
			if !w.html {
				w.F("The deadline to meet %s has passed. A meeting was due by %s and none has been recorded. %s\n", v.Patient, v.MeetBy, v.Attempts)
				w.details(v)
				w.F("You need to meet %s as soon as you can, then record the meeting on the referral. If you have already met them, record it now. Use the link in your earlier emails about this referral.\n\n", v.Patient)
				w.Raw("Your area lead has been copied into this email.\n")
				return
			}
			w.F("<p>The deadline to meet %s has passed. A meeting was due by %s and none has been recorded. %s</p>\n", v.Patient, v.MeetBy, v.Attempts)
			w.details(v)
			w.F("<p>You need to meet %s as soon as you can, then record the meeting on the referral. If you have already met them, record it now. Use the link in your earlier emails about this referral.</p>\n", v.Patient)
			w.Raw("<p>Your area lead has been copied into this email.</p>\n")
		},
	},
	StartedSupport: {
		subject: func(v view) string { return "Referral " + v.ReferralID + ": support has started" },
		body: func(w *writer, v view) {
			if !w.html {
				w.F("%s has had their first meeting with an employment specialist, so their employment support has started.\n", v.Patient)
				w.details(v)
				w.Raw("You do not need to do anything. We will email you again when their support ends.\n")
				return
			}
			w.F("<p>%s has had their first meeting with an employment specialist, so their employment support has started.</p>\n", v.Patient)
			w.details(v)
			w.Raw("<p>You do not need to do anything. We will email you again when their support ends.</p>\n")
		},
	},
	Closed: {
		subject: func(v view) string { return "Referral " + v.ReferralID + " has been closed" },
		body: func(w *writer, v view) {
			next := "You do not need to do anything."
			if v.ReasonCode == "unreachable" {
				next = "If they would still like employment support, a new referral is welcome."
			}
			if !w.html {
				w.F("The employment support for %s has ended because %s.\n", v.Patient, v.Reason)
				w.details(v)
				w.F("%s\n", next)
				return
			}
			w.F("<p>The employment support for %s has ended because %s.</p>\n", v.Patient, v.Reason)
			w.details(v)
			w.F("<p>%s</p>\n", next)
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
			switch {
			case v.ForSpecialist && !w.html:
				w.F("The referrer has withdrawn this referral because %s. Do not contact %s about it.\n", v.Reason, v.Patient)
				w.details(v)
				w.Raw("It no longer counts towards your caseload. If you have already arranged anything with them, tell your area lead.\n")
			case v.ForSpecialist:
				w.F("<p>The referrer has withdrawn this referral because %s. Do not contact %s about it.</p>\n", v.Reason, v.Patient)
				w.details(v)
				w.Raw("<p>It no longer counts towards your caseload. If you have already arranged anything with them, tell your area lead.</p>\n")
			case !w.html:
				w.F("You have withdrawn this referral because %s. The IPS service will not contact %s about it.\n", v.Reason, v.Patient)
				w.details(v)
				w.Raw("You do not need to do anything else.\n")
			default:
				w.F("<p>You have withdrawn this referral because %s. The IPS service will not contact %s about it.</p>\n", v.Reason, v.Patient)
				w.details(v)
				w.Raw("<p>You do not need to do anything else.</p>\n")
			}
		},
	},
	OutcomeCheck: {
		subject: func(v view) string { return "Referral " + v.ReferralID + ": record the job outcome" },
		body: func(w *writer, v view) {
			if !w.html {
				w.F("It is 16 weeks since %s started work on %s. Please record the job outcome.\n", v.Patient, v.JobStart)
				w.details(v)
				w.F("In those 16 weeks, did %s work at least 7 hours a week in at least 13 of the weeks? This is the IPSPC job outcome.\n\n", v.Patient)
				w.F("Open the referral and answer yes or no:\n%s\n\n", href(v.Link))
				w.Raw("If you have already recorded the outcome, you do not need to do anything.\n\nThis link is only for you. Do not forward this email.\n")
				return
			}
			w.F("<p>It is 16 weeks since %s started work on %s. Please record the job outcome.</p>\n", v.Patient, v.JobStart)
			w.details(v)
			w.F("<p>In those 16 weeks, did %s work at least 7 hours a week in at least 13 of the weeks? This is the IPSPC job outcome.</p>\n", v.Patient)
			w.Raw("<p>Open the referral and answer yes or no.</p>\n")
			w.button(v.Link, "Open referral %s", v.ReferralID)
			w.Raw("<p>If you have already recorded the outcome, you do not need to do anything.</p>\n<p>This link is only for you. Do not forward this email.</p>\n")
		},
	},
	BouncingCopy: {
		subject: func(v view) string {
			return "Referral " + v.ReferralID + ": " + v.Specialist + "'s email address is bouncing"
		},
		body: func(w *writer, v view) {
			if !w.html {
				w.F("We have emailed %s about referral %s in %s: %s. The specialist's address is bouncing, so they may not receive it. This copy is for you, so that the referral is not held up.\n", v.Specialist, v.ReferralID, v.Area, v.CopyOf)
				w.details(v)
				if v.ContactBy != "" {
					w.F("Contact due by: %s\n", v.ContactBy)
				}
				if v.MeetBy != "" {
					w.F("First meeting due by: %s\n", v.MeetBy)
				}
				w.Raw("\nThis copy does not include the specialist's link to the referral.\n\n")
				w.F("What to do:\n- check their email address with them, and have the directory corrected\n- or, if they cannot take the referral, reassign it to another specialist from your worklist (the link works for 7 days):\n%s\n", href(v.Link))
				return
			}
			w.F("<p>We have emailed %s about referral %s in %s: %s. The specialist's address is bouncing, so they may not receive it. This copy is for you, so that the referral is not held up.</p>\n", v.Specialist, v.ReferralID, v.Area, v.CopyOf)
			w.details(v)
			if v.ContactBy != "" || v.MeetBy != "" {
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
			}
			w.Raw("<p>This copy does not include the specialist's link to the referral.</p>\n<p>What to do:</p>\n<ul>\n<li>check their email address with them, and have the directory corrected</li>\n")
			w.F(`<li>or, if they cannot take the referral, reassign it to another specialist from <a href="%s">your worklist</a> (the link works for 7 days)</li>`+"\n</ul>\n", href(v.Link))
		},
	},
}

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
