package psono

import (
	"fmt"
	"strings"
	"time"
)

// AppendTime appends t the way Python's datetime.isoformat prints a naive
// datetime: 2006-01-02T15:04:05.000000, with microseconds, and with no
// fraction at all when the microseconds are zero. The caller chooses the zone
// (t.UTC() or t.Local()); the zone is not written. Nanoseconds below a
// microsecond are truncated.
func AppendTime(dst []byte, t time.Time) []byte {
	_, offset := t.Zone()
	secs := t.Unix() + int64(offset)
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		days--
		rem += 86400
	}
	year, month, day := civil(days)
	if year < 0 || year > 9999 {
		return appendTimeSlow(dst, t)
	}
	sod := int(rem)
	var b [26]byte
	put2(b[0:], year/100)
	put2(b[2:], year%100)
	b[4] = '-'
	put2(b[5:], month)
	b[7] = '-'
	put2(b[8:], day)
	b[10] = 'T'
	put2(b[11:], sod/3600)
	b[13] = ':'
	put2(b[14:], sod/60%60)
	b[16] = ':'
	put2(b[17:], sod%60)
	us := t.Nanosecond() / 1000
	if us == 0 {
		return append(dst, b[:19]...)
	}
	b[19] = '.'
	put2(b[20:], us/10000)
	put2(b[22:], us/100%100)
	put2(b[24:], us%100)
	return append(dst, b[:]...)
}

// civil returns the proleptic Gregorian date of the day that is days after
// 1970-01-01 (Howard Hinnant's days-to-civil algorithm).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	d := doy - (153*mp+2)/5 + 1                            // [1, 31]
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// put2 writes v (0 to 99) as two digits.
func put2(b []byte, v int) {
	_ = b[1]
	b[0], b[1] = digitPairs[2*v], digitPairs[2*v+1]
}

// appendTimeSlow is AppendTime for years outside 0 to 9999, through the time
// package.
func appendTimeSlow(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	dst = appendInt(dst, year, 4)
	dst = append(dst, '-')
	dst = appendInt(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendInt(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendInt(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, min, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		dst = appendInt(dst, us, 6)
	}
	return dst
}

// appendInt appends v, zero-padded to width digits. A negative v is written
// with a leading '-'.
func appendInt(dst []byte, v, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v >= 10 || width > 1 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	b[i] = byte('0' + v)
	return append(dst, b[i:]...)
}

// ParseTime parses a time written by AppendTime, in the given location.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	layout := "2006-01-02T15:04:05"
	if strings.IndexByte(s, '.') >= 0 {
		layout = "2006-01-02T15:04:05.000000"
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("psono: audit time %q: %w", s, err)
	}
	return t, nil
}
