package detect

import (
	"errors"
	"fmt"
)

// Errors returned by Ts and Vec. Where R's AnomalyDetection fails on the same
// input, the text is R's, word for word, so that users can search for it.
var (
	// ErrTooFewPeriods: a window holds fewer than two periods of rows.
	ErrTooFewPeriods = errors.New("Anom detection needs at least 2 periods worth of data")

	// ErrNotPeriodic: STL needs more than two periods of non-missing values
	// and a period of at least 2.
	ErrNotPeriodic = errors.New("series is not periodic or has less than two periods")

	// ErrInteriorNA: a missing value (NaN) with non-missing values on both
	// sides. Only leading and trailing runs of missing values are allowed.
	ErrInteriorNA = errors.New("Data contains non-leading NAs. We suggest replacing NAs with interpolated values (see na.approx in Zoo package).")

	// ErrNoPeriod: the period cannot be derived (the two last timestamps are
	// equal or out of order) and none was given.
	ErrNoPeriod = errors.New("must supply period length for time series decomposition")

	// ErrVecPeriod: Vec was called without a period.
	ErrVecPeriod = errors.New("Period must be set to the number of data points in a single period")

	// ErrExhausted: the ESD loop asked for more candidates than the data
	// holds (possible only when missing values inflate the row count). R
	// fails with this message in the same situation.
	ErrExhausted = errors.New("missing value where TRUE/FALSE needed")

	// ErrThresholdNA: a p95/p99 threshold over daily maxima containing a
	// missing value.
	ErrThresholdNA = errors.New("missing values and NaN's not allowed if 'na.rm' is FALSE")

	// ErrTooFewObservations is wrapped by *ObservationsError.
	ErrTooFewObservations = errors.New("too few observations for max_anoms")

	// ErrParam is wrapped by every parameter error.
	ErrParam = errors.New("invalid parameter")
)

// ObservationsError reports a window in which max_anoms allows no anomaly at
// all (trunc(rows × max_anoms) = 0). The text is R's, which mentions longterm
// even when longterm is off.
type ObservationsError struct {
	Count int // rows in the window
}

func (e *ObservationsError) Error() string {
	return fmt.Sprintf("With longterm=TRUE, AnomalyDetection splits the data into 2 week periods by default. You have %d observations in a period, which is too few. Set a higher piecewise_median_period_weeks.", e.Count)
}

func (e *ObservationsError) Unwrap() error { return ErrTooFewObservations }

// ParamError reports an invalid parameter, with R's text where R checks it.
type ParamError struct {
	Param string // R's parameter name, e.g. "max_anoms"
	Msg   string
}

func (e *ParamError) Error() string { return e.Msg }

func (e *ParamError) Unwrap() error { return ErrParam }
