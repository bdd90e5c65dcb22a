package report

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes s safe to print on a terminal: control characters, escape
// sequences, bidirectional and other invisible format characters and
// invalid UTF-8 are shown escaped, as Go quotes them. Secrets are masked
// first (see [Redact]).
func Clean(s string) string {
	s = Redact(s)
	for _, r := range s {
		if needsQuote(r) {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

// needsQuote reports whether r must not reach a terminal as it is.
func needsQuote(r rune) bool {
	return r == utf8.RuneError || (r != ' ' && !unicode.IsPrint(r)) || r == '\\'
}

// secretRE finds credentials that a log or a capture may carry in a detail
// or a URL: an Authorization or Cookie header value, a bearer or basic
// credential, and the values of OAuth and password query parameters.
var secretRE = regexp.MustCompile(
	`(?i)(authorization\s*[:=]\s*(?:bearer|basic|token|digest|negotiate)?\s*|` +
		`(?:proxy-authorization|cookie|set-cookie)\s*[:=]\s*|` +
		`\b(?:bearer|basic)\s+|` +
		`[?&;](?:access_token|refresh_token|id_token|code|token|client_secret|password|passwd|pwd|api_key|apikey|key|secret|session|sig|signature|assertion)=)` +
		`([^\s&;"'<>]+)`)

// Redacted replaces a secret in every report form.
const Redacted = "REDACTED"

// Redact masks credentials in s: whatever follows "Authorization:",
// "Cookie:", "Bearer " or "Basic ", and the values of secret query
// parameters such as code= and access_token=. Reports are built from
// redacted evidence already; this is the last guard before output, for
// reports made elsewhere.
func Redact(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	return secretRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := secretRE.FindStringSubmatch(m)
		prefix, value := sub[1], sub[2]
		if value == Redacted {
			return m
		}
		if !strings.ContainsAny(prefix, ":=") && !credentialLike(value) {
			return m // "basic" or "bearer" as a plain word
		}
		return prefix + Redacted
	})
}

// secretWords are in every text secretRE matches, in lower case.
var secretWords = []string{
	"auth", "cookie", "bearer", "basic", "token", "code=", "secret", "passw",
	"pwd=", "key=", "session=", "sig", "assertion=",
}

// mayHoldSecret reports whether s holds one of secretWords, ignoring case;
// it spares most strings the regular expression.
func mayHoldSecret(s string) bool {
	lower := strings.ToLower(s)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// credentialLike reports whether v looks like a token rather than a word:
// at least 8 characters with a digit or a base64 sign among them.
func credentialLike(v string) bool {
	return len(v) >= 8 && strings.ContainsAny(v, "0123456789+/=._-")
}
