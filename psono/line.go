package psono

// A Pair is one key=value of a line, in decoded form.
type Pair struct {
	Key, Value string
}

// A Line is a decoded audit line: its time, exactly as written, and its pairs
// in line order, starting with logger.
type Line struct {
	Time  string
	Pairs []Pair
}

// Get returns the value of the first pair with the given key and whether there
// is one.
func (l Line) Get(key string) (string, bool) {
	for _, p := range l.Pairs {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// AppendTo appends the line's encoding, without a trailing newline, to dst.
func (l Line) AppendTo(dst []byte) []byte {
	dst = append(dst, l.Time...)
	for i, p := range l.Pairs {
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ", "...)
		}
		dst = AppendValue(dst, p.Key)
		dst = append(dst, '=')
		dst = AppendValue(dst, p.Value)
	}
	return dst
}

// String returns the line's encoding without a trailing newline.
func (l Line) String() string { return string(l.AppendTo(nil)) }
