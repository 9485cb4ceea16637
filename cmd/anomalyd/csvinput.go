package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// series is a CSV file read by `anomalyd detect`.
type series struct {
	stamps []string  // the timestamp column as written, nil without one
	times  []int64   // parsed timestamps (Unix ns), nil without a timestamp column
	values []float64 // NaN for a missing value (empty, NA, NaN)
}

// timeLayouts are the accepted text timestamps besides epoch seconds, all
// read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTimestamp reads epoch seconds (integer or decimal), RFC 3339, or
// "2006-01-02 15:04:05" (UTC; "2006-01-02 15:04" and "2006-01-02" too).
func parseTimestamp(s string) (int64, error) {
	if s != "" && (s[0] >= '0' && s[0] <= '9' || s[0] == '-') && !strings.ContainsAny(s[1:], "-:T ") {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			if sec > math.MaxInt64/int64(time.Second) || sec < math.MinInt64/int64(time.Second) {
				return 0, fmt.Errorf("timestamp %q: out of range", s)
			}
			return sec * 1e9, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			if math.Abs(f) > math.MaxInt64/1e9 {
				return 0, fmt.Errorf("timestamp %q: out of range", s)
			}
			return int64(math.Round(f * 1e9)), nil
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("timestamp %q: want 2006-01-02 15:04:05, RFC 3339 or epoch seconds", s)
}

// parseValue reads a number; empty, NA and NaN are missing values.
func parseValue(s string) (float64, error) {
	switch strings.TrimSpace(s) {
	case "", "NA", "NaN", "nan", "null":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	return v, nil
}

// readSeries reads a CSV file with a header: "timestamp,value" (any column
// names: the first column holds timestamps, the second values) or, when
// stampsOptional, a single value column. Timestamps that cannot be parsed
// are an error unless stampsOptional, where they are only carried along.
func readSeries(r io.Reader, stampsOptional bool) (*series, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty input: want a header line and rows")
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	cols := len(header)
	switch {
	case cols == 2:
	case cols == 1 && stampsOptional:
	case cols == 1:
		return nil, errors.New("header has one column: want timestamp,value (or pass --period-points for a value-only file)")
	default:
		return nil, fmt.Errorf("header has %d columns: want timestamp,value", cols)
	}
	s := &series{}
	parseTimes := cols == 2
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if len(rec) != cols {
			return nil, fmt.Errorf("line %d: %d fields, want %d", line, len(rec), cols)
		}
		v, err := parseValue(rec[cols-1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		s.values = append(s.values, v)
		if cols == 1 {
			continue
		}
		stamp := strings.TrimSpace(rec[0])
		s.stamps = append(s.stamps, stamp)
		if !parseTimes {
			continue
		}
		t, err := parseTimestamp(stamp)
		if err != nil {
			if stampsOptional {
				parseTimes, s.times = false, nil
				continue
			}
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		s.times = append(s.times, t)
	}
	if len(s.values) == 0 {
		return nil, errors.New("no rows after the header")
	}
	return s, nil
}
