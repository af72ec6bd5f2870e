package config

import (
	"strconv"
	"strings"
)

// keyLines finds the line of every key of a TOML document that already
// parsed, because BurntSushi/toml keeps no position for the keys of an
// array of tables (its MetaData has one entry per key path, the last
// element's). Paths are "key", "table.key", "array[i]" (the header of the
// i-th [[array]]) and "array[i].key". It understands what a valid document
// holds: comments, quoted and dotted keys, strings of all four kinds,
// arrays and inline tables over several lines.
func keyLines(text string) map[string]int {
	lines := make(map[string]int)
	counts := make(map[string]int)
	table := ""
	var sc valueScanner
	for n, line := range strings.Split(text, "\n") {
		n++
		if sc.open() {
			sc.scan(line)
			continue
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#':
		case strings.HasPrefix(t, "[["):
			name := joinKey(parseKey(strings.TrimPrefix(t, "[["), "]]"))
			table = name + "[" + strconv.Itoa(counts[name]) + "]"
			counts[name]++
			lines[table] = n
			if _, seen := lines[name]; !seen {
				lines[name] = n
			}
		case t[0] == '[':
			table = joinKey(parseKey(t[1:], "]"))
			lines[table] = n
		default:
			parts, rest := parseKeyRest(t, "=")
			path := joinKey(parts)
			if table != "" {
				path = table + "." + path
			}
			if _, dup := lines[path]; !dup {
				lines[path] = n
			}
			sc.scan(rest)
		}
	}
	return lines
}

func joinKey(parts []string) string { return strings.Join(parts, ".") }

// parseKey reads a (dotted, possibly quoted) key up to end.
func parseKey(s, end string) []string {
	parts, _ := parseKeyRest(s, end)
	return parts
}

// parseKeyRest reads a key up to end and returns its parts and what
// follows end.
func parseKeyRest(s, end string) (parts []string, rest string) {
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], end):
			return append(parts, strings.TrimSpace(cur.String())), s[i+len(end):]
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if u, err := strconv.Unquote(s[i:min(j+1, len(s))]); err == nil {
				cur.WriteString(u)
			} else {
				cur.WriteString(s[i+1 : min(j, len(s))])
			}
			i = j
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String())), ""
}

// valueScanner follows a value across lines: it tracks open multi-line
// strings and the nesting of arrays and inline tables.
type valueScanner struct {
	multi string // `"""` or `'''` while a multi-line string is open
	depth int
}

func (v *valueScanner) open() bool { return v.multi != "" || v.depth > 0 }

func (v *valueScanner) scan(s string) {
	for i := 0; i < len(s); i++ {
		if v.multi != "" {
			j := strings.Index(s[i:], v.multi)
			if j < 0 {
				return
			}
			i += j + len(v.multi) - 1
			v.multi = ""
			continue
		}
		switch c := s[i]; {
		case strings.HasPrefix(s[i:], `"""`), strings.HasPrefix(s[i:], `'''`):
			v.multi = s[i : i+3]
			i += 2
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case c == '\'':
			if j := strings.IndexByte(s[i+1:], '\''); j >= 0 {
				i += j + 1
			} else {
				i = len(s)
			}
		case c == '[' || c == '{':
			v.depth++
		case c == ']' || c == '}':
			v.depth--
		case c == '#':
			return
		}
	}
}
