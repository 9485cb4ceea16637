package heal

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// UDFCalls returns the names of the UDFs a TICKscript calls (`@name(`),
// each once, in order of first call. It reads the script the way
// Kapacitor's lexer does (tick/ast/lex.go): whitespace and comments may
// stand between `@`, the name and `(`; text inside comments (`// …` to the
// end of the line), strings ('…', ”'…”'), field references ("…") and
// regular expressions (/…/) is not code. It never fails: an unterminated
// string or regex ends the scan, with the calls found before it.
func UDFCalls(script string) []string {
	var (
		calls []string
		sc    = scanner{src: script}
		// state of the @name( recogniser: 0 nothing, 1 after '@', 2
		// after '@' name.
		state int
		name  string
	)
	for {
		tok, text := sc.next()
		switch {
		case tok == tokEOF:
			return calls
		case tok == tokAt:
			state = 1
		case tok == tokIdent && state == 1:
			state, name = 2, text
		case tok == tokLParen && state == 2:
			state = 0
			if !contains(calls, name) {
				calls = append(calls, name)
			}
		default:
			state = 0
		}
	}
}

// CallsUDF reports whether a TICKscript calls a UDF with one of names.
func CallsUDF(script string, names []string) bool {
	for _, c := range UDFCalls(script) {
		if contains(names, c) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type token int

const (
	tokEOF    token = iota
	tokAt           // @
	tokIdent        // a name or keyword
	tokLParen       // (
	tokOther        // anything else that is code: operators, numbers, strings…
)

// scanner splits a TICKscript into the few tokens UDFCalls needs. Like
// Kapacitor's lexer, it reads '/' after an operand (a name, number,
// string, reference or ')') as division, and elsewhere as the start of a
// regex; "//" is a comment everywhere.
type scanner struct {
	src          string
	pos          int
	afterOperand bool
}

func (s *scanner) next() (token, string) {
	for s.pos < len(s.src) {
		r, size := utf8.DecodeRuneInString(s.src[s.pos:])
		start := s.pos
		s.pos += size
		operand := s.afterOperand
		s.afterOperand = false
		switch {
		case unicode.IsSpace(r):
			s.afterOperand = operand // spaces change nothing
		case r == '/' && s.peek() == '/':
			s.skipComment()
			s.afterOperand = operand
		case r == '/' && operand:
			return tokOther, "/" // division
		case r == '/':
			if !s.skipUntil('/', '\\') {
				return tokEOF, ""
			}
			return tokOther, s.src[start:s.pos]
		case r == '\'':
			if !s.skipString() {
				return tokEOF, ""
			}
			s.afterOperand = true
			return tokOther, s.src[start:s.pos]
		case r == '"':
			if !s.skipUntil('"', '\\') {
				return tokEOF, ""
			}
			s.afterOperand = true
			return tokOther, s.src[start:s.pos]
		case r == '@':
			return tokAt, "@"
		case r == '(':
			return tokLParen, "("
		case r == ')':
			s.afterOperand = true
			return tokOther, ")"
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_':
			// A name, or a number or duration (which never follows '@').
			for s.pos < len(s.src) {
				r, size := utf8.DecodeRuneInString(s.src[s.pos:])
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
					break
				}
				s.pos += size
			}
			s.afterOperand = true
			if unicode.IsLetter(r) {
				return tokIdent, s.src[start:s.pos]
			}
			return tokOther, s.src[start:s.pos]
		default:
			return tokOther, s.src[start:s.pos]
		}
	}
	return tokEOF, ""
}

func (s *scanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

// skipComment skips to the end of the line.
func (s *scanner) skipComment() {
	if i := strings.IndexByte(s.src[s.pos:], '\n'); i >= 0 {
		s.pos += i + 1
		return
	}
	s.pos = len(s.src)
}

// skipUntil skips past the next end byte that escape does not precede
// (the opening byte is already read). It reports false at the end of the
// script.
func (s *scanner) skipUntil(end, escape byte) bool {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		s.pos++
		switch c {
		case escape:
			if s.pos < len(s.src) && s.src[s.pos] == end {
				s.pos++
			}
		case end:
			return true
		}
	}
	return false
}

// skipString skips a single-quoted or triple-quoted string (the first
// quote is already read).
func (s *scanner) skipString() bool {
	if strings.HasPrefix(s.src[s.pos:], "''") {
		// '''…''': no escapes, ends at the next three quotes.
		s.pos += 2
		i := strings.Index(s.src[s.pos:], "'''")
		if i < 0 {
			s.pos = len(s.src)
			return false
		}
		s.pos += i + 3
		return true
	}
	return s.skipUntil('\'', '\\')
}
