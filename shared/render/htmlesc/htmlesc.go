// Package htmlesc escapes values for HTML exactly as html/template does in the contexts the
// pages and emails use (element text, RCDATA such as <title> and <textarea>, quoted attribute
// values, whole href/action URLs), so both can be plain Go: text/template's reflection made the
// linker keep every exported method of each binary (docs/decisions.md, "Pages without
// html/template", "Emails without templates").
package htmlesc

import (
	"io"
	"strings"
)

// escapes is html/template's htmlReplacementTable: the HTML specials, '+' (against UTF-7
// sniffing) and NUL. Bytes of 0x80 and above (UTF-8 multi-byte runes) are left as they are, as
// it leaves them.
var escapes = [...]string{
	0:    "\uFFFD",
	'"':  "&#34;",
	'&':  "&amp;",
	'\'': "&#39;",
	'+':  "&#43;",
	'<':  "&lt;",
	'>':  "&gt;",
}

// Write writes s escaped as element content, RCDATA or a quoted attribute value.
func Write(w io.StringWriter, s string) {
	written := 0
	for i := 0; i < len(s); i++ {
		if int(s[i]) < len(escapes) && escapes[s[i]] != "" {
			w.WriteString(s[written:i])
			w.WriteString(escapes[s[i]])
			written = i + 1
		}
	}
	w.WriteString(s[written:])
}

// FilterURL is html/template's filter for a URL that is a whole attribute: a scheme other than
// http, https or mailto becomes "#ZgotmplZ", so javascript: and data: links do nothing.
func FilterURL(s string) string {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		return "#ZgotmplZ"
	}
	return s
}

// NormaliseURL percent-encodes, in lower case, every byte that is neither unreserved nor
// reserved in RFC 3986 (quotes, parentheses, spaces, non-ASCII), keeping valid escapes
// (html/template's urlNormalizer). The result still needs Write in an attribute.
func NormaliseURL(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0,
			'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		b.WriteString(s[written:i])
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
		written = i + 1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
