// Package web holds the HTML pages of the referral service: the referral form, the confirmation
// page, the specialist's, referrer's and area lead's pages, and the error pages. They are written
// on the server by plain Go (markup.go), which escapes everything a user typed as html/template
// would; they use the NHS.UK design system (nhsuk-frontend 10.6.1, vendored under assets/) and
// work fully without JavaScript.
//
// The pages carry no inline script or style, so they work under the service's strict
// Content-Security-Policy:
//
//	default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;
//	form-action 'self'; frame-ancestors 'none'
//
// The static files they need are in Assets, served by the caller under /assets/<name>.
package web

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// ServiceName is the name shown in the header of every page.
const ServiceName = "Refer for employment support"

// AssetPrefix is the URL path the pages expect Assets to be served under.
const AssetPrefix = "/assets/"

//go:embed assets/*.css assets/*.js assets/manifest.json assets/images
var assetFiles embed.FS

// Assets returns the static files the pages link to: the vendored nhsuk-frontend CSS, JavaScript,
// icons and web manifest, and init.js. A file named "images/favicon.svg" here is served at
// /assets/images/favicon.svg.
func Assets() fs.FS {
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		// fs.Sub fails only for an invalid directory name, which "assets" is not.
		panic(fmt.Sprintf("web: assets: %v", err))
	}
	return sub
}

// AssetContentType returns the Content-Type to serve an asset with, chosen by its extension (not
// by the operating system's MIME tables, which differ between this machine and Lambda).
func AssetContentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".json":
		if path.Base(name) == "manifest.json" {
			return "application/manifest+json"
		}
		return "application/json"
	case ".map":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".woff2":
		return "font/woff2"
	default:
		return "application/octet-stream"
	}
}

// LongDate writes a YYYY-MM-DD date out for people, as the NHS style guide asks:
// "2026-11-25" becomes "Wednesday 25 November 2026". Anything else is returned unchanged.
func LongDate(date string) string {
	d, err := calendar.ParseDate(date)
	if err != nil {
		return date
	}
	return d.Long()
}

// ErrorPage is a page for a request the service cannot answer with the form or a confirmation:
// 404, 405, 413, 415, 503 and so on. Title and Message are optional; a plain-English default for
// the status is used for each one left empty. Neither may contain patient data.
type ErrorPage struct {
	Status  int
	Title   string
	Message string
}

// errorText returns the default title and message for status, in NHS voice.
func errorText(status int) (title, message string) {
	switch status {
	case http.StatusBadRequest:
		return "Sorry, there is a problem with your request",
			"Go back to the referral form and try again."
	case http.StatusForbidden:
		return "You cannot use this link",
			"The link may have expired, or the referral may have been passed to someone else. Contact your area lead if you think this is wrong."
	case http.StatusNotFound:
		return "Page not found",
			"If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address."
	case http.StatusMethodNotAllowed:
		return "Sorry, you cannot do that on this page",
			"Go to the referral form and start again."
	case http.StatusConflict:
		return "This form has already been sent with different answers",
			"Your first referral was sent and has not been changed. To refer someone else, start a new referral form."
	case http.StatusRequestEntityTooLarge:
		return "Your referral is too long to send",
			"Go back, shorten the notes and send the referral again. Nothing has been sent yet."
	case http.StatusUnsupportedMediaType:
		return "Sorry, we could not read your referral",
			"Send referrals using the referral form. Nothing has been sent yet."
	case http.StatusUnprocessableEntity:
		return "Sorry, we could not accept your referral",
			"Go back, check the answers and send the referral again. Nothing has been sent yet."
	case http.StatusTooManyRequests:
		return "Sorry, the service is busy",
			"Wait a minute, then go back and send the referral again. Nothing has been sent yet."
	case http.StatusServiceUnavailable:
		return "Sorry, the service is unavailable",
			"Try again in a few minutes: go back and send the referral again. Nothing has been sent yet."
	}
	if status >= 500 {
		return "Sorry, there is a problem with the service",
			"Try again later. If the problem continues, contact your area lead."
	}
	if text := http.StatusText(status); text != "" {
		return text, "Go to the referral form and try again."
	}
	return "Sorry, there is a problem", "Go to the referral form and try again."
}

// ErrorTitle returns the default title of the error page for status.
func ErrorTitle(status int) string {
	title, _ := errorText(status)
	return title
}

type errorView struct {
	layout
	Heading string
	Message string
}

// RenderError writes an error page in NHS style. The caller sets the HTTP status itself.
func RenderError(w io.Writer, p ErrorPage) error {
	title, message := errorText(p.Status)
	v := errorView{Heading: p.Title, Message: p.Message}
	if v.Heading == "" {
		v.Heading = title
	}
	if v.Message == "" {
		v.Message = message
	}
	v.Title = v.Heading
	return writePage(w, "error.html", v.layout, func(m *markup) {
		m.wrap("\n          <h1>", v.Heading, "</h1>\n          <p>")
		m.wrap("", v.Message, "</p>\n          <p><a href=\"/\">Go to the referral form</a></p>\n")
	})
}
