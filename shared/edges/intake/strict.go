package intake

import (
	"bytes"
	"encoding/json"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// checkUnambiguous rejects what encoding/json would quietly repair or resolve (SPEC §4): an
// unpaired surrogate escape such as \ud800 (it would store U+FFFD), and an object that names a
// key twice at any depth (it would keep the last, so which value was meant is ambiguous). body is
// syntactically valid JSON, and UTF-8, when this is called: DecodeJSON checked both.
func checkUnambiguous(body []byte) *referral.Error {
	if loneSurrogate(body) {
		return malformed("The request body has an unpaired surrogate escape (\\ud800–\\udfff): send text as valid UTF-8")
	}
	if path, dup := duplicateKey(body); dup {
		msg := "The request body gives the same key twice in one object: send each field once"
		if labels[path] != "" {
			msg = "The request body gives " + path + " twice: send each field once"
		}
		return malformed(msg)
	}
	return nil
}

// notUTF8 is the message for a body whose bytes are not UTF-8, JSON or form.
const notUTF8 = "The request body is not valid UTF-8: send text encoded as UTF-8"

// loneSurrogate reports a \u escape for a surrogate that is not a high one followed by a low one.
func loneSurrogate(b []byte) bool {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case inString && c == '\\':
			if i+1 < len(b) && b[i+1] == 'u' {
				r, ok := hex4(b, i+2)
				switch {
				case ok && r >= 0xD800 && r < 0xDC00:
					lo, ok2 := rune(0), false
					if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
						lo, ok2 = hex4(b, i+8)
					}
					if !ok2 || lo < 0xDC00 || lo > 0xDFFF {
						return true
					}
					i += 11
					continue
				case ok && r >= 0xDC00 && r <= 0xDFFF:
					return true
				}
			}
			i++ // skip the escaped character (so \" does not end the string)
		}
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// duplicateKey walks the tokens of body and reports the first key named twice in one object,
// with its dotted path. Keys compare after unescaping ("a" and "\u0061" are the same key).
func duplicateKey(body []byte) (string, bool) {
	type frame struct {
		object    bool
		keys      map[string]bool
		base      string // path of this container
		key       string // the key whose value comes next (objects)
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // io.EOF, or a syntax error already reported by the caller
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if key, ok := tok.(string); ok && top != nil && top.object && top.expectKey {
			if top.keys[key] {
				return joinPath(top.base, key), true
			}
			top.keys[key], top.key, top.expectKey = true, key, false
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			base := ""
			if top != nil {
				base = top.base
				if top.object {
					base = joinPath(top.base, top.key)
				}
			}
			stack = append(stack, &frame{object: d == '{', keys: map[string]bool{}, base: base, expectKey: d == '{'})
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if n := len(stack); n > 0 {
				top = stack[n-1]
			} else {
				top = nil
			}
		}
		if top != nil && top.object {
			top.expectKey = true // a value ended: the next string is a key
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
